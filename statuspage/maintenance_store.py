"""SQL for maintenances, their materialized windows and their updates.

Every function takes the Store's sqlite-utils `db` first and runs on the store's thread
(`await store.call(maintenance_store.function, store.db, ...)`). Writes run in one
`begin immediate` transaction each. Times are stored as ISO 8601 UTC text (`to_text`), so
comparing the text compares the instants.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlite_utils

from statuspage.maintenance import (
    HORIZON,
    Maintenance,
    MaintenanceError,
    MaintenanceNotFound,
    MaintenanceSpec,
    MaintenanceUpdate,
    MaintenanceWindow,
    check_cancel,
    check_end_early,
    check_extension,
    format_local,
    recurring_windows,
)
from statuspage.store import from_text, to_text

UPCOMING_DAYS = 7  # default span of `upcoming_windows`
RECENT_DAYS = 30  # default span of `recent_windows`
# SQLite's integers are signed 64-bit: a larger id raises OverflowError when bound, and no row
# can have one.
MIN_ID = -(2**63)
MAX_ID = 2**63 - 1

# The end that visitors see: an early end when there is one, else the planned end.
_EFFECTIVE_END = (
    "(case when w.ended_at is not null and w.ended_at < w.ends_at "
    "then w.ended_at else w.ends_at end)"
)
_WINDOW_COLUMNS = (
    "w.id, w.maintenance_id, m.title, w.starts_at, w.ends_at, w.ended_at, w.cancelled_at, "
    "w.revised_at"
)
# The assignment that records a change of a window at the time bound to `?` in whole seconds,
# or one second after the window's previous change when that is later. Feeds and calendars
# show whole seconds, so each change then moves them, even within one second.
_REVISE = (
    "revised_at = max(?, coalesce(strftime('%Y-%m-%dT%H:%M:%S.000+00:00', revised_at, "
    "'+1 second'), ''))"
)
# Windows that are neither cancelled nor over. A change to their maintenance counts as a change
# to them, as `feeds.window_last_change` counts it.
_NOT_OVER = f"w.cancelled_at is null and {_EFFECTIVE_END} > ?"
# Ids bound in one `in (...)` list, well below SQLite's limit of 32766 variables.
_ID_CHUNK = 500


# Writes


def create_maintenance(
    db: sqlite_utils.Database,
    spec: MaintenanceSpec,
    now: datetime,
    created_by: str,
    body: str = "",
) -> int:
    """Insert a maintenance, its components, its windows up to the horizon and a first update.

    Returns the new maintenance's id.
    """
    with _write(db):
        cursor = db.execute(
            """
            insert into maintenances
                (title, description, timezone, schedule, start_time, end_time,
                 created_at, updated_at)
            values (?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                spec.title,
                spec.description,
                spec.timezone,
                spec.schedule,
                spec.start_time,
                spec.end_time,
                to_text(now),
                to_text(now),
            ],
        )
        maintenance_id = cursor.lastrowid
        assert maintenance_id is not None
        _replace_components(db, maintenance_id, spec.components)
        window_ids = _insert_windows(
            db, maintenance_id, _planned_windows(spec, now), spec.components, now
        )
        if body.strip():
            first_window = window_ids[0] if window_ids and not spec.recurring else None
            _insert_update(db, maintenance_id, body.strip(), now, now, created_by, first_window)
    return maintenance_id


def update_maintenance(
    db: sqlite_utils.Database, maintenance_id: int, spec: MaintenanceSpec, now: datetime
) -> None:
    """Store an edited maintenance and apply it to its windows that have not started.

    Windows in progress or completed keep their times and components as history. A recurring
    maintenance's future windows follow the new schedule: a window whose start the schedule no
    longer has is cancelled, not deleted, so its id is never reused and subscribers learn of
    the cancellation. A window that an earlier edit cancelled comes back when the schedule
    has its start again, and a window an operator cancelled stays cancelled. A one-off window
    that has started can no longer move, so moving it raises MaintenanceError. New components
    apply to the windows that start after `now`.
    """
    with _write(db):
        current = _maintenance_row(db, maintenance_id)
        if spec.recurring != (current["schedule"] is not None):
            raise MaintenanceError(
                "kind",
                "A maintenance cannot change between one-off and recurring: delete it and "
                "create a new one.",
            )
        db.execute(
            """
            update maintenances
            set title = ?, description = ?, timezone = ?, schedule = ?, start_time = ?,
                end_time = ?, updated_at = ?
            where id = ?
            """,
            [
                spec.title,
                spec.description,
                spec.timezone,
                spec.schedule,
                spec.start_time,
                spec.end_time,
                to_text(now),
                maintenance_id,
            ],
        )
        _replace_components(db, maintenance_id, spec.components)
        if spec.recurring:
            end_changed = (current["end_time"], current["timezone"]) != (
                spec.end_time,
                spec.timezone,
            )
            _regenerate_future_windows(db, maintenance_id, spec, now, end_changed)
        else:
            _move_one_off_window(db, maintenance_id, spec, now)
        _replace_future_window_components(db, maintenance_id, spec.components, now)
        # Every window that is not over shows the edited title, description and times.
        _revise_windows_not_over(db, maintenance_id, now)


