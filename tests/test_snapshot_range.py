"""Snapshots and the history leave out stored times that have no local date in the site's zone.

Validation rejects such times now, but a database may hold rows written before it did.
"""

import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from statuspage import snapshot as snapshot_module
from statuspage.config import Config, load_config
from statuspage.snapshot import build_history, build_snapshot
from statuspage.store import Store
from tests.test_web import CONFIG, NOW

NEW_YORK_CONFIG = CONFIG.replace('timezone = "Asia/Tokyo"', 'timezone = "America/New_York"')
# Midnight UTC on 1 January of year 1 is the evening before year 1 in New York.
YEAR_ONE = "0001-01-01T00:00:00.000+00:00"
CREATED = "2026-12-01T00:00:00.000+00:00"


@pytest.fixture
def config(tmp_path: Path) -> Config:
    path = tmp_path / "checks.toml"
    path.write_text(NEW_YORK_CONFIG, encoding="utf-8")
    return load_config(path, {})


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "data")
    yield opened
    opened.close()


@pytest.fixture(autouse=True)
def forget_logged_records() -> None:
    snapshot_module._logged_out_of_range.clear()


def insert_year_one_incident(store: Store) -> None:
    store.db.execute(
        "insert into incidents (id, title, impact, status, created_at, updated_at) "
        "values (1, 'Old row', 'minor', 'investigating', ?, ?)",
        [CREATED, CREATED],
    )
    store.db.execute(
        "insert into incident_updates "
        "(incident_id, status, body, display_at, created_at, created_by) "
        "values (1, 'investigating', 'Looking.', ?, ?, 'alice')",
        [YEAR_ONE, CREATED],
    )


def insert_year_one_window(store: Store) -> None:
    store.db.execute(
        "insert into maintenances (id, title, timezone, created_at, updated_at) "
        "values (1, 'Old row', 'America/New_York', ?, ?)",
        [CREATED, CREATED],
    )
    store.db.execute(
        "insert into maintenance_windows (id, maintenance_id, starts_at, ends_at, ended_at) "
        "values (1, 1, ?, '2026-11-10T00:00:00.000+00:00', '2026-11-10T00:00:00.000+00:00')",
        [YEAR_ONE],
    )


def test_snapshot_builds_with_year_one_incident(config: Config, store: Store) -> None:
    insert_year_one_incident(store)
    snapshot = build_snapshot(config, store, NOW)
    assert [incident.id for incident in snapshot.active_incidents] == [1]


def test_snapshot_leaves_year_one_incident_out_of_days(config: Config, store: Store) -> None:
    insert_year_one_incident(store)
    snapshot = build_snapshot(config, store, NOW)
    assert all(day.incidents == () for day in snapshot.recent_incidents)


def test_year_one_incident_is_logged_once(
    config: Config, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    insert_year_one_incident(store)
    with caplog.at_level(logging.WARNING, logger="statuspage.snapshot"):
        build_snapshot(config, store, NOW)
        build_snapshot(config, store, NOW)
    assert [record.getMessage() for record in caplog.records] == [
        "incident 1 starts at 0001-01-01T00:00:00+00:00, which has no local date in "
        "America/New_York, so the status page and the history leave it out of their days"
    ]


def test_history_builds_with_year_one_window(config: Config, store: Store) -> None:
    insert_year_one_window(store)
    zone = config.site.timezone
    history = build_history(store.db, zone, date(2026, 11, 1), datetime.now(UTC))
    assert history.days == ()


def test_history_builds_with_year_one_incident(config: Config, store: Store) -> None:
    insert_year_one_incident(store)
    zone = config.site.timezone
    history = build_history(store.db, zone, date(2026, 11, 1), NOW)
    assert history.days == ()
