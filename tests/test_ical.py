from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from icalendar import Calendar

from statuspage import maintenance_store
from statuspage.ical import (
    CANCELLED_RETENTION,
    PAST_RETENTION,
    CalendarWindow,
    render_calendar,
    window_sequence,
)
from statuspage.maintenance import (
    Maintenance,
    MaintenanceSpec,
    MaintenanceUpdate,
    MaintenanceWindow,
    recurring_windows,
)
from statuspage.store import Store

BASE_URL = "https://status.example.com"
BERLIN = ZoneInfo("Europe/Berlin")
TOKYO = ZoneInfo("Asia/Tokyo")
CREATED = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 3, 25, 12, 0, tzinfo=UTC)
# Berlin moves to summer time on 2026-03-29; this is the Sunday after.
BERLIN_START = datetime(2026, 4, 5, 2, 0, tzinfo=BERLIN)


def maintenance(
    timezone: str = "Europe/Berlin",
    maintenance_id: int = 7,
    schedule: str | None = None,
    updated_at: datetime = CREATED,
    deleted_at: datetime | None = None,
) -> Maintenance:
    return Maintenance(
        id=maintenance_id,
        title="Database upgrade",
        description="Upgrade to PostgreSQL 17.",
        timezone=timezone,
        components=("db",),
        schedule=schedule,
        created_at=CREATED,
        updated_at=updated_at,
        deleted_at=deleted_at,
    )


def window(
    starts_at: datetime = BERLIN_START,
    ends_at: datetime | None = None,
    window_id: int = 70,
    maintenance_id: int = 7,
    **changes: Any,
) -> MaintenanceWindow:
    start = starts_at.astimezone(UTC)
    end = start + timedelta(hours=1) if ends_at is None else ends_at.astimezone(UTC)
    return MaintenanceWindow(
        id=window_id,
        maintenance_id=maintenance_id,
        title="Database upgrade",
        components=("db",),
        starts_at=start,
        ends_at=end,
        **changes,
    )


def item(
    planned: MaintenanceWindow | None = None,
    owner: Maintenance | None = None,
    updates: tuple[MaintenanceUpdate, ...] = (),
) -> CalendarWindow:
    return CalendarWindow(planned or window(), owner or maintenance(), updates)


def note(body: str, at: datetime, update_id: int = 1) -> MaintenanceUpdate:
    return MaintenanceUpdate(
        id=update_id,
        maintenance_id=7,
        body=body,
        display_at=at,
        created_at=at,
        created_by="alice",
        window_id=70,
    )


def render(items: list[CalendarWindow], now: datetime = NOW) -> bytes:
    return render_calendar("Example", BASE_URL, items, now)


def events(document: bytes) -> list[Any]:
    return list(Calendar.from_ical(document).walk("VEVENT"))


def only_event(document: bytes) -> Any:
    (event,) = events(document)
    return event


# Calendar properties


def test_calendar_parses_back() -> None:
    calendar = Calendar.from_ical(render([item()]))

    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]).startswith("-//statuspage//")
    assert len(calendar.walk("VEVENT")) == 1


def test_calendar_has_name_and_refresh_interval() -> None:
    document = render([item()])
    calendar = Calendar.from_ical(document)

    assert str(calendar["X-WR-CALNAME"]) == "Example maintenance"
    assert str(calendar["NAME"]) == "Example maintenance"
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in document
    assert b"X-PUBLISHED-TTL:PT1H\r\n" in document


def test_calendar_has_no_method() -> None:
    # Without METHOD, DTSTAMP is the event's last revision rather than the download time.
    assert "METHOD" not in Calendar.from_ical(render([item()]))


def test_empty_calendar_parses_back() -> None:
    assert events(render([])) == []


# Events


def test_event_has_stable_uid_across_downloads() -> None:
    first = only_event(render([item()]))
    with time_machine.travel(NOW + timedelta(days=3), tick=False):
        second = only_event(render([item()], now=NOW + timedelta(days=3)))

    assert str(first["UID"]) == "maintenance-window-70@status.example.com"
    assert str(second["UID"]) == str(first["UID"])


