"""Every route of the app under /admin and /api/v1, found by walking the router, is guarded.

The routes are enumerated from the application itself, so a route added later is checked
without changing these tests.
"""

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount, Route
from starlette.testclient import TestClient

from statuspage import accounts, passwords
from statuspage.config import Config, load_config
from statuspage.store import Store
from statuspage.web.app import create_app

CONFIG = """
[site]
name = "PullLog"
timezone = "Asia/Tokyo"

[[components]]
id = "website"
name = "Website"
[components.check]
type = "http"
url = "http://127.0.0.1:9/"
"""

NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
LOGIN_PATH = "/admin/login"
PATH_PARAMETER = re.compile(r"\{(\w+)(?::(\w+))?\}")
# Values that every convertor of that type accepts, so the request reaches the endpoint.
PARAMETER_VALUES = {
    "int": "1",
    "float": "1.0",
    "str": "1",
    "path": "1",
    "uuid": "00000000-0000-0000-0000-000000000001",
}
# Write requests carry a form with a plausible field, so an endpoint without its guard would
# have something to act on.
FORM = {"title": "Database maintenance", "csrf_token": "not-the-token"}


def walk(routes: list[BaseRoute], prefix: str = "") -> Iterator[tuple[str, Route]]:
    """Yield every Route with its full path, descending into Mounts."""
    for route in routes:
        if isinstance(route, Mount):
            yield from walk(route.routes, prefix + route.path)
        elif isinstance(route, Route):
            yield prefix + route.path, route


def concrete_path(path: str) -> str:
    """Fill each path parameter, such as {incident_id:int}, with a value of its type."""
    return PATH_PARAMETER.sub(lambda found: PARAMETER_VALUES[found[2] or "str"], path)


def requests_under(app: Starlette, prefix: str) -> list[tuple[str, str]]:
    """Return (method, concrete path) for each route method under `prefix`, HEAD excluded."""
    return [(method, concrete_path(path)) for method, path in route_methods(app, prefix)]


def route_methods(app: Starlette, prefix: str) -> list[tuple[str, str]]:
    """Return (method, path pattern) for each route method under `prefix`, HEAD excluded."""
    found = []
    for path, route in walk(app.routes):
        if path != prefix and not path.startswith(prefix + "/"):
            continue
        for method in sorted(route.methods or {"GET"}):
            if method != "HEAD":
                found.append((method, path))
    return found


@pytest.fixture
def app(tmp_path: Path) -> Starlette:
    config_path = tmp_path / "checks.toml"
    config_path.write_text(CONFIG, encoding="utf-8")
    config: Config = load_config(config_path, {})
    data_dir = tmp_path / "data"
    store = Store.open(data_dir)
    try:
        accounts.create_operator(store.db, "alice", passwords.hash_password(PASSWORD), NOW)
    finally:
        store.close()
    return create_app(config, data_dir, run_checks=False)


@pytest.fixture
def client(app: Starlette) -> Iterator[TestClient]:
    with (
        time_machine.travel(NOW, tick=False),
        TestClient(app, follow_redirects=False) as test_client,
    ):
        yield test_client


def admin_requests(app: Starlette) -> list[tuple[str, str]]:
    return [(method, path) for method, path in requests_under(app, "/admin") if path != LOGIN_PATH]


def log_in(client: TestClient) -> None:
    page = client.get(LOGIN_PATH)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    response = client.post(
        LOGIN_PATH, data={"name": "alice", "password": PASSWORD, "csrf_token": token[1]}
    )
    assert response.status_code == 303


def test_walk_finds_routes_inside_mounts(app: Starlette) -> None:
    found = set(requests_under(app, "/admin"))
    assert {("GET", "/admin/"), ("GET", LOGIN_PATH), ("POST", "/admin/logout")} <= found


def test_concrete_path_fills_parameters() -> None:
    assert concrete_path("/incidents/{incident_id:int}/updates/{slug}") == "/incidents/1/updates/1"


def test_admin_pages_redirect_anonymous_to_login(client: TestClient, app: Starlette) -> None:
    wrong = []
    for method, path in admin_requests(app):
        if method != "GET":
            continue
        response = client.get(path)
        location = response.headers.get("location", "")
        if response.status_code != 303 or not location.startswith(LOGIN_PATH + "?next="):
            wrong.append((path, response.status_code, location))
    assert wrong == []


def test_admin_writes_reject_anonymous(client: TestClient, app: Starlette) -> None:
    wrong = []
    for method, path in admin_requests(app):
        if method == "GET":
            continue
        response = client.request(method, path, data=FORM)
        location = response.headers.get("location", "")
        redirected_to_login = response.status_code == 303 and location.startswith(LOGIN_PATH)
        if not (redirected_to_login or response.status_code == 403):
            wrong.append((method, path, response.status_code, location))
    assert wrong == []


def test_admin_writes_reject_missing_csrf_token(client: TestClient, app: Starlette) -> None:
    log_in(client)
    wrong = []
    for method, pattern in route_methods(app, "/admin"):
        if method == "GET" or pattern == LOGIN_PATH:
            continue
        path = concrete_path(pattern)
        response = client.request(method, path, data=FORM)
        # The database has no incident or maintenance 1, so a path with an id may return 404
        # before the form is read. Success or a redirect is never allowed.
        allowed = (403, 404) if pattern != path else (403,)
        if response.status_code not in allowed:
            wrong.append((method, path, response.status_code))
    assert wrong == []


# Methods that change nothing, so they need no key: GET reads, and OPTIONS lists a path's methods.
READ_METHODS = {"GET", "OPTIONS"}


def test_walk_finds_api_writes(app: Starlette) -> None:
    writes = [
        request for request in requests_under(app, "/api/v1") if request[0] not in READ_METHODS
    ]
    assert writes != []


def test_api_writes_reject_missing_key(client: TestClient, app: Starlette) -> None:
    wrong = []
    for method, path in requests_under(app, "/api/v1"):
        if method in READ_METHODS:
            continue
        response = client.request(method, path, json={"incident": {"name": "Outage"}})
        challenge = response.headers.get("www-authenticate", "")
        if response.status_code != 401 or not challenge.startswith("Bearer"):
            wrong.append((method, path, response.status_code))
    assert wrong == []


def test_api_writes_reject_unknown_key(client: TestClient, app: Starlette) -> None:
    wrong = []
    headers = {"Authorization": f"Bearer {accounts.new_api_key()}"}
    for method, path in requests_under(app, "/api/v1"):
        if method in READ_METHODS:
            continue
        response = client.request(method, path, headers=headers, json={})
        if response.status_code != 401:
            wrong.append((method, path, response.status_code))
    assert wrong == []