def materialize_windows(db: sqlite_utils.Database, now: datetime) -> int:
    """Add the windows of every recurring maintenance up to `now + HORIZON`.

    Idempotent: existing windows, cancelled ones included, are left as they are. The
    scheduler calls this daily so the horizon moves forward. Returns the number added.
    """
    added = 0
    with _write(db):
        rows = list(
            db.query("select * from maintenances where schedule is not null and deleted_at is null")
        )
        components = _components_of(db, [row["id"] for row in rows])
        for row in rows:
            spec = _spec_from_row(row, components.get(row["id"], ()))
            added += len(
                _insert_windows(db, row["id"], _planned_windows(spec, now), spec.components, now)
            )
    return added


def end_window(db: sqlite_utils.Database, window_id: int, now: datetime) -> MaintenanceWindow:
    """End a window in progress now; raises MaintenanceError for any other status."""
    with _write(db):
        window = _window_for_update(db, window_id)
        check_end_early(window, now)
        db.execute(
            f"update maintenance_windows set ended_at = ?, {_REVISE} where id = ?",
            [to_text(now), _revision_time(now), window_id],
        )
        _touch(db, window.maintenance_id, now)
    return _require_window(db, window_id)


def extend_window(
    db: sqlite_utils.Database, window_id: int, new_end: datetime, now: datetime
) -> MaintenanceWindow:
    """Move a scheduled or in-progress window's end later; raises MaintenanceError."""
    with _write(db):
        window = _window_for_update(db, window_id)
        zone = ZoneInfo(_maintenance_row(db, window.maintenance_id)["timezone"])
        check_extension(window, new_end, now, zone)
        db.execute(
            "update maintenance_windows set ends_at = ? where id = ?",
            [to_text(new_end), window_id],
        )
        # The extended window is not over, so this records its change too.
        _touch(db, window.maintenance_id, now)
    return _require_window(db, window_id)


def cancel_window(db: sqlite_utils.Database, window_id: int, now: datetime) -> MaintenanceWindow:
    """Cancel one scheduled or in-progress window; it is kept, hidden from visitors."""
    with _write(db):
        window = _window_for_update(db, window_id)
        check_cancel(window, now)
        db.execute(
            f"update maintenance_windows set cancelled_at = ?, {_REVISE} where id = ?",
            [to_text(now), _revision_time(now), window_id],
        )
        _touch(db, window.maintenance_id, now)
    return _require_window(db, window_id)


def cancel_maintenance(db: sqlite_utils.Database, maintenance_id: int, now: datetime) -> None:
    """Soft-delete a maintenance: cancel its future windows and end the one in progress.

    The rows stay in the database, but no read function for visitors returns them again.
    """
    with _write(db):
        _maintenance_row(db, maintenance_id)
        moment = to_text(now)
        db.execute(
            "update maintenances set deleted_at = ?, updated_at = ? where id = ?",
            [moment, moment, maintenance_id],
        )
        revised = _revision_time(now)
        db.execute(
            f"""
            update maintenance_windows set cancelled_at = ?, {_REVISE}
            where maintenance_id = ? and cancelled_at is null and starts_at > ?
            """,
            [moment, revised, maintenance_id, moment],
        )
        db.execute(
            f"""
            update maintenance_windows set ended_at = ?, {_REVISE}
            where maintenance_id = ? and cancelled_at is null and ended_at is null
              and starts_at <= ? and ends_at > ?
            """,
            [moment, revised, maintenance_id, moment, moment],
        )


