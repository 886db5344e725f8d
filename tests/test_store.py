import sqlite3
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from statuspage.migrations import MIGRATIONS
from statuspage.state import State
from statuspage.store import Store
from tests.factories import T0, component, failed, ok

TOKYO = ZoneInfo("Asia/Tokyo")
UTC_ZONE = ZoneInfo("UTC")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = Store.open(tmp_path)
    yield opened
    opened.close()


def test_database_uses_wal(store: Store) -> None:
    assert store.db.execute("pragma journal_mode").fetchone()[0] == "wal"


def test_schema_version_is_recorded(store: Store) -> None:
    assert store.db.execute("pragma user_version").fetchone()[0] == len(MIGRATIONS)


def test_newer_schema_is_rejected(tmp_path: Path) -> None:
    connection = sqlite3.connect(tmp_path / "statuspage.db")
    connection.execute("pragma user_version = 99")
    connection.close()
    with pytest.raises(RuntimeError, match="newer than this statuspage"):
        Store.open(tmp_path)


def test_result_is_stored(store: Store) -> None:
    store.record(component(), ok(T0, latency=0.25), UTC_ZONE)
    row = next(store.db.query("select * from results"))
    assert row["latency_ms"] == 250.0
    assert row["outcome"] == "ok"


def test_transition_is_stored(store: Store) -> None:
    api = component()
    store.record(api, ok(T0), UTC_ZONE)
    store.record(api, failed(T0 + timedelta(seconds=60)), UTC_ZONE)
    store.record(api, failed(T0 + timedelta(seconds=80)), UTC_ZONE)
    states = [(t.from_state, t.to_state) for t in store.transitions("api")]
    assert states == [(State.NO_DATA, State.OPERATIONAL), (State.OPERATIONAL, State.DOWN)]


def test_status_survives_restart(tmp_path: Path) -> None:
    api = component()
    first = Store.open(tmp_path)
    first.record(api, failed(T0), UTC_ZONE)
    first.record(api, failed(T0 + timedelta(seconds=20)), UTC_ZONE)
    first.close()

    second = Store.open(tmp_path)
    status = second.status("api")
    second.close()
    assert status.state is State.DOWN
    assert status.failures == 2


def test_seconds_accumulate_in_previous_state(store: Store) -> None:
    api = component()
    store.record(api, ok(T0), UTC_ZONE)
    store.record(api, ok(T0 + timedelta(seconds=60)), UTC_ZONE)
    store.record(api, failed(T0 + timedelta(seconds=120)), UTC_ZONE)
    store.record(api, failed(T0 + timedelta(seconds=140)), UTC_ZONE)
    store.record(api, ok(T0 + timedelta(seconds=200)), UTC_ZONE)
    rollup = store.daily_rollups(T0.date(), T0.date())["api"][T0.date()]
    assert rollup.operational_s == 140
    assert rollup.down_s == 60


def test_gap_after_restart_is_not_counted(store: Store) -> None:
    api = component()
    store.record(api, ok(T0), UTC_ZONE)
    store.record(api, ok(T0 + timedelta(hours=6)), UTC_ZONE)
    rollup = store.daily_rollups(T0.date(), T0.date())["api"][T0.date()]
    assert rollup.operational_s == 2 * 60 + 10


def test_rollup_days_follow_site_time_zone(store: Store) -> None:
    api = component()
    before_midnight = T0 + timedelta(hours=14, minutes=59, seconds=30)  # 23:59:30 in Tokyo
    store.record(api, ok(before_midnight), TOKYO)
    store.record(api, ok(before_midnight + timedelta(seconds=60)), TOKYO)
    rollups = store.daily_rollups(date(2026, 3, 1), date(2026, 3, 2))["api"]
    assert rollups[date(2026, 3, 1)].operational_s == 30
    assert rollups[date(2026, 3, 2)].operational_s == 30


def test_latency_counts_only_successful_runs(store: Store) -> None:
    api = component()
    store.record(api, ok(T0, latency=0.1), UTC_ZONE)
    store.record(api, ok(T0 + timedelta(seconds=60), latency=0.3), UTC_ZONE)
    store.record(api, failed(T0 + timedelta(seconds=120)), UTC_ZONE)
    rollup = store.daily_rollups(T0.date(), T0.date())["api"][T0.date()]
    assert rollup.latency_count == 2
    assert rollup.latency_sum_ms == pytest.approx(400)
    assert (rollup.latency_min_ms, rollup.latency_max_ms) == (100, 300)
    assert (rollup.runs, rollup.failed_runs) == (3, 1)


def test_second_writer_is_detected(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    api = component()
    first = Store.open(tmp_path)
    second = Store.open(tmp_path)
    first.record(api, ok(T0), UTC_ZONE)
    second.record(api, ok(T0 + timedelta(seconds=60)), UTC_ZONE)
    first.record(api, ok(T0 + timedelta(seconds=120)), UTC_ZONE)
    first.close()
    second.close()
    assert "another monitor" in caplog.text


def test_prune_keeps_rollups(store: Store) -> None:
    api = component()
    store.record(api, ok(T0), UTC_ZONE)
    store.record(api, ok(T0 + timedelta(seconds=60)), UTC_ZONE)
    deleted = store.prune_results(T0 + timedelta(seconds=30))
    assert deleted == 1
    assert store.daily_rollups(T0.date(), T0.date())["api"][T0.date()].runs == 2


def test_older_result_changes_nothing(store: Store) -> None:
    api = component()
    store.record(api, ok(T0), UTC_ZONE)
    store.record(api, ok(T0 + timedelta(seconds=60)), UTC_ZONE)
    status, transition = store.record(api, failed(T0 + timedelta(seconds=30)), UTC_ZONE)
    store.record(api, ok(T0 + timedelta(seconds=120)), UTC_ZONE)
    rollup = store.daily_rollups(T0.date(), T0.date())["api"][T0.date()]
    assert rollup.operational_s == 120
    assert transition is None
    assert status.last_checked_at == T0 + timedelta(seconds=60)


def test_clean_stop_ends_observation(tmp_path: Path) -> None:
    api = component()
    first = Store.open(tmp_path)
    first.record(api, ok(T0), UTC_ZONE)
    first.stop_observing([api], T0 + timedelta(seconds=30), UTC_ZONE)
    first.close()

    second = Store.open(tmp_path)
    second.record(api, failed(T0 + timedelta(hours=2)), UTC_ZONE)
    rollup = second.daily_rollups(T0.date(), T0.date())["api"][T0.date()]
    second.close()
    assert rollup.operational_s == 30
    assert rollup.down_s == 0


def test_runs_after_restart_are_observed_again(tmp_path: Path) -> None:
    api = component()
    store = Store.open(tmp_path)
    store.record(api, ok(T0), UTC_ZONE)
    store.stop_observing([api], T0 + timedelta(seconds=30), UTC_ZONE)
    store.record(api, ok(T0 + timedelta(hours=2)), UTC_ZONE)
    store.record(api, ok(T0 + timedelta(hours=2, seconds=60)), UTC_ZONE)
    rollup = store.daily_rollups(T0.date(), T0.date())["api"][T0.date()]
    store.close()
    assert rollup.operational_s == 90
