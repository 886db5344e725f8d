"""The incident store's SQL and the validation shared by the admin forms and the API."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlite_utils

from statuspage import incident_store
from statuspage.incident_forms import (
    API_COMPONENT_STATES,
    FORM_COMPONENT_STATES,
    FieldError,
    TimeRules,
    parse_body,
    parse_components,
    parse_display_at,
    parse_title,
    validate_changes,
    validate_new_incident,
    validate_postmortem,
    validate_update,
)
from statuspage.incidents import ComponentImpact, Impact, IncidentStatus
from statuspage.store import Store

NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)  # 12:00 in Tokyo
TOKYO = ZoneInfo("Asia/Tokyo")
COMPONENT_IDS = ["website", "api", "database"]


@pytest.fixture
def db(tmp_path: Path) -> Iterator[sqlite_utils.Database]:
    store = Store.open(tmp_path)
    yield store.db
    store.close()


def create(
    db: sqlite_utils.Database,
    started: datetime = NOW - timedelta(hours=1),
    status: IncidentStatus = IncidentStatus.INVESTIGATING,
    **overrides: Any,
) -> int:
    fields: dict[str, Any] = {
        "title": "API errors",
        "impact": Impact.MAJOR,
        "components": {"api": ComponentImpact.MAJOR_OUTAGE},
        "status": status,
        "body": "We are looking into it.",
        "display_at": started,
        "created_by": "alice",
        "now": started,
    }
    fields.update(overrides)
    return incident_store.create_incident(db, **fields)


def update(
    db: sqlite_utils.Database,
    incident_id: int,
    status: IncidentStatus,
    display_at: datetime,
    now: datetime = NOW,
) -> int:
    return incident_store.add_update(
        db,
        incident_id,
        status=status,
        body=f"Now {status.value}.",
        display_at=display_at,
        created_by="bob",
        now=now,
    )


def get(db: sqlite_utils.Database, incident_id: int) -> Any:
    incident = incident_store.get_incident(db, incident_id, include_deleted=True)
    assert incident is not None
    return incident


# Creating and reading


def test_create_stores_fields(db: sqlite_utils.Database) -> None:
    incident = get(db, create(db))
    assert (incident.title, incident.impact, incident.status) == (
        "API errors",
        Impact.MAJOR,
        IncidentStatus.INVESTIGATING,
    )


def test_create_stores_components(db: sqlite_utils.Database) -> None:
    incident = get(db, create(db))
    assert incident.components == {"api": ComponentImpact.MAJOR_OUTAGE}


def test_create_stores_first_update(db: sqlite_utils.Database) -> None:
    incident = get(db, create(db))
    [first] = incident.updates
    assert (first.status, first.body, first.display_at, first.created_by) == (
        IncidentStatus.INVESTIGATING,
        "We are looking into it.",
        NOW - timedelta(hours=1),
        "alice",
    )


def test_times_come_back_in_utc(db: sqlite_utils.Database) -> None:
    tokyo_time = datetime(2026, 12, 4, 11, 0, tzinfo=TOKYO)
    incident = get(db, create(db, started=tokyo_time))
    assert incident.updates[0].display_at.utcoffset() == timedelta(0)
    assert incident.updates[0].display_at == tokyo_time


def test_get_unknown_returns_none(db: sqlite_utils.Database) -> None:
    assert incident_store.get_incident(db, 42) is None


@pytest.mark.parametrize("incident_id", [2**63, -(2**63) - 1, 10**30])
def test_get_id_beyond_sqlite_range_returns_none(
    db: sqlite_utils.Database, incident_id: int
) -> None:
    assert incident_store.get_incident(db, incident_id, include_deleted=True) is None


def test_update_id_beyond_sqlite_range_raises_not_found(db: sqlite_utils.Database) -> None:
    with pytest.raises(incident_store.IncidentNotFound):
        update(db, 2**63, IncidentStatus.IDENTIFIED, NOW)


def test_created_resolved_incident_has_resolved_at(db: sqlite_utils.Database) -> None:
    incident = get(db, create(db, status=IncidentStatus.RESOLVED))
    assert incident.resolved_at == NOW - timedelta(hours=1)


# Updates and status


def test_update_moves_status(db: sqlite_utils.Database) -> None:
    incident_id = create(db)
    update(db, incident_id, IncidentStatus.IDENTIFIED, NOW)
    assert get(db, incident_id).status is IncidentStatus.IDENTIFIED


def test_update_sets_updated_at(db: sqlite_utils.Database) -> None:
    incident_id = create(db)
    update(db, incident_id, IncidentStatus.IDENTIFIED, NOW - timedelta(minutes=5), now=NOW)
    assert get(db, incident_id).updated_at == NOW


def test_updates_ordered_by_display_time(db: sqlite_utils.Database) -> None:
    incident_id = create(db, started=NOW - timedelta(hours=2))
    update(db, incident_id, IncidentStatus.MONITORING, NOW)
    update(db, incident_id, IncidentStatus.IDENTIFIED, NOW - timedelta(hours=1))
    statuses = [entry.status for entry in get(db, incident_id).updates]
    assert statuses == [
        IncidentStatus.INVESTIGATING,
        IncidentStatus.IDENTIFIED,
        IncidentStatus.MONITORING,
    ]


def test_backdated_update_keeps_latest_status(db: sqlite_utils.Database) -> None:
    incident_id = create(db, started=NOW - timedelta(hours=2))
    update(db, incident_id, IncidentStatus.MONITORING, NOW)
    update(db, incident_id, IncidentStatus.IDENTIFIED, NOW - timedelta(hours=1))
    assert get(db, incident_id).status is IncidentStatus.MONITORING


def test_resolve_sets_resolved_at_to_display_time(db: sqlite_utils.Database) -> None:
    incident_id = create(db)
    resolved_at = NOW - timedelta(minutes=10)
    update(db, incident_id, IncidentStatus.RESOLVED, resolved_at)
    assert get(db, incident_id).resolved_at == resolved_at


def test_reopen_clears_resolved_at(db: sqlite_utils.Database) -> None:
    incident_id = create(db)
    update(db, incident_id, IncidentStatus.RESOLVED, NOW - timedelta(minutes=10))
    update(db, incident_id, IncidentStatus.INVESTIGATING, NOW)
    incident = get(db, incident_id)
    assert incident.status is IncidentStatus.INVESTIGATING
    assert incident.resolved_at is None


def test_updates_are_appended(db: sqlite_utils.Database) -> None:
    incident_id = create(db)
    update(db, incident_id, IncidentStatus.IDENTIFIED, NOW)
    update(db, incident_id, IncidentStatus.IDENTIFIED, NOW)
    assert len(get(db, incident_id).updates) == 3


def test_update_unknown_incident_raises(db: sqlite_utils.Database) -> None:
    with pytest.raises(incident_store.IncidentNotFound):
        update(db, 42, IncidentStatus.IDENTIFIED, NOW)


def test_update_deleted_incident_raises(db: sqlite_utils.Database) -> None:
    incident_id = create(db)
    incident_store.delete_incident(db, incident_id, now=NOW)
    with pytest.raises(incident_store.IncidentDeleted):
        update(db, incident_id, IncidentStatus.IDENTIFIED, NOW)


def test_failed_update_writes_nothing(db: sqlite_utils.Database) -> None:
    incident_id = create(db)
    incident_store.delete_incident(db, incident_id, now=NOW)
    with pytest.raises(incident_store.IncidentDeleted):
        update(db, incident_id, IncidentStatus.IDENTIFIED, NOW)
    assert len(get(db, incident_id).updates) == 1


# Changes, postmortem, delete


def test_change_replaces_title_impact_components(db: sqlite_utils.Database) -> None:
    incident_id = create(db)
    incident_store.change_incident(
        db,
        incident_id,
        title="Database slow",
        impact=Impact.MINOR,
        components={"database": ComponentImpact.DEGRADED},
        now=NOW,
    )
    incident = get(db, incident_id)
    assert (incident.title, incident.impact, incident.components) == (
        "Database slow",
        Impact.MINOR,
        {"database": ComponentImpact.DEGRADED},
    )


def test_change_keeps_updates(db: sqlite_utils.Database) -> None:
    incident_id = create(db)
    before = get(db, incident_id).updates
    incident_store.change_incident(
        db, incident_id, title="Renamed", impact=Impact.MAJOR, components={}, now=NOW
    )
    assert get(db, incident_id).updates == before


def test_postmortem_before_resolution_raises(db: sqlite_utils.Database) -> None:
    incident_id = create(db)
    with pytest.raises(incident_store.IncidentNotResolved):
        incident_store.set_postmortem(db, incident_id, "What happened", now=NOW)


def test_postmortem_after_resolution_is_stored(db: sqlite_utils.Database) -> None:
    incident_id = create(db)
    update(db, incident_id, IncidentStatus.RESOLVED, NOW)
    incident_store.set_postmortem(db, incident_id, "What happened", now=NOW)
    assert get(db, incident_id).postmortem == "What happened"


def test_postmortem_none_removes_it(db: sqlite_utils.Database) -> None:
    incident_id = create(db, status=IncidentStatus.RESOLVED)
    incident_store.set_postmortem(db, incident_id, "What happened", now=NOW)
    incident_store.set_postmortem(db, incident_id, None, now=NOW)
    assert get(db, incident_id).postmortem is None


def test_delete_hides_from_get(db: sqlite_utils.Database) -> None:
    incident_id = create(db)
    incident_store.delete_incident(db, incident_id, now=NOW)
    assert incident_store.get_incident(db, incident_id) is None


def test_deleted_incident_visible_to_admins(db: sqlite_utils.Database) -> None:
    incident_id = create(db)
    incident_store.delete_incident(db, incident_id, now=NOW)
    assert get(db, incident_id).deleted_at == NOW


def test_second_delete_keeps_first_time(db: sqlite_utils.Database) -> None:
    incident_id = create(db)
    incident_store.delete_incident(db, incident_id, now=NOW - timedelta(minutes=1))
    incident_store.delete_incident(db, incident_id, now=NOW)
    assert get(db, incident_id).deleted_at == NOW - timedelta(minutes=1)


def test_restore_brings_incident_back(db: sqlite_utils.Database) -> None:
    incident_id = create(db)
    incident_store.delete_incident(db, incident_id, now=NOW)
    incident_store.restore_incident(db, incident_id, now=NOW)
    assert incident_store.get_incident(db, incident_id) is not None


def test_delete_unknown_raises(db: sqlite_utils.Database) -> None:
    with pytest.raises(incident_store.IncidentNotFound):
        incident_store.delete_incident(db, 42, now=NOW)


# Lists for the admin area and the public pages


def test_list_puts_open_first(db: sqlite_utils.Database) -> None:
    old_open = create(db, started=NOW - timedelta(days=3))
    recent_resolved = create(db, started=NOW - timedelta(hours=1), status=IncidentStatus.RESOLVED)
    new_open = create(db, started=NOW - timedelta(hours=2))
    ids = [incident.id for incident in incident_store.list_incidents(db)]
    assert ids == [new_open, old_open, recent_resolved]


def test_list_leaves_out_deleted(db: sqlite_utils.Database) -> None:
    kept = create(db)
    deleted = create(db)
    incident_store.delete_incident(db, deleted, now=NOW)
    assert [incident.id for incident in incident_store.list_incidents(db)] == [kept]


def test_list_for_admins_puts_deleted_last(db: sqlite_utils.Database) -> None:
    deleted = create(db, started=NOW - timedelta(minutes=1))
    kept = create(db, started=NOW - timedelta(days=1), status=IncidentStatus.RESOLVED)
    incident_store.delete_incident(db, deleted, now=NOW)
    incidents = incident_store.list_incidents(db, include_deleted=True)
    assert [incident.id for incident in incidents] == [kept, deleted]


def test_list_respects_limit(db: sqlite_utils.Database) -> None:
    for _ in range(3):
        create(db)
    assert len(incident_store.list_incidents(db, limit=2)) == 2


def test_open_incidents_leave_out_resolved_and_deleted(db: sqlite_utils.Database) -> None:
    open_id = create(db)
    create(db, status=IncidentStatus.RESOLVED)
    incident_store.delete_incident(db, create(db), now=NOW)
    assert [incident.id for incident in incident_store.open_incidents(db)] == [open_id]


def test_open_incidents_include_components_and_updates(db: sqlite_utils.Database) -> None:
    create(db)
    [incident] = incident_store.open_incidents(db)
    assert incident.components == {"api": ComponentImpact.MAJOR_OUTAGE}
    assert len(incident.updates) == 1


def resolved_between(db: sqlite_utils.Database, start: datetime, end: datetime) -> int:
    """Create an incident from `start` resolved at `end`."""
    incident_id = create(db, started=start)
    update(db, incident_id, IncidentStatus.RESOLVED, end)
    return incident_id


DAY = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)  # midnight of 2026-12-04 in Tokyo


@pytest.mark.parametrize(
    ("start_hours", "end_hours", "included"),
    [
        (-5, -2, False),  # ended before the span
        (-2, 1, True),  # started before, ended inside
        (2, 3, True),  # inside
        (23, 30, True),  # started inside, ended after
        (24, 26, False),  # started at the span's end
        (-3, 30, True),  # covers the whole span
    ],
)
def test_incidents_between_resolved(
    db: sqlite_utils.Database, start_hours: int, end_hours: int, included: bool
) -> None:
    incident_id = resolved_between(
        db, DAY + timedelta(hours=start_hours), DAY + timedelta(hours=end_hours)
    )
    found = incident_store.incidents_between(db, DAY, DAY + timedelta(days=1))
    assert (incident_id in [incident.id for incident in found]) is included


def test_incidents_between_includes_open_incident_after_its_start(
    db: sqlite_utils.Database,
) -> None:
    incident_id = create(db, started=DAY - timedelta(days=3))
    found = incident_store.incidents_between(db, DAY, DAY + timedelta(days=1))
    assert [incident.id for incident in found] == [incident_id]


def test_incidents_between_leaves_out_deleted(db: sqlite_utils.Database) -> None:
    incident_id = resolved_between(db, DAY + timedelta(hours=1), DAY + timedelta(hours=2))
    incident_store.delete_incident(db, incident_id, now=NOW)
    assert incident_store.incidents_between(db, DAY, DAY + timedelta(days=1)) == []


def test_incidents_between_uses_backdated_times(db: sqlite_utils.Database) -> None:
    # Posted today, but the operator backdated both updates to the previous day.
    incident_id = create(db, started=DAY - timedelta(hours=5), now=NOW)
    update(db, incident_id, IncidentStatus.RESOLVED, DAY - timedelta(hours=4), now=NOW)
    assert incident_store.incidents_between(db, DAY, DAY + timedelta(days=1)) == []


def test_incidents_between_newest_first(db: sqlite_utils.Database) -> None:
    first = resolved_between(db, DAY + timedelta(hours=1), DAY + timedelta(hours=2))
    second = resolved_between(db, DAY + timedelta(hours=5), DAY + timedelta(hours=6))
    found = incident_store.incidents_between(db, DAY, DAY + timedelta(days=1))
    assert [incident.id for incident in found] == [second, first]


# Validation


def rules(local_allowed: bool = True, zone: ZoneInfo = TOKYO) -> TimeRules:
    return TimeRules(zone=zone, now=NOW, local_allowed=local_allowed)


def test_title_is_trimmed() -> None:
    assert parse_title("  API errors \n") == "API errors"


@pytest.mark.parametrize("raw", ["", "   ", None])
def test_title_required(raw: object) -> None:
    _, errors = validate_changes(
        title=raw, impact="minor", components={}, component_ids=[], states=FORM_COMPONENT_STATES
    )
    assert str(errors["title"]) == "Enter a title."


def test_title_of_200_characters_accepted() -> None:
    assert parse_title("x" * 200) == "x" * 200


def test_title_of_201_characters_rejected() -> None:
    _, errors = validate_changes(
        title="x" * 201,
        impact="minor",
        components={},
        component_ids=[],
        states=FORM_COMPONENT_STATES,
    )
    assert str(errors["title"]) == "The title has 201 characters. Shorten it to 200."


def test_title_with_line_break_rejected() -> None:
    _, errors = validate_changes(
        title="API\nerrors",
        impact="minor",
        components={},
        component_ids=[],
        states=FORM_COMPONENT_STATES,
    )
    assert "title" in errors


@pytest.mark.parametrize(
    "title", ["API\x00errors", "API\x7ferrors", "API\x85errors", "API\u2028errors", "A\u2029B"]
)
def test_title_with_control_or_separator_rejected(title: str) -> None:
    _, errors = validate_changes(
        title=title,
        impact="minor",
        components={},
        component_ids=[],
        states=FORM_COMPONENT_STATES,
    )
    assert "must be one line without control characters" in str(errors["title"])


def test_title_error_names_character() -> None:
    _, errors = validate_changes(
        title="API\u2028errors",
        impact="minor",
        components={},
        component_ids=[],
        states=FORM_COMPONENT_STATES,
    )
    assert str(errors["title"]) == (
        "The title contains U+2028 at position 4. It must be one line without control characters."
    )


def test_title_with_emoji_sequence_accepted() -> None:
    # A zero width joiner (U+200D, a format character) joins emoji and is allowed.
    assert parse_title("API \U0001f469\u200d\U0001f4bb errors") == (
        "API \U0001f469\u200d\U0001f4bb errors"
    )


def test_title_must_be_text() -> None:
    _, errors = validate_changes(
        title=12, impact="minor", components={}, component_ids=[], states=FORM_COMPONENT_STATES
    )
    assert str(errors["title"]) == "Expected text, got int."


def test_unknown_impact_rejected() -> None:
    _, errors = validate_changes(
        title="x", impact="huge", components={}, component_ids=[], states=FORM_COMPONENT_STATES
    )
    assert str(errors["impact"]) == "Impact 'huge' is not one of none, minor, major, critical."


def test_unknown_status_rejected() -> None:
    _, errors = validate_update(status="fixed", body="x", display_at="", rules=rules())
    assert str(errors["status"]) == (
        "Status 'fixed' is not one of investigating, identified, monitoring, resolved."
    )


def test_body_required() -> None:
    _, errors = validate_update(status="identified", body=" \n ", display_at="", rules=rules())
    assert "body" in errors


def test_body_of_20000_characters_accepted() -> None:
    assert len(parse_body("x" * 20_000)) == 20_000


def test_body_of_20001_characters_rejected() -> None:
    _, errors = validate_update(
        status="identified", body="x" * 20_001, display_at="", rules=rules()
    )
    assert str(errors["body"]) == "The message has 20001 characters. Shorten it to 20000."


def test_body_line_breaks_normalized() -> None:
    assert parse_body("one\r\ntwo") == "one\ntwo"


def test_postmortem_empty_means_none() -> None:
    assert validate_postmortem("  ") == (None, {})


def test_postmortem_too_long_rejected() -> None:
    _, errors = validate_postmortem("x" * 50_001)
    assert "postmortem" in errors


def test_components_unknown_id_rejected() -> None:
    _, errors = parse_components({"cache": "degraded"}, COMPONENT_IDS, FORM_COMPONENT_STATES)
    assert str(errors["components.cache"]) == (
        "Unknown component 'cache'. The components are website, api, database."
    )


def test_components_unknown_state_rejected() -> None:
    _, errors = parse_components({"api": "exploded"}, COMPONENT_IDS, FORM_COMPONENT_STATES)
    assert str(errors["components.api"]) == (
        "State 'exploded' is not one of operational, degraded, partial_outage, major_outage."
    )


def test_components_operational_means_not_affected() -> None:
    components, _ = parse_components(
        {"api": "operational", "website": "partial_outage"}, COMPONENT_IDS, FORM_COMPONENT_STATES
    )
    assert components == {"website": ComponentImpact.PARTIAL_OUTAGE}


def test_api_components_use_statuspage_names() -> None:
    components, _ = parse_components(
        {"api": "degraded_performance"}, COMPONENT_IDS, API_COMPONENT_STATES
    )
    assert components == {"api": ComponentImpact.DEGRADED}


def test_components_must_be_mapping() -> None:
    _, errors = parse_components(["api"], COMPONENT_IDS, API_COMPONENT_STATES)
    assert "components" in errors


def test_display_at_empty_means_now() -> None:
    assert parse_display_at("", rules()) == NOW


def test_display_at_with_offset_converted_to_utc() -> None:
    moment = parse_display_at("2026-12-04T11:30:00+09:00", rules(local_allowed=False))
    assert moment == datetime(2026, 12, 4, 2, 30, tzinfo=UTC)


def test_display_at_with_z_suffix() -> None:
    moment = parse_display_at("2026-12-04T02:30:00Z", rules(local_allowed=False))
    assert moment == datetime(2026, 12, 4, 2, 30, tzinfo=UTC)


def test_display_at_local_time_in_site_zone() -> None:
    moment = parse_display_at("2026-12-04T11:30", rules())
    assert moment == datetime(2026, 12, 4, 2, 30, tzinfo=UTC)


def test_display_at_stored_in_utc() -> None:
    assert parse_display_at("2026-12-04T11:30", rules()).tzinfo is UTC


def test_display_at_without_offset_rejected_for_api() -> None:
    _, errors = validate_update(
        status="identified",
        body="x",
        display_at="2026-12-04T11:30",
        rules=rules(local_allowed=False),
    )
    assert str(errors["display_at"]) == (
        "2026-12-04T11:30 has no UTC offset. Add one, "
        "for example 2026-12-04T11:30+09:00 or 2026-12-04T11:30Z."
    )


def test_display_at_garbage_rejected() -> None:
    _, errors = validate_update(
        status="identified", body="x", display_at="yesterday", rules=rules()
    )
    assert str(errors["display_at"]) == (
        "'yesterday' is not a valid date and time. Use ISO 8601, for example 2026-12-04T12:00."
    )


def test_display_at_five_minutes_ahead_accepted() -> None:
    assert parse_display_at("2026-12-04T12:05", rules()) == NOW + timedelta(minutes=5)


def test_display_at_six_minutes_ahead_rejected() -> None:
    _, errors = validate_update(
        status="identified", body="x", display_at="2026-12-04T12:06", rules=rules()
    )
    assert "display_at" in errors


RANGE_MESSAGE = "is outside the allowed range. Enter a time from 1970-01-01T00:00Z up to now."


LOS_ANGELES = ZoneInfo("America/Los_Angeles")  # 8 hours behind UTC in winter


@pytest.mark.parametrize(
    ("text", "local_allowed", "zone"),
    [
        ("0001-01-01T00:00:00Z", False, TOKYO),
        ("0001-01-01T00:00:00+09:00", False, TOKYO),
        ("0001-01-01T00:00", True, TOKYO),
        ("0001-01-01T00:00", True, LOS_ANGELES),
        ("1969-12-31T23:59:59Z", False, TOKYO),
        ("9999-12-31T23:59-05:00", False, TOKYO),
        ("9999-12-31T23:59", True, LOS_ANGELES),
    ],
)
def test_display_at_out_of_range_rejected(text: str, local_allowed: bool, zone: ZoneInfo) -> None:
    _, errors = validate_update(
        status="identified", body="x", display_at=text, rules=rules(local_allowed, zone)
    )
    assert str(errors["display_at"]).endswith(RANGE_MESSAGE)


def test_display_at_epoch_accepted() -> None:
    moment = parse_display_at("1970-01-01T00:00:00Z", rules(local_allowed=False))
    assert moment == datetime(1970, 1, 1, tzinfo=UTC)


def test_display_at_in_daylight_saving_gap_rejected() -> None:
    # On 2026-03-08 New York's clocks jump from 02:00 to 03:00.
    new_york = ZoneInfo("America/New_York")
    _, errors = validate_update(
        status="identified",
        body="x",
        display_at="2026-03-08T02:30",
        rules=rules(zone=new_york),
    )
    assert str(errors["display_at"]) == (
        "2026-03-08T02:30 does not exist in America/New_York because the clocks changed. "
        "Pick another time."
    )


def test_new_incident_collects_every_error() -> None:
    draft, errors = validate_new_incident(
        title="",
        impact="huge",
        components={"cache": "degraded"},
        status="fixed",
        body="",
        display_at="soon",
        component_ids=COMPONENT_IDS,
        states=FORM_COMPONENT_STATES,
        rules=rules(),
    )
    assert draft is None
    assert set(errors) == {"title", "impact", "components.cache", "status", "body", "display_at"}


def test_new_incident_valid() -> None:
    draft, errors = validate_new_incident(
        title=" API errors ",
        impact="major",
        components={"api": "major_outage", "website": "operational"},
        status="investigating",
        body="Looking into it.",
        display_at="2026-12-04T11:50",
        component_ids=COMPONENT_IDS,
        states=FORM_COMPONENT_STATES,
        rules=rules(),
    )
    assert errors == {}
    assert draft is not None
    assert (draft.title, draft.components, draft.display_at) == (
        "API errors",
        {"api": ComponentImpact.MAJOR_OUTAGE},
        NOW - timedelta(minutes=10),
    )


def test_field_error_keeps_template_for_translation() -> None:
    error = FieldError(
        "Impact %(value)s is not one of %(allowed)s.", {"value": "'x'", "allowed": "a"}
    )
    assert (error.message, str(error)) == (
        "Impact %(value)s is not one of %(allowed)s.",
        "Impact 'x' is not one of a.",
    )