def add_update(
    db: sqlite_utils.Database,
    maintenance_id: int,
    body: str,
    display_at: datetime,
    created_by: str,
    now: datetime,
    window_id: int | None = None,
) -> MaintenanceUpdate:
    """Post an update on a maintenance, optionally about one of its windows."""
    with _write(db):
        _maintenance_row(db, maintenance_id)
        if window_id is not None:
            window = _window_for_update(db, window_id)
            if window.maintenance_id != maintenance_id:
                raise MaintenanceNotFound(f"window {window_id} of maintenance {maintenance_id}")
            # The update is shown with this window even after it is over. `_touch` records
            # the change of the windows that are not over.
            db.execute(
                f"""
                update maintenance_windows as w set {_REVISE}
                where w.id = ? and not ({_NOT_OVER})
                """,
                [_revision_time(now), window_id, to_text(now)],
            )
        update_id = _insert_update(db, maintenance_id, body, display_at, now, created_by, window_id)
        _touch(db, maintenance_id, now)
    return MaintenanceUpdate(
        id=update_id,
        maintenance_id=maintenance_id,
        body=body,
        display_at=display_at,
        created_at=now,
        created_by=created_by,
        window_id=window_id,
    )


# Reads for the admin area and the API


def get_maintenance(
    db: sqlite_utils.Database, maintenance_id: int, include_deleted: bool = False
) -> Maintenance | None:
    if not _valid_id(maintenance_id):
        return None
    rows = list(db.query("select * from maintenances where id = ?", [maintenance_id]))
    if not rows or (rows[0]["deleted_at"] is not None and not include_deleted):
        return None
    components = _components_of(db, [maintenance_id]).get(maintenance_id, ())
    return _maintenance_from_row(rows[0], components)


def list_maintenances(db: sqlite_utils.Database) -> list[Maintenance]:
    """Return the maintenances that are not deleted, newest first."""
    rows = list(
        db.query("select * from maintenances where deleted_at is null order by created_at desc")
    )
    components = _components_of(db, [row["id"] for row in rows])
    return [_maintenance_from_row(row, components.get(row["id"], ())) for row in rows]


def windows_of(db: sqlite_utils.Database, maintenance_id: int) -> list[MaintenanceWindow]:
    """Return every window of one maintenance, cancelled ones included, earliest first."""
    return _windows(
        db, "w.maintenance_id = ?", [maintenance_id], include_cancelled=True, deleted=True
    )


def updates_of(db: sqlite_utils.Database, maintenance_id: int) -> list[MaintenanceUpdate]:
    """Return a maintenance's updates, oldest first by display time."""
    rows = db.query(
        "select * from maintenance_updates where maintenance_id = ? order by display_at, id",
        [maintenance_id],
    )
    return [
        MaintenanceUpdate(
            id=row["id"],
            maintenance_id=row["maintenance_id"],
            body=row["body"],
            display_at=_time(row["display_at"]),
            created_at=_time(row["created_at"]),
            created_by=row["created_by"],
            window_id=row["window_id"],
        )
        for row in rows
    ]


def get_window(db: sqlite_utils.Database, window_id: int) -> MaintenanceWindow | None:
    """Return one window of a maintenance that is not deleted, or None."""
    if not _valid_id(window_id):
        return None
    windows = _windows(db, "w.id = ?", [window_id], include_cancelled=True)
    return windows[0] if windows else None


def recent_windows(
    db: sqlite_utils.Database, now: datetime, days: int = RECENT_DAYS
) -> list[MaintenanceWindow]:
    """Return windows that ended or were cancelled in the last `days`, most recent first."""
    since = to_text(now - timedelta(days=days))
    windows = _windows(
        db,
        f"""
        (w.cancelled_at is null and {_EFFECTIVE_END} <= ? and {_EFFECTIVE_END} > ?)
        or (w.cancelled_at is not null and w.cancelled_at > ?)
        """,
        [to_text(now), since, since],
        include_cancelled=True,
    )
    return sorted(windows, key=lambda window: window.cancelled_at or window.effective_end)[::-1]


# Reads for the public pages


def windows_between(
    db: sqlite_utils.Database, start: datetime, end: datetime
) -> list[MaintenanceWindow]:
    """Return the windows that overlap [start, end), not cancelled, earliest first."""
    return _windows(db, f"w.starts_at < ? and {_EFFECTIVE_END} > ?", [to_text(end), to_text(start)])


