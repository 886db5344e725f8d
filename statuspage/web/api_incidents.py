"""Write API for incidents, with the field names of Atlassian Statuspage's API.

`POST /api/v1/incidents` creates an incident and `POST /api/v1/incidents/{id}/updates` appends
an update. Both accept the object on its own or wrapped as Statuspage sends it
(`{"incident": {...}}`, `{"incident_update": {...}}`), ignore fields they do not know, and
return 201 with the whole incident. Errors are JSON naming the field as the client sent it,
for example `incident.impact` or `incident.components.api`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from statuspage import incident_store
from statuspage.config import Config
from statuspage.incident_forms import (
    API_COMPONENT_STATES,
    Errors,
    TimeRules,
    validate_new_incident,
    validate_update,
)
from statuspage.incidents import ComponentImpact, Incident
from statuspage.store import to_text
from statuspage.web.api_errors import ApiError
from statuspage.web.auth import api_key_required
from statuspage.web.context import AppContext
from statuspage.web.json_body import read_json_object

logger = logging.getLogger(__name__)

# Statuspage's name for each declared component state.
API_STATE_NAMES = {
    impact: name for name, impact in API_COMPONENT_STATES.items() if impact is not None
}
# Validation's field names that the API spells differently, by request kind.
CREATE_FIELD_NAMES = {"title": "name", "display_at": "started_at"}
UPDATE_FIELD_NAMES: dict[str, str] = {}
# Enough for the longest title and message, each character escaped as \uXXXX.
# When several fields are wrong, the error names the first of these that failed.
FIELD_ORDER = ("title", "status", "impact", "body", "display_at", "components")


def _log_rejections(
    endpoint: Callable[[Request], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    """Log each request that the endpoint rejects with an ApiError, then re-raise it."""

    @functools.wraps(endpoint)
    async def logged(request: Request) -> Response:
        try:
            return await endpoint(request)
        except ApiError as error:
            logger.info(
                "API %s %s by %s rejected with %d: %.300s",
                request.method,
                request.url.path,
                request.state.operator,
                error.status_code,
                error.detail,
            )
            raise

    return logged


def _context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


def _time_rules(request: Request) -> TimeRules:
    return TimeRules(
        zone=_context(request).config.site.timezone,
        now=datetime.now(UTC),
        local_allowed=False,
    )


def _raise_first(errors: Errors, prefix: str, names: Mapping[str, str]) -> None:
    if not errors:
        return

    def rank(key: str) -> int:
        base = key.split(".", 1)[0]
        return FIELD_ORDER.index(base) if base in FIELD_ORDER else len(FIELD_ORDER)

    key = min(errors, key=rank)
    base, _, rest = key.partition(".")
    field = prefix + names.get(base, base) + (f".{rest}" if rest else "")
    raise ApiError(422, f"{field}: {errors[key]}", field)


def incident_json(incident: Incident, config: Config, base_url: str) -> dict[str, Any]:
    """Return an incident in the JSON shape of Statuspage's API, with updates newest first."""
    names = {component.id: component.name for component in config.components}
    return {
        "id": incident.id,
        "name": incident.title,
        "status": incident.status.value,
        "impact": incident.impact.value,
        "created_at": to_text(incident.created_at),
        "updated_at": to_text(incident.updated_at),
        "started_at": to_text(incident.updates[0].display_at) if incident.updates else None,
        "resolved_at": to_text(incident.resolved_at) if incident.resolved_at else None,
        "postmortem_body": incident.postmortem,
        "shortlink": f"{base_url}/incidents/{incident.id}",
        "components": [
            {
                "id": component_id,
                "name": names.get(component_id, component_id),
                "status": _state_name(impact),
            }
            for component_id, impact in incident.components.items()
        ],
        "incident_updates": [
            {
                "id": update.id,
                "incident_id": update.incident_id,
                "status": update.status.value,
                "body": update.body,
                "display_at": to_text(update.display_at),
                "created_at": to_text(update.created_at),
            }
            for update in reversed(incident.updates)
        ],
    }


def _state_name(impact: ComponentImpact) -> str:
    return API_STATE_NAMES[impact]


def _base_url(request: Request) -> str:
    """Return the public address of the status page: `site.url` when set, else the request's."""
    site_url = _context(request).config.site.url
    if site_url:
        return site_url.rstrip("/")
    return str(request.base_url).rstrip("/")


async def _incident_response(request: Request, incident_id: int) -> Response:
    context = _context(request)
    incident = await context.store.call(incident_store.get_incident, context.store.db, incident_id)
    if incident is None:
        # Deleted between the write and this read.
        raise ApiError(404, f"Incident {incident_id} not found.")
    return JSONResponse(
        incident_json(incident, context.config, _base_url(request)), status_code=201
    )


@api_key_required
@_log_rejections
async def create_incident(request: Request) -> Response:
    fields, prefix = await read_json_object(request, ("incident",))
    context = _context(request)
    draft, errors = validate_new_incident(
        title=fields.get("name"),
        impact=fields.get("impact"),
        components=fields.get("components"),
        status=fields.get("status"),
        body=fields.get("body"),
        display_at=fields.get("started_at"),
        component_ids=[component.id for component in context.config.components],
        states=API_COMPONENT_STATES,
        rules=_time_rules(request),
    )
    _raise_first(errors, prefix, CREATE_FIELD_NAMES)
    assert draft is not None

    incident_id = await context.store.call(
        incident_store.create_incident,
        context.store.db,
        title=draft.title,
        impact=draft.impact,
        components=draft.components,
        status=draft.status,
        body=draft.body,
        display_at=draft.display_at,
        created_by=request.state.operator,
    )
    await context.monitor.refresh_snapshot()
    return await _incident_response(request, incident_id)


@api_key_required
@_log_rejections
async def create_update(request: Request) -> Response:
    incident_id: int = request.path_params["incident_id"]
    fields, prefix = await read_json_object(request, ("incident_update",))
    update, errors = validate_update(
        status=fields.get("status"),
        body=fields.get("body"),
        display_at=fields.get("display_at"),
        rules=_time_rules(request),
    )

    context = _context(request)
    # Check the incident before the fields: a client with a wrong id needs that error first.
    exists = await context.store.call(incident_store.get_incident, context.store.db, incident_id)
    if exists is None:
        raise ApiError(404, f"Incident {incident_id} not found.")
    _raise_first(errors, prefix, UPDATE_FIELD_NAMES)
    assert update is not None

    try:
        await context.store.call(
            incident_store.add_update,
            context.store.db,
            incident_id,
            status=update.status,
            body=update.body,
            display_at=update.display_at,
            created_by=request.state.operator,
        )
    except (incident_store.IncidentNotFound, incident_store.IncidentDeleted):
        raise ApiError(404, f"Incident {incident_id} not found.") from None
    await context.monitor.refresh_snapshot()
    return await _incident_response(request, incident_id)


routes: list[BaseRoute] = [
    Route("/incidents", create_incident, methods=["POST"], name="api_incidents_create"),
    Route(
        "/incidents/{incident_id:int}/updates",
        create_update,
        methods=["POST"],
        name="api_incident_updates_create",
    ),
]
