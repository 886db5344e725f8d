"""SQL for incidents, their affected components and their timeline of updates.

Every function takes the Store's sqlite_utils `Database` first and runs on the store's thread:
`await context.store.call(incident_store.open_incidents, context.store.db)`.

An incident's status is the status of its latest update by display time, so a backdated
update that fills a gap in the timeline does not move the incident back to an older status.
Updates are only ever appended. A title, impact or component change overwrites the incident's
row and keeps no record of the old value. To put such a change on the timeline, the operator
posts an update about it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlite_utils

from statuspage.incidents import (
    ComponentImpact,
    Impact,
    Incident,
    IncidentStatus,
    IncidentUpdate,
)
from statuspage.store import from_text, to_text

logger = logging.getLogger(__name__)

DEFAULT_LIST_LIMIT = 200
# SQLite's integers are signed 64-bit: a larger id raises OverflowError when bound, and no row
# can have one.
MIN_ID = -(2**63)
MAX_ID = 2**63 - 1


class IncidentNotFound(LookupError):
    """No incident with this id, or it is deleted and the caller asked for live ones only."""

    def __init__(self, incident_id: int) -> None:
        super().__init__(f"incident {incident_id} not found")
        self.incident_id = incident_id


class IncidentDeleted(Exception):
    """A change to a deleted incident, which must be restored first."""

    def __init__(self, incident_id: int) -> None:
        super().__init__(f"incident {incident_id} is deleted: restore it before changing it")
        self.incident_id = incident_id


class IncidentNotResolved(Exception):
    """A postmortem for an incident that is not resolved yet."""

    def __init__(self, incident_id: int) -> None:
        super().__init__(f"incident {incident_id} is not resolved: resolve it first")
        self.incident_id = incident_id


# Writes


def create_incident(
    db: sqlite_utils.Database,
    *,
    title: str,
    impact: Impact,
    components: Mapping[str, ComponentImpact],
    status: IncidentStatus,
    body: str,
    display_at: datetime,
    created_by: str,
    now: datetime | None = None,
) -> int:
    """Insert an incident with its components and first update, and return its id."""
    now = _now(now)
    with db.conn:
        db.execute("begin immediate")
        cursor = db.execute(
            "insert into incidents (title, impact, status, created_at, updated_at) "
            "values (?, ?, ?, ?, ?)",
            [title, impact.value, status.value, to_text(now), to_text(now)],
        )
        incident_id = cursor.lastrowid
        assert incident_id is not None
        _replace_components(db, incident_id, components)
        _insert_update(db, incident_id, status, body, display_at, created_by, now)
        _apply_latest_status(db, incident_id, now)
    logger.info("incident %d created by %s: %s", incident_id, created_by, status.value)
    return incident_id


def add_update(
    db: sqlite_utils.Database,
    incident_id: int,
    *,
    status: IncidentStatus,
    body: str,
    display_at: datetime,
    created_by: str,
    now: datetime | None = None,
) -> int:
    """Append an update, move the incident to its latest status and return the update's id.

    Resolving sets `resolved_at` to the resolving update's display time. An update that is
    not resolved and displays after it reopens the incident and clears `resolved_at`.
    """
    now = _now(now)
    with db.conn:
        db.execute("begin immediate")
        _require_live(db, incident_id)
        update_id = _insert_update(db, incident_id, status, body, display_at, created_by, now)
        _apply_latest_status(db, incident_id, now)
    logger.info("incident %d: update %d by %s: %s", incident_id, update_id, created_by, status)
    return update_id


def change_incident(
    db: sqlite_utils.Database,
    incident_id: int,
    *,
    title: str,
    impact: Impact,
    components: Mapping[str, ComponentImpact],
    now: datetime | None = None,
) -> None:
    """Replace the title, impact and affected components. The updates stay unchanged."""
    now = _now(now)
    with db.conn:
        db.execute("begin immediate")
        _require_live(db, incident_id)
        db.execute(
            "update incidents set title = ?, impact = ?, updated_at = ? where id = ?",
            [title, impact.value, to_text(now), incident_id],
        )
        _replace_components(db, incident_id, components)
    logger.info("incident %d: title, impact or components changed", incident_id)


def set_postmortem(
    db: sqlite_utils.Database,
    incident_id: int,
    postmortem: str | None,
    now: datetime | None = None,
) -> None:
    """Set the postmortem's Markdown source, or remove it with None.

    Raises IncidentNotResolved unless the incident is resolved.
    """
    now = _now(now)
    with db.conn:
        db.execute("begin immediate")
        row = _require_live(db, incident_id)
        if row["status"] != IncidentStatus.RESOLVED.value:
            raise IncidentNotResolved(incident_id)
        db.execute(
            "update incidents set postmortem = ?, updated_at = ? where id = ?",
            [postmortem, to_text(now), incident_id],
        )
    logger.info("incident %d: postmortem %s", incident_id, "set" if postmortem else "removed")


def delete_incident(
    db: sqlite_utils.Database, incident_id: int, now: datetime | None = None
) -> None:
    """Hide an incident from the public pages until `restore_incident` brings it back."""
    now = _now(now)
    with db.conn:
        db.execute("begin immediate")
        _require_row(db, incident_id)
        # A second delete keeps the first one's time.
        db.execute(
            "update incidents set deleted_at = coalesce(deleted_at, ?), updated_at = ? "
            "where id = ?",
            [to_text(now), to_text(now), incident_id],
        )
    logger.info("incident %d deleted", incident_id)


def restore_incident(
    db: sqlite_utils.Database, incident_id: int, now: datetime | None = None
) -> None:
    now = _now(now)
    with db.conn:
        db.execute("begin immediate")
        _require_row(db, incident_id)
        db.execute(
            "update incidents set deleted_at = null, updated_at = ? where id = ?",
            [to_text(now), incident_id],
        )
    logger.info("incident %d restored", incident_id)


def _now(now: datetime | None) -> datetime:
    return datetime.now(UTC) if now is None else now


def _require_row(db: sqlite_utils.Database, incident_id: int) -> dict[str, Any]:
    if not MIN_ID <= incident_id <= MAX_ID:
        raise IncidentNotFound(incident_id)
    row = db.execute(
        "select status, deleted_at from incidents where id = ?", [incident_id]
    ).fetchone()
    if row is None:
        raise IncidentNotFound(incident_id)
    return {"status": row[0], "deleted_at": row[1]}


def _require_live(db: sqlite_utils.Database, incident_id: int) -> dict[str, Any]:
    row = _require_row(db, incident_id)
    if row["deleted_at"] is not None:
        raise IncidentDeleted(incident_id)
    return row


def _replace_components(
    db: sqlite_utils.Database, incident_id: int, components: Mapping[str, ComponentImpact]
) -> None:
    db.execute("delete from incident_components where incident_id = ?", [incident_id])
    for component_id, state in components.items():
        db.execute(
            "insert into incident_components (incident_id, component_id, state) values (?, ?, ?)",
            [incident_id, component_id, state.value],
        )


def _insert_update(
    db: sqlite_utils.Database,
    incident_id: int,
    status: IncidentStatus,
    body: str,
    display_at: datetime,
    created_by: str,
    now: datetime,
) -> int:
    cursor = db.execute(
        "insert into incident_updates "
        "(incident_id, status, body, display_at, created_at, created_by) "
        "values (?, ?, ?, ?, ?, ?)",
        [incident_id, status.value, body, to_text(display_at), to_text(now), created_by],
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def _apply_latest_status(db: sqlite_utils.Database, incident_id: int, now: datetime) -> None:
    status, display_at = db.execute(
        "select status, display_at from incident_updates where incident_id = ? "
        "order by display_at desc, id desc limit 1",
        [incident_id],
    ).fetchone()
    resolved_at = display_at if status == IncidentStatus.RESOLVED.value else None
    db.execute(
        "update incidents set status = ?, resolved_at = ?, updated_at = ? where id = ?",
        [status, resolved_at, to_text(now), incident_id],
    )


# Reads

# First and last display time of each incident's updates, as columns `started_at` and
# `last_display_at`.
_WITH_SPAN = """
    select incidents.*, span.started_at, span.last_display_at
    from incidents
    join (
        select incident_id, min(display_at) as started_at, max(display_at) as last_display_at
        from incident_updates group by incident_id
    ) as span on span.incident_id = incidents.id