def active_windows(db: sqlite_utils.Database, now: datetime) -> list[MaintenanceWindow]:
    """Return the windows in progress at `now`."""
    moment = to_text(now)
    return _windows(db, f"w.starts_at <= ? and {_EFFECTIVE_END} > ?", [moment, moment])


def upcoming_windows(
    db: sqlite_utils.Database, now: datetime, days: int = UPCOMING_DAYS
) -> list[MaintenanceWindow]:
    """Return the windows that start after `now` and within `days`, earliest first."""
    return _windows(
        db,
        "w.starts_at > ? and w.starts_at <= ?",
        [to_text(now), to_text(now + timedelta(days=days))],
    )


def scheduled_windows(db: sqlite_utils.Database, now: datetime) -> list[MaintenanceWindow]:
    """Return every window that starts after `now`, however far ahead, earliest first.

    A one-off window may lie years ahead. A recurring maintenance has rows only up to the
    materialization horizon, so its windows beyond HORIZON are not returned yet.
    """
    return _windows(db, "w.starts_at > ?", [to_text(now)])


# Helpers


@contextlib.contextmanager
def _write(db: sqlite_utils.Database) -> Iterator[None]:
    """Run the block in one `begin immediate` transaction; an exception rolls it back."""
    with db.conn:
        db.execute("begin immediate")
        yield


def _planned_windows(spec: MaintenanceSpec, now: datetime) -> list[tuple[datetime, datetime]]:
    if spec.schedule is not None:
        assert spec.end_time is not None
        return recurring_windows(
            spec.schedule, spec.end_time, ZoneInfo(spec.timezone), now, now + HORIZON
        )
    assert spec.starts_at is not None and spec.ends_at is not None
    return [(spec.starts_at, spec.ends_at)]


def _insert_windows(
    db: sqlite_utils.Database,
    maintenance_id: int,
    windows: Iterable[tuple[datetime, datetime]],
    components: Iterable[str],
    now: datetime,
) -> list[int]:
    """Insert windows that do not exist yet (by start), each covering `components`.

    Returns the ids of the windows added.
    """
    component_ids = tuple(components)
    ids = []
    for starts_at, ends_at in windows:
        cursor = db.execute(
            """
            insert into maintenance_windows (maintenance_id, starts_at, ends_at, revised_at)
            values (?, ?, ?, ?)
            on conflict (maintenance_id, starts_at) do nothing
            """,
            [maintenance_id, to_text(starts_at), to_text(ends_at), _revision_time(now)],
        )
        if cursor.rowcount == 1 and cursor.lastrowid is not None:
            ids.append(cursor.lastrowid)
            _insert_window_components(db, cursor.lastrowid, component_ids)
    return ids


def _insert_window_components(
    db: sqlite_utils.Database, window_id: int, components: Iterable[str]
) -> None:
    for component_id in components:
        db.execute(
            "insert into maintenance_window_components (window_id, component_id) values (?, ?)",
            [window_id, component_id],
        )


def _replace_future_window_components(
    db: sqlite_utils.Database, maintenance_id: int, components: Iterable[str], now: datetime
) -> None:
    """Give the windows that start after `now`, cancelled ones included, new components."""
    rows = db.execute(
        "select id from maintenance_windows where maintenance_id = ? and starts_at > ?",
        [maintenance_id, to_text(now)],
    ).fetchall()
    component_ids = tuple(components)
    for (window_id,) in rows:
        db.execute("delete from maintenance_window_components where window_id = ?", [window_id])
        _insert_window_components(db, window_id, component_ids)


def _revise_windows_not_over(db: sqlite_utils.Database, maintenance_id: int, now: datetime) -> None:
    """Record a change of the maintenance as a change of each of its windows not over."""
    db.execute(
        f"""
        update maintenance_windows as w set {_REVISE}
        where w.maintenance_id = ? and {_NOT_OVER}
        """,
        [_revision_time(now), maintenance_id, to_text(now)],
    )


def _revision_time(now: datetime) -> str:
    return to_text(now.replace(microsecond=0))


