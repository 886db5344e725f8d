"""Maintenance storage: windows materialized in SQLite, their lifecycle and public reads."""

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlite_utils
import time_machine

from statuspage import maintenance_store as ms
from statuspage.maintenance import (
    MaintenanceError,
    MaintenanceNotFound,
    MaintenanceSpec,
    MaintenanceWindow,
    WindowStatus,
)
from statuspage.store import Store

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # Tuesday 12:00 in Tokyo
SUNDAY_3AM_TOKYO = datetime(2026, 12, 5, 18, 0, tzinfo=UTC)

ONE_OFF = MaintenanceSpec(
    title="Database upgrade",
    description="Reads keep working.",
    timezone="Asia/Tokyo",
    components=("database", "api"),
    starts_at=NOW + timedelta(hours=1),
    ends_at=NOW + timedelta(hours=1, minutes=10),
)
WEEKLY = MaintenanceSpec(
    title="Weekly restart",
    description="",
    timezone="Asia/Tokyo",
    components=("website",),
    schedule="0 3 * * SUN",
    start_time="03:00",
    end_time="03:10",
)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[sqlite_utils.Database]:
    store = Store.open(tmp_path)
    yield store.db
    store.close()


def window_count(db: sqlite_utils.Database) -> int:
    return int(db.execute("select count(*) from maintenance_windows").fetchone()[0])


def live_windows(db: sqlite_utils.Database, maintenance_id: int) -> list[MaintenanceWindow]:
    """Return the maintenance's windows that are not cancelled, earliest first."""
    return [w for w in ms.windows_of(db, maintenance_id) if w.cancelled_at is None]


LATER = replace(WEEKLY, schedule="0 4 * * SUN", start_time="04:00", end_time="04:30")


# Create


def test_one_off_has_one_window(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, ONE_OFF, NOW, "alice")
    windows = ms.windows_of(db, maintenance_id)
    assert [(w.starts_at, w.ends_at) for w in windows] == [(ONE_OFF.starts_at, ONE_OFF.ends_at)]


def test_window_carries_title_and_components(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, ONE_OFF, NOW, "alice")
    window = ms.windows_of(db, maintenance_id)[0]
    assert (window.title, window.components) == ("Database upgrade", ("database", "api"))


def test_times_are_stored_as_utc_text(db: sqlite_utils.Database) -> None:
    ms.create_maintenance(db, ONE_OFF, NOW, "alice")
    row = db.execute("select starts_at from maintenance_windows").fetchone()
    assert row[0] == "2026-12-01T04:00:00.000+00:00"


def test_first_update_is_stored(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, ONE_OFF, NOW, "alice", body=" Starting soon ")
    updates = ms.updates_of(db, maintenance_id)
    assert [(u.body, u.display_at, u.created_by) for u in updates] == [
        ("Starting soon", NOW, "alice")
    ]


def test_no_update_without_body(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, ONE_OFF, NOW, "alice", body="  ")
    assert ms.updates_of(db, maintenance_id) == []


def test_recurring_materializes_90_days(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, WEEKLY, NOW, "alice")
    windows = ms.windows_of(db, maintenance_id)
    assert len(windows) == 13
    assert windows[0].starts_at == SUNDAY_3AM_TOKYO
    assert windows[-1].starts_at <= NOW + timedelta(days=90)


def test_get_maintenance_returns_spec(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, WEEKLY, NOW, "alice")
    maintenance = ms.get_maintenance(db, maintenance_id)
    assert maintenance is not None
    assert (maintenance.schedule, maintenance.start_time, maintenance.end_time) == (
        "0 3 * * SUN",
        "03:00",
        "03:10",
    )


# Materialization


def test_materialize_is_idempotent(db: sqlite_utils.Database) -> None:
    ms.create_maintenance(db, WEEKLY, NOW, "alice")
    assert ms.materialize_windows(db, NOW) == 0
    assert window_count(db) == 13


def test_materialize_moves_the_horizon(db: sqlite_utils.Database) -> None:
    ms.create_maintenance(db, WEEKLY, NOW, "alice")
    assert ms.materialize_windows(db, NOW + timedelta(days=7)) == 1
    assert window_count(db) == 14


def test_materialize_keeps_cancelled_windows(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, WEEKLY, NOW, "alice")
    first = ms.windows_of(db, maintenance_id)[0]
    ms.cancel_window(db, first.id, NOW)
    ms.materialize_windows(db, NOW)
    assert ms.windows_of(db, maintenance_id)[0].cancelled_at == NOW