def test_uid_survives_extension() -> None:
    planned = window()
    extended = replace(planned, ends_at=planned.ends_at + timedelta(hours=1))

    first = only_event(render([item(planned)]))
    second = only_event(render([item(extended)]))

    assert str(first["UID"]) == str(second["UID"])


def test_dst_window_keeps_local_times() -> None:
    event = only_event(render([item()]))

    start = event.decoded("DTSTART")
    end = event.decoded("DTEND")

    assert start.replace(tzinfo=None) == datetime(2026, 4, 5, 2, 0)
    assert end.replace(tzinfo=None) == datetime(2026, 4, 5, 3, 0)
    assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert start.astimezone(UTC) == datetime(2026, 4, 5, 0, 0, tzinfo=UTC)


def test_dst_window_written_as_local_time() -> None:
    document = render([item()])

    assert b"DTSTART;TZID=Europe/Berlin:20260405T020000\r\n" in document
    assert b"DTEND;TZID=Europe/Berlin:20260405T030000\r\n" in document


def _offset_from_vtimezone(calendar: Any, tzid: str, local: datetime) -> timedelta:
    """Find the UTC offset that a VTIMEZONE gives for a local time, as a client would."""
    (timezone,) = [tz for tz in calendar.walk("VTIMEZONE") if str(tz["TZID"]) == tzid]
    onsets: list[tuple[datetime, timedelta]] = []
    for observance in timezone.subcomponents:
        offset = observance["TZOFFSETTO"].td
        onsets.append((observance.decoded("DTSTART"), offset))
        rdates = observance.get("RDATE", [])
        for rdate in rdates if isinstance(rdates, list) else [rdates]:
            onsets += [(period.dt, offset) for period in rdate.dts]
    return max(onset for onset in onsets if onset[0] <= local)[1]


def test_vtimezone_gives_summer_offset_after_change() -> None:
    calendar = Calendar.from_ical(render([item()]))

    offset = _offset_from_vtimezone(calendar, "Europe/Berlin", datetime(2026, 4, 5, 2, 0))

    assert offset == timedelta(hours=2)


def test_vtimezone_gives_winter_offset_before_change() -> None:
    before = window(starts_at=datetime(2026, 3, 22, 2, 0, tzinfo=BERLIN))
    calendar = Calendar.from_ical(render([item(before)]))

    offset = _offset_from_vtimezone(calendar, "Europe/Berlin", datetime(2026, 3, 22, 2, 0))

    assert offset == timedelta(hours=1)


def test_vtimezone_precedes_events() -> None:
    calendar = Calendar.from_ical(render([item()]))

    names = [component.name for component in calendar.subcomponents]

    assert names == ["VTIMEZONE", "VEVENT"]


def test_utc_maintenance_needs_no_vtimezone() -> None:
    utc_item = item(window(starts_at=datetime(2026, 4, 5, 2, 0, tzinfo=UTC)), maintenance("UTC"))
    document = render([utc_item])

    assert Calendar.from_ical(document).walk("VTIMEZONE") == []
    assert b"DTSTART:20260405T020000Z\r\n" in document


def test_tokyo_weekly_windows_are_separate_events() -> None:
    weekly = maintenance("Asia/Tokyo", schedule="0 3 * * SUN")
    bounds = recurring_windows("0 3 * * SUN", "03:10", TOKYO, NOW, NOW + timedelta(days=28))
    items = [
        item(window(start, end, window_id=100 + index), weekly)
        for index, (start, end) in enumerate(bounds)
    ]

    parsed = events(render(items))

    assert len(parsed) == 4
    assert len({str(event["UID"]) for event in parsed}) == 4
    for event in parsed:
        start = event.decoded("DTSTART")
        end = event.decoded("DTEND")
        assert (start.hour, start.minute, start.strftime("%a")) == (3, 0, "Sun")
        assert (end.hour, end.minute) == (3, 10)
        assert str(start.tzinfo) == "Asia/Tokyo"
        assert "RRULE" not in event