def _regenerate_future_windows(
    db: sqlite_utils.Database,
    maintenance_id: int,
    spec: MaintenanceSpec,
    now: datetime,
    end_changed: bool,
) -> None:
    """Make the windows that start after `now` follow the schedule of `spec`.

    Windows keep their ids: one whose start is no longer planned is cancelled, and one that
    an earlier edit cancelled is restored when its start is planned again. When `end_changed`
    (the end time or the time zone changed), planned windows take the new end, else they keep
    their end and any extension of it. The caller records the change of the windows that are
    not over afterwards, and this records it for those it cancels.
    """
    moment = to_text(now)
    revised = _revision_time(now)
    planned = {to_text(starts_at): ends_at for starts_at, ends_at in _planned_windows(spec, now)}
    rows = db.execute(
        """
        select id, starts_at, ends_at, cancelled_at, cancelled_by_edit from maintenance_windows
        where maintenance_id = ? and starts_at > ?
        """,
        [maintenance_id, moment],
    ).fetchall()
    for window_id, starts_at, ends_at, cancelled_at, cancelled_by_edit in rows:
        planned_end = planned.pop(starts_at, None)
        if planned_end is None:
            if cancelled_at is None:
                db.execute(
                    f"""
                    update maintenance_windows
                    set cancelled_at = ?, cancelled_by_edit = 1, {_REVISE}
                    where id = ?
                    """,
                    [moment, revised, window_id],
                )
        elif cancelled_at is not None:
            if cancelled_by_edit:
                db.execute(
                    """
                    update maintenance_windows
                    set cancelled_at = null, cancelled_by_edit = 0, ends_at = ?
                    where id = ?
                    """,
                    [to_text(planned_end), window_id],
                )
        elif end_changed and ends_at != to_text(planned_end):
            db.execute(
                "update maintenance_windows set ends_at = ? where id = ?",
                [to_text(planned_end), window_id],
            )
    new_windows = sorted((_time(start), end) for start, end in planned.items())
    _insert_windows(db, maintenance_id, new_windows, spec.components, now)


def _move_one_off_window(
    db: sqlite_utils.Database, maintenance_id: int, spec: MaintenanceSpec, now: datetime
) -> None:
    assert spec.starts_at is not None and spec.ends_at is not None
    windows = _windows(
        db, "w.maintenance_id = ?", [maintenance_id], include_cancelled=True, deleted=True
    )
    if not windows:
        _insert_windows(db, maintenance_id, [(spec.starts_at, spec.ends_at)], spec.components, now)
        return
    window = windows[0]
    if window.starts_at <= now:
        if (window.starts_at, window.ends_at) != (spec.starts_at, spec.ends_at):
            raise MaintenanceError(
                "starts_at",
                "This window started at %(value)s, so its times can no longer be edited: "
                "extend it or end it from the maintenance page.",
                value=format_local(window.starts_at, ZoneInfo(spec.timezone)),
            )
        return
    db.execute(
        "update maintenance_windows set starts_at = ?, ends_at = ? where id = ?",
        [to_text(spec.starts_at), to_text(spec.ends_at), window.id],
    )


