"""Read routes of the JSON API under /api/v1: status, components, incidents, maintenance.

They need no key and show what the public page shows. Times are ISO 8601 in UTC. Uptime is
a ratio from 0 to 1 and null for a period without observed time, never 0. Fields may be
added to these responses; a change that removes or redefines a field goes to a new /api/v2
path instead. `openapi.py` describes every route.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from statuspage import incident_store
from statuspage.maintenance import MaintenanceWindow, WindowStatus
from statuspage.openapi import openapi_document
from statuspage.snapshot import HISTORY_DAYS, UPTIME_PERIODS, ComponentView, Snapshot
from statuspage.state import EffectiveState
from statuspage.store import to_text
from statuspage.web.api_errors import ApiError
from statuspage.web.api_incidents import incident_json
from statuspage.web.public_data import app_context, public_base_url, published

INCIDENT_LIST_LIMIT = 50
MAX_SQLITE_INTEGER = 2**63 - 1
# ASCII digits only: str.isdigit() also accepts characters such as "²" that int() rejects.
_DAYS = re.compile(r"[0-9]{1,3}")

# The page banner's wording for the overall state.
STATUS_DESCRIPTIONS = {
    EffectiveState.OPERATIONAL: "All systems operational",
    EffectiveState.DEGRADED: "Some systems are degraded",
    EffectiveState.PARTIAL_OUTAGE: "Partial outage",
    EffectiveState.MAJOR_OUTAGE: "Major outage",
    EffectiveState.MAINTENANCE: "Maintenance in progress",
    EffectiveState.NO_DATA: "No data yet",
}


def _time(moment: Any) -> str | None:
    return to_text(moment) if moment is not None else None


def page_json(snapshot: Snapshot, base_url: str) -> dict[str, Any]:
    return {
        "name": snapshot.site.name,
        "url": base_url,
        "time_zone": snapshot.site.timezone.key,
    }


def component_json(view: ComponentView) -> dict[str, Any]:
    return {
        "id": view.id,
        "name": view.name,
        "description": view.description,
        "group": view.group,
        "state": view.effective_state.value,
        "check_state": view.state.value,
        "check_state_since": _time(view.since),
        "last_checked_at": _time(view.last_checked_at),
        "response_time_ms": view.latency_ms,
        "maintenance_until": _time(view.maintenance_until),
        "uptime": {period: view.uptime_periods.get(period) for period in UPTIME_PERIODS},
    }


def window_json(window: MaintenanceWindow, snapshot: Snapshot, base_url: str) -> dict[str, Any]:
    names = snapshot.component_names
    early_end = window.ended_at if window.effective_end != window.ends_at else None
    return {
        "id": window.id,
        "maintenance_id": window.maintenance_id,
        "name": window.title,
        "status": window.status(snapshot.built_at).value,
        "scheduled_for": to_text(window.starts_at),
        "scheduled_until": to_text(window.ends_at),
        "ended_at": _time(early_end),
        "cancelled_at": _time(window.cancelled_at),
        "components": [
            {"id": component_id, "name": names.get(component_id, component_id)}
            for component_id in window.components
        ],
        "url": f"{base_url}/maintenance/windows/{window.id}",
    }


def _component(snapshot: Snapshot, component_id: str) -> ComponentView:
    for view in snapshot.components:
        if view.id == component_id:
            return view
    known = ", ".join(view.id for view in snapshot.components)
    raise ApiError(404, f"Component {component_id!r} not found. The components are {known}.")


def _days(request: Request) -> int:
    text = request.query_params.get("days")
    if text is None:
        return HISTORY_DAYS
    if not _DAYS.fullmatch(text) or not 1 <= int(text) <= HISTORY_DAYS:
        raise ApiError(
            400,
            f"days: {text[:20]!r} is not a whole number from 1 to {HISTORY_DAYS}: "
            "write it with the digits 0-9, for example days=30.",
            "days",
        )
    return int(text)


async def status(request: Request) -> Response:
    snapshot = app_context(request).monitor.snapshot
    return JSONResponse(
        {
            "page": page_json(snapshot, public_base_url(request)),
            "status": snapshot.overall.value,
            "description": STATUS_DESCRIPTIONS[snapshot.overall],
            "active_incidents": len(snapshot.active_incidents),
            "active_maintenance": len(snapshot.active_maintenance),
            "generated_at": to_text(snapshot.built_at),
        }
    )


async def components(request: Request) -> Response:
    snapshot = app_context(request).monitor.snapshot
    return JSONResponse(
        {
            "components": [component_json(view) for view in snapshot.components],
            "generated_at": to_text(snapshot.built_at),
        }
    )


async def component_history(request: Request) -> Response:
    """Return the daily uptime of one component, oldest day first, in the site's local days."""
    snapshot = app_context(request).monitor.snapshot
    view = _component(snapshot, request.path_params["component_id"])
    days = view.days[-_days(request) :]
    return JSONResponse(
        {
            "component": {"id": view.id, "name": view.name},
            "time_zone": snapshot.site.timezone.key,
            "days": [
                {
                    "date": day.day.isoformat(),
                    "uptime": day.ratio,
                    "observed_s": day.observed_s,
                    "down_s": day.down_s,
                    "degraded_s": day.degraded_s,
                    "maintenance_s": day.maintenance_s,
                    "response_time_ms": day.latency_avg_ms,
                }
                for day in days
            ],
            "generated_at": to_text(snapshot.built_at),
        }
    )