def test_event_has_summary_description_and_url() -> None:
    update = note("Backups verified.", datetime(2026, 3, 24, 8, 0, tzinfo=UTC))
    event = only_event(render([item(updates=(update,))]))

    description = str(event["DESCRIPTION"])

    assert str(event["SUMMARY"]) == "Example: Database upgrade"
    assert "Upgrade to PostgreSQL 17." in description
    assert "2026-03-24 09:00 CET (UTC+01:00)\nBackups verified." in description
    assert str(event["URL"]) == f"{BASE_URL}/maintenance/windows/70"


def test_description_lists_updates_newest_first() -> None:
    older = note("First note.", datetime(2026, 3, 21, 8, 0, tzinfo=UTC), 1)
    newer = note("Second note.", datetime(2026, 3, 22, 8, 0, tzinfo=UTC), 2)
    description = str(only_event(render([item(updates=(older, newer))]))["DESCRIPTION"])

    assert description.index("Second note.") < description.index("First note.")


def test_description_names_components() -> None:
    document = render_calendar("Example", BASE_URL, [item()], NOW, {"db": "Database"})

    assert "Affected: Database" in str(only_event(document)["DESCRIPTION"])


def test_japanese_text_round_trips() -> None:
    text = "データベースの更新作業を行います。" * 8
    owner = replace(maintenance(), description=text)
    planned = replace(window(), title="定期メンテナンス")

    event = only_event(render_calendar("例", BASE_URL, [item(planned, owner)], NOW))

    assert str(event["SUMMARY"]) == "例: 定期メンテナンス"
    assert text in str(event["DESCRIPTION"])


def test_control_characters_are_dropped() -> None:
    owner = replace(maintenance(), description="Output: \x1b[31mred\x1b[0m\x00")

    event = only_event(render([item(owner=owner)]))

    assert "Output: [31mred[0m" in str(event["DESCRIPTION"])


def test_event_is_transparent() -> None:
    assert str(only_event(render([item()]))["TRANSP"]) == "TRANSPARENT"


def test_scheduled_window_is_confirmed() -> None:
    assert str(only_event(render([item()]))["STATUS"]) == "CONFIRMED"


def test_cancelled_window_has_cancelled_status() -> None:
    cancelled = window(cancelled_at=NOW - timedelta(hours=1))

    event = only_event(render([item(cancelled)]))

    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["SUMMARY"]) == "[Cancelled] Example: Database upgrade"
    assert event.decoded("DTSTART").replace(tzinfo=None) == datetime(2026, 4, 5, 2, 0)


def test_cancelled_window_dropped_after_retention() -> None:
    cancelled_at = NOW - timedelta(hours=1)
    cancelled = item(window(cancelled_at=cancelled_at))

    assert len(events(render([cancelled], now=cancelled_at + CANCELLED_RETENTION / 2))) == 1
    assert events(render([cancelled], now=cancelled_at + CANCELLED_RETENTION)) == []


def test_past_window_dropped_after_retention() -> None:
    planned = window()

    assert len(events(render([item(planned)], now=planned.ends_at + PAST_RETENTION / 2))) == 1
    assert events(render([item(planned)], now=planned.ends_at + PAST_RETENTION)) == []


def test_deleted_maintenance_lists_only_cancelled_windows() -> None:
    deleted_at = NOW - timedelta(hours=1)
    owner = maintenance(deleted_at=deleted_at, updated_at=deleted_at)
    cancelled = window(window_id=71, cancelled_at=deleted_at)
    ended = window(starts_at=NOW - timedelta(hours=2), window_id=72, ended_at=deleted_at)

    parsed = events(render([item(cancelled, owner), item(ended, owner)]))

    assert [str(event["UID"]) for event in parsed] == ["maintenance-window-71@status.example.com"]


# Revisions