"""


def get_incident(
    db: sqlite_utils.Database, incident_id: int, include_deleted: bool = False
) -> Incident | None:
    """Return the incident with its components and updates, or None."""
    if not MIN_ID <= incident_id <= MAX_ID:
        return None
    condition = "" if include_deleted else " and deleted_at is null"
    rows = list(db.query(f"select * from incidents where id = ?{condition}", [incident_id]))
    incidents = _load(db, rows)
    return incidents[0] if incidents else None


def list_incidents(
    db: sqlite_utils.Database, include_deleted: bool = False, limit: int = DEFAULT_LIST_LIMIT
) -> list[Incident]:
    """Return open incidents first, then the rest, each part ordered by newest start.

    Deleted incidents come last, and only with `include_deleted` (for the admin area).
    """
    condition = "" if include_deleted else "where incidents.deleted_at is null"
    rows = list(
        db.query(
            f"{_WITH_SPAN} {condition} "
            "order by incidents.deleted_at is not null, incidents.status = 'resolved', "
            "span.started_at desc, incidents.id desc limit ?",
            [limit],
        )
    )
    return _load(db, rows)


def open_incidents(db: sqlite_utils.Database) -> list[Incident]:
    """Return incidents that are neither resolved nor deleted, newest start first."""
    rows = list(
        db.query(
            f"{_WITH_SPAN} where incidents.deleted_at is null and incidents.status != 'resolved' "
            "order by span.started_at desc, incidents.id desc"
        )
    )
    return _load(db, rows)


def incidents_between(db: sqlite_utils.Database, start: datetime, end: datetime) -> list[Incident]:
    """Return incidents that are not deleted and overlap [start, end), newest start first.

    An incident lasts from its first update's display time to `resolved_at`, the display time of
    the update that resolved it. An open incident lasts beyond any end.
    """
    rows = list(
        db.query(
            f"{_WITH_SPAN} where incidents.deleted_at is null "
            "and span.started_at < :end "
            "and (incidents.status != 'resolved' "
            "or coalesce(incidents.resolved_at, span.last_display_at) >= :start) "
            "order by span.started_at desc, incidents.id desc",
            {"start": to_text(start), "end": to_text(end)},
        )
    )
    return _load(db, rows)


def _load(db: sqlite_utils.Database, rows: Sequence[Mapping[str, Any]]) -> list[Incident]:
    """Build Incident objects for incident rows, fetching their components and updates."""
    if not rows:
        return []
    ids = [row["id"] for row in rows]
    placeholders = ", ".join("?" for _ in ids)

    components: dict[int, dict[str, ComponentImpact]] = {incident_id: {} for incident_id in ids}
    for row in db.query(
        "select incident_id, component_id, state from incident_components "
        f"where incident_id in ({placeholders}) order by component_id",
        ids,
    ):
        components[row["incident_id"]][row["component_id"]] = ComponentImpact(row["state"])

    updates: dict[int, list[IncidentUpdate]] = {incident_id: [] for incident_id in ids}
    for row in db.query(
        f"select * from incident_updates where incident_id in ({placeholders}) "
        "order by display_at, id",
        ids,
    ):
        updates[row["incident_id"]].append(
            IncidentUpdate(
                id=row["id"],
                incident_id=row["incident_id"],
                status=IncidentStatus(row["status"]),
                body=row["body"],
                display_at=_time(row["display_at"]),
                created_at=_time(row["created_at"]),
                created_by=row["created_by"],
            )
        )

    return [
        Incident(
            id=row["id"],
            title=row["title"],
            impact=Impact(row["impact"]),
            status=IncidentStatus(row["status"]),
            created_at=_time(row["created_at"]),
            updated_at=_time(row["updated_at"]),
            resolved_at=from_text(row["resolved_at"]),
            postmortem=row["postmortem"],
            deleted_at=from_text(row["deleted_at"]),
            components=components[row["id"]],
            updates=tuple(updates[row["id"]]),
        )
        for row in rows
    ]


def _time(text: str) -> datetime:
    moment = from_text(text)
    assert moment is not None
    return moment
