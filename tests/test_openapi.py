"""The OpenAPI description: valid, complete for /api/v1, and true to the responses."""

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from openapi_spec_validator import validate
from starlette.routing import Mount, Route

from statuspage.openapi import openapi_document
from statuspage.web.app import create_app
from tests.public_app import AUTH, INCIDENT, App, running_app, write_config

DOCUMENT = openapi_document()
# HEAD is served by every GET route and OPTIONS by every path; neither is described.
IGNORED_METHODS = {"HEAD", "OPTIONS"}


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    with running_app(tmp_path) as running:
        yield running


def schema_errors(instance: Any, schema: dict[str, Any]) -> list[str]:
    """Validate against a schema of the document, resolving its $refs."""
    validator = Draft202012Validator(
        {**schema, "components": DOCUMENT["components"]}, format_checker=FormatChecker()
    )
    return [
        f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(instance)
    ]


def response_schema(path: str, method: str, status: int) -> dict[str, Any]:
    operation = DOCUMENT["paths"][path][method]
    schema: dict[str, Any] = operation["responses"][str(status)]["content"]["application/json"][
        "schema"
    ]
    return schema


def api_routes(tmp_path: Path) -> set[tuple[str, str]]:
    """Return (path, method) of every route mounted under /api/v1, paths without converters."""
    app = create_app(write_config(tmp_path), tmp_path / "data", run_checks=False)
    mount = next(
        route for route in app.routes if isinstance(route, Mount) and route.path == "/api/v1"
    )
    found = set()
    for route in mount.routes:
        assert isinstance(route, Route)
        path = re.sub(r"\{(\w+)(?::\w+)?\}", r"{\1}", route.path)
        for method in route.methods or ():
            if method not in IGNORED_METHODS:
                found.add((path, method.lower()))
    return found


def described_operations() -> set[tuple[str, str]]:
    methods = {"get", "post", "put", "patch", "delete"}
    return {
        (path, method)
        for path, item in DOCUMENT["paths"].items()
        for method in item
        if method in methods
    }


# The document


def test_document_is_valid_openapi() -> None:
    validate(DOCUMENT)


def test_document_is_openapi_3_1() -> None:
    assert DOCUMENT["openapi"].startswith("3.1.")


def test_every_api_route_is_described(tmp_path: Path) -> None:
    assert sorted(api_routes(tmp_path) - described_operations()) == []


def test_every_described_operation_is_routed(tmp_path: Path) -> None:
    assert sorted(described_operations() - api_routes(tmp_path)) == []


def test_write_operations_need_key() -> None:
    secured = {
        (path, method)
        for path, method in described_operations()
        if "security" in DOCUMENT["paths"][path][method]
    }
    writes = {(path, method) for path, method in described_operations() if method == "post"}
    assert secured == writes


def test_document_is_served(app: App) -> None:
    assert app.client.get("/api/v1/openapi.json").json() == DOCUMENT


# Responses match their schemas


READS = [
    ("/api/v1/status", "/status"),
    ("/api/v1/components", "/components"),
    ("/api/v1/components/website/history", "/components/{component_id}/history"),
    ("/api/v1/components/database/history?days=7", "/components/{component_id}/history"),
    ("/api/v1/incidents", "/incidents"),
    ("/api/v1/incidents/1", "/incidents/{incident_id}"),
    ("/api/v1/maintenances", "/maintenances"),
]


@pytest.mark.parametrize(("url", "path"), READS)
def test_read_response_matches_schema(app: App, url: str, path: str) -> None:
    incident_id = app.post_incident()
    app.post_update(incident_id, "resolved", "Fixed.")
    app.post_incident(name="Second", components={})
    app.post_maintenance(timedelta(minutes=1), timedelta(hours=1), name="Now")
    app.post_maintenance(timedelta(days=3), timedelta(hours=1), name="Later")
    app.clock.shift(timedelta(minutes=2))
    app.refresh()

    response = app.client.get(url)

    assert response.status_code == 200
    assert schema_errors(response.json(), response_schema(path, "get", 200)) == []


