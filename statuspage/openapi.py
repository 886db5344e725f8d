"""The OpenAPI 3.1 description of the JSON API under /api/v1, served at /api/v1/openapi.json.

It covers the read routes (`web/read_api.py`) and the write routes (`web/api_incidents.py`,
`web/api_maintenance.py`). The tests check that every route under /api/v1 is described and
that the read responses match their schemas, so a route change must change this document too.
"""

from __future__ import annotations

import enum
import sys
from typing import Any

from statuspage import __version__
from statuspage.incident_forms import API_COMPONENT_STATES, MAX_BODY_LENGTH, MAX_TITLE_LENGTH
from statuspage.incidents import Impact, IncidentStatus
from statuspage.maintenance import (
    EARLIEST_TIME,
    LATEST_TIME,
    MAX_WINDOW_LENGTH,
    PAST_START_MARGIN,
    WindowStatus,
)
from statuspage.maintenance import TEXT_MAX_LENGTH as MAINTENANCE_TEXT_MAX_LENGTH
from statuspage.snapshot import HISTORY_DAYS, UPTIME_PERIODS
from statuspage.state import EffectiveState, State

Schema = dict[str, Any]

DESCRIPTION = """\
Read the status page's state and post incidents and maintenance.

Read routes need no key and send `Access-Control-Allow-Origin: *`, an `ETag` and a
`Last-Modified` header, so a client may poll with `If-None-Match` and get 304 while nothing
changed. Write routes need an API key from `statuspage admin create-key NAME`, sent as
`Authorization: Bearer KEY`. Errors are JSON objects naming the field at fault.

Times are ISO 8601 in UTC. Fields may be added to responses. A change that removes or
redefines a field would be published under new /api/v2 paths, which end without `.json` and
so do not collide with the Statuspage-compatible /api/v2/*.json payloads, while /api/v1
keeps working.
"""


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def _enum(values: type[enum.Enum] | list[str]) -> Schema:
    members = [member.value for member in values] if isinstance(values, type) else values
    return {"type": "string", "enum": members}


def _object(properties: Schema, optional: tuple[str, ...] = ()) -> Schema:
    """Build an object schema whose properties are all required except `optional`."""
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
    }


TIME: Schema = {"type": "string", "format": "date-time"}
NULLABLE_TIME = _nullable(TIME)
RATIO: Schema = {"type": "number", "minimum": 0, "maximum": 1}
SECONDS: Schema = {"type": "number", "minimum": 0}
# Statuspage's names for the states an incident declares for a component.
DECLARED_STATES = [name for name, impact in API_COMPONENT_STATES.items() if impact is not None]
CHECK_STATES = [state.value for state in State if state is not State.MAINTENANCE]