def _insert_update(
    db: sqlite_utils.Database,
    maintenance_id: int,
    body: str,
    display_at: datetime,
    now: datetime,
    created_by: str,
    window_id: int | None,
) -> int:
    cursor = db.execute(
        """
        insert into maintenance_updates
            (maintenance_id, window_id, body, display_at, created_at, created_by)
        values (?, ?, ?, ?, ?, ?)
        """,
        [maintenance_id, window_id, body, to_text(display_at), to_text(now), created_by],
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def _replace_components(
    db: sqlite_utils.Database, maintenance_id: int, components: Iterable[str]
) -> None:
    db.execute("delete from maintenance_components where maintenance_id = ?", [maintenance_id])
    for component_id in components:
        db.execute(
            "insert into maintenance_components (maintenance_id, component_id) values (?, ?)",
            [maintenance_id, component_id],
        )


def _touch(db: sqlite_utils.Database, maintenance_id: int, now: datetime) -> None:
    db.execute(
        "update maintenances set updated_at = ? where id = ?", [to_text(now), maintenance_id]
    )
    _revise_windows_not_over(db, maintenance_id, now)


def _valid_id(row_id: int) -> bool:
    return MIN_ID <= row_id <= MAX_ID


def _maintenance_row(db: sqlite_utils.Database, maintenance_id: int) -> dict[str, Any]:
    if not _valid_id(maintenance_id):
        raise MaintenanceNotFound(f"maintenance {maintenance_id}")
    rows = list(
        db.query("select * from maintenances where id = ? and deleted_at is null", [maintenance_id])
    )
    if not rows:
        raise MaintenanceNotFound(f"maintenance {maintenance_id}")
    return rows[0]


def _window_for_update(db: sqlite_utils.Database, window_id: int) -> MaintenanceWindow:
    if not _valid_id(window_id):
        raise MaintenanceNotFound(f"maintenance window {window_id}")
    windows = _windows(db, "w.id = ?", [window_id], include_cancelled=True)
    if not windows:
        raise MaintenanceNotFound(f"maintenance window {window_id}")
    return windows[0]


def _require_window(db: sqlite_utils.Database, window_id: int) -> MaintenanceWindow:
    window = get_window(db, window_id)
    if window is None:
        raise MaintenanceNotFound(f"maintenance window {window_id}")
    return window


def _windows(
    db: sqlite_utils.Database,
    condition: str,
    params: list[Any],
    include_cancelled: bool = False,
    deleted: bool = False,
) -> list[MaintenanceWindow]:
    """Select windows joined with their maintenance's title, with their own components."""
    filters = [f"({condition})"]
    if not include_cancelled:
        filters.append("w.cancelled_at is null")
    if not deleted:
        filters.append("m.deleted_at is null")
    rows = list(
        db.query(
            f"""
            select {_WINDOW_COLUMNS}
            from maintenance_windows w join maintenances m on m.id = w.maintenance_id
            where {" and ".join(filters)}
            order by w.starts_at, w.id
            """,
            params,
        )
    )
    components = _window_components(db, [row["id"] for row in rows])
    return [
        MaintenanceWindow(
            id=row["id"],
            maintenance_id=row["maintenance_id"],
            title=row["title"],
            components=components.get(row["id"], ()),
            starts_at=_time(row["starts_at"]),
            ends_at=_time(row["ends_at"]),
            ended_at=from_text(row["ended_at"]),
            cancelled_at=from_text(row["cancelled_at"]),
            revised_at=from_text(row["revised_at"]),
        )
        for row in rows
    ]


def _window_components(
    db: sqlite_utils.Database, window_ids: Sequence[int]
) -> dict[int, tuple[str, ...]]:
    """Return each window's components, in the order they were stored."""
    components: dict[int, list[str]] = {}
    for first in range(0, len(window_ids), _ID_CHUNK):
        chunk = window_ids[first : first + _ID_CHUNK]
        placeholders = ", ".join("?" for _ in chunk)
        for row in db.query(
            f"""
            select window_id, component_id from maintenance_window_components
            where window_id in ({placeholders}) order by rowid
            """,
            chunk,
        ):
            components.setdefault(row["window_id"], []).append(row["component_id"])
    return {key: tuple(value) for key, value in components.items()}


def _components_of(
    db: sqlite_utils.Database, maintenance_ids: Iterable[int]
) -> dict[int, tuple[str, ...]]:
    ids = list(maintenance_ids)
    if not ids:
        return {}
    placeholders = ", ".join("?" for _ in ids)
    components: dict[int, list[str]] = {}
    for row in db.query(
        f"""
        select maintenance_id, component_id from maintenance_components
        where maintenance_id in ({placeholders}) order by rowid
        """,
        ids,
    ):
        components.setdefault(row["maintenance_id"], []).append(row["component_id"])
    return {key: tuple(value) for key, value in components.items()}


def _maintenance_from_row(row: dict[str, Any], components: tuple[str, ...]) -> Maintenance:
    return Maintenance(
        id=row["id"],
        title=row["title"],
        description=row["description"],
        timezone=row["timezone"],
        components=components,
        schedule=row["schedule"],
        start_time=row["start_time"],
        end_time=row["end_time"],
        created_at=from_text(row["created_at"]),
        updated_at=from_text(row["updated_at"]),
        deleted_at=from_text(row["deleted_at"]),
    )


def _spec_from_row(row: dict[str, Any], components: tuple[str, ...]) -> MaintenanceSpec:
    return MaintenanceSpec(
        title=row["title"],
        description=row["description"],
        timezone=row["timezone"],
        components=components,
        schedule=row["schedule"],
        start_time=row["start_time"],
        end_time=row["end_time"],
    )


def _time(text: str) -> datetime:
    moment = from_text(text)
    assert moment is not None
    return moment
