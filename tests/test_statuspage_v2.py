from __future__ import annotations

import contextlib
import http.server
import json
import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from statuspage.config import Site
from statuspage.incidents import (
    ComponentImpact,
    Impact,
    Incident,
    IncidentStatus,
    IncidentUpdate,
)
from statuspage.maintenance import Maintenance, MaintenanceUpdate, MaintenanceWindow
from statuspage.statuspage_v2 import (
    PAYLOADS,
    ComponentRecord,
    PageData,
    PageInfo,
    active_maintenances_payload,
    components_payload,
    incidents_payload,
    page_info,
    scheduled_maintenances_payload,
    status_payload,
    summary_payload,
    unresolved_incidents_payload,
    upcoming_maintenances_payload,
)

FIXTURE = Path(__file__).parent / "fixtures" / "statuspage_v2_summary.json"
TOKYO = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 3, 1, 0, 30, tzinfo=UTC)  # 09:30 in Tokyo
CREATED = datetime(2025, 11, 2, 1, 0, tzinfo=UTC)

# Enumerations of the Statuspage v2 public API.
COMPONENT_STATUSES = {
    "operational",
    "degraded_performance",
    "partial_outage",
    "major_outage",
    "under_maintenance",
}
INDICATORS = {"none", "minor", "major", "critical", "maintenance"}
INCIDENT_STATUSES = {"investigating", "identified", "monitoring", "resolved", "postmortem"}
IMPACTS = {"none", "minor", "major", "critical"}
MAINTENANCE_STATUSES = {"scheduled", "in_progress", "verifying", "completed"}

# The scenario of fixtures/statuspage_v2_summary.json: a page in Tokyo at 09:30 with a degraded
# component, an open minor incident and a maintenance window in progress.
PAGE = PageInfo("x7k2m9p4q1w8", "Example Shop", "https://status.shop.example", TOKYO, NOW)

COMPONENTS = (
    ComponentRecord(
        "card",
        "Card processing",
        "Authorizing and capturing card payments",
        "Payments",
        "degraded",
        NOW - timedelta(minutes=18),
        CREATED,
    ),
    ComponentRecord("refunds", "Refunds", "", "Payments", "operational", NOW - timedelta(days=9)),
    ComponentRecord(
        "storefront",
        "Storefront",
        "The shop's web pages",
        None,
        "maintenance",
        NOW - timedelta(minutes=30),
        CREATED,
    ),
    ComponentRecord("legacy", "Legacy API", "", None, "no_data", NOW - timedelta(days=2)),
)


def incident_update(
    update_id: int, incident_id: int, status: IncidentStatus, at: datetime, body: str = "Update"
) -> IncidentUpdate:
    return IncidentUpdate(update_id, incident_id, status, body, at, at, "operator")


SLOW_CARDS = Incident(
    id=7,
    title="Slow card authorizations",
    impact=Impact.MINOR,
    status=IncidentStatus.MONITORING,
    created_at=NOW - timedelta(minutes=25),
    updated_at=NOW - timedelta(minutes=5),
    components={"card": ComponentImpact.DEGRADED},
    updates=(
        incident_update(11, 7, IncidentStatus.INVESTIGATING, NOW - timedelta(minutes=25)),
        incident_update(12, 7, IncidentStatus.MONITORING, NOW - timedelta(minutes=5)),
    ),
)
LATE_EMAILS = Incident(
    id=8,
    title="Delayed order e-mails",
    impact=Impact.NONE,
    status=IncidentStatus.INVESTIGATING,
    created_at=NOW - timedelta(minutes=50),
    updated_at=NOW - timedelta(minutes=50),
    updates=(incident_update(13, 8, IncidentStatus.INVESTIGATING, NOW - timedelta(minutes=50)),),
)
RESOLVED = Incident(
    id=5,
    title="Checkout errors",
    impact=Impact.MAJOR,
    status=IncidentStatus.RESOLVED,
    created_at=NOW - timedelta(days=9, hours=2),
    updated_at=NOW - timedelta(days=9),
    resolved_at=NOW - timedelta(days=9),
    components={"storefront": ComponentImpact.PARTIAL_OUTAGE},
    updates=(
        incident_update(8, 5, IncidentStatus.INVESTIGATING, NOW - timedelta(days=9, hours=2)),
        incident_update(9, 5, IncidentStatus.RESOLVED, NOW - timedelta(days=9)),
    ),
)
DELETED = Incident(
    id=6,
    title="Posted by mistake",
    impact=Impact.CRITICAL,
    status=IncidentStatus.INVESTIGATING,
    created_at=NOW - timedelta(hours=3),
    updated_at=NOW - timedelta(hours=3),
    deleted_at=NOW - timedelta(hours=2),
)

