"""Read routes of /api/v1 and the Statuspage v2 API, through the app with real SQLite."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from statuspage import incident_store, maintenance_store
from statuspage.maintenance import MaintenanceSpec
from statuspage.statuspage_v2 import PAYLOADS
from statuspage.store import Store, split_by_hour
from tests.factories import failed, ok
from tests.public_app import NOW, App, running_app, write_config
from tests.test_statuspage_v2 import key_paths, recorded_summary

MINUTE = timedelta(minutes=1)
UPTIME_KEYS = ["24h", "7d", "30d", "90d"]


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    with running_app(tmp_path) as running:
        yield running


@pytest.fixture
def empty_app(tmp_path: Path) -> Iterator[App]:
    with running_app(tmp_path, seeded=False) as running:
        yield running


def get(app: App, path: str) -> Any:
    response = app.client.get(path)
    assert response.status_code == 200, response.text
    return response.json()


def components(app: App) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in get(app, "/api/v1/components")["components"]}


def record_runs(
    tmp_path: Path, start: datetime, end: datetime, up: bool, component_id: str = "website"
) -> None:
    """Record one run a minute in [start, end] before the app starts."""
    config = write_config(tmp_path)
    store = Store.open(tmp_path / "data")
    moment = start
    while moment <= end:
        result = ok(moment, 0.2, component_id) if up else failed(moment, component_id)
        store.record(config.component(component_id), result, config.site.timezone)
        moment += MINUTE
    store.close()


def error(app: App, path: str) -> dict[str, Any]:
    body: dict[str, Any] = app.client.get(path).json()["error"]
    return body


# /api/v1/status


def test_status_is_overall_state(app: App) -> None:
    body = get(app, "/api/v1/status")
    assert (body["status"], body["description"]) == ("partial_outage", "Partial outage")


def test_status_names_page(app: App) -> None:
    page = get(app, "/api/v1/status")["page"]
    assert page == {"name": "PullLog", "url": "http://testserver", "time_zone": "Asia/Tokyo"}


def test_status_counts_active_incidents(app: App) -> None:
    app.post_incident()
    assert get(app, "/api/v1/status")["active_incidents"] == 1


def test_status_without_data(empty_app: App) -> None:
    assert get(empty_app, "/api/v1/status")["status"] == "no_data"


def test_status_follows_critical_incident_without_components(app: App) -> None:
    app.post_incident(impact="critical", components={})
    assert get(app, "/api/v1/status")["status"] == "major_outage"


def test_status_agrees_with_v2_indicator(app: App) -> None:
    app.post_incident(impact="critical", components={})
    assert get(app, "/api/v2/status.json")["status"]["indicator"] == "critical"
    assert get(app, "/api/v1/status")["description"] == "Major outage"


def test_status_without_data_follows_open_incident(empty_app: App) -> None:
    empty_app.post_incident(impact="major", components={})
    assert get(empty_app, "/api/v1/status")["status"] == "partial_outage"


def test_status_ignores_incident_without_impact(empty_app: App) -> None:
    empty_app.post_incident(impact="none", components={})
    assert get(empty_app, "/api/v1/status")["status"] == "no_data"


def test_banner_follows_critical_incident(app: App) -> None:
    app.post_incident(impact="critical", components={})
    assert '<div class="banner major_outage" role="status">' in app.client.get("/").text


# /api/v1/components


def test_components_in_page_order(app: App) -> None:
    ids = [item["id"] for item in get(app, "/api/v1/components")["components"]]
    assert ids == ["website", "api", "database"]


def test_component_states(app: App) -> None:
    states = {key: (item["state"], item["check_state"]) for key, item in components(app).items()}
    assert states == {
        "website": ("operational", "operational"),
        "api": ("major_outage", "down"),
        "database": ("no_data", "no_data"),
    }


def test_component_effective_state_follows_incident(app: App) -> None:
    app.post_incident(components={"website": "partial_outage"})
    assert components(app)["website"]["state"] == "partial_outage"


def test_component_last_check_and_response_time(app: App) -> None:
    website = components(app)["website"]
    assert website["last_checked_at"] == "2026-12-04T03:00:00.000+00:00"
    assert website["response_time_ms"] == 200.0


def test_component_without_data_has_null_uptime(app: App) -> None:
    assert components(app)["database"]["uptime"] == dict.fromkeys(UPTIME_KEYS)


def test_no_uptime_period_is_zero_without_data(empty_app: App) -> None:
    uptimes = [item["uptime"] for item in components(empty_app).values()]
    assert uptimes == [dict.fromkeys(UPTIME_KEYS)] * 3


def test_component_uptime_has_every_period(app: App) -> None:
    assert list(components(app)["website"]["uptime"]) == UPTIME_KEYS


def test_uptime_24h_leaves_out_older_downtime(tmp_path: Path) -> None:
    record_runs(tmp_path, NOW - timedelta(hours=30), NOW - timedelta(hours=28), up=False)
    record_runs(tmp_path, NOW - timedelta(hours=2), NOW, up=True)
    with running_app(tmp_path, seeded=False) as app:
        uptime = components(app)["website"]["uptime"]
    assert uptime["24h"] == 1.0
    assert uptime["7d"] is not None and uptime["7d"] < 0.5


def test_uptime_24h_counts_recent_downtime(tmp_path: Path) -> None:
    record_runs(tmp_path, NOW - timedelta(hours=2), NOW - timedelta(hours=1), up=True)
    record_runs(tmp_path, NOW - timedelta(hours=1) + MINUTE, NOW, up=False)
    with running_app(tmp_path, seeded=False) as app:
        uptime = components(app)["website"]["uptime"]
    # The failure at 02:01 is confirmed by the run at 02:02, so 62 of 120 minutes are up.
    assert uptime["24h"] == pytest.approx(62 / 120)
    assert uptime["24h"] == uptime["7d"]


def test_uptime_24h_counts_time_since_last_run(tmp_path: Path) -> None:
    record_runs(tmp_path, NOW - timedelta(hours=2), NOW - timedelta(hours=1, minutes=1), up=True)
    record_runs(tmp_path, NOW - timedelta(hours=1), NOW - MINUTE, up=False)
    with running_app(tmp_path, seeded=False) as app:
        app.clock.shift(timedelta(seconds=30))
        app.refresh()
        uptime = components(app)["website"]["uptime"]
    # Up from 01:00 until the failure is confirmed at 02:01, down until the last run at 02:59,
    # and down for the 90 s since then, which the next run will count.
    up = 61 * 60
    down = 58 * 60 + 90
    assert uptime["24h"] == pytest.approx(up / (up + down))


def test_uptime_24h_leaves_out_maintenance(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "data")
    spec = MaintenanceSpec(
        title="Upgrade",
        description="",
        timezone="Asia/Tokyo",
        components=("website",),
        starts_at=NOW - timedelta(hours=2),
        # One minute past the last failing run, because that run counts for the minute after it.
        ends_at=NOW - timedelta(hours=1) + MINUTE,
    )
    maintenance_store.create_maintenance(store.db, spec, NOW - timedelta(days=1), "alice")
    store.close()
    record_runs(tmp_path, NOW - timedelta(hours=2), NOW - timedelta(hours=1), up=False)
    record_runs(tmp_path, NOW - timedelta(hours=1) + MINUTE, NOW, up=True)
    with running_app(tmp_path, seeded=False) as app:
        assert components(app)["website"]["uptime"]["24h"] == 1.0


def test_split_by_hour_cuts_at_utc_hours() -> None:
    start = datetime(2026, 12, 4, 2, 50, tzinfo=UTC)
    pieces = split_by_hour(start, start + timedelta(minutes=80))
    assert pieces == [
        (datetime(2026, 12, 4, 2, 0, tzinfo=UTC), 600.0),
        (datetime(2026, 12, 4, 3, 0, tzinfo=UTC), 3600.0),
        (datetime(2026, 12, 4, 4, 0, tzinfo=UTC), 600.0),
    ]


def test_prune_deletes_old_hourly_rollups(tmp_path: Path) -> None:
    record_runs(tmp_path, NOW - timedelta(days=20), NOW - timedelta(days=20) + MINUTE, up=True)
    record_runs(tmp_path, NOW - timedelta(hours=1), NOW, up=True)
    store = Store.open(tmp_path / "data")
    store.prune_results(NOW - timedelta(days=14))
    hours = store.hourly_rollups(NOW - timedelta(days=30))
    store.close()
    assert min(hours["website"]) >= NOW - timedelta(days=14)


# /api/v1/components/{id}/history


def test_history_defaults_to_90_days(app: App) -> None:
    assert len(get(app, "/api/v1/components/website/history")["days"]) == 90


def test_history_days_oldest_first(app: App) -> None:
    days = get(app, "/api/v1/components/website/history?days=3")["days"]
    assert [day["date"] for day in days] == ["2026-12-02", "2026-12-03", "2026-12-04"]


def test_history_day_without_data_is_null(app: App) -> None:
    first = get(app, "/api/v1/components/website/history?days=3")["days"][0]
    assert first["uptime"] is None
    assert first["response_time_ms"] is None


def test_history_day_with_data(app: App) -> None:
    today = get(app, "/api/v1/components/website/history?days=1")["days"][0]
    assert (today["uptime"], today["observed_s"], today["response_time_ms"]) == (1.0, 7200.0, 200.0)


@pytest.mark.parametrize("days", ["0", "91", "x", "-1", "1.5", "²", "%C2%B2", "٣", "9" * 5000])
def test_history_rejects_invalid_days(app: App, days: str) -> None:
    response = app.client.get(f"/api/v1/components/website/history?days={days}")
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "days"


def test_history_rejects_superscript_digit_with_message(app: App) -> None:
    response = app.client.get("/api/v1/components/website/history?days=²")
    assert response.json()["error"]["message"] == (
        "days: '²' is not a whole number from 1 to 90: write it with the digits 0-9, "
        "for example days=30."
    )


def test_history_of_unknown_component_is_404(app: App) -> None:
    response = app.client.get("/api/v1/components/nope/history")
    assert response.status_code == 404
    assert response.json()["error"]["status"] == 404


# /api/v1/incidents


def test_incidents_empty(app: App) -> None:
    assert get(app, "/api/v1/incidents") == {"incidents": []}


def test_incidents_list_matches_write_response(app: App) -> None:
    created = app.post("/api/v1/incidents", {"incident": {
        "name": "API errors", "status": "investigating", "impact": "major", "body": "Looking.",
    }}).json()  # fmt: skip
    assert get(app, "/api/v1/incidents")["incidents"] == [created]


def test_incidents_open_first(app: App) -> None:
    first = app.post_incident(name="Old")
    app.post_update(first, "resolved", "Fixed.")
    app.post_incident(name="New")
    names = [item["name"] for item in get(app, "/api/v1/incidents")["incidents"]]
    assert names == ["New", "Old"]


def test_incident_by_id(app: App) -> None:
    incident_id = app.post_incident()
    app.post_update(incident_id, "identified", "Found it.")
    body = get(app, f"/api/v1/incidents/{incident_id}")
    assert [update["status"] for update in body["incident_updates"]] == [
        "identified",
        "investigating",
    ]


def test_unknown_incident_is_404(app: App) -> None:
    assert error(app, "/api/v1/incidents/999") == {
        "status": 404,
        "message": "Incident 999 not found.",
    }


def test_deleted_incident_is_404(app: App) -> None:
    incident_id = app.post_incident()
    store = app.context.store
    assert app.client.portal is not None
    app.client.portal.call(store.call, incident_store.delete_incident, store.db, incident_id)
    app.refresh()
    assert app.client.get(f"/api/v1/incidents/{incident_id}").status_code == 404


def test_huge_incident_id_is_404(app: App) -> None:
    assert app.client.get(f"/api/v1/incidents/{2**70}").status_code == 404


# /api/v1/maintenances


def test_maintenances_sort_windows_by_status(app: App) -> None:
    upcoming = app.post_maintenance(timedelta(days=2), timedelta(hours=1), name="Later")
    active = app.post_maintenance(timedelta(minutes=1), timedelta(hours=1), name="Now")
    app.clock.shift(timedelta(minutes=2))
    app.refresh()
    body = get(app, "/api/v1/maintenances")
    ids = {key: [window["id"] for window in body[key]] for key in ("active", "upcoming", "recent")}
    assert ids == {"active": [active], "upcoming": [upcoming], "recent": []}


def test_maintenances_list_window_far_ahead(app: App) -> None:
    window_id = app.post_maintenance(timedelta(days=200), timedelta(hours=1))
    upcoming = get(app, "/api/v1/maintenances")["upcoming"]
    assert [window["id"] for window in upcoming] == [window_id]


@pytest.mark.parametrize(
    "name", ["scheduled-maintenances.json", "scheduled-maintenances/upcoming.json"]
)
def test_v2_lists_window_far_ahead(app: App, name: str) -> None:
    window_id = app.post_maintenance(timedelta(days=200), timedelta(hours=1))
    listed = get(app, f"/api/v2/{name}")["scheduled_maintenances"]
    assert [item["id"] for item in listed] == [f"maintenance-{window_id}"]


def test_completed_window_is_recent(app: App) -> None:
    window_id = app.post_maintenance(timedelta(minutes=1), timedelta(minutes=30))
    app.clock.shift(timedelta(hours=1))
    app.refresh()
    recent = get(app, "/api/v1/maintenances")["recent"]
    assert [(window["id"], window["status"]) for window in recent] == [(window_id, "completed")]


def test_window_fields(app: App) -> None:
    window_id = app.post_maintenance(timedelta(days=2), timedelta(hours=1))
    window = get(app, "/api/v1/maintenances")["upcoming"][0]
    assert window == {
        "id": window_id,
        "maintenance_id": 1,
        "name": "Database upgrade",
        "status": "scheduled",
        "scheduled_for": "2026-12-06T03:00:00.000+00:00",
        "scheduled_until": "2026-12-06T04:00:00.000+00:00",
        "ended_at": None,
        "cancelled_at": None,
        "components": [{"id": "api", "name": "API"}],
        "url": f"http://testserver/maintenance/windows/{window_id}",
    }


# Statuspage v2


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_every_v2_payload_is_routed(app: App, name: str) -> None:
    response = app.client.get(f"/api/v2/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"


def busy_page(app: App) -> dict[str, Any]:
    """Post an incident with two updates and two maintenance windows, and read the summary."""
    incident_id = app.post_incident(components={"api": "major_outage"})
    app.clock.shift(timedelta(minutes=5))
    app.post_update(incident_id, "identified", "A bad deploy.")
    app.post_maintenance(timedelta(minutes=1), timedelta(hours=1), name="Now")
    app.post_maintenance(timedelta(days=2), timedelta(hours=1), name="Later")
    app.clock.shift(timedelta(minutes=2))
    app.refresh()
    summary: dict[str, Any] = get(app, "/api/v2/summary.json")
    return summary


def test_v2_summary_has_every_recorded_key_path(app: App) -> None:
    ours = key_paths(busy_page(app))
    missing = sorted(set(key_paths(recorded_summary())) - set(ours))
    assert missing == []


def test_v2_summary_key_paths_have_recorded_types(app: App) -> None:
    ours = key_paths(busy_page(app))
    recorded = key_paths(recorded_summary())
    mismatched = {
        path: (sorted(ours[path]), sorted(types))
        for path, types in recorded.items()
        if path in ours and not ours[path] <= types
    }
    assert mismatched == {}


def test_v2_summary_status(app: App) -> None:
    assert busy_page(app)["status"] == {
        "indicator": "major",
        "description": "Partial System Outage",
    }


def test_v2_maintenance_shortlink_is_window_page(app: App) -> None:
    window = busy_page(app)["scheduled_maintenances"][0]
    window_id = window["id"].removeprefix("maintenance-")
    assert window["shortlink"] == f"http://testserver/maintenance/windows/{window_id}"
    assert app.client.get(f"/maintenance/windows/{window_id}").status_code == 200


def test_v2_page_url_uses_site_url(tmp_path: Path) -> None:
    with running_app(tmp_path, site='url = "https://status.example.com"') as app:
        page = get(app, "/api/v2/status.json")["page"]
    assert page["url"] == "https://status.example.com"


def test_v2_updates_after_write(app: App) -> None:
    before = get(app, "/api/v2/incidents/unresolved.json")["incidents"]
    app.post_incident()
    after = get(app, "/api/v2/incidents/unresolved.json")["incidents"]
    assert (len(before), len(after)) == (0, 1)


def test_v2_reads_need_no_key(app: App) -> None:
    response = app.client.get("/api/v2/summary.json", headers={"Authorization": ""})
    assert response.status_code == 200