def test_materialize_skips_deleted_maintenance(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, WEEKLY, NOW, "alice")
    ms.cancel_maintenance(db, maintenance_id, NOW)
    assert ms.materialize_windows(db, NOW + timedelta(days=30)) == 0


# Edit


def test_edit_regenerates_future_windows(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, WEEKLY, NOW, "alice")
    ms.update_maintenance(db, maintenance_id, LATER, NOW)
    windows = live_windows(db, maintenance_id)
    assert len(windows) == 13
    assert windows[0].starts_at == SUNDAY_3AM_TOKYO + timedelta(hours=1)
    assert windows[0].ends_at - windows[0].starts_at == timedelta(minutes=30)


def test_edit_cancels_windows_left_out_of_schedule(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, WEEKLY, NOW, "alice")
    before = ms.windows_of(db, maintenance_id)
    ms.update_maintenance(db, maintenance_id, LATER, NOW)
    after = {w.id: w for w in ms.windows_of(db, maintenance_id)}
    assert [after[w.id].cancelled_at for w in before] == [NOW] * len(before)


def test_edit_gives_new_windows_new_ids(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, WEEKLY, NOW, "alice")
    old_ids = {w.id for w in ms.windows_of(db, maintenance_id)}
    ms.update_maintenance(db, maintenance_id, LATER, NOW)
    new_ids = {w.id for w in live_windows(db, maintenance_id)}
    assert old_ids & new_ids == set()


def test_deleted_window_id_is_not_reused(db: sqlite_utils.Database) -> None:
    ms.create_maintenance(db, ONE_OFF, NOW, "alice")
    db.execute("delete from maintenance_windows")
    maintenance_id = ms.create_maintenance(db, ONE_OFF, NOW, "alice")
    assert ms.windows_of(db, maintenance_id)[0].id == 2


def test_edit_back_restores_cancelled_windows(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, WEEKLY, NOW, "alice")
    original = [w.id for w in ms.windows_of(db, maintenance_id)]
    ms.update_maintenance(db, maintenance_id, LATER, NOW)
    ms.update_maintenance(db, maintenance_id, WEEKLY, NOW)
    assert [w.id for w in live_windows(db, maintenance_id)] == original


def test_edit_back_restores_planned_end(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, WEEKLY, NOW, "alice")
    ms.update_maintenance(db, maintenance_id, replace(WEEKLY, end_time="03:40"), NOW)
    ms.update_maintenance(db, maintenance_id, LATER, NOW)
    ms.update_maintenance(db, maintenance_id, replace(WEEKLY, end_time="03:20"), NOW)
    first = live_windows(db, maintenance_id)[0]
    assert first.ends_at == SUNDAY_3AM_TOKYO + timedelta(minutes=20)


def test_edit_keeps_window_cancelled_by_operator(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, WEEKLY, NOW, "alice")
    first = ms.windows_of(db, maintenance_id)[0]
    ms.cancel_window(db, first.id, NOW)
    ms.update_maintenance(db, maintenance_id, LATER, NOW + timedelta(minutes=1))
    ms.update_maintenance(db, maintenance_id, WEEKLY, NOW + timedelta(minutes=2))
    assert ms.windows_of(db, maintenance_id)[0].cancelled_at == NOW


def test_edit_keeps_updates_of_cancelled_window(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, WEEKLY, NOW, "alice")
    first = ms.windows_of(db, maintenance_id)[0]
    ms.add_update(db, maintenance_id, "Longer this time", NOW, "alice", NOW, first.id)
    ms.update_maintenance(db, maintenance_id, LATER, NOW)
    assert [u.window_id for u in ms.updates_of(db, maintenance_id)] == [first.id]


def test_edit_moves_end_when_end_time_changes(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, WEEKLY, NOW, "alice")
    ms.update_maintenance(db, maintenance_id, replace(WEEKLY, end_time="03:30"), NOW)
    first = live_windows(db, maintenance_id)[0]
    assert first.ends_at == SUNDAY_3AM_TOKYO + timedelta(minutes=30)


def test_edit_keeps_window_id_when_end_time_changes(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, WEEKLY, NOW, "alice")
    original = [w.id for w in ms.windows_of(db, maintenance_id)]
    ms.update_maintenance(db, maintenance_id, replace(WEEKLY, end_time="03:30"), NOW)
    assert [w.id for w in live_windows(db, maintenance_id)] == original