def _schemas() -> dict[str, Schema]:
    component_name = _object({"id": {"type": "string"}, "name": {"type": "string"}})
    return {
        "Error": _object(
            {
                "error": _object(
                    {
                        "status": {"type": "integer"},
                        "message": {"type": "string"},
                        "field": {
                            "type": "string",
                            "description": "The field at fault, as the client sent it.",
                        },
                    },
                    optional=("field",),
                )
            }
        ),
        "Page": _object(
            {
                "name": {"type": "string"},
                "url": {"type": "string", "format": "uri"},
                "time_zone": {"type": "string", "description": "IANA time zone of the page"},
            }
        ),
        "Status": _object(
            {
                "page": _ref("Page"),
                "status": {
                    **_enum(EffectiveState),
                    "description": (
                        "What the page banner shows, by the same rule as the indicator of "
                        "/api/v2/status.json. It is the worst `state` among components with "
                        "data, raised to the impact of the worst open incident: minor gives "
                        "degraded, major partial_outage and critical major_outage. A major "
                        "outage of some components gives partial_outage; major_outage needs "
                        "every component with data that is not in maintenance to have one, "
                        "or a critical incident. maintenance means nothing is worse while a "
                        "window is in progress, and no_data that no component has data and "
                        "no incident with an impact is open."
                    ),
                },
                "description": {"type": "string"},
                "active_incidents": {"type": "integer", "minimum": 0},
                "active_maintenance": {"type": "integer", "minimum": 0},
                "generated_at": TIME,
            }
        ),
        "Uptime": {
            **_object({period: _nullable(RATIO) for period in UPTIME_PERIODS}),
            "description": (
                "Share of observed time the component was not down, by period; null when "
                "nothing was observed. 24h counts whole UTC hours: the current one and the 24 "
                "before it. 7d, 30d and 90d are the last local days of the page's time zone, "
                "today included. Maintenance time counts neither as up nor as down."
            ),
        },
        "Component": _object(
            {
                "id": {"type": "string"},
                "name": {"type": "string"},
                "description": {"type": "string"},
                "group": _nullable({"type": "string"}),
                "state": {
                    **_enum(EffectiveState),
                    "description": "What visitors see: the check's state with open incidents "
                    "and maintenance applied.",
                },
                "check_state": {
                    **_enum(CHECK_STATES),
                    "description": "The state the checks alone give.",
                },
                "check_state_since": NULLABLE_TIME,
                "last_checked_at": NULLABLE_TIME,
                "response_time_ms": {
                    **_nullable({"type": "number", "minimum": 0}),
                    "description": "Of the last check that got a response.",
                },
                "maintenance_until": NULLABLE_TIME,
                "uptime": _ref("Uptime"),
            }
        ),
        "ComponentList": _object(
            {"components": {"type": "array", "items": _ref("Component")}, "generated_at": TIME}
        ),
        "ComponentHistory": _object(
            {
                "component": component_name,
                "time_zone": {"type": "string"},
                "days": {
                    "type": "array",
                    "description": "One entry per local day, oldest first.",
                    "items": _object(
                        {
                            "date": {"type": "string", "format": "date"},
                            "uptime": _nullable(RATIO),
                            "observed_s": SECONDS,
                            "down_s": SECONDS,
                            "degraded_s": SECONDS,
                            "maintenance_s": SECONDS,
                            "response_time_ms": _nullable({"type": "number", "minimum": 0}),
                        }
                    ),
                },
                "generated_at": TIME,
            }
        ),
        "Incident": _object(
            {
                "id": {"type": "integer"},
                "name": {"type": "string"},
                "status": _enum(IncidentStatus),
                "impact": _enum(Impact),
                "created_at": TIME,
                "updated_at": TIME,
                "started_at": NULLABLE_TIME,
                "resolved_at": NULLABLE_TIME,
                "postmortem_body": _nullable({"type": "string"}),
                "shortlink": {"type": "string", "format": "uri"},
                "components": {
                    "type": "array",
                    "items": _object(
                        {**component_name["properties"], "status": _enum(DECLARED_STATES)}
                    ),
                },
                "incident_updates": {
                    "type": "array",
                    "description": "Newest first.",
                    "items": _object(
                        {
                            "id": {"type": "integer"},
                            "incident_id": {"type": "integer"},
                            "status": _enum(IncidentStatus),
                            "body": {"type": "string", "description": "Markdown"},
                            "display_at": TIME,
                            "created_at": TIME,
                        }
                    ),
                },
            }
        ),
        "IncidentList": _object({"incidents": {"type": "array", "items": _ref("Incident")}}),
        "MaintenanceWindow": _object(
            {
                "id": {"type": "integer"},
                "maintenance_id": {"type": "integer"},
                "name": {"type": "string"},
                "status": _enum(WindowStatus),
                "scheduled_for": TIME,
                "scheduled_until": {
                    **TIME,
                    "description": "The planned end, later than first planned when extended.",
                },
                "ended_at": {**NULLABLE_TIME, "description": "Set when it ended early."},
                "cancelled_at": NULLABLE_TIME,
                "components": {"type": "array", "items": component_name},
                "url": {"type": "string", "format": "uri"},
            }
        ),
        "MaintenanceList": _object(
            {
                name: {"type": "array", "items": _ref("MaintenanceWindow"), "description": text}
                for name, text in (
                    ("active", "In progress, earliest start first."),
                    ("upcoming", "Scheduled, soonest first."),
                    ("recent", "Completed or cancelled in the last 30 days, latest first."),
                )
            }
        ),
        "Maintenance": _object(
            {
                "id": {"type": "integer"},
                "name": {"type": "string"},
                "description": {"type": "string"},
                "timezone": {"type": "string"},
                "status": _nullable(_enum(WindowStatus)),
                "window_id": _nullable({"type": "integer"}),
                "scheduled_for": NULLABLE_TIME,
                "scheduled_until": NULLABLE_TIME,
                "components": {
                    "type": "array",
                    "items": _object(
                        {**component_name["properties"], "status": {"const": "under_maintenance"}}
                    ),
                },
                "updates": {
                    "type": "array",
                    "items": _object(
                        {
                            "id": {"type": "integer"},
                            "body": {"type": "string"},
                            "display_at": TIME,
                            "created_at": TIME,
                        }
                    ),
                },
            }
        ),
        "NewIncident": _object(
            {
                "name": {"type": "string", "maxLength": MAX_TITLE_LENGTH},
                "status": _enum(IncidentStatus),
                "impact": _enum(Impact),
                "body": {
                    "type": "string",
                    "maxLength": MAX_BODY_LENGTH,
                    "description": "Markdown text of the first update.",
                },
                "components": {
                    "type": "object",
                    "description": "Component id to the state the incident declares; "
                    "operational components may be left out.",
                    "additionalProperties": _enum(list(API_COMPONENT_STATES)),
                },
                "started_at": {
                    **TIME,
                    "description": "Display time of the first update, with a UTC offset; "
                    "now when left out.",
                },
            },
            optional=("components", "started_at"),
        ),
        "NewIncidentUpdate": _object(
            {
                "status": _enum(IncidentStatus),
                "body": {"type": "string", "maxLength": MAX_BODY_LENGTH},
                "display_at": {**TIME, "description": "With a UTC offset; now when left out."},
            },
            optional=("display_at",),
        ),
        "NewMaintenance": _object(
            {
                "name": {"type": "string", "maxLength": MAX_TITLE_LENGTH},
                "scheduled_for": {
                    **TIME,
                    "description": (
                        f"With a UTC offset, from {EARLIEST_TIME:%Y-%m-%d} to before "
                        f"{LATEST_TIME:%Y-%m-%d} UTC, and at most "
                        f"{PAST_START_MARGIN.total_seconds() // 60:.0f} minutes in the past."
                    ),
                },
                "scheduled_until": {
                    **TIME,
                    "description": (
                        "With a UTC offset; after `scheduled_for` and at most "
                        f"{MAX_WINDOW_LENGTH.days} days after it."
                    ),
                },
                "components": {
                    "oneOf": [
                        {
                            "type": "object",
                            "additionalProperties": {"const": "under_maintenance"},
                        },
                        {"type": "array", "items": {"type": "string"}},
                    ]
                },
                "body": {
                    "type": "string",
                    "maxLength": MAINTENANCE_TEXT_MAX_LENGTH,
                    "description": "Markdown text of a first update.",
                },
                "description": {
                    "type": "string",
                    "maxLength": MAINTENANCE_TEXT_MAX_LENGTH,
                    "description": "Markdown",
                },
                "timezone": {
                    "type": "string",
                    "description": "IANA time zone of the maintenance; the page's by default.",
                },
            },
            optional=("components", "body", "description", "timezone"),
        ),
    }


