"""The incident write API, through the real app with a real API key."""

import functools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import time_machine
from starlette.testclient import TestClient

from statuspage import accounts, incident_store
from statuspage.config import Config, load_config
from statuspage.incidents import ComponentImpact, Impact, Incident, IncidentStatus
from statuspage.store import Store
from statuspage.web.app import create_app

CONFIG = """
[site]
name = "PullLog"
timezone = "Asia/Tokyo"
{site_url}

[[components]]
id = "website"
name = "Website"
[components.check]
type = "http"
url = "http://127.0.0.1:9/"

[[components]]
id = "api"
name = "API"
[components.check]
type = "http"
url = "http://127.0.0.1:9/api/v1/dummy"
"""

NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)  # 12:00 in Tokyo
KEY = "sp_" + "k" * 43
KEY_NAME = "deploy-bot"

CREATE = {
    "incident": {
        "name": "API errors",
        "status": "investigating",
        "impact": "major",
        "body": "We are looking into it.",
        "components": {"api": "major_outage", "website": "degraded_performance"},
    }
}


def write_config(tmp_path: Path, site_url: str = "") -> Config:
    path = tmp_path / "checks.toml"
    path.write_text(CONFIG.format(site_url=site_url), encoding="utf-8")
    return load_config(path, {})


def start(tmp_path: Path, config: Config) -> Iterator[TestClient]:
    data_dir = tmp_path / "data"
    store = Store.open(data_dir)
    accounts.create_api_key(store.db, KEY_NAME, KEY, NOW - timedelta(days=1), None)
    store.close()
    with (
        time_machine.travel(NOW, tick=False),
        TestClient(create_app(config, data_dir, run_checks=False)) as client,
    ):
        client.headers["Authorization"] = f"Bearer {KEY}"
        yield client


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    yield from start(tmp_path, write_config(tmp_path))