def test_edit_of_title_keeps_extension(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, WEEKLY, NOW, "alice")
    first = ms.windows_of(db, maintenance_id)[0]
    extended_end = first.ends_at + timedelta(minutes=20)
    ms.extend_window(db, first.id, extended_end, NOW)
    ms.update_maintenance(db, maintenance_id, replace(WEEKLY, title="Renamed"), NOW)
    assert ms.windows_of(db, maintenance_id)[0].ends_at == extended_end


def test_edit_keeps_window_in_progress(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, WEEKLY, NOW, "alice")
    during = SUNDAY_3AM_TOKYO + timedelta(minutes=5)
    later = replace(WEEKLY, schedule="0 4 * * SUN", start_time="04:00", end_time="04:10")
    ms.update_maintenance(db, maintenance_id, later, during)
    windows = ms.windows_of(db, maintenance_id)
    assert windows[0].starts_at == SUNDAY_3AM_TOKYO
    assert windows[0].status(during) is WindowStatus.IN_PROGRESS
    # The new schedule's first start is 04:00 the same Sunday.
    assert windows[1].starts_at == SUNDAY_3AM_TOKYO + timedelta(hours=1)


def test_edit_keeps_past_windows(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, WEEKLY, NOW, "alice")
    after_two = SUNDAY_3AM_TOKYO + timedelta(days=8)
    ms.update_maintenance(db, maintenance_id, WEEKLY, after_two)
    starts = [w.starts_at for w in ms.windows_of(db, maintenance_id)]
    assert starts[:2] == [SUNDAY_3AM_TOKYO, SUNDAY_3AM_TOKYO + timedelta(days=7)]


def test_edit_keeps_cancelled_future_window(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, WEEKLY, NOW, "alice")
    first = ms.windows_of(db, maintenance_id)[0]
    ms.cancel_window(db, first.id, NOW)
    ms.update_maintenance(db, maintenance_id, WEEKLY, NOW)
    assert ms.windows_of(db, maintenance_id)[0].cancelled_at == NOW


def test_edit_changes_title_and_components(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, ONE_OFF, NOW, "alice")
    renamed = replace(ONE_OFF, title="New", components=("website",))
    ms.update_maintenance(db, maintenance_id, renamed, NOW)
    window = ms.windows_of(db, maintenance_id)[0]
    assert (window.title, window.components) == ("New", ("website",))


def test_edit_changes_components_of_windows_not_started(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, WEEKLY, NOW, "alice")
    during = SUNDAY_3AM_TOKYO + timedelta(minutes=5)
    ms.update_maintenance(db, maintenance_id, replace(WEEKLY, components=("api",)), during)
    windows = ms.windows_of(db, maintenance_id)
    assert {w.components for w in windows[1:]} == {("api",)}


def test_edit_keeps_components_of_window_in_progress(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, WEEKLY, NOW, "alice")
    during = SUNDAY_3AM_TOKYO + timedelta(minutes=5)
    ms.update_maintenance(db, maintenance_id, replace(WEEKLY, components=("api",)), during)
    assert ms.windows_of(db, maintenance_id)[0].components == ("website",)


def test_edit_keeps_components_of_completed_window(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, WEEKLY, NOW, "alice")
    after_first = SUNDAY_3AM_TOKYO + timedelta(days=1)
    changed = replace(WEEKLY, components=("website", "api"))
    ms.update_maintenance(db, maintenance_id, changed, after_first)
    windows = ms.windows_of(db, maintenance_id)
    assert (windows[0].components, windows[1].components) == (("website",), ("website", "api"))


def test_edit_changes_maintenance_components(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, WEEKLY, NOW, "alice")
    during = SUNDAY_3AM_TOKYO + timedelta(minutes=5)
    ms.update_maintenance(db, maintenance_id, replace(WEEKLY, components=("api",)), during)
    maintenance = ms.get_maintenance(db, maintenance_id)
    assert maintenance is not None and maintenance.components == ("api",)


def test_history_keeps_old_components_after_edit(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, WEEKLY, NOW, "alice")
    after_first = SUNDAY_3AM_TOKYO + timedelta(days=1)
    ms.update_maintenance(db, maintenance_id, replace(WEEKLY, components=("api",)), after_first)
    past = ms.windows_between(db, SUNDAY_3AM_TOKYO, after_first)
    assert [w.components for w in past] == [("website",)]