async def incidents(request: Request) -> Response:
    """Return the most recent incidents: open ones first, then by newest start."""
    context = app_context(request)
    data = await published(request)
    base_url = public_base_url(request)
    return JSONResponse(
        {
            "incidents": [
                incident_json(incident, context.config, base_url)
                for incident in data.incidents[:INCIDENT_LIST_LIMIT]
            ]
        }
    )


async def incident(request: Request) -> Response:
    context = app_context(request)
    incident_id: int = request.path_params["incident_id"]
    found = None
    if incident_id <= MAX_SQLITE_INTEGER:
        found = await context.store.call(incident_store.get_incident, context.store.db, incident_id)
    if found is None:
        raise ApiError(404, f"Incident {incident_id} not found.")
    return JSONResponse(incident_json(found, context.config, public_base_url(request)))


async def maintenances(request: Request) -> Response:
    """Return maintenance windows in progress, scheduled, and completed or cancelled lately."""
    snapshot = app_context(request).monitor.snapshot
    data = await published(request)
    base_url = public_base_url(request)
    now = snapshot.built_at
    by_status: dict[WindowStatus, list[MaintenanceWindow]] = {status: [] for status in WindowStatus}
    for window in data.windows:
        if window.maintenance_id in data.maintenances:
            by_status[window.status(now)].append(window)
    recent = by_status[WindowStatus.COMPLETED] + by_status[WindowStatus.CANCELLED]
    recent.sort(key=lambda window: window.cancelled_at or window.effective_end, reverse=True)

    def listed(windows: list[MaintenanceWindow]) -> list[dict[str, Any]]:
        return [window_json(window, snapshot, base_url) for window in windows]

    return JSONResponse(
        {
            "active": listed(by_status[WindowStatus.IN_PROGRESS]),
            "upcoming": listed(by_status[WindowStatus.SCHEDULED]),
            "recent": listed(recent),
        }
    )


async def openapi(request: Request) -> Response:
    return JSONResponse(openapi_document())


routes: list[BaseRoute] = [
    Route("/status", status, methods=["GET"], name="api_status"),
    Route("/components", components, methods=["GET"], name="api_components"),
    Route(
        "/components/{component_id}/history",
        component_history,
        methods=["GET"],
        name="api_component_history",
    ),
    Route("/incidents", incidents, methods=["GET"], name="api_incidents"),
    Route("/incidents/{incident_id:int}", incident, methods=["GET"], name="api_incident"),
    Route("/maintenances", maintenances, methods=["GET"], name="api_maintenances_list"),
    Route("/openapi.json", openapi, methods=["GET"], name="api_openapi"),
]