def _json(schema: Schema, description: str) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> Schema:
    return _json(_ref("Error"), description)


def _wrapped(name: str, *wrappers: str) -> Schema:
    """Build a request body that is the object itself or wrapped, as Statuspage clients send it."""
    options = [_ref(name), *(_object({wrapper: _ref(name)}) for wrapper in wrappers)]
    return {"required": True, "content": {"application/json": {"schema": {"oneOf": options}}}}


WRITE_ERRORS = {
    "400": _error(
        "The body is not valid UTF-8 JSON or not a JSON object, nests arrays or objects "
        "more deeply than the parser allows (about 1000 levels, Python's recursion limit), "
        f"has a number with more than {sys.get_int_max_str_digits()} digits, or has a "
        "string with an unpaired UTF-16 surrogate escape."
    ),
    "401": _error("The API key is missing, unknown, revoked or expired."),
    "413": _error("The body is larger than 256 KiB."),
    "422": _error("A field is invalid; `field` names it."),
}
COMPONENT_ID = {
    "name": "component_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
}
INCIDENT_ID = {"name": "incident_id", "in": "path", "required": True, "schema": {"type": "integer"}}


def _read(operation_id: str, summary: str, schema: str, **responses: Schema) -> Schema:
    return {
        "operationId": operation_id,
        "summary": summary,
        "tags": ["read"],
        "responses": {"200": _json(_ref(schema), "OK"), **responses},
    }