DATABASE_UPGRADE = Maintenance(
    id=1,
    title="Storefront database upgrade",
    description="The storefront is read-only during the upgrade.",
    timezone="Asia/Tokyo",
    components=("storefront",),
    created_at=NOW - timedelta(days=4),
    updated_at=NOW - timedelta(days=4),
)
REINDEX = Maintenance(
    id=2,
    title="Weekly search reindex",
    description="Search results may be incomplete.",
    timezone="Asia/Tokyo",
    components=("refunds",),
    schedule="0 12 * * SUN",
    start_time="12:00",
    end_time="12:10",
    created_at=NOW - timedelta(days=30),
    updated_at=NOW - timedelta(days=30),
)
REMOVED = Maintenance(
    id=3,
    title="Removed maintenance",
    description="",
    timezone="Asia/Tokyo",
    components=("storefront",),
    created_at=NOW - timedelta(days=5),
    deleted_at=NOW - timedelta(days=1),
)
IN_PROGRESS = MaintenanceWindow(
    21,
    1,
    "Storefront database upgrade",
    ("storefront",),
    NOW - timedelta(minutes=30),
    NOW + timedelta(minutes=90),
)
COMPLETED = MaintenanceWindow(
    22,
    2,
    "Weekly search reindex",
    ("refunds",),
    datetime(2026, 2, 22, 3, 0, tzinfo=UTC),
    datetime(2026, 2, 22, 3, 10, tzinfo=UTC),
    ended_at=datetime(2026, 2, 22, 3, 6, tzinfo=UTC),
)
SCHEDULED = MaintenanceWindow(
    23,
    2,
    "Weekly search reindex",
    ("refunds",),
    datetime(2026, 3, 1, 3, 0, tzinfo=UTC),
    datetime(2026, 3, 1, 3, 10, tzinfo=UTC),
)
CANCELLED = MaintenanceWindow(
    24,
    2,
    "Weekly search reindex",
    ("refunds",),
    datetime(2026, 3, 8, 3, 0, tzinfo=UTC),
    datetime(2026, 3, 8, 3, 10, tzinfo=UTC),
    cancelled_at=NOW - timedelta(hours=1),
)
REMOVED_WINDOW = MaintenanceWindow(
    25,
    3,
    "Removed maintenance",
    ("storefront",),
    NOW + timedelta(days=2),
    NOW + timedelta(days=2, hours=1),
)
HALFWAY = MaintenanceUpdate(
    31,
    1,
    "Migration is halfway done.",
    NOW - timedelta(minutes=10),
    NOW - timedelta(minutes=10),
    "operator",
    window_id=21,
)
NEW_CLUSTER = MaintenanceUpdate(
    32,
    2,
    "Reindexing now uses the new cluster.",
    datetime(2026, 2, 20, 0, 0, tzinfo=UTC),
    datetime(2026, 2, 20, 0, 0, tzinfo=UTC),
    "operator",
)

DATA = PageData(
    page=PAGE,
    components=COMPONENTS,
    incidents=(SLOW_CARDS, LATE_EMAILS, RESOLVED, DELETED),
    maintenances=(DATABASE_UPGRADE, REINDEX, REMOVED),
    windows=(IN_PROGRESS, COMPLETED, SCHEDULED, CANCELLED, REMOVED_WINDOW),
    maintenance_updates=(HALFWAY, NEW_CLUSTER),
)


