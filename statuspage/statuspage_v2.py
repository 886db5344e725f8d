"""Payloads of the public Statuspage v2 API, so tools written for Statuspage can read this page.

Each `*_payload` function builds the JSON object of one read-only endpoint under `/api/v2/`,
with Statuspage's field names and enumerations. `PAYLOADS` maps each endpoint path to its
builder. Where this project's model differs from Statuspage's, the choices are:

- Component states. degraded maps to degraded_performance, down and major_outage to
  major_outage, and maintenance to under_maintenance. Statuspage has no "no data" status, and
  each of its statuses claims something: operational claims the component was checked and
  works, and the outage statuses would set off the alerts of tools that poll this API. A
  component with no data is therefore left out of every payload, as a Prometheus series with
  no data is absent rather than 0. A group whose components all have no data is left out too.
- Groups. A group of the configuration becomes a Statuspage group component with
  `"group": true`, the ids of its components in `components`, and the worst status among them.
  Its id is derived from its name. Positions count from 1 among the top-level entries and
  again from 1 inside each group.
- Indicator. The worst of the components and of the open incidents' impacts. A degraded
  component is minor and a partial outage is major. A major outage is critical when every
  component with data that is not under maintenance has one, as on the page's banner, and
  major otherwise. The indicator is maintenance when nothing is wrong but a window is in
  progress. With no data and nothing open it is none, described as "No Monitoring Data".
- Ids. Incidents keep their numeric id as a string. Maintenance windows, which Statuspage
  calls scheduled maintenances, get "maintenance-WINDOW_ID", so a client that merges
  `incidents` and `scheduled_maintenances` never sees one id twice.
- Maintenance updates. On Statuspage a maintenance has an update for each status it went
  through, so the newest update's status is the maintenance's status. Updates for scheduling,
  start and completion are therefore generated from the window's times, and each operator
  update takes the window's status at its display time. Cancelled windows are left out,
  because Statuspage has no cancelled status.
- Times. ISO 8601 with milliseconds and the UTC offset of the page's time zone, as Statuspage
  writes them, for example 2026-03-01T09:30:00.000+09:00.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from statuspage.config import Site
from statuspage.incidents import ComponentImpact, Incident, IncidentStatus, IncidentUpdate
from statuspage.maintenance import (
    Maintenance,
    MaintenanceUpdate,
    MaintenanceWindow,
    WindowStatus,
)

__all__ = [
    "INCIDENT_PATH",
    "MAINTENANCE_PATH",
    "PAYLOADS",
    "ComponentRecord",
    "PageData",
    "PageInfo",
    "active_maintenances_payload",
    "components_payload",
    "incidents_payload",
    "page_info",
    "scheduled_maintenances_payload",
    "status_payload",
    "summary_payload",
    "unresolved_incidents_payload",
    "upcoming_maintenances_payload",
]

JSON = dict[str, Any]

# Paths of the public pages that `shortlink` points to, under the page's URL: an incident's
# page and a maintenance window's page (routes `incident` and `maintenance_window`).
INCIDENT_PATH = "/incidents/{id}"
MAINTENANCE_PATH = "/maintenance/windows/{id}"
# Statuspage's incidents.json and scheduled-maintenances.json return the 50 most recent items,
# as the published reference of MongoDB's Statuspage-hosted status API states.
LIST_LIMIT = 50

COMPONENT_STATUSES = {
    "operational": "operational",
    "degraded": "degraded_performance",
    "partial_outage": "partial_outage",
    "major_outage": "major_outage",
    "down": "major_outage",
    "maintenance": "under_maintenance",
}
NO_DATA = "no_data"
# Higher is worse. A group shows the worst status among its components.
_STATUS_SEVERITY = {
    "operational": 0,
    "under_maintenance": 1,
    "degraded_performance": 2,
    "partial_outage": 3,
    "major_outage": 4,
}
_INDICATOR_SEVERITY = {"none": 0, "minor": 1, "major": 2, "critical": 3}
# Descriptions for each indicator, in Statuspage's wording.
# NOTE: only the none and major texts were checked against published Statuspage payloads.
INDICATOR_DESCRIPTIONS = {
    "none": "All Systems Operational",
    "minor": "Minor Service Outage",
    "major": "Partial System Outage",
    "critical": "Major System Outage",
    "maintenance": "Service Under Maintenance",
}
NO_DATA_DESCRIPTION = "No Monitoring Data"
_IMPACT_STATUSES = {
    ComponentImpact.DEGRADED: "degraded_performance",
    ComponentImpact.PARTIAL_OUTAGE: "partial_outage",
    ComponentImpact.MAJOR_OUTAGE: "major_outage",
}
_WINDOW_STATUSES = {
    WindowStatus.SCHEDULED: "scheduled",
    WindowStatus.IN_PROGRESS: "in_progress",
    WindowStatus.COMPLETED: "completed",
}
# Bodies of the generated start and completion updates, worded like those Statuspage posts.
IN_PROGRESS_BODY = (
    "Scheduled maintenance is currently in progress. We will provide updates as necessary."
)
COMPLETED_BODY = "The scheduled maintenance has been completed."


@dataclass(frozen=True)
class PageInfo:
    id: str
    name: str
    url: str | None  # public address of the status page
    time_zone: ZoneInfo
    updated_at: datetime  # aware


@dataclass(frozen=True)
class ComponentRecord:
    """A component in the state shown to visitors now."""

    id: str
    name: str
    description: str
    group: str | None
    # operational, degraded, partial_outage, major_outage (or down), maintenance or no_data,
    # after incidents and maintenance windows are applied to the monitor's state.
    state: str
    updated_at: datetime  # aware; when the state last changed
    created_at: datetime | None = None  # aware; `updated_at` is used when not known


@dataclass(frozen=True)
class PageData:
    """The inputs of every payload. Deleted incidents and maintenances may be included, and
    the payloads leave them out."""

    page: PageInfo
    components: Sequence[ComponentRecord]
    incidents: Sequence[Incident] = ()
    maintenances: Sequence[Maintenance] = ()
    windows: Sequence[MaintenanceWindow] = ()
    maintenance_updates: Sequence[MaintenanceUpdate] = ()


def page_info(site: Site, updated_at: datetime) -> PageInfo:
    """Describe the site as a Statuspage page, with a stable id derived from its URL or name."""
    key = site.url or site.name
    page_id = hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]
    return PageInfo(page_id, site.name, site.url, site.timezone, updated_at)


# Endpoints


def summary_payload(data: PageData, now: datetime) -> JSON:
    """`summary.json`: status, components, unresolved incidents and upcoming or active
    maintenances."""
    builder = _Builder(data, now)
    return {
        "page": builder.page(),
        "components": builder.components(),
        "incidents": [builder.incident(incident) for incident in _unresolved(data)],
        "scheduled_maintenances": [
            builder.maintenance(window)
            for window in _windows(data, now, {WindowStatus.IN_PROGRESS})
            + _windows(data, now, {WindowStatus.SCHEDULED})
        ],
        "status": builder.status(),
    }


def status_payload(data: PageData, now: datetime) -> JSON:
    """`status.json`: the indicator and its description."""
    builder = _Builder(data, now)
    return {"page": builder.page(), "status": builder.status()}


def components_payload(data: PageData, now: datetime) -> JSON:
    """`components.json`: every component with data, and the groups."""
    builder = _Builder(data, now)
    return {"page": builder.page(), "components": builder.components()}


def incidents_payload(data: PageData, now: datetime) -> JSON:
    """`incidents.json`: the most recent incidents, resolved or not, newest first."""
    builder = _Builder(data, now)
    recent = sorted(_live_incidents(data), key=lambda incident: incident.created_at, reverse=True)
    return {
        "page": builder.page(),
        "incidents": [builder.incident(incident) for incident in recent[:LIST_LIMIT]],
    }


def unresolved_incidents_payload(data: PageData, now: datetime) -> JSON:
    """`incidents/unresolved.json`: incidents that are not resolved, newest first."""
    builder = _Builder(data, now)
    return {
        "page": builder.page(),
        "incidents": [builder.incident(incident) for incident in _unresolved(data)],
    }


def scheduled_maintenances_payload(data: PageData, now: datetime) -> JSON:
    """`scheduled-maintenances.json`: the most recent windows in any state but cancelled,
    latest start first."""
    builder = _Builder(data, now)
    statuses = set(_WINDOW_STATUSES)
    recent = sorted(
        _windows(data, now, statuses), key=lambda window: window.starts_at, reverse=True
    )
    return {
        "page": builder.page(),
        "scheduled_maintenances": [builder.maintenance(window) for window in recent[:LIST_LIMIT]],
    }


def upcoming_maintenances_payload(data: PageData, now: datetime) -> JSON:
    """`scheduled-maintenances/upcoming.json`: windows not started yet, soonest first."""
    builder = _Builder(data, now)
    return {
        "page": builder.page(),
        "scheduled_maintenances": [
            builder.maintenance(window) for window in _windows(data, now, {WindowStatus.SCHEDULED})
        ],
    }


def active_maintenances_payload(data: PageData, now: datetime) -> JSON:
    """`scheduled-maintenances/active.json`: windows in progress, earliest start first."""
    builder = _Builder(data, now)
    return {
        "page": builder.page(),
        "scheduled_maintenances": [
            builder.maintenance(window)
            for window in _windows(data, now, {WindowStatus.IN_PROGRESS})
        ],
    }


PAYLOADS: Mapping[str, Callable[[PageData, datetime], JSON]] = {
    "summary.json": summary_payload,
    "status.json": status_payload,
    "components.json": components_payload,
    "incidents.json": incidents_payload,
    "incidents/unresolved.json": unresolved_incidents_payload,
    "scheduled-maintenances.json": scheduled_maintenances_payload,
    "scheduled-maintenances/upcoming.json": upcoming_maintenances_payload,
    "scheduled-maintenances/active.json": active_maintenances_payload,
}


# Selection


def _live_incidents(data: PageData) -> list[Incident]:
    return [incident for incident in data.incidents if incident.deleted_at is None]


def _unresolved(data: PageData) -> list[Incident]:
    unresolved = [incident for incident in _live_incidents(data) if incident.open]
    return sorted(unresolved, key=lambda incident: incident.created_at, reverse=True)


def _windows(
    data: PageData, now: datetime, statuses: Iterable[WindowStatus]
) -> list[MaintenanceWindow]:
    """Return the windows of live maintenances in one of `statuses`, earliest start first."""
    selected = set(statuses)
    deleted = {item.id for item in data.maintenances if item.deleted_at is not None}
    windows = [
        window
        for window in data.windows
        if window.maintenance_id not in deleted and window.status(now) in selected
    ]
    return sorted(windows, key=lambda window: (window.starts_at, window.id))


# Building


class _Builder:
    """Builds payload objects, with the component objects computed once per payload."""

    def __init__(self, data: PageData, now: datetime) -> None:
        self.data = data
        self.now = now
        self.zone = data.page.time_zone
        self.page_id = data.page.id
        self.maintenances = {item.id: item for item in data.maintenances}
        self.component_objects = self._component_objects()
        self.by_id = {item["id"]: item for item in self.component_objects}

    def time(self, moment: datetime | None) -> str | None:
        if moment is None:
            return None
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"expected an aware datetime, got naive {moment.isoformat()}")
        return moment.astimezone(self.zone).isoformat(timespec="milliseconds")

    def page(self) -> JSON:
        page = self.data.page
        return {
            "id": page.id,
            "name": page.name,
            "url": page.url,
            "time_zone": page.time_zone.key,
            "updated_at": self.time(page.updated_at),
        }

    def components(self) -> list[JSON]:
        return [dict(item) for item in self.component_objects]

    def status(self) -> JSON:
        indicator = self._indicator()
        description = INDICATOR_DESCRIPTIONS[indicator]
        if indicator == "none" and not self.component_objects:
            description = NO_DATA_DESCRIPTION
        return {"indicator": indicator, "description": description}

    def incident(self, incident: Incident) -> JSON:
        updates = sorted(incident.updates, key=lambda update: (update.display_at, update.id))
        monitoring = [u.display_at for u in updates if u.status is IncidentStatus.MONITORING]
        status = incident.status.value
        if incident.status is IncidentStatus.RESOLVED and incident.postmortem:
            status = "postmortem"
        started_at = min([incident.created_at, *(u.display_at for u in updates)])
        return {
            "id": str(incident.id),
            "name": incident.title,
            "status": status,
            "created_at": self.time(incident.created_at),
            "updated_at": self.time(incident.updated_at),
            "monitoring_at": self.time(monitoring[0] if monitoring else None),
            "resolved_at": self.time(
                incident.resolved_at if incident.status is IncidentStatus.RESOLVED else None
            ),
            "impact": incident.impact.value,
            "shortlink": self._link(INCIDENT_PATH, str(incident.id)),
            "started_at": self.time(started_at),
            "page_id": self.page_id,
            "incident_updates": [
                self._incident_update(incident, update, first=index == 0)
                for index, update in reversed(list(enumerate(updates)))
            ],
            "components": self._objects_for(incident.components),
        }

    def maintenance(self, window: MaintenanceWindow) -> JSON:
        maintenance = self.maintenances.get(window.maintenance_id)
        window_id = f"maintenance-{window.id}"
        created_at = window.starts_at
        if maintenance is not None and maintenance.created_at is not None:
            created_at = min(created_at, maintenance.created_at)
        updates = self._maintenance_updates(window, maintenance, window_id, created_at)
        status = self._window_status(window, self.now)
        times = [created_at, *(update.display_at for update in updates)]
        if maintenance is not None and maintenance.updated_at is not None:
            times.append(maintenance.updated_at)
        return {
            "id": window_id,
            "name": window.title,
            "status": status,
            "created_at": self.time(created_at),
            "updated_at": self.time(max(times)),
            "monitoring_at": None,
            "resolved_at": self.time(window.effective_end if status == "completed" else None),
            "impact": "maintenance",
            "shortlink": self._link(MAINTENANCE_PATH, str(window.id)),
            "started_at": self.time(window.starts_at),
            "page_id": self.page_id,
            "incident_updates": [
                {
                    "id": update.id,
                    "status": update.status,
                    "body": update.body,
                    "incident_id": window_id,
                    "created_at": self.time(update.created_at),
                    "updated_at": self.time(update.created_at),
                    "display_at": self.time(update.display_at),
                    "affected_components": None,
                }
                for update in _newest_first(updates)
            ],
            "components": self._objects_for(window.components),
            "scheduled_for": self.time(window.starts_at),
            "scheduled_until": self.time(window.ends_at),
        }

    # Components

    def _component_objects(self) -> list[JSON]:
        """Return the component and group objects in display order."""
        seen: set[str] = set()
        top_level: list[ComponentRecord | str] = []
        members: dict[str, list[ComponentRecord]] = {}
        for record in self.data.components:
            if record.id in seen:
                raise ValueError(f"component {record.id!r} is listed twice")
            seen.add(record.id)
            if record.state == NO_DATA:
                continue
            if record.state not in COMPONENT_STATUSES:
                raise ValueError(
                    f"unknown state {record.state!r} for component {record.id!r}: expected "
                    f"one of {', '.join(COMPONENT_STATUSES)} or {NO_DATA}"
                )
            if record.group is None:
                top_level.append(record)
            elif record.group in members:
                members[record.group].append(record)
            else:
                members[record.group] = [record]
                top_level.append(record.group)

        objects: list[JSON] = []
        for position, entry in enumerate(top_level, start=1):
            if isinstance(entry, ComponentRecord):
                objects.append(self._component_object(entry, position, None))
                continue
            group_id = _group_id(entry)
            children = [
                self._component_object(record, index, group_id)
                for index, record in enumerate(members[entry], start=1)
            ]
            objects.append(self._group_object(entry, group_id, position, members[entry]))
            objects.extend(children)
        return objects

    def _component_object(
        self, record: ComponentRecord, position: int, group_id: str | None
    ) -> JSON:
        return {
            "id": record.id,
            "name": record.name,
            "status": COMPONENT_STATUSES[record.state],
            "created_at": self.time(record.created_at or record.updated_at),
            "updated_at": self.time(record.updated_at),
            "position": position,
            "description": record.description or None,
            # Statuspage's showcase shows a component's uptime bars, which this page shows
            # for every component.
            "showcase": True,
            "start_date": None,
            "group_id": group_id,
            "page_id": self.page_id,
            "group": False,
            "only_show_if_degraded": False,
        }

    def _group_object(
        self, name: str, group_id: str, position: int, records: Sequence[ComponentRecord]
    ) -> JSON:
        statuses = [COMPONENT_STATUSES[record.state] for record in records]
        created = [record.created_at or record.updated_at for record in records]
        return {
            "id": group_id,
            "name": name,
            "status": max(statuses, key=lambda status: _STATUS_SEVERITY[status]),
            "created_at": self.time(min(created)),
            "updated_at": self.time(max(record.updated_at for record in records)),
            "position": position,
            "description": None,
            "showcase": False,
            "start_date": None,
            "group_id": None,
            "page_id": self.page_id,
            "group": True,
            "only_show_if_degraded": False,
            "components": [record.id for record in records],
        }

    def _objects_for(self, component_ids: Iterable[str]) -> list[JSON]:
        """Return the objects of the listed components that are on the page, in that order."""
        return [dict(self.by_id[key]) for key in component_ids if key in self.by_id]

    def _indicator(self) -> str:
        leaves = [item for item in self.component_objects if not item["group"]]
        statuses = [item["status"] for item in leaves]
        worst = "none"
        if "major_outage" in statuses:
            available = [status for status in statuses if status != "under_maintenance"]
            worst = "critical" if all(s == "major_outage" for s in available) else "major"
        elif "partial_outage" in statuses:
            worst = "major"
        elif "degraded_performance" in statuses:
            worst = "minor"
        for incident in _unresolved(self.data):
            impact = incident.impact.value
            if _INDICATOR_SEVERITY[impact] > _INDICATOR_SEVERITY[worst]:
                worst = impact
        in_maintenance = "under_maintenance" in statuses or bool(
            _windows(self.data, self.now, {WindowStatus.IN_PROGRESS})
        )
        if worst == "none" and in_maintenance:
            return "maintenance"
        return worst

    # Updates

    def _incident_update(self, incident: Incident, update: IncidentUpdate, first: bool) -> JSON:
        return {
            "id": str(update.id),
            "status": update.status.value,
            "body": update.body,
            "incident_id": str(incident.id),
            "created_at": self.time(update.created_at),
            "updated_at": self.time(update.created_at),
            "display_at": self.time(update.display_at),
            "affected_components": self._affected_components(incident) if first else None,
        }

    def _affected_components(self, incident: Incident) -> list[JSON] | None:
        """Return the incident's declared component states, as Statuspage lists the status
        changes an update made.

        NOTE: an incident stores one declaration per component, not one per update, so the
        current declaration is shown on the first update and `old_status` is assumed to be
        operational.
        """
        if not incident.components:
            return None
        names = {record.id: record.name for record in self.data.components}
        return [
            {
                "code": component_id,
                "name": names.get(component_id, component_id),
                "old_status": "operational",
                "new_status": _IMPACT_STATUSES[impact],
            }
            for component_id, impact in incident.components.items()
        ]

    def _maintenance_updates(
        self,
        window: MaintenanceWindow,
        maintenance: Maintenance | None,
        window_id: str,
        created_at: datetime,
    ) -> list[_Update]:
        """Return the window's updates: generated ones for scheduling, start and completion,
        then the operator's updates for this window or for the whole maintenance."""
        description = maintenance.description if maintenance is not None else ""
        generated = [("scheduled", description, created_at)]
        status = window.status(self.now)
        if status in (WindowStatus.IN_PROGRESS, WindowStatus.COMPLETED):
            generated.append(("in_progress", IN_PROGRESS_BODY, window.starts_at))
        if status is WindowStatus.COMPLETED:
            generated.append(("completed", COMPLETED_BODY, window.effective_end))
        updates = [
            _Update(f"{window_id}-{name}", name, body, moment, moment)
            for name, body, moment in generated
        ]
        for update in self.data.maintenance_updates:
            if update.maintenance_id != window.maintenance_id:
                continue
            if update.window_id is not None and update.window_id != window.id:
                continue
            updates.append(
                _Update(
                    f"{window_id}-update-{update.id}",
                    self._window_status(window, update.display_at),
                    update.body,
                    update.display_at,
                    update.created_at,
                )
            )
        return updates

    @staticmethod
    def _window_status(window: MaintenanceWindow, moment: datetime) -> str:
        """Return the Statuspage status of a window that is not cancelled, as of `moment`."""
        return _WINDOW_STATUSES[window.status(moment)]

    def _link(self, path: str, key: str) -> str | None:
        if self.data.page.url is None:
            return None
        return self.data.page.url.rstrip("/") + path.format(id=key)


@dataclass(frozen=True)
class _Update:
    id: str
    status: str
    body: str
    display_at: datetime
    created_at: datetime


def _newest_first(updates: Sequence[_Update]) -> list[_Update]:
    """Sort updates newest first; of two shown at the same time, the later in the list wins,
    so a generated start update is newer than a scheduling update at the same moment."""
    ordered = sorted(enumerate(updates), key=lambda pair: (pair[1].display_at, pair[0]))
    return [update for _, update in reversed(ordered)]


def _group_id(name: str) -> str:
    """Return a group's id; the dot keeps it apart from component ids, which have none."""
    return "group." + hashlib.sha256(name.encode("utf-8")).hexdigest()[:12]