def _write(
    operation_id: str, summary: str, body: Schema, schema: str, **responses: Schema
) -> Schema:
    return {
        "operationId": operation_id,
        "summary": summary,
        "tags": ["write"],
        "security": [{"apiKey": []}],
        "requestBody": body,
        "responses": {"201": _json(_ref(schema), "Created"), **WRITE_ERRORS, **responses},
    }


def openapi_document() -> Schema:
    """Return the OpenAPI 3.1 document; paths are relative to the server URL /api/v1."""
    not_found = {"404": _error("Not found.")}
    return {
        "openapi": "3.1.0",
        "info": {"title": "statuspage API", "version": __version__, "description": DESCRIPTION},
        "servers": [{"url": "/api/v1"}],
        "tags": [
            {"name": "read", "description": "Public, cacheable, readable from any origin."},
            {"name": "write", "description": "Needs an API key."},
        ],
        "paths": {
            "/status": {"get": _read("getStatus", "The overall state of the page", "Status")},
            "/components": {
                "get": _read(
                    "listComponents",
                    "Every component with its state, response time and uptime",
                    "ComponentList",
                )
            },
            "/components/{component_id}/history": {
                "parameters": [COMPONENT_ID],
                "get": {
                    **_read(
                        "getComponentHistory",
                        "Daily uptime of one component",
                        "ComponentHistory",
                        **{"400": _error("`days` is invalid.")},
                        **not_found,
                    ),
                    "parameters": [
                        {
                            "name": "days",
                            "in": "query",
                            "description": "Number of local days, today included.",
                            "schema": {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": HISTORY_DAYS,
                                "default": HISTORY_DAYS,
                            },
                        }
                    ],
                },
            },
            "/incidents": {
                "get": _read(
                    "listIncidents",
                    "The 50 most recent incidents: open ones first, then by newest start",
                    "IncidentList",
                ),
                "post": _write(
                    "createIncident",
                    "Create an incident with its first update",
                    _wrapped("NewIncident", "incident"),
                    "Incident",
                ),
            },
            "/incidents/{incident_id}": {
                "parameters": [INCIDENT_ID],
                "get": _read(
                    "getIncident", "One incident with its updates", "Incident", **not_found
                ),
            },
            "/incidents/{incident_id}/updates": {
                "parameters": [INCIDENT_ID],
                "post": _write(
                    "createIncidentUpdate",
                    "Append an update; its status becomes the incident's",
                    _wrapped("NewIncidentUpdate", "incident_update"),
                    "Incident",
                    **not_found,
                ),
            },
            "/maintenances": {
                "get": _read(
                    "listMaintenanceWindows",
                    "Maintenance windows in progress, scheduled and recently over",
                    "MaintenanceList",
                ),
                "post": _write(
                    "createMaintenance",
                    "Schedule a one-off maintenance window",
                    _wrapped("NewMaintenance", "maintenance", "incident"),
                    "Maintenance",
                ),
            },
            "/openapi.json": {
                "get": {
                    "operationId": "getOpenApi",
                    "summary": "This document",
                    "tags": ["read"],
                    "responses": {"200": _json({"type": "object"}, "OK")},
                }
            },
        },
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {
                "apiKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A key from `statuspage admin create-key NAME`.",
                }
            },
        },
    }