# Helpers


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    assert isinstance(value, dict), value
    return "object"


def key_paths(value: Any, path: str = "$") -> dict[str, set[str]]:
    """Map each key path, with [] for any list item, to the JSON types found there."""
    paths: dict[str, set[str]] = defaultdict(set)
    paths[path].add(json_type(value))
    children: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        children = [(f"{path}.{key}", item) for key, item in value.items()]
    elif isinstance(value, list):
        children = [(f"{path}[]", item) for item in value]
    for child_path, item in children:
        for key, types in key_paths(item, child_path).items():
            paths[key] |= types
    return paths


def recorded_summary() -> dict[str, Any]:
    recorded: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return recorded


def with_components(*records: ComponentRecord, **changes: Any) -> PageData:
    return replace(DATA, components=records, **changes)


def record(component_id: str, state: str, group: str | None = None) -> ComponentRecord:
    return ComponentRecord(component_id, component_id.title(), "", group, state, NOW)


def quiet(*records: ComponentRecord) -> PageData:
    """Page data with these components and no incidents or maintenance."""
    return with_components(*records, incidents=(), windows=(), maintenance_updates=())


def indicator(data: PageData) -> str:
    status: dict[str, str] = status_payload(data, NOW)["status"]
    return status["indicator"]


def by_id(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in items}


# Shape


def test_summary_has_every_recorded_key_path() -> None:
    ours = key_paths(summary_payload(DATA, NOW))

    missing = sorted(set(key_paths(recorded_summary())) - set(ours))

    assert missing == []


def test_summary_key_paths_have_recorded_types() -> None:
    recorded = key_paths(recorded_summary())
    ours = key_paths(summary_payload(DATA, NOW))

    mismatched = {
        path: (sorted(ours[path]), sorted(types))
        for path, types in recorded.items()
        if path in ours and not ours[path] <= types
    }

    assert mismatched == {}


def top_level_key(path: str) -> str:
    """Return the top-level key a path is under: "incidents" for $.incidents[].name."""
    return path.removeprefix("$.").split(".")[0].split("[")[0]


@pytest.mark.parametrize("endpoint", sorted(PAYLOADS))
def test_endpoint_has_recorded_key_paths(endpoint: str) -> None:
    payload = PAYLOADS[endpoint](DATA, NOW)
    ours = key_paths(payload)

    missing = sorted(
        path
        for path in key_paths(recorded_summary())
        if path != "$" and top_level_key(path) in payload and path not in ours
    )

    assert missing == []


@pytest.mark.parametrize(
    ("endpoint", "keys"),
    [
        ("summary.json", {"page", "components", "incidents", "scheduled_maintenances", "status"}),
        ("status.json", {"page", "status"}),
        ("components.json", {"page", "components"}),
        ("incidents.json", {"page", "incidents"}),
        ("incidents/unresolved.json", {"page", "incidents"}),
        ("scheduled-maintenances.json", {"page", "scheduled_maintenances"}),
        ("scheduled-maintenances/upcoming.json", {"page", "scheduled_maintenances"}),
        ("scheduled-maintenances/active.json", {"page", "scheduled_maintenances"}),
    ],
)
def test_endpoint_top_level_keys(endpoint: str, keys: set[str]) -> None:
    assert set(PAYLOADS[endpoint](DATA, NOW)) == keys


@pytest.mark.parametrize("endpoint", sorted(PAYLOADS))
def test_endpoint_serializes_to_json(endpoint: str) -> None:
    payload = PAYLOADS[endpoint](DATA, NOW)

    assert json.loads(json.dumps(payload)) == payload


# Enumerations


def all_components(payload: dict[str, Any]) -> list[dict[str, Any]]:
    items = list(payload.get("components", []))
    for event in payload.get("incidents", []) + payload.get("scheduled_maintenances", []):
        items.extend(event["components"])
    return items