def test_read_response_without_data_matches_schema(tmp_path: Path) -> None:
    with running_app(tmp_path, seeded=False) as app:
        body = app.client.get("/api/v1/components").json()
    assert schema_errors(body, response_schema("/components", "get", 200)) == []


def test_create_incident_response_matches_schema(app: App) -> None:
    body = app.post("/api/v1/incidents", INCIDENT).json()
    assert schema_errors(body, response_schema("/incidents", "post", 201)) == []


def test_create_update_response_matches_schema(app: App) -> None:
    incident_id = app.post_incident()
    body = app.post(
        f"/api/v1/incidents/{incident_id}/updates",
        {"incident_update": {"status": "monitoring", "body": "Watching."}},
    ).json()
    assert (
        schema_errors(body, response_schema("/incidents/{incident_id}/updates", "post", 201)) == []
    )


def test_create_maintenance_response_matches_schema(app: App) -> None:
    body = app.post(
        "/api/v1/maintenances",
        {
            "maintenance": {
                "name": "Database upgrade",
                "scheduled_for": "2026-12-06T03:00:00+09:00",
                "scheduled_until": "2026-12-06T03:10:00+09:00",
                "components": {"database": "under_maintenance"},
                "body": "Upgrading PostgreSQL.",
            }
        },
    ).json()
    assert schema_errors(body, response_schema("/maintenances", "post", 201)) == []


@pytest.mark.parametrize(
    ("method", "url", "path", "status"),
    [
        ("get", "/api/v1/incidents/999", "/incidents/{incident_id}", 404),
        ("get", "/api/v1/components/x/history", "/components/{component_id}/history", 404),
        ("get", "/api/v1/components/api/history?days=0", "/components/{component_id}/history", 400),
        ("post", "/api/v1/incidents", "/incidents", 401),
    ],
)
def test_error_response_matches_schema(
    app: App, method: str, url: str, path: str, status: int
) -> None:
    response = app.client.request(method, url, json={})
    assert response.status_code == status
    assert schema_errors(response.json(), response_schema(path, method, status)) == []


def test_invalid_write_error_matches_schema(app: App) -> None:
    response = app.client.post("/api/v1/incidents", json={"incident": {}}, headers=AUTH)
    assert response.status_code == 422
    assert schema_errors(response.json(), response_schema("/incidents", "post", 422)) == []


def test_request_example_matches_schema() -> None:
    operation = DOCUMENT["paths"]["/incidents"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema_errors(INCIDENT, schema) == []
    assert schema_errors(INCIDENT["incident"], schema) == []


def test_request_schema_rejects_missing_name() -> None:
    operation = DOCUMENT["paths"]["/incidents"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    fields = {key: value for key, value in INCIDENT["incident"].items() if key != "name"}
    assert schema_errors({"incident": fields}, schema) != []


# Limits the document states

NEW_MAINTENANCE = DOCUMENT["components"]["schemas"]["NewMaintenance"]["properties"]


@pytest.mark.parametrize("field", ["body", "description"])
def test_maintenance_text_has_max_length(field: str) -> None:
    assert NEW_MAINTENANCE[field]["maxLength"] == 20_000


def test_maintenance_end_names_max_window_length() -> None:
    assert "at most 7 days after it" in NEW_MAINTENANCE["scheduled_until"]["description"]


@pytest.mark.parametrize("limit", ["nests arrays or objects", "more than 4300 digits"])
def test_bad_request_names_parser_limits(limit: str) -> None:
    response = DOCUMENT["paths"]["/incidents"]["post"]["responses"]["400"]
    assert limit in response["description"]


def test_status_description_names_incident_impact() -> None:
    status = DOCUMENT["components"]["schemas"]["Status"]["properties"]["status"]
    assert "raised to the impact of the worst open incident" in status["description"]
