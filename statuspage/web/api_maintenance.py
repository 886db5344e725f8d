"""Write API for maintenance, with the field names of Atlassian Statuspage's API.

`POST /api/v1/maintenances` schedules a one-off maintenance window. The object may be sent on
its own or wrapped as `{"maintenance": {...}}` or, as Statuspage sends scheduled maintenance,
`{"incident": {...}}`:

    {"name": "Database upgrade",
     "scheduled_for": "2026-12-06T03:00:00+09:00",
     "scheduled_until": "2026-12-06T03:10:00+09:00",
     "components": {"database": "under_maintenance"},  # or ["database"]
     "body": "Markdown text of the first update",       # optional
     "timezone": "Asia/Tokyo"}                           # optional, default: the site's

Times need a UTC offset. Unknown fields are ignored. The response is 201 with the maintenance
and its window. Errors are JSON naming the field as the client sent it, for example
`maintenance.scheduled_for` or `incident.components.db`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from statuspage import maintenance_store
from statuspage.config import Config
from statuspage.maintenance import (
    FieldMessage,
    Maintenance,
    MaintenanceInput,
    MaintenanceUpdate,
    MaintenanceWindow,
    ValidationError,
    validate_maintenance,
)
from statuspage.store import to_text
from statuspage.web.api_errors import ApiError
from statuspage.web.auth import api_key_required
from statuspage.web.context import AppContext
from statuspage.web.json_body import read_json_object

WRAPPERS = ("maintenance", "incident")
# Validation's field names that the API spells differently.
API_FIELD_NAMES = {"title": "name", "starts_at": "scheduled_for", "ends_at": "scheduled_until"}
# When several fields are wrong, the error names the first of these that failed.
FIELD_ORDER = ("title", "starts_at", "ends_at", "timezone", "components", "description", "body")
COMPONENT_STATE = "under_maintenance"  # the only state a maintenance gives its components
TIME_EXAMPLE = "2026-12-06T03:00:00+09:00"
MAX_SHOWN_LENGTH = 60  # characters of a rejected value quoted in a message


def _context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


def _text(data: Mapping[str, Any], name: str, prefix: str, default: str = "") -> str:
    value = data.get(name, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ApiError(
            422,
            f"{prefix}{name}: expected a string, got {type(value).__name__}.",
            prefix + name,
        )
    return value


def _time(data: Mapping[str, Any], name: str, prefix: str) -> datetime:
    field = prefix + name
    text = _text(data, name, prefix).strip()
    if not text:
        raise ApiError(
            422, f"{field} is required: send an ISO 8601 time such as {TIME_EXAMPLE}.", field
        )
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ApiError(
            422,
            f"{field}: '{_shown(text)}' is not an ISO 8601 time: send one such as {TIME_EXAMPLE}.",
            field,
        ) from None
    if moment.tzinfo is None:
        raise ApiError(
            422,
            f"{field}: '{text}' has no UTC offset: add one, for example {TIME_EXAMPLE} "
            "or 2026-12-05T18:00:00Z.",
            field,
        )
    return moment


def _components(data: Mapping[str, Any], prefix: str) -> list[str]:
    """Read components as Statuspage's {"id": "under_maintenance"} or as a list of ids."""
    field = prefix + "components"
    value = data.get("components")
    if value is None:
        return []
    if isinstance(value, dict):
        for component_id, state in value.items():
            if state != COMPONENT_STATE:
                raise ApiError(
                    422,
                    f"{field}.{_shown(component_id)}: {_shown(repr(state))} is not allowed "
                    f"here: a maintenance sets its components to '{COMPONENT_STATE}'.",
                    f"{field}.{component_id}",
                )
        return list(value)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    raise ApiError(
        422,
        f'{field}: expected {{"ID": "{COMPONENT_STATE}"}} or a list of component ids, '
        f"got {type(value).__name__}.",
        field,
    )


def _shown(text: str) -> str:
    """Cut a rejected value to a length that fits in a message."""
    return text if len(text) <= MAX_SHOWN_LENGTH else text[: MAX_SHOWN_LENGTH - 1] + "…"


def _raise_first(errors: Mapping[str, FieldMessage], prefix: str) -> None:
    def rank(key: str) -> int:
        return FIELD_ORDER.index(key) if key in FIELD_ORDER else len(FIELD_ORDER)

    key = min(errors, key=rank)
    field = prefix + API_FIELD_NAMES.get(key, key)
    raise ApiError(422, f"{field}: {errors[key]}", field)


def maintenance_json(
    maintenance: Maintenance,
    windows: list[MaintenanceWindow],
    updates: list[MaintenanceUpdate],
    config: Config,
    now: datetime,
) -> dict[str, Any]:
    """Represent a one-off maintenance and its window as Statuspage's scheduled incident."""
    names = {component.id: component.name for component in config.components}
    window = windows[0] if windows else None
    return {
        "id": maintenance.id,
        "name": maintenance.title,
        "description": maintenance.description,
        "timezone": maintenance.timezone,
        "status": window.status(now).value if window else None,
        "window_id": window.id if window else None,
        "scheduled_for": to_text(window.starts_at) if window else None,
        "scheduled_until": to_text(window.effective_end) if window else None,
        "components": [
            {
                "id": component_id,
                "name": names.get(component_id, component_id),
                "status": COMPONENT_STATE,
            }
            for component_id in maintenance.components
        ],
        "updates": [
            {
                "id": update.id,
                "body": update.body,
                "display_at": to_text(update.display_at),
                "created_at": to_text(update.created_at),
            }
            for update in reversed(updates)
        ],
    }


@api_key_required
async def create_maintenance(request: Request) -> Response:
    context = _context(request)
    data, prefix = await read_json_object(request, WRAPPERS)
    zone_default = context.config.site.timezone.key
    body = _text(data, "body", prefix)
    submitted = MaintenanceInput(
        title=_text(data, "name", prefix),
        description=_text(data, "description", prefix),
        timezone=_text(data, "timezone", prefix, zone_default),
        components=_components(data, prefix),
        starts_at=_time(data, "scheduled_for", prefix),
        ends_at=_time(data, "scheduled_until", prefix),
        body=body,
    )
    now = datetime.now(UTC)
    component_ids = [component.id for component in context.config.components]
    try:
        spec = validate_maintenance(submitted, component_ids, now)
    except ValidationError as error:
        _raise_first(error.errors, prefix)
        raise

    db = context.store.db
    maintenance_id = await context.store.call(
        maintenance_store.create_maintenance, db, spec, now, request.state.operator, body
    )
    await context.monitor.refresh_snapshot()

    maintenance = await context.store.call(maintenance_store.get_maintenance, db, maintenance_id)
    assert maintenance is not None
    windows = await context.store.call(maintenance_store.windows_of, db, maintenance_id)
    updates = await context.store.call(maintenance_store.updates_of, db, maintenance_id)
    return JSONResponse(
        maintenance_json(maintenance, windows, updates, context.config, now), status_code=201
    )


routes: list[BaseRoute] = [
    Route("/maintenances", create_maintenance, methods=["POST"], name="api_maintenances"),
]