@pytest.mark.parametrize("endpoint", sorted(PAYLOADS))
def test_component_statuses_are_statuspage_values(endpoint: str) -> None:
    payload = PAYLOADS[endpoint](DATA, NOW)

    assert {item["status"] for item in all_components(payload)} <= COMPONENT_STATUSES


def test_incident_statuses_are_statuspage_values() -> None:
    incidents = incidents_payload(DATA, NOW)["incidents"]
    statuses = {incident["status"] for incident in incidents}
    statuses |= {u["status"] for incident in incidents for u in incident["incident_updates"]}

    assert statuses <= INCIDENT_STATUSES


def test_incident_impacts_are_statuspage_values() -> None:
    incidents = incidents_payload(DATA, NOW)["incidents"]

    assert {incident["impact"] for incident in incidents} <= IMPACTS


def test_maintenance_statuses_are_statuspage_values() -> None:
    maintenances = scheduled_maintenances_payload(DATA, NOW)["scheduled_maintenances"]
    statuses = {item["status"] for item in maintenances}
    statuses |= {u["status"] for item in maintenances for u in item["incident_updates"]}

    assert statuses <= MAINTENANCE_STATUSES


def test_maintenance_impact_is_maintenance() -> None:
    maintenances = scheduled_maintenances_payload(DATA, NOW)["scheduled_maintenances"]

    assert {item["impact"] for item in maintenances} == {"maintenance"}


def test_affected_component_statuses_are_statuspage_values() -> None:
    incidents = incidents_payload(DATA, NOW)["incidents"]
    changes = [
        change
        for incident in incidents
        for update in incident["incident_updates"]
        for change in update["affected_components"] or []
    ]

    assert {change["old_status"] for change in changes} <= COMPONENT_STATUSES
    assert {change["new_status"] for change in changes} <= COMPONENT_STATUSES


# Page


def test_page_object() -> None:
    page = summary_payload(DATA, NOW)["page"]

    assert page == {
        "id": "x7k2m9p4q1w8",
        "name": "Example Shop",
        "url": "https://status.shop.example",
        "time_zone": "Asia/Tokyo",
        "updated_at": "2026-03-01T09:30:00.000+09:00",
    }


def test_page_info_id_is_stable_for_url() -> None:
    site = Site("Example Shop", TOKYO, url="https://status.shop.example")

    assert page_info(site, NOW).id == page_info(replace(site, name="Renamed"), NOW).id


def test_page_info_id_differs_between_sites() -> None:
    first = page_info(Site("Shop", TOKYO, url="https://status.one.example"), NOW)
    second = page_info(Site("Shop", TOKYO, url="https://status.two.example"), NOW)

    assert first.id != second.id


def test_page_info_copies_site() -> None:
    info = page_info(Site("Shop", TOKYO, url="https://status.shop.example"), NOW)

    assert (info.name, info.url, info.time_zone, info.updated_at) == (
        "Shop",
        "https://status.shop.example",
        TOKYO,
        NOW,
    )


def test_times_use_page_zone_offset() -> None:
    incident = unresolved_incidents_payload(DATA, NOW)["incidents"][0]

    assert incident["created_at"] == "2026-03-01T09:05:00.000+09:00"


def test_times_in_utc_page() -> None:
    data = replace(DATA, page=replace(PAGE, time_zone=ZoneInfo("Etc/UTC")))

    assert summary_payload(data, NOW)["page"]["updated_at"] == "2026-03-01T00:30:00.000+00:00"


def test_rejects_naive_datetime() -> None:
    data = replace(DATA, page=replace(PAGE, updated_at=datetime(2026, 3, 1)))

    with pytest.raises(ValueError, match="aware datetime"):
        summary_payload(data, NOW)


