from pathlib import Path

import pytest

from statuspage.config import ConfigError, HttpCheck, PostgresCheck, load_config

REPO = Path(__file__).resolve().parent.parent

MINIMAL = """
[site]
name = "Example"
timezone = "Europe/Berlin"

[[components]]
id = "web"
name = "Web"
[components.check]
type = "http"
url = "http://127.0.0.1:9/"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "checks.toml"
    path.write_text(text, encoding="utf-8")
    return path


def load_error(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text), environ or {})
    return caught.value


def test_shipped_checks_file_is_valid() -> None:
    config = load_config(REPO / "checks.toml", {"PULLLOG_DATABASE_URL": "postgresql://x@h/db"})
    assert [c.id for c in config.components] == ["website", "api", "database"]
    assert config.site.timezone.key == "Asia/Tokyo"


def test_shipped_api_check_requires_success_status() -> None:
    config = load_config(REPO / "checks.toml", {})
    api = config.component("api").check
    assert isinstance(api, HttpCheck)
    assert api.url == "https://api.pulllog.net/api/v1/dummy"
    assert api.expected_status == (200,)
    assert [c.describe() for c in api.conditions] == ['status == "success"']


def test_shipped_checks_send_no_credentials() -> None:
    config = load_config(REPO / "checks.toml", {})
    for component in config.components:
        if isinstance(component.check, HttpCheck):
            names = {name.lower() for name, _ in component.check.headers}
            assert names == {"user-agent"}


def test_unset_dsn_marks_check_not_configured() -> None:
    config = load_config(REPO / "checks.toml", {})
    database = config.component("database")
    assert database.missing_env == ("PULLLOG_DATABASE_URL",)


def test_dsn_is_interpolated_from_environment() -> None:
    dsn = "postgresql://monitor:secret@db.example/pulllog"
    config = load_config(REPO / "checks.toml", {"PULLLOG_DATABASE_URL": dsn})
    check = config.component("database").check
    assert isinstance(check, PostgresCheck)
    assert check.dsn == dsn


def test_dsn_is_hidden_from_repr() -> None:
    config = load_config(REPO / "checks.toml", {"PULLLOG_DATABASE_URL": "postgresql://u:pw@h/d"})
    assert "pw" not in repr(config.component("database"))


def test_defaults_fill_absent_keys(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL), {})
    web = config.component("web")
    assert web.interval == 60
    assert web.failures_before_down == 2
    assert isinstance(web.check, HttpCheck)
    assert web.check.follow_redirects is True


def test_explicit_false_is_not_replaced_by_default(tmp_path: Path) -> None:
    text = MINIMAL + "follow_redirects = false\nmax_redirects = 0\n"
    check = load_config(write(tmp_path, text), {}).component("web").check
    assert isinstance(check, HttpCheck)
    assert check.follow_redirects is False
    assert check.max_redirects == 0


def test_defaults_table_applies_to_checks(tmp_path: Path) -> None:
    text = MINIMAL.replace("[[components]]", "[defaults]\ninterval = 120\n\n[[components]]")
    assert load_config(write(tmp_path, text), {}).component("web").interval == 120


def test_bad_timeout_names_key_path_and_value(tmp_path: Path) -> None:
    error = load_error(tmp_path, MINIMAL + "timeout = -5\n")
    assert error.key_path == "components[0].check.timeout"
    assert "-5" in str(error)
    assert "at least" in str(error)
    assert str(tmp_path / "checks.toml") in str(error)


def test_second_component_error_has_index(tmp_path: Path) -> None:
    text = MINIMAL + '\n[[components]]\nid = "api"\nname = "API"\n[components.check]\n'
    text += 'type = "http"\nurl = "http://127.0.0.1:9/"\ntimeout = "fast"\n'
    error = load_error(tmp_path, text)
    assert error.key_path == "components[1].check.timeout"


def test_unknown_key_is_an_error(tmp_path: Path) -> None:
    error = load_error(tmp_path, MINIMAL + "timeuot = 5\n")
    assert error.key_path == "components[0].check.timeuot"
    assert "unknown key" in str(error)


def test_unknown_top_level_table_is_an_error(tmp_path: Path) -> None:
    error = load_error(tmp_path, MINIMAL + "\n[alerts]\nemail = 'x'\n")
    assert error.key_path == "alerts"


def test_unknown_check_type_lists_allowed(tmp_path: Path) -> None:
    error = load_error(tmp_path, MINIMAL.replace('type = "http"', 'type = "ftp"'))
    assert error.key_path == "components[0].check.type"
    assert '"http", "postgres"' in str(error)


def test_invalid_time_zone(tmp_path: Path) -> None:
    error = load_error(tmp_path, MINIMAL.replace("Europe/Berlin", "Mars/Olympus"))
    assert error.key_path == "site.timezone"
    assert "Mars/Olympus" in str(error)


def test_duplicate_component_id(tmp_path: Path) -> None:
    text = MINIMAL + '\n[[components]]\nid = "web"\nname = "Again"\n[components.check]\n'
    text += 'type = "http"\nurl = "http://127.0.0.1:9/"\n'
    error = load_error(tmp_path, text)
    assert error.key_path == "components[1].id"
    assert "unique" in str(error)


def test_invalid_component_id(tmp_path: Path) -> None:
    error = load_error(tmp_path, MINIMAL.replace('id = "web"', 'id = "Web Site"'))
    assert error.key_path == "components[0].id"


def test_timeout_above_interval_is_rejected(tmp_path: Path) -> None:
    error = load_error(tmp_path, MINIMAL + "interval = 5\ntimeout = 10\n")
    assert error.key_path == "components[0].check.timeout"


def test_status_classes_expand(tmp_path: Path) -> None:
    check = load_config(write(tmp_path, MINIMAL + 'expected_status = ["2xx", 301]\n'), {})
    settings = check.component("web").check
    assert isinstance(settings, HttpCheck)
    assert settings.expected_status == (*range(200, 300), 301)


def test_invalid_status_code(tmp_path: Path) -> None:
    error = load_error(tmp_path, MINIMAL + "expected_status = [999]\n")
    assert error.key_path == "components[0].check.expected_status"


def test_invalid_toml_names_file(tmp_path: Path) -> None:
    error = load_error(tmp_path, "[site\n")
    assert "invalid TOML" in str(error)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "absent.toml", {})


def test_condition_with_both_kinds_is_rejected(tmp_path: Path) -> None:
    text = MINIMAL + '[[components.check.conditions]]\njson_path = "a"\nbody_contains = "b"\n'
    error = load_error(tmp_path, text)
    assert error.key_path.startswith("components[0].check.conditions[0]")


def test_ordering_condition_needs_number(tmp_path: Path) -> None:
    text = MINIMAL + '[[components.check.conditions]]\njson_path = "a"\nop = ">"\nvalue = "x"\n'
    error = load_error(tmp_path, text)
    assert error.key_path == "components[0].check.conditions[0].value"


def test_unset_variable_in_site_is_an_error(tmp_path: Path) -> None:
    text = MINIMAL.replace('name = "Example"', 'name = "Example"\nurl = "${STATUS_URL}"')
    error = load_error(tmp_path, text)
    assert error.key_path == "site.url"


def test_dollar_dollar_is_literal(tmp_path: Path) -> None:
    text = MINIMAL + '[components.check.headers]\nX-Price = "$$5"\n'
    check = load_config(write(tmp_path, text), {}).component("web").check
    assert isinstance(check, HttpCheck)
    assert ("X-Price", "$5") in check.headers


def test_unterminated_reference_is_an_error(tmp_path: Path) -> None:
    text = MINIMAL + '[components.check.headers]\nX-Token = "${TOKEN"\n'
    error = load_error(tmp_path, text)
    assert error.key_path == "components[0].check.headers.X-Token"
