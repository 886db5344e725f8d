"""`statuspage serve` as a subprocess, watching a real HTTP target go down and come back."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.fixtures_http import ApiTarget
from tests.pages import StatusPage, parse_status_page

DEADLINE = 30.0  # seconds to wait for a state that the config reaches within a few seconds


def free_port() -> int:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        return int(listener.getsockname()[1])


def write_config(path: Path, target: ApiTarget) -> None:
    path.write_text(
        f"""
[site]
name = "PullLog"
timezone = "Asia/Tokyo"

[defaults]
interval = 1
retry_interval = 1
timeout = 0.5
failures_before_down = 2
successes_before_up = 1

[[components]]
id = "api"
name = "API"
[components.check]
type = "http"
url = "{target.url_for("/api/v1/dummy")}"

[[components.check.conditions]]
json_path = "status"
value = "success"
""",
        encoding="utf-8",
    )


class Server:
    def __init__(self, config: Path, data_dir: Path, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log.open("a", encoding="utf-8")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "statuspage",
                "serve",
                "--config",
                str(config),
                "--data-dir",
                str(data_dir),
                "--port",
                str(self.port),
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    def page(self) -> StatusPage | None:
        try:
            response = httpx.get(self.url + "/", timeout=2)
        except httpx.TransportError:
            return None
        return parse_status_page(response.text)

    def stop(self) -> int:
        """Send SIGTERM and return the exit status.

        Uvicorn re-raises the signal after a graceful shutdown, so a clean stop ends with -15.
        """
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=15)
        finally:
            self._log.close()


def wait_for(condition: Callable[[], bool], what: str) -> None:
    """Poll a real subprocess until the condition holds; fail with `what` after DEADLINE."""
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out after {DEADLINE:g} s waiting for {what}")


def api_state(server: Server) -> str | None:
    page = server.page()
    if page is None or "api" not in page.components:
        return None
    return page.components["api"].state


@pytest.fixture
def server(tmp_path: Path, api_target: ApiTarget) -> Iterator[Server]:
    config = tmp_path / "checks.toml"
    write_config(config, api_target)
    started = Server(config, tmp_path / "data", tmp_path / "serve.log")
    yield started
    if started.process.poll() is None:
        started.stop()


def test_api_goes_down_and_recovers(server: Server, api_target: ApiTarget, tmp_path: Path) -> None:
    wait_for(lambda: api_state(server) == "operational", "the API to be operational")

    api_target.stop()
    wait_for(lambda: api_state(server) == "down", "the API to go down")
    page = server.page()
    assert page is not None
    assert "connection refused" in page.components["api"].text

    api_target.start()
    wait_for(lambda: api_state(server) == "operational", "the API to recover")

    assert server.stop() == -signal.SIGTERM
    log = (tmp_path / "serve.log").read_text(encoding="utf-8")
    assert "statuspage.web.app: stopped" in log
    assert "check api: operational -> down (connection refused)" in log
    assert "check api: down -> operational" in log


def test_state_survives_restart(server: Server, api_target: ApiTarget, tmp_path: Path) -> None:
    api_target.mode = "error"
    wait_for(lambda: api_state(server) == "down", "the API to go down")
    server.stop()

    restarted = Server(tmp_path / "checks.toml", tmp_path / "data", tmp_path / "serve.log")
    try:
        wait_for(lambda: restarted.page() is not None, "the restarted server")
        # Before its first run the restarted process already shows the stored state.
        assert api_state(restarted) == "down"
    finally:
        restarted.stop()


def test_healthz_while_serving(server: Server) -> None:
    wait_for(lambda: server.page() is not None, "the server to answer")
    response = httpx.get(server.url + "/healthz", timeout=2)
    assert response.json() == {"status": "ok", "failing": []}


def test_stop_during_running_check_is_clean(
    server: Server, api_target: ApiTarget, tmp_path: Path
) -> None:
    wait_for(lambda: api_state(server) == "operational", "the API to be operational")
    api_target.mode = "hang"
    wait_for(lambda: bool(api_target.requests and api_target.mode == "hang"), "a hanging request")
    server.stop()
    log = (tmp_path / "serve.log").read_text(encoding="utf-8")
    assert "Traceback" not in log
    assert "statuspage.web.app: stopped" in log