# Components


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("operational", "operational"),
        ("degraded", "degraded_performance"),
        ("partial_outage", "partial_outage"),
        ("major_outage", "major_outage"),
        ("down", "major_outage"),
        ("maintenance", "under_maintenance"),
    ],
)
def test_component_status_mapping(state: str, status: str) -> None:
    components = components_payload(with_components(record("api", state)), NOW)["components"]

    assert components[0]["status"] == status


def test_component_without_data_is_left_out() -> None:
    components = components_payload(DATA, NOW)["components"]

    assert "legacy" not in by_id(components)


def test_group_without_data_is_left_out() -> None:
    data = with_components(record("a", "no_data", "Backend"), record("b", "operational"))

    assert [item["id"] for item in components_payload(data, NOW)["components"]] == ["b"]


def test_unknown_state_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown state 'broken' for component 'api'"):
        components_payload(with_components(record("api", "broken")), NOW)


def test_duplicate_component_is_rejected() -> None:
    with pytest.raises(ValueError, match="listed twice"):
        components_payload(with_components(record("api", "down"), record("api", "down")), NOW)


def test_component_order_puts_group_before_its_components() -> None:
    components = components_payload(DATA, NOW)["components"]

    assert [item["name"] for item in components] == [
        "Payments",
        "Card processing",
        "Refunds",
        "Storefront",
    ]


def test_group_lists_its_components() -> None:
    group = components_payload(DATA, NOW)["components"][0]

    assert group["group"] is True
    assert group["components"] == ["card", "refunds"]


def test_group_status_is_worst_of_its_components() -> None:
    group = components_payload(DATA, NOW)["components"][0]

    assert group["status"] == "degraded_performance"


def test_component_in_group_has_group_id() -> None:
    components = components_payload(DATA, NOW)["components"]

    assert by_id(components)["card"]["group_id"] == components[0]["id"]


def test_group_id_cannot_match_component_id() -> None:
    group = components_payload(DATA, NOW)["components"][0]

    assert "." in group["id"]


def test_positions_count_within_each_level() -> None:
    components = by_id(components_payload(DATA, NOW)["components"])
    positions = {key: item["position"] for key, item in components.items()}

    assert positions["card"] == 1
    assert positions["refunds"] == 2
    assert positions["storefront"] == 2


def test_empty_description_is_null() -> None:
    components = by_id(components_payload(DATA, NOW)["components"])

    assert components["refunds"]["description"] is None


def test_created_at_falls_back_to_updated_at() -> None:
    refunds = by_id(components_payload(DATA, NOW)["components"])["refunds"]

    assert refunds["created_at"] == refunds["updated_at"]


# Indicator


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        (["operational", "operational"], "none"),
        (["operational", "degraded"], "minor"),
        (["operational", "partial_outage"], "major"),
        (["operational", "major_outage"], "major"),
        (["down", "operational"], "major"),
        (["down", "major_outage"], "critical"),
        (["down", "no_data"], "critical"),
        (["down", "maintenance"], "critical"),
        (["maintenance", "operational"], "maintenance"),
        (["maintenance", "degraded"], "minor"),
    ],
)
def test_indicator_from_components(states: list[str], expected: str) -> None:
    data = quiet(*(record(f"c{index}", state) for index, state in enumerate(states)))

    assert indicator(data) == expected


def test_indicator_from_open_incident_impact() -> None:
    data = replace(
        quiet(record("api", "operational")),
        incidents=(replace(SLOW_CARDS, impact=Impact.CRITICAL),),
    )

    assert indicator(data) == "critical"


def test_indicator_ignores_resolved_incident() -> None:
    data = replace(quiet(record("api", "operational")), incidents=(RESOLVED,))

    assert indicator(data) == "none"


def test_indicator_ignores_deleted_incident() -> None:
    data = replace(quiet(record("api", "operational")), incidents=(DELETED,))

    assert indicator(data) == "none"


def test_indicator_maintenance_from_window_in_progress() -> None:
    data = replace(quiet(record("api", "operational")), windows=(IN_PROGRESS,))

    assert indicator(data) == "maintenance"


