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


def test_serve_rejects_data_dir_under_a_file(tmp_path: Path, api_target: ApiTarget) -> None:
    (tmp_path / "file").write_text("x", encoding="utf-8")
    path = api_config(tmp_path, api_target.url)
    completed = statuspage(
        "serve", "--config", str(path), "--data-dir", str(tmp_path / "file" / "sub")
    )
    assert completed.returncode == 2
    assert "cannot open the database" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_serve_rejects_corrupt_database(tmp_path: Path, api_target: ApiTarget) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "statuspage.db").write_bytes(b"not a database" * 100)
    path = api_config(tmp_path, api_target.url)
    completed = statuspage("serve", "--config", str(path), "--data-dir", str(tmp_path / "data"))
    assert completed.returncode == 2
    assert "file is not a database" in completed.stderr


def test_serve_reports_port_in_use(tmp_path: Path, api_target: ApiTarget) -> None:
    path = api_config(tmp_path, api_target.url)
    args = ["serve", "--config", str(path), "--data-dir", str(tmp_path / "data")]
    completed = statuspage(*args, "--port", str(api_target.port))
    assert completed.returncode == 2
    assert f"cannot listen on 127.0.0.1 port {api_target.port}" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_serve_rejects_port_out_of_range(tmp_path: Path) -> None:
    completed = statuspage("serve", "--port", "99999")
    assert completed.returncode == 2
    assert "invalid port 99999" in completed.stderr


def test_empty_variable_means_not_configured(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "PULLLOG_DATABASE_URL": ""}
    completed = statuspage("validate", "--config", str(REPO / "checks.toml"), env=env)
    assert completed.returncode == 0
    assert "PULLLOG_DATABASE_URL is not set or empty" in completed.stderr


def test_defaults_timeout_above_interval_is_rejected(tmp_path: Path) -> None:
    path = api_config(tmp_path, "http://127.0.0.1:9/")
    text = path.read_text(encoding="utf-8").replace(
        "[[components]]", "[defaults]\ninterval = 30\ntimeout = 60\n\n[[components]]", 1
    )
    path.write_text(text, encoding="utf-8")
    completed = statuspage("validate", "--config", str(path))
    assert completed.returncode == 2
    assert "defaults.timeout: invalid value 60: must be below interval (30 s)" in completed.stderr


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = api_config(tmp_path, "http://127.0.0.1:9/")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert statuspage("validate", "--config", str(path)).returncode == 0
