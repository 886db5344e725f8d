"""Command line: `statuspage serve`, `statuspage check` and `statuspage validate`."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import socket
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path

from statuspage import __version__
from statuspage.cli_admin import add_admin_parser, run_admin
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
        "--data-dir",
        type=Path,
        help="directory of the SQLite database (default: $STATUSPAGE_DATA_DIR or ./data)",
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    serve.add_argument(
        "--port",
        type=port_number,
        default=8000,
        help="TCP port to listen on (default: %(default)s)",
    )
    serve.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning"],
        help="minimum severity of log messages to print (default: %(default)s)",
    )

    check = commands.add_parser("check", help="run every check once and print the results")
    check.add_argument("--config", type=Path, help=config_help)
    check.add_argument("--json", action="store_true", help="print one JSON document")
    check.add_argument(
        "--details",
        action="store_true",
        help="also print each health signal (PostgreSQL checks) with its level and reason",
    )

    validate = commands.add_parser("validate", help="check the checks file and exit")
    validate.add_argument("--config", type=Path, help=config_help)

    add_admin_parser(commands)
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
    # psycopg's own warnings (a failed query cancel, for one) quote the server's host and port;
    # the PostgreSQL check logs its own wording instead.
    logging.getLogger("psycopg").setLevel(logging.CRITICAL)

    if args.command == "admin":
        return run_admin(args)

    try:
        config = load_config(config_path(args.config))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG_ERROR

    if args.command == "validate":
        return validate(config)
    if args.command == "check":
        return asyncio.run(check_once(config, args.json, args.details))
    return serve(config, args)


def validate(config: Config) -> int:
    for component in config.components:
        if component.missing_env:
            print(
                f"warning: {config.path}: check {component.id} is not configured because "
                f"{', '.join(component.missing_env)} is not set or empty",
                file=sys.stderr,
            )
    print(f"{config.path}: valid, {len(config.components)} components")
    return EXIT_OK


async def check_once(config: Config, as_json: bool, details: bool = False) -> int:
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
                reason = f"not configured: {result.details['missing_env']} is not set or empty"
            print(f"{component.id:<{width}}  {state:<11}  {latency:>8}  {reason}")
            if details:
                _print_signals(result)

    all_ok = all(result.outcome is Outcome.OK for result in results)
    return EXIT_OK if all_ok else EXIT_NOT_OPERATIONAL


def _print_signals(result: Result) -> None:
    for signal in result.details.get("signals", []):
        name = signal["name"] + (f" [{signal['subject']}]" if signal["subject"] else "")
        print(f"    {signal['level']:<8}  {name:<40}  {signal['summary']}")


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

    from statuspage.store import DATABASE_FILE, Store
    from statuspage.web.app import create_app

    data_dir = args.data_dir or Path(os.environ.get("STATUSPAGE_DATA_DIR", "data"))
    # Open the database and the port before anything starts, so a mistake in either is one
    # clear line instead of a traceback from inside the server.
    try:
        Store.open(data_dir).close()
    except (OSError, sqlite3.Error, RuntimeError) as exc:
        print(f"error: cannot open the database {data_dir / DATABASE_FILE}: {exc}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    try:
        listener = bind(args.host, args.port)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        print(f"error: cannot listen on {args.host} port {args.port}: {reason}", file=sys.stderr)
        return EXIT_CONFIG_ERROR

    app = create_app(config, data_dir)
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="on"))
    logger.info("listening on http://%s:%d", args.host, args.port)
    with listener:
        server.run(sockets=[listener])
    return EXIT_OK


def bind(host: str, port: int) -> socket.socket:
    """Bind a listening TCP socket for uvicorn; raise OSError with the system's reason."""
    family, kind, protocol, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    listener = socket.socket(family, kind, protocol)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6 and host in ("::", ""):
            listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        listener.bind(address)
    except OSError:
        listener.close()
        raise
    return listener


def port_number(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}: expected 1-65535") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"invalid port {port}: expected 1-65535")
    return port
