"""Load checks.toml into frozen, validated settings.

Every problem is reported as a `ConfigError` that names the file, the key path (for example
`components[1].check.timeout`), the bad value and what is allowed. Unknown keys are errors.
Defaults fill only keys that are absent, so an explicit `false` or `0` is kept as written.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from statuspage import __version__
from statuspage.conditions import Condition, parse_condition
from statuspage.thresholds import POSTGRES_SIGNALS, Threshold, Unit, parse_size
from statuspage.tomlreader import ConfigError, TableReader

__all__ = [
    "Component",
    "Config",
    "ConfigError",
    "HttpCheck",
    "MetricsSettings",
    "PartitionedTable",
    "PostgresCheck",
    "Site",
    "load_config",
]

DEFAULT_USER_AGENT = f"statuspage/{__version__} (uptime monitor; one request per check interval)"
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
COMPONENT_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MAX_INTERVAL = 86400.0  # seconds: a check runs at least once a day
# After its deadline a PostgreSQL check waits this long for the server to cancel a running query.
POSTGRES_CANCEL_GRACE = 1.0
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_$]{0,62}$")


@dataclass(frozen=True)
class Site:
    name: str
    timezone: ZoneInfo
    url: str | None = None  # public address of this status page
    homepage: str | None = None  # the monitored product's own site


@dataclass(frozen=True)
class HttpCheck:
    url: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    timeout: float = 10.0  # seconds for the whole request, body included
    expected_status: tuple[int, ...] = tuple(range(200, 300))
    follow_redirects: bool = True
    max_redirects: int = 5
    degraded_response_time: float | None = None  # seconds
    max_body_bytes: int = 1024 * 1024
    conditions: tuple[Condition, ...] = ()

    kind = "http"


@dataclass(frozen=True)
class PartitionedTable:
    """A partitioned parent whose partitions the PostgreSQL check watches."""

    schema: str
    table: str
    partitions: int | None = None  # expected number of attached partitions

    @property
    def name(self) -> str:
        return f"{self.schema}.{self.table}"


@dataclass(frozen=True)
class PostgresCheck:
    dsn: str = field(repr=False)  # contains a password: never log or render it
    timeout: float = 10.0  # client-side deadline for connect and queries together, seconds
    connect_timeout: float = 5.0
    statement_timeout: float = 5.0
    lock_timeout: float = 1.0
    application_name: str = "statuspage"
    # Sizes, per-table and partition signals are read at most this often, in seconds.
    heavy_interval: float = 600.0
    largest_tables: int = 10  # tables whose vacuum state is watched, by total size
    expected_replicas: int = 0
    partitioned_tables: tuple[PartitionedTable, ...] = ()
    # Signal name to its thresholds; a signal mapped to None is switched off.
    thresholds: Mapping[str, Threshold | None] = field(
        default_factory=lambda: {name: spec.default for name, spec in POSTGRES_SIGNALS.items()}
    )

    kind = "postgres"


CheckSettings = HttpCheck | PostgresCheck


@dataclass(frozen=True)
class Component:
    id: str
    name: str
    check: CheckSettings
    description: str = ""
    group: str | None = None
    interval: float = 60.0  # seconds between runs while healthy
    retry_interval: float = 20.0  # seconds between runs while failing but not yet down
    failures_before_down: int = 2
    successes_before_up: int = 1
    # Environment variables the check refers to that are unset: the check is not configured.
    missing_env: tuple[str, ...] = ()


@dataclass(frozen=True)
class MetricsSettings:
    """Access to `/metrics`: with `public` false, scrapers need an API key."""

    public: bool = False


@dataclass(frozen=True)
class Config:
    path: Path
    site: Site
    components: tuple[Component, ...]
    metrics: MetricsSettings = MetricsSettings()

    def component(self, component_id: str) -> Component:
        for component in self.components:
            if component.id == component_id:
                return component
        raise KeyError(component_id)


def load_config(path: str | os.PathLike[str], environ: Mapping[str, str] | None = None) -> Config:
    """Read, interpolate and validate a checks.toml file."""
    path = Path(path)
    environ = os.environ if environ is None else environ
    display = str(path)

    try:
        # utf-8-sig drops a byte order mark, which some Windows editors write.
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(display, "", "file not found; pass --config PATH") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(display, "", f"cannot be read: {exc}") from None

    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(display, "", f"invalid TOML: {exc}") from None

    root = TableReader(display, "", raw)
    site_table = root.table("site", required=True)
    site_table.interpolate(environ, strict=True)
    defaults_table = root.table("defaults")
    defaults_table.interpolate(environ, strict=True)
    site = _read_site(site_table)
    defaults = _read_defaults(defaults_table)
    components = _read_components(root, defaults, environ)
    metrics = _read_metrics(root.table("metrics"))
    root.finish()
    return Config(path=path, site=site, components=components, metrics=metrics)


def _read_site(table: TableReader) -> Site:
    name = table.string("name", required=True, allow_empty=False)
    zone_name = table.string("timezone", required=True)
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise table.error(
            "timezone", zone_name, "expected an IANA time zone name such as Asia/Tokyo or UTC"
        ) from None
    url = table.url("url")
    homepage = table.url("homepage")
    table.finish()
    return Site(name=name, timezone=zone, url=url, homepage=homepage)


def _read_metrics(table: TableReader) -> MetricsSettings:
    public = table.boolean("public", default=False)
    table.finish()
    return MetricsSettings(public=public)


@dataclass(frozen=True)
class _Defaults:
    interval: float = 60.0
    retry_interval: float = 20.0
    timeout: float = 10.0
    failures_before_down: int = 2
    successes_before_up: int = 1
    user_agent: str = DEFAULT_USER_AGENT


def _read_defaults(table: TableReader) -> _Defaults:
    base = _Defaults()
    interval = table.seconds("interval", default=base.interval, minimum=1, maximum=MAX_INTERVAL)
    defaults = _Defaults(
        interval=interval,
        retry_interval=table.seconds(
            "retry_interval", default=min(base.retry_interval, interval), minimum=1
        ),
        timeout=table.seconds("timeout", default=default_timeout(interval)),
        failures_before_down=table.integer("failures_before_down", default=2, minimum=1),
        successes_before_up=table.integer("successes_before_up", default=1, minimum=1),
        user_agent=table.header_value("user_agent", default=base.user_agent),
    )
    if defaults.retry_interval > interval:
        raise table.error(
            "retry_interval", defaults.retry_interval, f"must not exceed interval ({interval:g} s)"
        )
    if defaults.timeout >= interval:
        raise table.error("timeout", defaults.timeout, f"must be below interval ({interval:g} s)")
    table.finish()
    return defaults


def _read_components(
    root: TableReader, defaults: _Defaults, environ: Mapping[str, str]
) -> tuple[Component, ...]:
    tables = root.array_of_tables("components", required=True)
    components: list[Component] = []
    seen: dict[str, str] = {}
    for table in tables:
        component = _read_component(table, defaults, environ)
        if component.id in seen:
            raise table.error(
                "id", component.id, f"must be unique, but {seen[component.id]} uses it already"
            )
        seen[component.id] = table.path
        components.append(component)
    if not components:
        raise root.error("components", [], "expected at least one [[components]] table")
    return tuple(components)


def _read_component(
    table: TableReader, defaults: _Defaults, environ: Mapping[str, str]
) -> Component:
    component_id = table.string("id", required=True)
    if not COMPONENT_ID.fullmatch(component_id):
        raise table.error(
            "id",
            component_id,
            "expected lowercase letters, digits, '-' or '_' (at most 64), starting with a "
            "letter or digit; history is stored under this id, so keep it stable",
        )
    name = table.string("name", required=True, allow_empty=False)
    description = table.string("description", default="")
    group = table.string("group", default=None, allow_empty=False)

    check_table = table.table("check", required=True)
    # An unset variable in url, dsn or headers, where secrets live, makes the check "not
    # configured". Anywhere else in the check it is an error, because the check could not run
    # correctly without it.
    missing_env = check_table.interpolate(environ, lenient=frozenset({"url", "dsn", "headers"}))
    check_type = check_table.choice("type", ("http", "postgres"), required=True)
    interval = check_table.seconds(
        "interval", default=defaults.interval, minimum=1, maximum=MAX_INTERVAL
    )
    retry_interval = check_table.seconds(
        "retry_interval", default=min(defaults.retry_interval, interval), minimum=1
    )
    if retry_interval > interval:
        raise check_table.error(
            "retry_interval", retry_interval, f"must not exceed interval ({interval:g} s)"
        )
    timeout = check_table.seconds(
        "timeout", default=min(defaults.timeout, default_timeout(interval))
    )
    # A run that may last as long as the interval would make the scheduler skip every other
    # run, because a check never overlaps itself. PostgreSQL runs may take up to
    # POSTGRES_CANCEL_GRACE longer while a query is cancelled.
    slack = POSTGRES_CANCEL_GRACE if check_type == "postgres" else 0.0
    if timeout + slack >= interval:
        limit = f"below interval ({interval:g} s)"
        if slack:
            limit = (
                f"more than {slack:g} s below interval ({interval:g} s), "
                "which leaves time to cancel a query"
            )
        raise check_table.error("timeout", timeout, f"must be {limit}")
    failures = check_table.integer(
        "failures_before_down", default=defaults.failures_before_down, minimum=1
    )
    successes = check_table.integer(
        "successes_before_up", default=defaults.successes_before_up, minimum=1
    )

    check: CheckSettings
    if check_type == "http":
        check = _read_http(check_table, timeout, defaults.user_agent)
    else:
        check = _read_postgres(check_table, timeout, interval)
    check_table.finish()
    table.finish()

    return Component(
        id=component_id,
        name=name,
        description=description,
        group=group,
        check=check,
        interval=interval,
        retry_interval=retry_interval,
        failures_before_down=failures,
        successes_before_up=successes,
        missing_env=missing_env,
    )


def default_timeout(interval: float) -> float:
    return min(10.0, interval / 2)


def _read_http(table: TableReader, timeout: float, user_agent: str) -> HttpCheck:
    url = table.url("url", required=True)
    assert url is not None
    method = table.choice("method", HTTP_METHODS, default="GET")
    headers = table.headers("headers")
    if not any(name.lower() == "user-agent" for name, _ in headers):
        headers = ((("User-Agent", user_agent)), *headers)
    expected = table.status_codes("expected_status", default=tuple(range(200, 300)))
    follow = table.boolean("follow_redirects", default=True)
    max_redirects = table.integer("max_redirects", default=5, minimum=0, maximum=30)
    degraded = table.seconds("degraded_response_time", default=None)
    if degraded is not None and degraded >= timeout:
        raise table.error(
            "degraded_response_time", degraded, f"must be below the timeout ({timeout:g} s)"
        )
    max_body = table.integer(
        "max_body_bytes", default=1024 * 1024, minimum=1, maximum=64 * 1024 * 1024
    )
    conditions = tuple(
        parse_condition(item) for item in table.array_of_tables("conditions", required=False)
    )
    return HttpCheck(
        url=url,
        method=method,
        headers=headers,
        timeout=timeout,
        expected_status=expected,
        follow_redirects=follow,
        max_redirects=max_redirects,
        degraded_response_time=degraded,
        max_body_bytes=max_body,
        conditions=conditions,
    )


def _read_postgres(table: TableReader, timeout: float, interval: float) -> PostgresCheck:
    dsn = table.string("dsn", required=True, allow_empty=table.has_missing_env)
    connect_timeout = table.seconds("connect_timeout", default=min(5.0, timeout))
    statement_timeout = table.seconds("statement_timeout", default=min(5.0, timeout))
    lock_timeout = table.seconds("lock_timeout", default=min(1.0, statement_timeout))
    for key, value in (
        ("connect_timeout", connect_timeout),
        ("statement_timeout", statement_timeout),
        ("lock_timeout", lock_timeout),
    ):
        if value > timeout:
            raise table.error(key, value, f"must not exceed the check's timeout ({timeout:g} s)")
    application_name = table.string("application_name", default="statuspage", allow_empty=False)
    heavy_interval = table.seconds(
        "heavy_interval", default=max(600.0, interval), minimum=1, maximum=7 * MAX_INTERVAL
    )
    if heavy_interval < interval:
        raise table.error(
            "heavy_interval", heavy_interval, f"must be at least the interval ({interval:g} s)"
        )
    largest_tables = table.integer("largest_tables", default=10, minimum=0, maximum=1000)
    expected_replicas = table.integer("expected_replicas", default=0, minimum=0, maximum=100)
    partitioned = tuple(
        _read_partitioned_table(item)
        for item in table.array_of_tables("partitioned_tables", required=False)
    )
    names = [item.name for item in partitioned]
    for index, name in enumerate(names):
        if name in names[:index]:
            raise table.error(f"partitioned_tables[{index}].table", name, "is listed twice")
    thresholds = read_thresholds(table.table("thresholds"))
    return PostgresCheck(
        dsn=dsn,
        timeout=timeout,
        connect_timeout=connect_timeout,
        statement_timeout=statement_timeout,
        lock_timeout=lock_timeout,
        application_name=application_name,
        heavy_interval=heavy_interval,
        largest_tables=largest_tables,
        expected_replicas=expected_replicas,
        partitioned_tables=partitioned,
        thresholds=thresholds,
    )


def _read_partitioned_table(table: TableReader) -> PartitionedTable:
    name = table.string("table", required=True, allow_empty=False)
    parts = name.split(".")
    if len(parts) > 2 or not all(IDENTIFIER.fullmatch(part) for part in parts):
        raise table.error(
            "table",
            name,
            "expected a table name such as logs or public.logs (unquoted, lowercase identifiers)",
        )
    schema, relation = (parts[0], parts[1]) if len(parts) == 2 else ("public", parts[0])
    partitions = table.integer("partitions", default=0, minimum=0, maximum=100_000)
    table.finish()
    return PartitionedTable(schema=schema, table=relation, partitions=partitions or None)


def read_thresholds(table: TableReader) -> dict[str, Threshold | None]:
    """Merge `[thresholds]` over the defaults; a key left out keeps its default."""
    thresholds: dict[str, Threshold | None] = {
        name: spec.default for name, spec in POSTGRES_SIGNALS.items()
    }
    for name in list(table.data):
        if name not in POSTGRES_SIGNALS:
            raise ConfigError(
                table.file,
                table.key_path(name),
                f"unknown signal; signals are: {', '.join(POSTGRES_SIGNALS)}",
            )
        spec = POSTGRES_SIGNALS[name]
        value = table.data[name]
        table.read.add(name)
        if value == "off":
            thresholds[name] = None
            continue
        if not isinstance(value, dict):
            raise table.error(
                name, value, 'expected a table such as { warning = 1, critical = 2 } or "off"'
            )
        limits = TableReader(table.file, table.key_path(name), value)
        warning = _read_limit(limits, "warning", spec.unit, spec.default.warning)
        critical = _read_limit(limits, "critical", spec.unit, spec.default.critical)
        limits.finish()
        threshold = Threshold(warning, critical, spec.default.lower_is_worse)
        if warning is not None and critical is not None:
            inverted = warning < critical if threshold.lower_is_worse else warning > critical
            if inverted:
                relation = "above" if threshold.lower_is_worse else "below"
                raise limits.error(
                    "warning", warning, f"must be {relation} critical ({critical:g}) for {name}"
                )
        thresholds[name] = threshold
    table.finish()
    return thresholds


def _read_limit(table: TableReader, key: str, unit: Unit, default: float | None) -> float | None:
    if key not in table.data:
        table.read.add(key)
        return default
    value = table.data[key]
    table.read.add(key)
    if value == "off":
        return None
    if unit in (Unit.BYTES, Unit.BYTES_PER_MINUTE, Unit.BYTES_PER_HOUR) and isinstance(value, str):
        try:
            return parse_size(value)
        except ValueError:
            raise table.error(key, value, 'expected bytes such as 1073741824 or "1 GiB"') from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise table.error(key, value, f'expected a number ({unit.value}) or "off"')
    if value < 0 or (unit is Unit.RATIO and value > 1):
        allowed = "between 0 and 1" if unit is Unit.RATIO else "0 or more"
        raise table.error(key, value, f"expected a number {allowed} ({unit.value})")
    return float(value)
