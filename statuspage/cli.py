"""Command line: `statuspage serve`, `statuspage check` and `statuspage validate`."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from statuspage import __version__
from statuspage.config import Component, Config, ConfigError, load_config
from statuspage.result import Outcome, Result

logger = logging.getLogger("statuspage")

EXIT_OK = 0
EXIT_NOT_OPERATIONAL = 1
EXIT_CONFIG_ERROR = 2

STATE_BY_OUTCOME = {
    Outcome.OK: "operational",
    Outcome.DEGRADED: "degraded",
    Outcome.FAILED: "down",
    Outcome.NOT_CONFIGURED: "no_data",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="statuspage", description="Self-hosted status page and uptime monitor."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    config_help = "checks file (default: $STATUSPAGE_CONFIG or ./checks.toml)"

    serve = commands.add_parser("serve", help="run the checks and serve the status page")
    serve.add_argument("--config", type=Path, help=config_help)
    serve.add_argument(
        "--data-dir", type=Path, help="directory of the SQLite database (default: ./data)"
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="TCP port to listen on")
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning"])

    check = commands.add_parser("check", help="run every check once and print the results")
    check.add_argument("--config", type=Path, help=config_help)
    check.add_argument("--json", action="store_true", help="print one JSON document")

    validate = commands.add_parser("validate", help="check the checks file and exit")
    validate.add_argument("--config", type=Path, help=config_help)
    return parser


def config_path(argument: Path | None) -> Path:
    if argument is not None:
        return argument
    return Path(os.environ.get("STATUSPAGE_CONFIG", "checks.toml"))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = getattr(args, "log_level", "warning").upper()
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    # httpx logs every request at INFO; the monitor logs results itself.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)

    try:
        config = load_config(config_path(args.config))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG_ERROR

    if args.command == "validate":
        return validate(config)
    if args.command == "check":
        return asyncio.run(check_once(config, args.json))
    return serve(config, args)


def validate(config: Config) -> int:
    for component in config.components:
        if component.missing_env:
            print(
                f"warning: {config.path}: check {component.id} is not configured because "
                f"{', '.join(component.missing_env)} is not set",
                file=sys.stderr,
            )
    print(f"{config.path}: valid, {len(config.components)} components")
    return EXIT_OK


async def check_once(config: Config, as_json: bool) -> int:
    from statuspage.checks import create_probe
    from statuspage.checks.http import create_client
    from statuspage.monitor import not_configured_result

    async with create_client() as client:

        async def run(component: Component) -> Result:
            from datetime import UTC, datetime

            if component.missing_env:
                return not_configured_result(component, datetime.now(UTC))
            probe = create_probe(component, client)
            try:
                return await probe.run()
            finally:
                await probe.close()

        results = await asyncio.gather(*(run(c) for c in config.components))

    if as_json:
        print(
            json.dumps(
                [_result_json(c, r) for c, r in zip(config.components, results, strict=True)],
                indent=2,
            )
        )
    else:
        width = max(len(c.id) for c in config.components)
        for component, result in zip(config.components, results, strict=True):
            latency = f"{result.latency * 1000:.0f} ms" if result.latency is not None else "-"
            state = STATE_BY_OUTCOME[result.outcome]
            reason = result.reason or "ok"
            if result.outcome is Outcome.NOT_CONFIGURED:
                reason = f"not configured: {result.details['missing_env']} is not set"
            print(f"{component.id:<{width}}  {state:<11}  {latency:>8}  {reason}")

    all_ok = all(result.outcome is Outcome.OK for result in results)
    return EXIT_OK if all_ok else EXIT_NOT_OPERATIONAL


def _result_json(component: Component, result: Result) -> dict[str, object]:
    return {
        "id": component.id,
        "name": component.name,
        "state": STATE_BY_OUTCOME[result.outcome],
        "outcome": result.outcome.value,
        "time": result.time.isoformat(),
        "latency_ms": round(result.latency * 1000, 1) if result.latency is not None else None,
        "failure": result.failure.value if result.failure else None,
        "reason": result.reason,
        "details": result.details,
    }


def serve(config: Config, args: argparse.Namespace) -> int:
    import uvicorn

    from statuspage.web.app import create_app

    data_dir = args.data_dir or Path(os.environ.get("STATUSPAGE_DATA_DIR", "data"))
    app = create_app(config, data_dir)
    logger.info("starting on http://%s:%d", args.host, args.port)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_config=None,
        access_log=False,
        lifespan="on",
    )
    return EXIT_OK