def test_materialized_window_has_maintenance_components(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, WEEKLY, NOW, "alice")
    ms.update_maintenance(db, maintenance_id, replace(WEEKLY, components=("api",)), NOW)
    ms.materialize_windows(db, NOW + timedelta(days=7))
    assert ms.windows_of(db, maintenance_id)[-1].components == ("api",)


def test_edit_of_started_maintenance_keeps_same_components(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, WEEKLY, NOW, "alice")
    during = SUNDAY_3AM_TOKYO + timedelta(minutes=5)
    ms.update_maintenance(db, maintenance_id, replace(WEEKLY, title="Renamed"), during)
    assert ms.windows_of(db, maintenance_id)[0].title == "Renamed"


def test_edit_components_after_only_cancelled_windows(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, WEEKLY, NOW, "alice")
    first = ms.windows_of(db, maintenance_id)[0]
    ms.cancel_window(db, first.id, NOW)
    after_first = SUNDAY_3AM_TOKYO + timedelta(days=1)
    changed = replace(WEEKLY, components=("api",))
    ms.update_maintenance(db, maintenance_id, changed, after_first)
    assert ms.windows_of(db, maintenance_id)[1].components == ("api",)


def test_edit_moves_one_off_not_started(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, ONE_OFF, NOW, "alice")
    moved_start = NOW + timedelta(days=1)
    moved = replace(ONE_OFF, starts_at=moved_start, ends_at=moved_start + timedelta(1))
    ms.update_maintenance(db, maintenance_id, moved, NOW)
    windows = ms.windows_of(db, maintenance_id)
    assert [w.starts_at for w in windows] == [moved_start]


def test_edit_rejects_moving_started_one_off(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, ONE_OFF, NOW, "alice")
    assert ONE_OFF.starts_at is not None
    during = ONE_OFF.starts_at + timedelta(minutes=1)
    moved = replace(ONE_OFF, starts_at=during)
    with pytest.raises(MaintenanceError) as raised:
        ms.update_maintenance(db, maintenance_id, moved, during)
    assert raised.value.field == "starts_at"
    assert "2026-12-01 13:00 JST" in str(raised.value)


def test_failed_edit_changes_nothing(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, ONE_OFF, NOW, "alice")
    assert ONE_OFF.starts_at is not None
    during = ONE_OFF.starts_at + timedelta(minutes=1)
    moved = replace(ONE_OFF, title="Renamed", starts_at=during)
    with pytest.raises(MaintenanceError):
        ms.update_maintenance(db, maintenance_id, moved, during)
    maintenance = ms.get_maintenance(db, maintenance_id)
    assert maintenance is not None and maintenance.title == "Database upgrade"


def test_edit_rejects_kind_change(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, ONE_OFF, NOW, "alice")
    with pytest.raises(MaintenanceError) as raised:
        ms.update_maintenance(db, maintenance_id, WEEKLY, NOW)
    assert raised.value.field == "kind"


def test_edit_of_missing_maintenance(db: sqlite_utils.Database) -> None:
    with pytest.raises(MaintenanceNotFound):
        ms.update_maintenance(db, 99, ONE_OFF, NOW)


# Window lifecycle


def test_lifecycle_follows_the_clock(db: sqlite_utils.Database) -> None:
    with time_machine.travel(NOW, tick=False) as traveller:
        ms.create_maintenance(db, ONE_OFF, datetime.now(UTC), "alice")
        seen = []
        for minutes in (0, 60, 70):
            traveller.move_to(NOW + timedelta(minutes=minutes))
            now = datetime.now(UTC)
            active = ms.active_windows(db, now)
            upcoming = ms.upcoming_windows(db, now)
            seen.append((len(upcoming), len(active)))
    assert seen == [(1, 0), (0, 1), (0, 0)]


def test_end_early_completes_window(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, ONE_OFF, NOW, "alice")
    window = ms.windows_of(db, maintenance_id)[0]
    with time_machine.travel(window.starts_at + timedelta(minutes=3), tick=False):
        now = datetime.now(UTC)
        ended = ms.end_window(db, window.id, now)
        assert ended.status(now) is WindowStatus.COMPLETED
        assert ended.effective_end == now
        assert ms.active_windows(db, now) == []


def test_end_early_rejects_scheduled_window(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, ONE_OFF, NOW, "alice")
    window = ms.windows_of(db, maintenance_id)[0]
    with pytest.raises(MaintenanceError) as raised:
        ms.end_window(db, window.id, NOW)
    assert "has not started yet" in str(raised.value)