def test_dtstamp_is_last_change() -> None:
    changed_at = datetime(2026, 3, 22, 10, 30, tzinfo=UTC)
    update = note("Moved to a larger instance.", changed_at)

    event = only_event(render([item(updates=(update,))]))

    assert event.decoded("DTSTAMP") == changed_at
    assert event.decoded("LAST-MODIFIED") == changed_at


def test_render_is_byte_identical() -> None:
    items = [item(), item(window(window_id=71, starts_at=BERLIN_START + timedelta(days=7)))]

    first = render(items)
    with time_machine.travel(datetime(2031, 6, 1, tzinfo=UTC), tick=False):
        second = render(items)

    assert first == second


def test_render_order_ignores_input_order() -> None:
    items = [item(), item(window(window_id=71, starts_at=BERLIN_START + timedelta(days=7)))]

    assert render(items) == render(items[::-1])


def test_sequence_starts_at_zero() -> None:
    assert window_sequence(item()) == 0


def test_sequence_increases_when_extended() -> None:
    planned = window()
    extended = replace(planned, ends_at=planned.ends_at + timedelta(minutes=30))
    touched = maintenance(updated_at=CREATED + timedelta(days=1))

    before = only_event(render([item(planned)]))
    after = only_event(render([item(extended, touched)]))

    assert after.decoded("SEQUENCE") > before.decoded("SEQUENCE")


def test_sequence_increases_when_cancelled() -> None:
    cancelled_at = CREATED + timedelta(hours=5)
    cancelled = window(cancelled_at=cancelled_at)
    touched = maintenance(updated_at=cancelled_at)

    assert window_sequence(item(cancelled, touched)) > window_sequence(item())


def test_sequence_increases_when_ended_early() -> None:
    planned = window()
    ended_at = planned.starts_at + timedelta(minutes=20)
    ended = replace(planned, ended_at=ended_at)
    touched = maintenance(updated_at=ended_at)

    started = item(planned)
    finished = item(ended, touched)

    assert window_sequence(finished) > window_sequence(started)
    assert only_event(render([finished], now=ended_at)).decoded("DTEND") == ended_at


def test_sequence_ignores_later_change_to_other_window() -> None:
    planned = window()
    later_edit = maintenance(updated_at=planned.ends_at + timedelta(days=3))

    assert window_sequence(item(planned, later_edit)) == window_sequence(item(planned))


# Repeated hours of a fall-back


def fall_back_event(start: datetime, timezone: str) -> Any:
    owner = maintenance(timezone)
    planned = window(starts_at=start, ends_at=start + timedelta(minutes=10))
    return only_event(render([item(planned, owner)], now=start - timedelta(days=1)))


def test_berlin_second_occurrence_written_in_utc() -> None:
    # 02:15 CET, after the clocks went back from 03:00 CEST to 02:00 CET.
    start = datetime(2027, 10, 31, 1, 15, tzinfo=UTC)
    owner = maintenance()
    planned = window(starts_at=start, ends_at=start + timedelta(minutes=10))

    document = render([item(planned, owner)], now=start - timedelta(days=1))

    assert b"DTSTART:20271031T011500Z\r\n" in document


def test_berlin_second_occurrence_parses_back_to_instant() -> None:
    start = datetime(2027, 10, 31, 1, 15, tzinfo=UTC)

    event = fall_back_event(start, "Europe/Berlin")

    assert event.decoded("DTSTART") == start


def test_berlin_first_occurrence_keeps_tzid() -> None:
    # 02:15 CEST, before the clocks go back.
    start = datetime(2027, 10, 31, 0, 15, tzinfo=UTC)

    event = fall_back_event(start, "Europe/Berlin")

    assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert event.decoded("DTSTART").replace(tzinfo=None) == datetime(2027, 10, 31, 2, 15)


def test_new_york_second_occurrence_written_in_utc() -> None:
    # 01:30 EST, after the clocks went back from 02:00 EDT to 01:00 EST.
    start = datetime(2027, 11, 7, 6, 30, tzinfo=UTC)
    owner = maintenance("America/New_York")
    planned = window(starts_at=start, ends_at=start + timedelta(minutes=10))

    document = render([item(planned, owner)], now=start - timedelta(days=1))

    assert b"DTSTART:20271107T063000Z\r\n" in document


