"""The incidents and maintenance windows that feeds, the calendar and the read APIs publish.

`load_published` reads them in one call on the store's thread. The routes keep the result for
one snapshot, so every feed and API response of that snapshot shows the same records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlite_utils

from statuspage import incident_store, maintenance_store
from statuspage.incidents import Incident
from statuspage.maintenance import Maintenance, MaintenanceUpdate, MaintenanceWindow
from statuspage.store import to_text

# Incidents published, most recent first. Feeds keep the 50 most recently updated entries and
# Statuspage's list endpoints the 50 most recent, so this leaves room for both.
INCIDENT_LIMIT = 200
# Completed and cancelled windows stay published this long, as on the calendar.
RECENT_WINDOW_DAYS = 30


@dataclass(frozen=True)
class Published:
    incidents: tuple[Incident, ...]  # not deleted; open ones first, then newest start first
    windows: tuple[MaintenanceWindow, ...]  # earliest start first, cancelled ones included
    # Every maintenance of `windows`, deleted ones included, by id.
    maintenances: Mapping[int, Maintenance] = field(default_factory=dict)
    # The updates of each maintenance in `maintenances`, oldest first, by maintenance id.
    updates: Mapping[int, tuple[MaintenanceUpdate, ...]] = field(default_factory=dict)

    def windows_of(self, maintenance_id: int) -> list[MaintenanceWindow]:
        return [window for window in self.windows if window.maintenance_id == maintenance_id]


def load_published(db: sqlite_utils.Database, now: datetime) -> Published:
    """Read what visitors may see at `now`. Call on the store's thread.

    Windows are those in progress and every scheduled one, however far ahead: a one-off
    window may lie years ahead, and recurring windows exist up to the materialization
    horizon. Also included are the windows that ended or were cancelled in the last
    RECENT_WINDOW_DAYS, and the cancelled windows of maintenances deleted in that time, so
    subscribers learn of the cancellation. Feeds select from these the windows they announce
    (`feeds.window_is_announced`).
    """
    incidents = incident_store.list_incidents(db, limit=INCIDENT_LIMIT)
    windows: dict[int, MaintenanceWindow] = {}
    for window in (
        *maintenance_store.active_windows(db, now),
        *maintenance_store.scheduled_windows(db, now),
        *maintenance_store.recent_windows(db, now, RECENT_WINDOW_DAYS),
    ):
        windows[window.id] = window

    maintenances: dict[int, Maintenance] = {
        maintenance.id: maintenance for maintenance in maintenance_store.list_maintenances(db)
    }
    since = now - timedelta(days=RECENT_WINDOW_DAYS)
    for maintenance_id in _deleted_since(db, since):
        deleted = maintenance_store.get_maintenance(db, maintenance_id, include_deleted=True)
        if deleted is None:
            continue
        maintenances[maintenance_id] = deleted
        for window in maintenance_store.windows_of(db, maintenance_id):
            if window.cancelled_at is not None and window.cancelled_at > since:
                windows[window.id] = window

    selected = sorted(windows.values(), key=lambda window: (window.starts_at, window.id))
    used = {window.maintenance_id for window in selected}
    return Published(
        incidents=tuple(incidents),
        windows=tuple(window for window in selected if window.maintenance_id in maintenances),
        maintenances={key: value for key, value in maintenances.items() if key in used},
        updates={
            maintenance_id: tuple(maintenance_store.updates_of(db, maintenance_id))
            for maintenance_id in sorted(used & set(maintenances))
        },
    )


def _deleted_since(db: sqlite_utils.Database, since: datetime) -> list[int]:
    """Return the ids of maintenances deleted after `since`.

    NOTE: maintenance_store has no read for deleted maintenances, so this one query is here.
    """
    rows = db.execute(
        "select id from maintenances where deleted_at is not null and deleted_at > ? order by id",
        [to_text(since)],
    ).fetchall()
    return [row[0] for row in rows]