def test_extended_window_stays_in_progress(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, ONE_OFF, NOW, "alice")
    window = ms.windows_of(db, maintenance_id)[0]
    with time_machine.travel(window.starts_at + timedelta(minutes=5), tick=False) as traveller:
        ms.extend_window(db, window.id, window.ends_at + timedelta(minutes=30), datetime.now(UTC))
        traveller.move_to(window.ends_at + timedelta(minutes=10))
        assert [w.id for w in ms.active_windows(db, datetime.now(UTC))] == [window.id]
        traveller.move_to(window.ends_at + timedelta(minutes=30))
        assert ms.active_windows(db, datetime.now(UTC)) == []


def test_extension_must_be_later(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, ONE_OFF, NOW, "alice")
    window = ms.windows_of(db, maintenance_id)[0]
    with pytest.raises(MaintenanceError) as raised:
        ms.extend_window(db, window.id, window.ends_at, NOW)
    assert raised.value.field == "ends_at"
    assert str(raised.value) == (
        "The new end 2026-12-01 13:10 JST is not after the current end 2026-12-01 13:10 JST: "
        "choose a later end."
    )


def test_completed_window_cannot_be_extended(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, ONE_OFF, NOW, "alice")
    window = ms.windows_of(db, maintenance_id)[0]
    with pytest.raises(MaintenanceError):
        ms.extend_window(db, window.id, window.ends_at + timedelta(hours=1), NOW + timedelta(1))


def test_cancelled_window_is_hidden(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, ONE_OFF, NOW, "alice")
    window = ms.windows_of(db, maintenance_id)[0]
    ms.cancel_window(db, window.id, NOW)
    assert ms.upcoming_windows(db, NOW) == []
    assert ms.windows_between(db, NOW, NOW + timedelta(days=1)) == []


def test_completed_window_cannot_be_cancelled(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, ONE_OFF, NOW, "alice")
    window = ms.windows_of(db, maintenance_id)[0]
    with pytest.raises(MaintenanceError) as raised:
        ms.cancel_window(db, window.id, NOW + timedelta(days=1))
    assert "already completed" in str(raised.value)


# Changes within the second the window was created in, to a window in progress.
CREATED_AT = NOW + timedelta(milliseconds=100)
CHANGED_AT = NOW + timedelta(milliseconds=200)
STARTED = replace(ONE_OFF, starts_at=NOW - timedelta(minutes=1))


def test_new_window_is_revised_at_creation(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, STARTED, CREATED_AT, "alice")
    assert ms.windows_of(db, maintenance_id)[0].revised_at == NOW


@pytest.mark.parametrize("change", ["extend", "end", "cancel"])
def test_change_within_second_moves_revised_at(db: sqlite_utils.Database, change: str) -> None:
    maintenance_id = ms.create_maintenance(db, STARTED, CREATED_AT, "alice")
    window = ms.windows_of(db, maintenance_id)[0]
    if change == "extend":
        later_end = window.ends_at + timedelta(minutes=5)
        changed = ms.extend_window(db, window.id, later_end, CHANGED_AT)
    elif change == "end":
        changed = ms.end_window(db, window.id, CHANGED_AT)
    else:
        changed = ms.cancel_window(db, window.id, CHANGED_AT)
    assert changed.revised_at == NOW + timedelta(seconds=1)


def test_each_change_moves_revised_at(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, STARTED, CREATED_AT, "alice")
    window = ms.windows_of(db, maintenance_id)[0]
    ms.extend_window(db, window.id, window.ends_at + timedelta(minutes=5), CHANGED_AT)
    ms.extend_window(db, window.id, window.ends_at + timedelta(minutes=6), CHANGED_AT)
    changed = ms.end_window(db, window.id, CHANGED_AT)
    assert changed.revised_at == NOW + timedelta(seconds=3)


def test_update_on_completed_window_moves_revised_at(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, STARTED, CREATED_AT, "alice")
    window = ms.end_window(db, ms.windows_of(db, maintenance_id)[0].id, CHANGED_AT)
    ms.add_update(db, maintenance_id, "Report.", CHANGED_AT, "alice", CHANGED_AT, window.id)
    assert ms.windows_of(db, maintenance_id)[0].revised_at == NOW + timedelta(seconds=2)


def test_edit_moves_revised_at_of_windows_not_over(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, WEEKLY, NOW, "alice")
    after_first = SUNDAY_3AM_TOKYO + timedelta(days=1)
    ms.update_maintenance(db, maintenance_id, replace(WEEKLY, title="Renamed"), after_first)
    windows = ms.windows_of(db, maintenance_id)
    assert (windows[0].revised_at, windows[1].revised_at) == (NOW, after_first)