def store_call(client: TestClient, function: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a store helper on the app's store thread, as a route would."""
    store = client.app.state.context.store  # type: ignore[attr-defined]
    assert client.portal is not None
    return client.portal.call(functools.partial(store.call, function, store.db, *args, **kwargs))


def incident(client: TestClient, incident_id: int) -> Incident:
    found: Incident | None = store_call(
        client, incident_store.get_incident, incident_id, include_deleted=True
    )
    assert found is not None
    return found


def create(client: TestClient, body: Any = None) -> httpx.Response:
    response: httpx.Response = client.post(
        "/api/v1/incidents", json=CREATE if body is None else body
    )
    return response


def with_fields(**fields: Any) -> dict[str, Any]:
    return {"incident": {**CREATE["incident"], **fields}}


def error(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()["error"]
    return body


# Authentication


def test_create_without_key_is_401(client: TestClient) -> None:
    response = client.post("/api/v1/incidents", json=CREATE, headers={"Authorization": ""})
    assert response.status_code == 401


def test_create_with_wrong_key_is_401(client: TestClient) -> None:
    response = client.post(
        "/api/v1/incidents", json=CREATE, headers={"Authorization": "Bearer sp_wrong"}
    )
    assert response.status_code == 401
    assert store_call(client, incident_store.list_incidents, include_deleted=True) == []


# Creating


def test_create_returns_201(client: TestClient) -> None:
    assert create(client).status_code == 201


def test_create_returns_incident(client: TestClient) -> None:
    body = create(client).json()
    assert {name: body[name] for name in ("id", "name", "status", "impact", "resolved_at")} == {
        "id": 1,
        "name": "API errors",
        "status": "investigating",
        "impact": "major",
        "resolved_at": None,
    }


def test_create_returns_times_in_utc(client: TestClient) -> None:
    body = create(client).json()
    assert (body["created_at"], body["updated_at"], body["started_at"]) == (
        "2026-12-04T03:00:00.000+00:00",
        "2026-12-04T03:00:00.000+00:00",
        "2026-12-04T03:00:00.000+00:00",
    )


def test_create_returns_components_with_statuspage_names(client: TestClient) -> None:
    components = create(client).json()["components"]
    assert sorted(components, key=lambda component: component["id"]) == [
        {"id": "api", "name": "API", "status": "major_outage"},
        {"id": "website", "name": "Website", "status": "degraded_performance"},
    ]


def test_create_returns_first_update(client: TestClient) -> None:
    updates = create(client).json()["incident_updates"]
    assert updates == [
        {
            "id": 1,
            "incident_id": 1,
            "status": "investigating",
            "body": "We are looking into it.",
            "display_at": "2026-12-04T03:00:00.000+00:00",
            "created_at": "2026-12-04T03:00:00.000+00:00",
        }
    ]


def test_create_returns_shortlink_of_request_host(client: TestClient) -> None:
    assert create(client).json()["shortlink"] == "http://testserver/incidents/1"


def test_shortlink_uses_site_url(tmp_path: Path) -> None:
    config = write_config(tmp_path, site_url='url = "https://status.example.com/"')
    for client in start(tmp_path, config):
        assert create(client).json()["shortlink"] == "https://status.example.com/incidents/1"


def test_create_maps_degraded_performance(client: TestClient) -> None:
    create(client)
    assert incident(client, 1).components["website"] is ComponentImpact.DEGRADED


def test_create_operational_component_not_affected(client: TestClient) -> None:
    create(client, with_fields(components={"api": "operational", "website": "partial_outage"}))
    assert incident(client, 1).components == {"website": ComponentImpact.PARTIAL_OUTAGE}


def test_create_without_components(client: TestClient) -> None:
    fields = dict(CREATE["incident"])
    del fields["components"]
    create(client, {"incident": fields})
    assert incident(client, 1).components == {}


def test_create_accepts_unwrapped_object(client: TestClient) -> None:
    response = create(client, CREATE["incident"])
    assert response.status_code == 201
    assert incident(client, 1).title == "API errors"


def test_create_records_api_key_name(client: TestClient) -> None:
    create(client)
    assert incident(client, 1).updates[0].created_by == f"api key {KEY_NAME}"


def test_create_with_started_at(client: TestClient) -> None:
    create(client, with_fields(started_at="2026-12-04T11:15:00+09:00"))
    assert incident(client, 1).updates[0].display_at == datetime(2026, 12, 4, 2, 15, tzinfo=UTC)


def test_create_stores_impact(client: TestClient) -> None:
    create(client, with_fields(impact="critical"))
    assert incident(client, 1).impact is Impact.CRITICAL


def test_create_ignores_unknown_fields(client: TestClient) -> None:
    response = create(client, with_fields(deliver_notifications=True))
    assert response.status_code == 201


def test_create_rebuilds_snapshot(client: TestClient) -> None:
    before = client.app.state.context.monitor.snapshot  # type: ignore[attr-defined]
    create(client)
    assert client.app.state.context.monitor.snapshot is not before  # type: ignore[attr-defined]


# Errors on create


def test_bad_impact_names_field(client: TestClient) -> None:
    response = create(client, with_fields(impact="huge"))
    assert response.status_code == 422
    assert error(response) == {
        "status": 422,
        "message": "incident.impact: Impact 'huge' is not one of none, minor, major, critical.",
        "field": "incident.impact",
    }


def test_unwrapped_error_names_field_without_prefix(client: TestClient) -> None:
    response = create(client, {**CREATE["incident"], "impact": "huge"})
    assert error(response)["field"] == "impact"


def test_missing_name_is_named_name(client: TestClient) -> None:
    fields = dict(CREATE["incident"])
    del fields["name"]
    assert error(create(client, {"incident": fields}))["field"] == "incident.name"


def test_bad_status_names_field(client: TestClient) -> None:
    assert error(create(client, with_fields(status="fixed")))["field"] == "incident.status"


def test_missing_body_names_field(client: TestClient) -> None:
    assert error(create(client, with_fields(body="")))["field"] == "incident.body"


def test_name_of_wrong_type_names_field(client: TestClient) -> None:
    response = create(client, with_fields(name=["API"]))
    assert error(response)["message"] == "incident.name: Expected text, got list."


def test_unknown_component_names_field(client: TestClient) -> None:
    response = create(client, with_fields(components={"cache": "major_outage"}))
    assert error(response)["field"] == "incident.components.cache"


def test_form_component_state_rejected(client: TestClient) -> None:
    response = create(client, with_fields(components={"api": "degraded"}))
    assert error(response)["message"] == (
        "incident.components.api: State 'degraded' is not one of "
        "operational, degraded_performance, partial_outage, major_outage."
    )


def test_components_list_rejected(client: TestClient) -> None:
    response = create(client, with_fields(components=["api"]))
    assert error(response)["field"] == "incident.components"


def test_started_at_without_offset_rejected(client: TestClient) -> None:
    response = create(client, with_fields(started_at="2026-12-04T11:15:00"))
    assert error(response)["field"] == "incident.started_at"


def test_started_at_in_future_rejected(client: TestClient) -> None:
    response = create(client, with_fields(started_at="2026-12-04T04:00:00Z"))
    assert response.status_code == 422


@pytest.mark.parametrize(
    "started_at", ["0001-01-01T00:00:00Z", "0001-01-01T00:00:00+09:00", "1969-12-31T23:59:59Z"]
)
def test_started_at_before_1970_rejected(client: TestClient, started_at: str) -> None:
    response = create(client, with_fields(started_at=started_at))
    assert (response.status_code, error(response)["field"]) == (422, "incident.started_at")


def test_started_at_out_of_range_names_range(client: TestClient) -> None:
    response = create(client, with_fields(started_at="9999-12-31T23:59-05:00"))
    assert error(response)["message"] == (
        "incident.started_at: 9999-12-31T23:59-05:00 is outside the allowed range. "
        "Enter a time from 1970-01-01T00:00Z up to now."
    )


@pytest.mark.parametrize("name", ["API\u2028errors", "API\x85errors", "API\x00errors"])
def test_name_with_control_character_rejected(client: TestClient, name: str) -> None:
    response = create(client, with_fields(name=name))
    assert (response.status_code, error(response)["field"]) == (422, "incident.name")


def test_first_error_in_field_order(client: TestClient) -> None:
    response = create(client, with_fields(name="", impact="huge", body=""))
    assert error(response)["field"] == "incident.name"


def test_invalid_create_saves_nothing(client: TestClient) -> None:
    create(client, with_fields(impact="huge"))
    assert store_call(client, incident_store.list_incidents, include_deleted=True) == []


def test_malformed_json_is_400(client: TestClient) -> None:
    response = client.post(
        "/api/v1/incidents", content=b'{"incident": ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert error(response)["message"].startswith("The request body is not valid JSON")


def post_raw(client: TestClient, content: bytes) -> httpx.Response:
    response: httpx.Response = client.post(
        "/api/v1/incidents", content=content, headers={"Content-Type": "application/json"}
    )
    return response


def test_deeply_nested_json_is_400(client: TestClient) -> None:
    response = post_raw(client, b"[" * 100_000)
    assert response.status_code == 400
    assert error(response)["message"].startswith(
        "The request body nests arrays or objects too deeply"
    )


def test_json_number_with_5000_digits_is_400(client: TestClient) -> None:
    response = post_raw(client, b'{"incident": {"name": ' + b"9" * 5000 + b"}}")
    assert response.status_code == 400
    assert error(response)["message"] == (
        "The request body has a number with more than 4300 digits: send shorter numbers."
    )


def test_json_lone_surrogate_is_400(client: TestClient) -> None:
    body = b'{"incident": {"name": "API \\ud800 errors", "status": "investigating", '
    body += b'"impact": "minor", "body": "x"}}'
    response = post_raw(client, body)
    assert response.status_code == 400
    assert "unpaired UTF-16 surrogate" in error(response)["message"]


def test_json_surrogate_pair_is_accepted(client: TestClient) -> None:
    body = b'{"incident": {"name": "API \\ud83d\\udd25 errors", "status": "investigating", '
    body += b'"impact": "minor", "body": "x"}}'
    response = post_raw(client, body)
    assert response.json()["name"] == "API \U0001f525 errors"


def test_json_array_is_400(client: TestClient) -> None:
    response = create(client, [CREATE])
    assert response.status_code == 400


def test_wrapper_of_wrong_type_is_422(client: TestClient) -> None:
    response = create(client, {"incident": "API errors"})
    assert (response.status_code, error(response)["field"]) == (422, "incident")


def test_oversized_body_is_413(client: TestClient) -> None:
    response = create(client, with_fields(body="x" * 300_000))
    assert response.status_code == 413


# Updates


def seed(client: TestClient) -> int:
    incident_id: int = store_call(
        client,
        incident_store.create_incident,
        title="API errors",
        impact=Impact.MAJOR,
        components={"api": ComponentImpact.MAJOR_OUTAGE},
        status=IncidentStatus.INVESTIGATING,
        body="Looking into it.",
        display_at=NOW - timedelta(hours=1),
        created_by="alice",
    )
    return incident_id


def post_update(client: TestClient, incident_id: int, body: Any) -> httpx.Response:
    response: httpx.Response = client.post(f"/api/v1/incidents/{incident_id}/updates", json=body)
    return response


def test_update_returns_201(client: TestClient) -> None:
    incident_id = seed(client)
    response = post_update(client, incident_id, {"status": "identified", "body": "Found it."})
    assert response.status_code == 201


def test_update_moves_status(client: TestClient) -> None:
    incident_id = seed(client)
    post_update(client, incident_id, {"status": "identified", "body": "Found it."})
    assert incident(client, incident_id).status is IncidentStatus.IDENTIFIED


def test_update_returns_incident_with_newest_update_first(client: TestClient) -> None:
    incident_id = seed(client)
    body = post_update(client, incident_id, {"status": "identified", "body": "Found it."}).json()
    assert [update["body"] for update in body["incident_updates"]] == [
        "Found it.",
        "Looking into it.",
    ]


def test_update_accepts_wrapper(client: TestClient) -> None:
    incident_id = seed(client)
    post_update(
        client, incident_id, {"incident_update": {"status": "monitoring", "body": "Fix deployed."}}
    )
    assert incident(client, incident_id).status is IncidentStatus.MONITORING


def test_update_with_display_at(client: TestClient) -> None:
    incident_id = seed(client)
    post_update(
        client,
        incident_id,
        {"status": "resolved", "body": "Fixed.", "display_at": "2026-12-04T02:40:00Z"},
    )
    assert incident(client, incident_id).resolved_at == datetime(2026, 12, 4, 2, 40, tzinfo=UTC)


def test_update_resolves_with_resolved_at(client: TestClient) -> None:
    incident_id = seed(client)
    body = post_update(client, incident_id, {"status": "resolved", "body": "Fixed."}).json()
    assert (body["status"], body["resolved_at"]) == ("resolved", "2026-12-04T03:00:00.000+00:00")


def test_update_records_api_key_name(client: TestClient) -> None:
    incident_id = seed(client)
    post_update(client, incident_id, {"status": "identified", "body": "Found it."})
    assert incident(client, incident_id).updates[-1].created_by == f"api key {KEY_NAME}"


def test_update_missing_body_names_field(client: TestClient) -> None:
    incident_id = seed(client)
    response = post_update(client, incident_id, {"incident_update": {"status": "identified"}})
    assert (response.status_code, error(response)["field"]) == (422, "incident_update.body")


def test_update_unwrapped_error_names_field(client: TestClient) -> None:
    incident_id = seed(client)
    response = post_update(client, incident_id, {"status": "fixed", "body": "x"})
    assert error(response)["field"] == "status"


def test_update_unknown_incident_is_404(client: TestClient) -> None:
    response = post_update(client, 42, {"status": "identified", "body": "x"})
    assert response.status_code == 404
    assert error(response)["message"] == "Incident 42 not found."


@pytest.mark.parametrize("incident_id", [2**63, 10**30])
def test_update_id_beyond_sqlite_range_is_404(client: TestClient, incident_id: int) -> None:
    response = post_update(client, incident_id, {"status": "identified", "body": "x"})
    assert response.status_code == 404
    assert error(response)["message"] == f"Incident {incident_id} not found."


def test_update_deleted_incident_is_404(client: TestClient) -> None:
    incident_id = seed(client)
    store_call(client, incident_store.delete_incident, incident_id)
    response = post_update(client, incident_id, {"status": "identified", "body": "x"})
    assert response.status_code == 404


def test_update_without_key_is_401(client: TestClient) -> None:
    incident_id = seed(client)
    response = client.post(
        f"/api/v1/incidents/{incident_id}/updates",
        json={"status": "resolved", "body": "x"},
        headers={"Authorization": ""},
    )
    assert response.status_code == 401
    assert incident(client, incident_id).status is IncidentStatus.INVESTIGATING


def test_update_malformed_json_is_400(client: TestClient) -> None:
    incident_id = seed(client)
    response = client.post(
        f"/api/v1/incidents/{incident_id}/updates",
        content=b"status=resolved",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