def test_indicator_ignores_scheduled_window() -> None:
    data = replace(quiet(record("api", "operational")), windows=(SCHEDULED,))

    assert indicator(data) == "none"


def test_status_description_for_indicator() -> None:
    status = status_payload(quiet(record("api", "down"), record("web", "operational")), NOW)

    assert status["status"]["description"] == "Partial System Outage"


def test_status_without_data_says_so() -> None:
    status = status_payload(quiet(record("api", "no_data")), NOW)

    assert status["status"] == {"indicator": "none", "description": "No Monitoring Data"}


@pytest.mark.parametrize("state", ["operational", "degraded", "down", "maintenance", "no_data"])
def test_indicator_is_statuspage_value(state: str) -> None:
    assert indicator(with_components(record("api", state))) in INDICATORS


def test_status_of_recorded_scenario() -> None:
    assert status_payload(DATA, NOW)["status"] == {
        "indicator": "minor",
        "description": "Minor Service Outage",
    }


# Incidents


def test_summary_lists_unresolved_incidents_newest_first() -> None:
    incidents = summary_payload(DATA, NOW)["incidents"]

    assert [incident["id"] for incident in incidents] == ["7", "8"]


def test_incidents_list_includes_resolved() -> None:
    incidents = incidents_payload(DATA, NOW)["incidents"]

    assert [incident["id"] for incident in incidents] == ["7", "8", "5"]


def test_incidents_list_is_limited_to_fifty() -> None:
    many = tuple(
        replace(RESOLVED, id=100 + index, created_at=RESOLVED.created_at + timedelta(minutes=index))
        for index in range(60)
    )

    incidents = incidents_payload(replace(DATA, incidents=many), NOW)["incidents"]

    assert len(incidents) == 50
    assert incidents[0]["id"] == "159"


def test_unresolved_incidents_leave_out_resolved() -> None:
    incidents = unresolved_incidents_payload(DATA, NOW)["incidents"]

    assert "5" not in by_id(incidents)


def test_deleted_incident_is_left_out() -> None:
    incidents = incidents_payload(DATA, NOW)["incidents"]

    assert "6" not in by_id(incidents)


def test_incident_fields() -> None:
    incident = by_id(incidents_payload(DATA, NOW)["incidents"])["7"]

    assert incident["name"] == "Slow card authorizations"
    assert incident["status"] == "monitoring"
    assert incident["impact"] == "minor"
    assert incident["shortlink"] == "https://status.shop.example/incidents/7"
    assert incident["page_id"] == "x7k2m9p4q1w8"


def test_incident_monitoring_at_is_first_monitoring_update() -> None:
    incident = by_id(incidents_payload(DATA, NOW)["incidents"])["7"]

    assert incident["monitoring_at"] == "2026-03-01T09:25:00.000+09:00"


def test_incident_resolved_at_only_when_resolved() -> None:
    incidents = by_id(incidents_payload(DATA, NOW)["incidents"])

    assert incidents["5"]["resolved_at"] == "2026-02-20T09:30:00.000+09:00"
    assert incidents["7"]["resolved_at"] is None


def test_incident_with_postmortem_has_postmortem_status() -> None:
    data = replace(DATA, incidents=(replace(RESOLVED, postmortem="What happened"),))

    assert incidents_payload(data, NOW)["incidents"][0]["status"] == "postmortem"


def test_incident_started_at_uses_backdated_update() -> None:
    backdated = incident_update(14, 8, IncidentStatus.INVESTIGATING, NOW - timedelta(hours=2))
    incident = replace(LATE_EMAILS, updates=(backdated, *LATE_EMAILS.updates))

    payload = incidents_payload(replace(DATA, incidents=(incident,)), NOW)["incidents"][0]

    assert payload["started_at"] == "2026-03-01T07:30:00.000+09:00"


def test_incident_updates_newest_first() -> None:
    incident = by_id(incidents_payload(DATA, NOW)["incidents"])["7"]

    assert [update["id"] for update in incident["incident_updates"]] == ["12", "11"]