def test_missing_window(db: sqlite_utils.Database) -> None:
    with pytest.raises(MaintenanceNotFound):
        ms.end_window(db, 99, NOW)


@pytest.mark.parametrize("row_id", [2**63, -(2**63) - 1])
def test_ids_beyond_sqlite_range_are_not_found(db: sqlite_utils.Database, row_id: int) -> None:
    assert ms.get_maintenance(db, row_id, include_deleted=True) is None
    assert ms.get_window(db, row_id) is None
    with pytest.raises(MaintenanceNotFound):
        ms.end_window(db, row_id, NOW)
    with pytest.raises(MaintenanceNotFound):
        ms.add_update(db, row_id, "x", NOW, "alice", NOW)


# Cancelling a whole maintenance


def test_cancel_maintenance_ends_current_window(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, WEEKLY, NOW, "alice")
    during = SUNDAY_3AM_TOKYO + timedelta(minutes=5)
    ms.cancel_maintenance(db, maintenance_id, during)
    windows = ms.windows_of(db, maintenance_id)
    assert windows[0].ended_at == during
    assert all(w.cancelled_at == during for w in windows[1:])


def test_cancelled_maintenance_is_hidden(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, WEEKLY, NOW, "alice")
    ms.cancel_maintenance(db, maintenance_id, NOW)
    assert ms.get_maintenance(db, maintenance_id) is None
    assert ms.list_maintenances(db) == []
    assert ms.windows_between(db, NOW - timedelta(days=1), NOW + timedelta(days=90)) == []


# Updates


def test_update_is_listed_by_display_time(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, ONE_OFF, NOW, "alice", body="first")
    ms.add_update(db, maintenance_id, "backdated", NOW - timedelta(minutes=5), "bob", NOW)
    assert [u.body for u in ms.updates_of(db, maintenance_id)] == ["backdated", "first"]


def test_update_on_missing_maintenance(db: sqlite_utils.Database) -> None:
    with pytest.raises(MaintenanceNotFound):
        ms.add_update(db, 99, "text", NOW, "alice", NOW)


# Public reads


def test_windows_between_finds_overlaps(db: sqlite_utils.Database) -> None:
    ms.create_maintenance(db, ONE_OFF, NOW, "alice")
    assert ONE_OFF.starts_at is not None
    assert ONE_OFF.ends_at is not None
    inside = ms.windows_between(db, ONE_OFF.ends_at - timedelta(minutes=1), ONE_OFF.ends_at)
    touching = ms.windows_between(db, ONE_OFF.ends_at, ONE_OFF.ends_at + timedelta(hours=1))
    assert (len(inside), len(touching)) == (1, 0)


def test_windows_between_uses_early_end(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, ONE_OFF, NOW, "alice")
    window = ms.windows_of(db, maintenance_id)[0]
    ended_at = window.starts_at + timedelta(minutes=2)
    ms.end_window(db, window.id, ended_at)
    assert ms.windows_between(db, ended_at, window.ends_at) == []


def test_upcoming_windows_limit_in_days(db: sqlite_utils.Database) -> None:
    ms.create_maintenance(db, WEEKLY, NOW, "alice")
    assert len(ms.upcoming_windows(db, NOW, days=7)) == 1
    assert len(ms.upcoming_windows(db, NOW, days=14)) == 2


def test_scheduled_windows_reach_beyond_horizon(db: sqlite_utils.Database) -> None:
    far_start = NOW + timedelta(days=400)
    far = replace(ONE_OFF, starts_at=far_start, ends_at=far_start + timedelta(hours=1))
    ms.create_maintenance(db, far, NOW, "alice")
    assert [w.starts_at for w in ms.scheduled_windows(db, NOW)] == [far_start]


def test_recent_windows_lists_completed(db: sqlite_utils.Database) -> None:
    maintenance_id = ms.create_maintenance(db, WEEKLY, NOW, "alice")
    later = SUNDAY_3AM_TOKYO + timedelta(days=8)
    recent = ms.recent_windows(db, later)
    assert [w.starts_at for w in recent] == [
        SUNDAY_3AM_TOKYO + timedelta(days=7),
        SUNDAY_3AM_TOKYO,
    ]
    assert all(w.maintenance_id == maintenance_id for w in recent)
