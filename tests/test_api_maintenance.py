"""The maintenance write API, through the real app with a real API key."""

import functools
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import time_machine
from starlette.testclient import TestClient

from statuspage import accounts, maintenance_store
from statuspage.config import Config, load_config
from statuspage.maintenance import Maintenance, MaintenanceUpdate
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

[[components]]
id = "database"
name = "Database"
[components.check]
type = "http"
url = "http://127.0.0.1:9/db"
"""

NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)  # 12:00 in Tokyo
KEY = accounts.new_api_key()
MAINTENANCE = {
    "name": "Database upgrade",
    "scheduled_for": "2026-12-06T03:00:00+09:00",
    "scheduled_until": "2026-12-06T03:10:00+09:00",
    "components": {"database": "under_maintenance"},
    "body": "Reads keep working.",
}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    path = tmp_path / "checks.toml"
    path.write_text(CONFIG, encoding="utf-8")
    config: Config = load_config(path, {})
    data_dir = tmp_path / "data"
    store = Store.open(data_dir)
    accounts.create_api_key(store.db, "deploy", KEY, NOW, None)
    store.close()
    with (
        time_machine.travel(NOW, tick=False),
        TestClient(create_app(config, data_dir, run_checks=False)) as test_client,
    ):
        yield test_client


def create(client: TestClient, payload: Any, key: str = KEY) -> httpx.Response:
    response: httpx.Response = client.post(
        "/api/v1/maintenances", json=payload, headers={"Authorization": f"Bearer {key}"}
    )
    return response


def store_call(client: TestClient, function: Any, *args: Any) -> Any:
    store = client.app.state.context.store  # type: ignore[attr-defined]
    assert client.portal is not None
    return client.portal.call(functools.partial(store.call, function, store.db, *args))


def error(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()["error"]
    return body


# Authentication


def test_missing_key_is_401(client: TestClient) -> None:
    response = client.post("/api/v1/maintenances", json={"maintenance": MAINTENANCE})
    assert response.status_code == 401


def test_wrong_key_is_401(client: TestClient) -> None:
    assert create(client, {"maintenance": MAINTENANCE}, key="sp_wrong").status_code == 401


# Created maintenance


def test_create_returns_201(client: TestClient) -> None:
    assert create(client, {"maintenance": MAINTENANCE}).status_code == 201


def test_created_maintenance_as_json(client: TestClient) -> None:
    body = create(client, {"maintenance": MAINTENANCE}).json()
    assert {key: body[key] for key in ("name", "status", "scheduled_for", "scheduled_until")} == {
        "name": "Database upgrade",
        "status": "scheduled",
        "scheduled_for": "2026-12-05T18:00:00.000+00:00",
        "scheduled_until": "2026-12-05T18:10:00.000+00:00",
    }


def test_created_components_as_json(client: TestClient) -> None:
    body = create(client, {"maintenance": MAINTENANCE}).json()
    assert body["components"] == [
        {"id": "database", "name": "Database", "status": "under_maintenance"}
    ]


def test_first_update_as_json(client: TestClient) -> None:
    body = create(client, {"maintenance": MAINTENANCE}).json()
    assert [update["body"] for update in body["updates"]] == ["Reads keep working."]


def test_update_is_posted_by_the_key(client: TestClient) -> None:
    maintenance_id = create(client, {"maintenance": MAINTENANCE}).json()["id"]
    updates: list[MaintenanceUpdate] = store_call(
        client, maintenance_store.updates_of, maintenance_id
    )
    assert [update.created_by for update in updates] == ["api key deploy"]


def test_statuspage_incident_wrapper_is_accepted(client: TestClient) -> None:
    response = create(client, {"incident": MAINTENANCE})
    assert response.status_code == 201


def test_unwrapped_object_is_accepted(client: TestClient) -> None:
    response = create(client, MAINTENANCE)
    assert response.status_code == 201


def test_component_list_is_accepted(client: TestClient) -> None:
    body = create(client, {**MAINTENANCE, "components": ["website", "database"]}).json()
    assert [component["id"] for component in body["components"]] == ["website", "database"]


def test_timezone_defaults_to_site(client: TestClient) -> None:
    maintenance_id = create(client, MAINTENANCE).json()["id"]
    found: Maintenance = store_call(client, maintenance_store.get_maintenance, maintenance_id)
    assert found.timezone == "Asia/Tokyo"


def test_timezone_is_stored(client: TestClient) -> None:
    body = create(client, {**MAINTENANCE, "timezone": "Europe/Berlin"}).json()
    assert body["timezone"] == "Europe/Berlin"


def test_utc_z_suffix_is_accepted(client: TestClient) -> None:
    payload = {
        **MAINTENANCE,
        "scheduled_for": "2026-12-05T18:00:00Z",
        "scheduled_until": "2026-12-05T18:10:00Z",
    }
    assert create(client, payload).json()["scheduled_for"] == "2026-12-05T18:00:00.000+00:00"


def test_window_that_just_started_is_in_progress(client: TestClient) -> None:
    payload = {
        **MAINTENANCE,
        "scheduled_for": "2026-12-04T11:58:00+09:00",
        "scheduled_until": "2026-12-04T12:05:00+09:00",
    }
    assert create(client, payload).json()["status"] == "in_progress"


# Errors


def test_missing_name_names_the_field(client: TestClient) -> None:
    response = create(client, {"maintenance": {**MAINTENANCE, "name": ""}})
    assert response.status_code == 422
    assert error(response)["field"] == "maintenance.name"


def test_time_without_offset_is_rejected(client: TestClient) -> None:
    response = create(client, {**MAINTENANCE, "scheduled_for": "2026-12-06T03:00:00"})
    assert error(response)["field"] == "scheduled_for"
    assert "has no UTC offset" in error(response)["message"]


def test_unparseable_time_names_the_value(client: TestClient) -> None:
    response = create(client, {"incident": {**MAINTENANCE, "scheduled_until": "tomorrow"}})
    assert error(response) == {
        "status": 422,
        "message": "incident.scheduled_until: 'tomorrow' is not an ISO 8601 time: send one "
        "such as 2026-12-06T03:00:00+09:00.",
        "field": "incident.scheduled_until",
    }


def test_long_unparseable_time_is_shortened(client: TestClient) -> None:
    response = create(client, {**MAINTENANCE, "scheduled_until": "x" * 5000})
    assert len(error(response)["message"]) < 200


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("scheduled_for", "0001-01-01T00:00:00+09:00"),
        ("scheduled_for", "1969-12-31T23:59:00Z"),
        ("scheduled_until", "9999-12-31T23:00:00Z"),
        ("scheduled_until", "9999-12-31T23:59:00-05:00"),
    ],
)
def test_time_out_of_range_is_rejected(client: TestClient, field: str, value: str) -> None:
    response = create(client, {"maintenance": {**MAINTENANCE, field: value}})
    assert (response.status_code, error(response)["field"]) == (422, f"maintenance.{field}")


def test_time_out_of_range_names_range(client: TestClient) -> None:
    response = create(client, {**MAINTENANCE, "scheduled_until": "9999-12-31T23:00:00Z"})
    assert error(response)["message"] == (
        "scheduled_until: End 9999-12-31T23:00:00+00:00 is outside the allowed range: enter a "
        "time from 1970-01-01 00:00 UTC to before 9000-01-01 00:00 UTC."
    )


def test_window_longer_than_seven_days_is_rejected(client: TestClient) -> None:
    response = create(client, {**MAINTENANCE, "scheduled_until": "2026-12-13T03:01:00+09:00"})
    assert error(response)["field"] == "scheduled_until"
    assert "a window may last at most 168 hours (7 days)" in error(response)["message"]


@pytest.mark.parametrize("name", ["Database\nupgrade", "Database\x00upgrade", "A\u2028B"])
def test_name_with_control_character_is_rejected(client: TestClient, name: str) -> None:
    response = create(client, {"maintenance": {**MAINTENANCE, "name": name}})
    assert (response.status_code, error(response)["field"]) == (422, "maintenance.name")


def test_long_body_is_rejected(client: TestClient) -> None:
    response = create(client, {"maintenance": {**MAINTENANCE, "body": "x" * 20_001}})
    assert (response.status_code, error(response)["field"]) == (422, "maintenance.body")


def test_body_of_20000_characters_is_accepted(client: TestClient) -> None:
    response = create(client, {"maintenance": {**MAINTENANCE, "body": "x" * 20_000}})
    assert response.status_code == 201


def test_end_before_start_is_rejected(client: TestClient) -> None:
    payload = {**MAINTENANCE, "scheduled_until": "2026-12-06T02:00:00+09:00"}
    response = create(client, payload)
    assert error(response)["field"] == "scheduled_until"
    assert "is not after the start" in error(response)["message"]


def test_start_long_ago_is_rejected(client: TestClient) -> None:
    payload = {**MAINTENANCE, "scheduled_for": "2026-12-04T10:00:00+09:00"}
    response = create(client, payload)
    assert error(response)["field"] == "scheduled_for"


def test_unknown_component_is_rejected(client: TestClient) -> None:
    response = create(client, {**MAINTENANCE, "components": ["db"]})
    assert error(response)["field"] == "components"
    assert "Unknown component db" in error(response)["message"]


def test_other_component_state_is_rejected(client: TestClient) -> None:
    payload = {"incident": {**MAINTENANCE, "components": {"database": "major_outage"}}}
    response = create(client, payload)
    assert error(response)["field"] == "incident.components.database"


def test_bad_timezone_is_rejected(client: TestClient) -> None:
    response = create(client, {**MAINTENANCE, "timezone": "+09:00"})
    assert error(response)["field"] == "timezone"


def test_wrong_type_names_the_field(client: TestClient) -> None:
    response = create(client, {**MAINTENANCE, "name": 42})
    assert error(response)["field"] == "name"


def test_invalid_json_is_400(client: TestClient) -> None:
    response = client.post(
        "/api/v1/maintenances",
        content=b"{not json",
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400


def test_nothing_is_stored_on_error(client: TestClient) -> None:
    create(client, {**MAINTENANCE, "components": ["db"]})
    assert store_call(client, maintenance_store.list_maintenances) == []