def test_incident_update_fields() -> None:
    update = by_id(incidents_payload(DATA, NOW)["incidents"])["7"]["incident_updates"][0]

    assert update["status"] == "monitoring"
    assert update["body"] == "Update"
    assert update["incident_id"] == "7"
    assert update["display_at"] == "2026-03-01T09:25:00.000+09:00"


def test_first_update_lists_declared_components() -> None:
    updates = by_id(incidents_payload(DATA, NOW)["incidents"])["7"]["incident_updates"]

    assert updates[-1]["affected_components"] == [
        {
            "code": "card",
            "name": "Card processing",
            "old_status": "operational",
            "new_status": "degraded_performance",
        }
    ]
    assert updates[0]["affected_components"] is None


def test_incident_components_are_component_objects() -> None:
    incident = by_id(incidents_payload(DATA, NOW)["incidents"])["7"]
    card = by_id(components_payload(DATA, NOW)["components"])["card"]

    assert incident["components"] == [card]


def test_shortlink_is_null_without_page_url() -> None:
    data = replace(DATA, page=replace(PAGE, url=None))

    assert incidents_payload(data, NOW)["incidents"][0]["shortlink"] is None


# Scheduled maintenances


def maintenance_ids(payload: dict[str, Any]) -> list[str]:
    return [item["id"] for item in payload["scheduled_maintenances"]]


def test_summary_lists_active_then_upcoming_maintenance() -> None:
    assert maintenance_ids(summary_payload(DATA, NOW)) == ["maintenance-21", "maintenance-23"]


def test_upcoming_lists_scheduled_windows() -> None:
    assert maintenance_ids(upcoming_maintenances_payload(DATA, NOW)) == ["maintenance-23"]


def test_active_lists_windows_in_progress() -> None:
    assert maintenance_ids(active_maintenances_payload(DATA, NOW)) == ["maintenance-21"]


def test_scheduled_maintenances_list_latest_start_first() -> None:
    assert maintenance_ids(scheduled_maintenances_payload(DATA, NOW)) == [
        "maintenance-23",
        "maintenance-21",
        "maintenance-22",
    ]


def test_cancelled_window_is_left_out() -> None:
    assert "maintenance-24" not in maintenance_ids(scheduled_maintenances_payload(DATA, NOW))


def test_window_of_deleted_maintenance_is_left_out() -> None:
    assert "maintenance-25" not in maintenance_ids(scheduled_maintenances_payload(DATA, NOW))


def test_maintenance_ids_differ_from_incident_ids() -> None:
    payload = summary_payload(DATA, NOW)
    incident_ids = {item["id"] for item in payload["incidents"]}

    assert incident_ids.isdisjoint(maintenance_ids(payload))


def test_maintenance_fields() -> None:
    window = by_id(active_maintenances_payload(DATA, NOW)["scheduled_maintenances"])[
        "maintenance-21"
    ]

    assert window["name"] == "Storefront database upgrade"
    assert window["status"] == "in_progress"
    assert window["scheduled_for"] == "2026-03-01T09:00:00.000+09:00"
    assert window["scheduled_until"] == "2026-03-01T11:00:00.000+09:00"
    assert window["shortlink"] == "https://status.shop.example/maintenance/windows/21"
    assert window["resolved_at"] is None


def test_completed_maintenance_resolved_at_is_early_end() -> None:
    window = by_id(scheduled_maintenances_payload(DATA, NOW)["scheduled_maintenances"])[
        "maintenance-22"
    ]

    assert window["status"] == "completed"
    assert window["resolved_at"] == "2026-02-22T12:06:00.000+09:00"


def test_maintenance_components_are_component_objects() -> None:
    window = summary_payload(DATA, NOW)["scheduled_maintenances"][0]
    storefront = by_id(components_payload(DATA, NOW)["components"])["storefront"]

    assert window["components"] == [storefront]