def test_new_york_second_occurrence_parses_back_to_instant() -> None:
    start = datetime(2027, 11, 7, 6, 30, tzinfo=UTC)

    event = fall_back_event(start, "America/New_York")

    assert event.decoded("DTSTART") == start


def test_new_york_first_occurrence_keeps_tzid() -> None:
    # 01:30 EDT, before the clocks go back.
    start = datetime(2027, 11, 7, 5, 30, tzinfo=UTC)

    event = fall_back_event(start, "America/New_York")

    assert event["DTSTART"].params["TZID"] == "America/New_York"


def test_end_in_second_occurrence_written_in_utc() -> None:
    # 01:50 CEST (first pass) to 02:30 CET (second pass): the end alone is ambiguous.
    start = datetime(2027, 10, 30, 23, 50, tzinfo=UTC)
    end = datetime(2027, 10, 31, 1, 30, tzinfo=UTC)
    planned = window(starts_at=start, ends_at=end)

    event = only_event(render([item(planned)], now=start - timedelta(days=1)))

    assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert event.decoded("DTEND") == end


# Changes within a second


def test_sequence_increases_for_change_within_creation_second() -> None:
    created = CREATED + timedelta(milliseconds=700)
    owner = replace(maintenance(), created_at=created, updated_at=created)
    touched = replace(owner, updated_at=created + timedelta(milliseconds=200))
    planned = window()
    extended = replace(
        planned,
        ends_at=planned.ends_at + timedelta(minutes=5),
        revised_at=CREATED + timedelta(seconds=1),
    )

    assert window_sequence(item(extended, touched)) > window_sequence(item(planned, owner))


def test_dtstamp_moves_for_change_within_creation_second() -> None:
    created = CREATED + timedelta(milliseconds=100)
    owner = replace(maintenance(), created_at=created, updated_at=created)
    touched = replace(owner, updated_at=created + timedelta(milliseconds=200))
    planned = window()
    cancelled = replace(
        planned, cancelled_at=touched.updated_at, revised_at=CREATED + timedelta(seconds=1)
    )

    before = only_event(render([item(planned, owner)]))
    after = only_event(render([item(cancelled, touched)]))

    assert after.decoded("DTSTAMP") > before.decoded("DTSTAMP")


def test_every_stored_change_raises_sequence(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    created = datetime(2026, 3, 20, 9, 0, 0, 100_000, tzinfo=UTC)
    start = created + timedelta(days=2)
    spec = MaintenanceSpec(
        title="Database upgrade",
        description="",
        timezone="Europe/Berlin",
        components=("db",),
        starts_at=start,
        ends_at=start + timedelta(hours=1),
    )
    maintenance_id = maintenance_store.create_maintenance(store.db, spec, created, "alice")
    window_id = maintenance_store.windows_of(store.db, maintenance_id)[0].id

    def stored_event() -> tuple[int, datetime]:
        owner = maintenance_store.get_maintenance(store.db, maintenance_id)
        planned = maintenance_store.get_window(store.db, window_id)
        assert owner is not None and planned is not None
        event = only_event(render([CalendarWindow(planned, owner)], now=created))
        return event.decoded("SEQUENCE"), event.decoded("DTSTAMP")

    seen = [stored_event()]
    new_end = start + timedelta(hours=2)
    moment = created + timedelta(milliseconds=200)
    maintenance_store.extend_window(store.db, window_id, new_end, moment)
    seen.append(stored_event())
    maintenance_store.extend_window(store.db, window_id, new_end + timedelta(minutes=1), moment)
    seen.append(stored_event())
    maintenance_store.cancel_window(store.db, window_id, created + timedelta(milliseconds=300))
    seen.append(stored_event())
    store.close()

    sequences = [sequence for sequence, _ in seen]
    stamps = [stamp for _, stamp in seen]
    assert sequences == sorted(set(sequences))
    assert stamps == sorted(set(stamps))
