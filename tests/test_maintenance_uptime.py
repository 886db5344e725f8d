"""Time inside a maintenance window counts as maintenance: neither up nor down."""

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from statuspage import maintenance_store
from statuspage.config import Component
from statuspage.maintenance import MaintenanceSpec
from statuspage.snapshot import build_snapshot
from statuspage.store import DailyRollup, Store
from statuspage.uptime import day_uptime
from tests.factories import component, failed, ok
from tests.test_web import write_config

TOKYO = ZoneInfo("Asia/Tokyo")
T0 = datetime(2026, 3, 1, 3, 0, tzinfo=UTC)  # 12:00 in Tokyo
DAY = date(2026, 3, 1)
MINUTE = timedelta(minutes=1)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path)
    yield opened
    opened.close()


def add_window(
    store: Store, start: datetime, end: datetime, components: tuple[str, ...] = ("api",)
) -> int:
    """Create a one-off maintenance and return its window's id."""
    spec = MaintenanceSpec(
        title="Database upgrade",
        description="",
        timezone="Asia/Tokyo",
        components=components,
        starts_at=start,
        ends_at=end,
    )
    maintenance_id = maintenance_store.create_maintenance(
        store.db, spec, start - timedelta(hours=1), "operator"
    )
    return maintenance_store.windows_of(store.db, maintenance_id)[0].id


def run_every_minute(
    store: Store, api: Component, start: datetime, end: datetime, succeed: bool
) -> None:
    """Record one run per minute in [start, end]."""
    moment = start
    while moment <= end:
        result = ok(moment) if succeed else failed(moment)
        store.record(api, result, TOKYO)
        moment += MINUTE


def rollup_of(store: Store, day: date = DAY) -> DailyRollup:
    return store.daily_rollups(day, day)["api"][day]


def test_down_during_window_loses_no_uptime(store: Store) -> None:
    api = component()
    add_window(store, T0 + 10 * MINUTE, T0 + 40 * MINUTE)
    run_every_minute(store, api, T0, T0 + 9 * MINUTE, succeed=True)
    run_every_minute(store, api, T0 + 10 * MINUTE, T0 + 40 * MINUTE, succeed=False)
    rollup = rollup_of(store)
    assert rollup.down_s == 0
    assert rollup.maintenance_s == 30 * 60
    assert day_uptime(DAY, rollup).ratio == 1.0


def test_down_across_end_counts_after_end(store: Store) -> None:
    api = component()
    add_window(store, T0, T0 + 10 * MINUTE)
    run_every_minute(store, api, T0 - 5 * MINUTE, T0 + 4 * MINUTE, succeed=True)
    run_every_minute(store, api, T0 + 5 * MINUTE, T0 + 20 * MINUTE, succeed=False)
    rollup = rollup_of(store)
    assert rollup.operational_s == 5 * 60
    assert rollup.maintenance_s == 10 * 60
    assert rollup.down_s == 10 * 60


def test_early_end_counts_down_after_it(store: Store) -> None:
    api = component()
    window_id = add_window(store, T0, T0 + 30 * MINUTE)
    run_every_minute(store, api, T0 - 2 * MINUTE, T0 + 10 * MINUTE, succeed=False)
    maintenance_store.end_window(store.db, window_id, T0 + 10 * MINUTE + timedelta(seconds=30))
    run_every_minute(store, api, T0 + 11 * MINUTE, T0 + 20 * MINUTE, succeed=False)
    rollup = rollup_of(store)
    # Down from the second failure at T0 - 1 min until the window, then again after the end.
    assert rollup.maintenance_s == 10 * 60 + 30
    assert rollup.down_s == 60 + 9 * 60 + 30


def test_extended_window_keeps_counting_maintenance(store: Store) -> None:
    api = component()
    window_id = add_window(store, T0, T0 + 10 * MINUTE)
    run_every_minute(store, api, T0 - 2 * MINUTE, T0 + 5 * MINUTE, succeed=False)
    maintenance_store.extend_window(store.db, window_id, T0 + 20 * MINUTE, T0 + 5 * MINUTE)
    run_every_minute(store, api, T0 + 6 * MINUTE, T0 + 30 * MINUTE, succeed=False)
    rollup = rollup_of(store)
    assert rollup.maintenance_s == 20 * 60
    assert rollup.down_s == 60 + 10 * 60


def test_cancelled_window_does_not_exclude_time(store: Store) -> None:
    api = component()
    window_id = add_window(store, T0 + 10 * MINUTE, T0 + 20 * MINUTE)
    maintenance_store.cancel_window(store.db, window_id, T0)
    run_every_minute(store, api, T0, T0 + 30 * MINUTE, succeed=False)
    rollup = rollup_of(store)
    assert rollup.maintenance_s == 0
    assert rollup.down_s == 29 * 60


def test_window_of_other_component_changes_nothing(store: Store) -> None:
    api = component()
    add_window(store, T0, T0 + 30 * MINUTE, components=("website",))
    run_every_minute(store, api, T0, T0 + 30 * MINUTE, succeed=False)
    rollup = rollup_of(store)
    assert rollup.maintenance_s == 0
    assert rollup.down_s == 29 * 60


def test_window_across_midnight_splits_by_local_day(store: Store) -> None:
    api = component()
    midnight = datetime(2026, 3, 1, 15, 0, tzinfo=UTC)  # 2026-03-02 00:00 in Tokyo
    add_window(store, midnight - 10 * MINUTE, midnight + 10 * MINUTE)
    run_every_minute(store, api, midnight - 20 * MINUTE, midnight + 20 * MINUTE, succeed=True)
    first = rollup_of(store, date(2026, 3, 1))
    second = rollup_of(store, date(2026, 3, 2))
    assert (first.operational_s, first.maintenance_s) == (10 * 60, 10 * 60)
    assert (second.operational_s, second.maintenance_s) == (10 * 60, 10 * 60)


def test_window_start_splits_time_between_runs(store: Store) -> None:
    api = component()
    add_window(store, T0 + timedelta(seconds=20), T0 + 30 * MINUTE)
    store.record(api, failed(T0 - MINUTE), TOKYO)
    store.record(api, failed(T0), TOKYO)
    store.record(api, failed(T0 + MINUTE), TOKYO)
    rollup = rollup_of(store)
    assert rollup.down_s == 20
    assert rollup.maintenance_s == 40


def test_clean_stop_counts_window_as_maintenance(store: Store) -> None:
    api = component()
    add_window(store, T0, T0 + 60 * MINUTE)
    run_every_minute(store, api, T0 + 5 * MINUTE, T0 + 10 * MINUTE, succeed=False)
    store.stop_observing([api], T0 + 11 * MINUTE, TOKYO)
    rollup = rollup_of(store)
    assert rollup.down_s == 0
    assert rollup.maintenance_s == 6 * 60


def test_snapshot_live_span_counts_maintenance(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    api = config.component("api")
    store = Store.open(tmp_path / "data")
    add_window(store, T0, T0 + 60 * MINUTE)
    store.record(api, failed(T0 - 2 * MINUTE), TOKYO)
    store.record(api, failed(T0 - MINUTE), TOKYO)
    with time_machine.travel(T0 + MINUTE, tick=False):
        snapshot = build_snapshot(config, store, datetime.now(UTC))
    store.close()
    today = {view.id: view for view in snapshot.components}["api"].days[-1]
    assert today.maintenance_s == 60
    assert today.down_s == 60
