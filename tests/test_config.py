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
    assert "from 0.1 to 86400" in str(error)
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


POSTGRES = """
[site]
name = "Example"
timezone = "UTC"

[[components]]
id = "database"
name = "Database"
[components.check]
type = "postgres"
dsn = "postgresql:///postgres"
"""


def postgres_check(tmp_path: Path, extra: str) -> PostgresCheck:
    check = load_config(write(tmp_path, POSTGRES + extra), {}).component("database").check
    assert isinstance(check, PostgresCheck)
    return check


def test_threshold_override_keeps_other_default(tmp_path: Path) -> None:
    check = postgres_check(
        tmp_path, "[components.check.thresholds]\nconnections = { warning = 0.7 }\n"
    )
    threshold = check.thresholds["connections"]
    assert threshold is not None
    assert (threshold.warning, threshold.critical) == (0.7, 0.95)


def test_threshold_off_disables_signal(tmp_path: Path) -> None:
    check = postgres_check(tmp_path, '[components.check.thresholds]\ndeadlocks = "off"\n')
    assert check.thresholds["deadlocks"] is None


def test_threshold_level_off(tmp_path: Path) -> None:
    text = '[components.check.thresholds]\nlock_waits = { critical = "off" }\n'
    threshold = postgres_check(tmp_path, text).thresholds["lock_waits"]
    assert threshold is not None
    assert threshold.critical is None


def test_threshold_size_with_unit(tmp_path: Path) -> None:
    text = '[components.check.thresholds]\ndatabase_size = { warning = "2 GiB" }\n'
    threshold = postgres_check(tmp_path, text).thresholds["database_size"]
    assert threshold is not None
    assert threshold.warning == 2 * 1024**3


def test_unknown_signal_lists_signals(tmp_path: Path) -> None:
    error = load_error(tmp_path, POSTGRES + "[components.check.thresholds]\nconections = {}\n")
    assert error.key_path == "components[0].check.thresholds.conections"
    assert "idle_in_transaction" in str(error)


def test_inverted_thresholds_are_rejected(tmp_path: Path) -> None:
    text = "[components.check.thresholds]\nlongest_query = { warning = 600, critical = 60 }\n"
    error = load_error(tmp_path, POSTGRES + text)
    assert error.key_path == "components[0].check.thresholds.longest_query.warning"


def test_lower_is_worse_thresholds_are_checked(tmp_path: Path) -> None:
    text = "[components.check.thresholds]\ncache_hit_ratio = { warning = 0.8, critical = 0.9 }\n"
    error = load_error(tmp_path, POSTGRES + text)
    assert "above critical" in str(error)


def test_ratio_threshold_above_one_is_rejected(tmp_path: Path) -> None:
    text = "[components.check.thresholds]\nconnections = { warning = 80 }\n"
    error = load_error(tmp_path, POSTGRES + text)
    assert error.key_path == "components[0].check.thresholds.connections.warning"


def test_partitioned_table_defaults_to_public(tmp_path: Path) -> None:
    text = '[[components.check.partitioned_tables]]\ntable = "logs"\npartitions = 10\n'
    [table] = postgres_check(tmp_path, text).partitioned_tables
    assert (table.schema, table.table, table.partitions) == ("public", "logs", 10)


def test_partitioned_table_name_is_checked(tmp_path: Path) -> None:
    text = '[[components.check.partitioned_tables]]\ntable = "logs; drop table x"\n'
    error = load_error(tmp_path, POSTGRES + text)
    assert error.key_path == "components[0].check.partitioned_tables[0].table"


def test_shipped_config_watches_logs_partitions() -> None:
    check = load_config(REPO / "checks.toml", {"PULLLOG_DATABASE_URL": "x"}).component("database")
    assert isinstance(check.check, PostgresCheck)
    [table] = check.check.partitioned_tables
    assert (table.name, table.partitions) == ("public.logs", 10)


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ("interval = 1e300\n", "interval"),
        ('url = "http://[::1"\n', "url"),
        ('url = "http://127.0.0.1:99999/"\n', "url"),
        ('url = "http://127.0.0.1/\\u0000"\n', "url"),
        ('[components.check.headers]\n"Bad Name" = "x"\n', "headers.Bad Name"),
        ('[components.check.headers]\nX-Note = "caf\\u00e9"\n', "headers.X-Note"),
        ('[components.check.headers]\nX-Note = "a\\nb"\n', "headers.X-Note"),
        (
            '[[components.check.conditions]]\njson_path = "x"\nop = ">"\nvalue = nan\n',
            "conditions[0].value",
        ),
    ],
)
def test_values_that_cannot_run_are_rejected(tmp_path: Path, extra: str, key: str) -> None:
    url_line = 'url = "http://127.0.0.1:9/"\n'
    text = MINIMAL.replace(url_line, "") + (
        extra if "url" in extra.split("=")[0] else url_line + extra
    )
    error = load_error(tmp_path, text)
    assert error.key_path == f"components[0].check.{key}"


@pytest.mark.parametrize("zone", ["America", "A" * 5000])
def test_odd_time_zone_is_rejected(tmp_path: Path, zone: str) -> None:
    error = load_error(tmp_path, MINIMAL.replace("Europe/Berlin", zone))
    assert error.key_path == "site.timezone"


def test_id_with_trailing_newline_is_rejected(tmp_path: Path) -> None:
    error = load_error(tmp_path, MINIMAL.replace('id = "web"', 'id = "web\\n"'))
    assert error.key_path == "components[0].id"


def test_unset_variable_outside_secrets_is_an_error(tmp_path: Path) -> None:
    text = MINIMAL.replace('type = "http"', 'type = "${CHECK_TYPE}"')
    error = load_error(tmp_path, text)
    assert error.key_path == "components[0].check.type"
    assert "CHECK_TYPE is not set" in str(error)


def test_unset_variable_in_url_means_not_configured(tmp_path: Path) -> None:
    text = MINIMAL.replace('url = "http://127.0.0.1:9/"', 'url = "${TARGET_URL}"')
    assert load_config(write(tmp_path, text), {}).component("web").missing_env == ("TARGET_URL",)


def test_timeout_equal_to_interval_is_rejected(tmp_path: Path) -> None:
    error = load_error(tmp_path, MINIMAL + "interval = 5\ntimeout = 5\n")
    assert error.key_path == "components[0].check.timeout"


def test_postgres_timeout_leaves_time_to_cancel(tmp_path: Path) -> None:
    error = load_error(tmp_path, POSTGRES + "interval = 5\ntimeout = 4.5\n")
    assert "cancel a query" in str(error)


def test_default_timeout_is_half_a_short_interval(tmp_path: Path) -> None:
    assert (
        load_config(write(tmp_path, MINIMAL + "interval = 4\n"), {}).component("web").check.timeout
        == 2
    )


def test_defaults_retry_interval_error_names_defaults(tmp_path: Path) -> None:
    text = MINIMAL.replace("[[components]]", "[defaults]\nretry_interval = 0.2\n\n[[components]]")
    error = load_error(tmp_path, text)
    assert error.key_path == "defaults.retry_interval"
