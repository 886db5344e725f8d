"""The read-only Statuspage v2 API under /api/v2, so tools written for Statuspage work.

The payloads and the choices behind them are in `statuspage_v2`. Each path there is routed
under /api/v2, for example /api/v2/summary.json.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from statuspage import statuspage_v2
from statuspage.incidents import Incident
from statuspage.maintenance import MaintenanceWindow
from statuspage.published import Published
from statuspage.snapshot import ComponentView, Snapshot
from statuspage.web.public_data import app_context, public_base_url, published


def page_data(snapshot: Snapshot, data: Published, base_url: str) -> statuspage_v2.PageData:
    """Build the payloads' input from the snapshot and the records published with it."""
    records = [
        statuspage_v2.ComponentRecord(
            id=view.id,
            name=view.name,
            description=view.description,
            group=view.group,
            state=view.effective_state.value,
            updated_at=_component_changed_at(view, snapshot),
        )
        for view in snapshot.components
    ]
    changes = [record.updated_at for record in records if record.state != statuspage_v2.NO_DATA]
    changes += [incident.updated_at for incident in data.incidents]
    changes += [
        maintenance.updated_at
        for maintenance in data.maintenances.values()
        if maintenance.updated_at is not None
    ]
    page = statuspage_v2.page_info(snapshot.site, max(changes, default=snapshot.built_at))
    # Without `site.url`, links use the address the request was sent to, as feeds do.
    page = replace(page, url=page.url or base_url)
    return statuspage_v2.PageData(
        page=page,
        components=records,
        incidents=data.incidents,
        maintenances=tuple(data.maintenances.values()),
        windows=data.windows,
        maintenance_updates=tuple(
            update for updates in data.updates.values() for update in updates
        ),
    )


def _component_changed_at(view: ComponentView, snapshot: Snapshot) -> datetime:
    """Return when the component's shown state last changed, from what the snapshot contains.

    That is the latest of the check's last state change, the start of a maintenance window
    covering it now and the last change of an open incident that declares a state for it.
    """
    moments = [view.since] if view.since is not None else []
    moments += [
        window.starts_at for window in _windows_covering(snapshot.active_maintenance, view.id)
    ]
    moments += [
        incident.updated_at for incident in _incidents_declaring(snapshot.active_incidents, view.id)
    ]
    return max(moments, default=snapshot.built_at)


def _windows_covering(
    windows: Sequence[MaintenanceWindow], component_id: str
) -> list[MaintenanceWindow]:
    return [window for window in windows if component_id in window.components]


def _incidents_declaring(incidents: Sequence[Incident], component_id: str) -> list[Incident]:
    return [incident for incident in incidents if component_id in incident.components]


def payload_endpoint(name: str) -> Callable[[Request], Awaitable[Response]]:
    """Return the endpoint of one payload of `statuspage_v2.PAYLOADS`."""

    async def endpoint(request: Request) -> Response:
        snapshot = app_context(request).monitor.snapshot
        data = page_data(snapshot, await published(request), public_base_url(request))
        return JSONResponse(statuspage_v2.PAYLOADS[name](data, snapshot.built_at))

    return endpoint


routes: list[BaseRoute] = [
    Route(f"/{name}", payload_endpoint(name), name=f"statuspage_v2_{name}")
    for name in statuspage_v2.PAYLOADS
]
