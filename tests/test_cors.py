"""CORS: public reads are readable from any origin; writes, admin and pages are not."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.public_app import AUTH, INCIDENT, App, running_app

READABLE = (
    "/api/v1/status",
    "/api/v1/components",
    "/api/v1/incidents",
    "/api/v1/maintenances",
    "/api/v1/openapi.json",
    "/api/v2/summary.json",
    "/feed.rss",
    "/feed.atom",
    "/maintenance.atom",
    "/maintenance.ics",
    "/components/api/feed.atom",
    "/badges/api/status.svg",
)
ORIGIN = {"Origin": "https://example.org"}


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    with running_app(tmp_path) as running:
        yield running


def preflight(app: App, path: str, method: str) -> dict[str, str]:
    headers = {**ORIGIN, "Access-Control-Request-Method": method}
    response = app.client.options(path, headers=headers)
    return {"status": str(response.status_code), **response.headers}


@pytest.mark.parametrize("path", READABLE)
def test_public_get_allows_any_origin(app: App, path: str) -> None:
    response = app.client.get(path, headers=ORIGIN)
    assert response.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize("path", READABLE)
def test_public_head_allows_any_origin(app: App, path: str) -> None:
    response = app.client.head(path, headers=ORIGIN)
    assert response.headers["access-control-allow-origin"] == "*"


def test_etag_is_exposed(app: App) -> None:
    response = app.client.get("/api/v1/status", headers=ORIGIN)
    assert response.headers["access-control-expose-headers"] == "ETag"


def test_not_modified_allows_any_origin(app: App) -> None:
    etag = app.client.get("/api/v1/status").headers["etag"]
    response = app.client.get("/api/v1/status", headers={**ORIGIN, "If-None-Match": etag})
    assert response.status_code == 304
    assert response.headers["access-control-allow-origin"] == "*"


def test_api_error_allows_any_origin(app: App) -> None:
    response = app.client.get("/api/v1/incidents/999", headers=ORIGIN)
    assert response.status_code == 404
    assert response.headers["access-control-allow-origin"] == "*"


def test_write_has_no_cors(app: App) -> None:
    response = app.client.post("/api/v1/incidents", json=INCIDENT, headers={**ORIGIN, **AUTH})
    assert response.status_code == 201
    assert "access-control-allow-origin" not in response.headers


def test_rejected_write_has_no_cors(app: App) -> None:
    response = app.client.post("/api/v1/incidents", json=INCIDENT, headers=ORIGIN)
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize("path", ["/admin/login", "/admin/", "/", "/history", "/metrics"])
def test_other_paths_have_no_cors(app: App, path: str) -> None:
    response = app.client.get(path, headers=ORIGIN, follow_redirects=False)
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize("path", ["/api/v1/components", "/api/v2/summary.json", "/feed.atom"])
def test_preflight_for_get_is_answered(app: App, path: str) -> None:
    answer = preflight(app, path, "GET")
    assert answer["status"] == "204"
    assert answer["access-control-allow-origin"] == "*"
    assert answer["access-control-allow-methods"] == "GET, HEAD"


def test_preflight_allows_validator_headers(app: App) -> None:
    answer = preflight(app, "/api/v1/status", "GET")
    assert answer["access-control-allow-headers"] == "If-None-Match, If-Modified-Since"


@pytest.mark.parametrize("path", ["/api/v1/incidents", "/api/v1/maintenances"])
def test_preflight_for_write_has_no_cors(app: App, path: str) -> None:
    answer = preflight(app, path, "POST")
    assert "access-control-allow-origin" not in answer
    assert "access-control-allow-methods" not in answer


@pytest.mark.parametrize("path", ["/api/v1/incidents", "/api/v1/maintenances"])
def test_options_lists_every_method_of_write_path(app: App, path: str) -> None:
    response = app.client.options(path, headers=ORIGIN)
    assert response.status_code == 204
    assert response.headers["allow"] == "GET, HEAD, POST, OPTIONS"


def test_options_of_update_path_lists_post(app: App) -> None:
    response = app.client.options("/api/v1/incidents/1/updates")
    assert response.headers["allow"] == "POST, OPTIONS"


def test_options_of_read_path_lists_reads(app: App) -> None:
    response = app.client.options("/api/v1/status")
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"


def test_options_of_write_path_has_no_cors(app: App) -> None:
    response = app.client.options("/api/v1/incidents", headers=ORIGIN)
    assert "access-control-allow-origin" not in response.headers


def test_preflight_for_admin_is_refused(app: App) -> None:
    answer = preflight(app, "/admin/login", "GET")
    assert "access-control-allow-origin" not in answer