def test_in_progress_maintenance_updates() -> None:
    window = summary_payload(DATA, NOW)["scheduled_maintenances"][0]

    assert [(u["status"], u["body"]) for u in window["incident_updates"]] == [
        ("in_progress", "Migration is halfway done."),
        (
            "in_progress",
            "Scheduled maintenance is currently in progress. We will provide updates as necessary.",
        ),
        ("scheduled", "The storefront is read-only during the upgrade."),
    ]


def test_completed_maintenance_updates() -> None:
    window = by_id(scheduled_maintenances_payload(DATA, NOW)["scheduled_maintenances"])[
        "maintenance-22"
    ]

    assert [u["status"] for u in window["incident_updates"]] == [
        "completed",
        "in_progress",
        "scheduled",
        "scheduled",
    ]


def test_maintenance_wide_update_appears_on_each_window() -> None:
    windows = by_id(scheduled_maintenances_payload(DATA, NOW)["scheduled_maintenances"])

    for key in ("maintenance-22", "maintenance-23"):
        bodies = [u["body"] for u in windows[key]["incident_updates"]]
        assert "Reindexing now uses the new cluster." in bodies


def test_window_update_stays_on_its_window() -> None:
    windows = by_id(scheduled_maintenances_payload(DATA, NOW)["scheduled_maintenances"])
    bodies = [u["body"] for u in windows["maintenance-23"]["incident_updates"]]

    assert "Migration is halfway done." not in bodies


def test_maintenance_update_ids_are_unique() -> None:
    windows = scheduled_maintenances_payload(DATA, NOW)["scheduled_maintenances"]
    ids = [u["id"] for window in windows for u in window["incident_updates"]]

    assert len(ids) == len(set(ids))


def test_newest_maintenance_update_has_maintenance_status() -> None:
    windows = scheduled_maintenances_payload(DATA, NOW)["scheduled_maintenances"]

    for window in windows:
        assert window["incident_updates"][0]["status"] == window["status"], window["id"]


def test_maintenance_without_definition_uses_window_times() -> None:
    data = replace(DATA, maintenances=(), maintenance_updates=())

    window = active_maintenances_payload(data, NOW)["scheduled_maintenances"][0]

    assert window["created_at"] == "2026-03-01T09:00:00.000+09:00"
    assert [u["status"] for u in window["incident_updates"]] == ["in_progress", "scheduled"]


def test_maintenance_updated_at_is_latest_update() -> None:
    window = summary_payload(DATA, NOW)["scheduled_maintenances"][0]

    assert window["updated_at"] == "2026-03-01T09:20:00.000+09:00"


# A third-party Statuspage consumer reading the payloads over HTTP


@contextlib.contextmanager
def serve(documents: dict[str, bytes]) -> Iterator[str]:
    """Serve `documents` by path on 127.0.0.1 and yield the base URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = documents.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_statuspage_exporter_reads_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The exporter reads services.json from, and writes its cache/ folder to, the working
    # directory, so it runs in a temporary one.
    monkeypatch.chdir(tmp_path)
    from statuspage_prometheus_exporter import service_checker

    summary = summary_payload(DATA, NOW)
    documents = {"/api/v2/summary.json": json.dumps(summary).encode("utf-8")}
    with serve(documents) as base_url:
        result = service_checker.check_status_page_service(
            "shop", {"url": f"{base_url}/api/v2/summary.json", "name": "Example Shop"}
        )

    assert result["success"] is True, result.get("error")
    assert result["raw_status"] == "minor"
    assert [(c["name"], c["status"]) for c in result["component_metadata"]] == [
        (item["name"], item["status"]) for item in summary["components"]
    ]
    assert [item["id"] for item in result["incident_metadata"]] == ["7", "8"]
    assert result["incident_metadata"][0]["affected_components"] == ["Card processing"]
    assert [item["id"] for item in result["maintenance_metadata"]] == [
        "maintenance-21",
        "maintenance-23",
    ]
    assert result["maintenance_metadata"][0]["scheduled_start"] == ("2026-03-01T09:00:00.000+09:00")
