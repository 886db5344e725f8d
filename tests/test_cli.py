import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures_http import ApiTarget

REPO = Path(__file__).resolve().parent.parent


def statuspage(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "statuspage", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def api_config(tmp_path: Path, url: str, extra: str = "") -> Path:
    path = tmp_path / "checks.toml"
    path.write_text(
        f"""
[site]
name = "Test"
timezone = "UTC"

[[components]]
id = "api"
name = "API"
[components.check]
type = "http"
url = "{url}"
timeout = 2
{extra}
[[components.check.conditions]]
json_path = "status"
value = "success"
""",
        encoding="utf-8",
    )
    return path


def test_validate_accepts_shipped_file() -> None:
    completed = statuspage("validate", "--config", str(REPO / "checks.toml"))
    assert completed.returncode == 0


def test_validate_warns_about_unset_dsn() -> None:
    completed = statuspage("validate", "--config", str(REPO / "checks.toml"))
    assert "PULLLOG_DATABASE_URL is not set" in completed.stderr


def test_validate_rejects_bad_value_with_key_path(tmp_path: Path) -> None:
    path = api_config(tmp_path, "http://127.0.0.1:9/", extra="timeout_ms = 5")
    completed = statuspage("validate", "--config", str(path))
    assert completed.returncode == 2
    assert "components[0].check.timeout_ms: unknown key" in completed.stderr


def test_missing_config_file_exits_2(tmp_path: Path) -> None:
    completed = statuspage("check", "--config", str(tmp_path / "none.toml"))
    assert completed.returncode == 2
    assert "file not found" in completed.stderr


def test_check_exits_0_when_operational(tmp_path: Path, api_target: ApiTarget) -> None:
    completed = statuspage("check", "--config", str(api_config(tmp_path, api_target.url)))
    assert completed.returncode == 0
    assert completed.stdout.split()[:2] == ["api", "operational"]


def test_check_exits_1_when_down(tmp_path: Path, api_target: ApiTarget) -> None:
    api_target.mode = "error"
    completed = statuspage("check", "--config", str(api_config(tmp_path, api_target.url)))
    assert completed.returncode == 1
    assert "HTTP 500" in completed.stdout


def test_check_reports_missing_json_field(tmp_path: Path, api_target: ApiTarget) -> None:
    api_target.mode = "missing_field"
    completed = statuspage("check", "--config", str(api_config(tmp_path, api_target.url)))
    assert "JSON path status not found" in completed.stdout


def test_check_json_output(tmp_path: Path, api_target: ApiTarget) -> None:
    path = api_config(tmp_path, api_target.url)
    completed = statuspage("check", "--config", str(path), "--json")
    [entry] = json.loads(completed.stdout)
    assert entry["state"] == "operational"
    assert entry["latency_ms"] > 0


def test_check_reports_unconfigured_database(tmp_path: Path) -> None:
    path = tmp_path / "checks.toml"
    path.write_text(
        '[site]\nname = "Test"\ntimezone = "UTC"\n[[components]]\nid = "database"\n'
        'name = "Database"\n[components.check]\ntype = "postgres"\n'
        'dsn = "${STATUSPAGE_TEST_UNSET_DSN}"\n',
        encoding="utf-8",
    )
    completed = statuspage("check", "--config", str(path))
    assert completed.returncode == 1
    assert "STATUSPAGE_TEST_UNSET_DSN is not set" in completed.stdout


@pytest.mark.parametrize("command", ["serve", "check", "validate"])
def test_config_from_environment(command: str, tmp_path: Path) -> None:
    env = {"STATUSPAGE_CONFIG": str(tmp_path / "missing.toml"), "PATH": "/usr/bin:/bin"}
    completed = statuspage(command, env=env)
    assert completed.returncode == 2
    assert str(tmp_path / "missing.toml") in completed.stderr
