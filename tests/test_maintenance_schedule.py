"""Recurrence expansion, daylight saving rules and validation of maintenance input."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from cronsim import CronSim

from statuspage.maintenance import (
    HORIZON,
    MAX_WINDOW_LENGTH,
    MaintenanceError,
    MaintenanceInput,
    MaintenanceWindow,
    ValidationError,
    WindowStatus,
    check_extension,
    format_local,
    parse_display_at,
    parse_new_end,
    recurring_windows,
    validate_maintenance,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
TOKYO = ZoneInfo("Asia/Tokyo")
COMPONENTS = ("website", "api", "database")
NOW = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)


def local_windows(
    schedule: str, end_time: str, zone: ZoneInfo, first_day: datetime, days: int = 3
) -> list[tuple[str, str, timedelta]]:
    """Expand a schedule over `days` local days from `first_day` (naive, local midnight)."""
    after = first_day.replace(tzinfo=zone).astimezone(UTC) - timedelta(seconds=1)
    until = after + timedelta(days=days)
    return [
        (
            start.astimezone(zone).strftime("%m-%d %H:%M %Z"),
            end.astimezone(zone).strftime("%m-%d %H:%M %Z"),
            end - start,
        )
        for start, end in recurring_windows(schedule, end_time, zone, after, until)
    ]


def spec_errors(**fields: object) -> dict[str, str]:
    values: dict[str, object] = {
        "title": "Database upgrade",
        "timezone": "Asia/Tokyo",
        "components": ["database"],
        "starts_at": "2026-12-06T03:00",
        "ends_at": "2026-12-06T03:10",
    }
    values.update(fields)
    with pytest.raises(ValidationError) as raised:
        validate_maintenance(MaintenanceInput(**values), COMPONENTS, NOW)  # type: ignore[arg-type]
    return {name: str(message) for name, message in raised.value.errors.items()}


# Ordinary days


def test_pulllog_sunday_window_in_tokyo() -> None:
    windows = local_windows("0 3 * * SUN", "03:10", TOKYO, datetime(2026, 12, 5), days=9)
    assert windows == [
        ("12-06 03:00 JST", "12-06 03:10 JST", timedelta(minutes=10)),
        ("12-13 03:00 JST", "12-13 03:10 JST", timedelta(minutes=10)),
    ]


def test_tokyo_window_is_stored_in_utc() -> None:
    after = datetime(2026, 12, 5, tzinfo=UTC)
    windows = recurring_windows("0 3 * * SUN", "03:10", TOKYO, after, after + timedelta(days=2))
    assert windows == [
        (datetime(2026, 12, 5, 18, 0, tzinfo=UTC), datetime(2026, 12, 5, 18, 10, tzinfo=UTC))
    ]


def test_window_crossing_midnight_ends_next_day() -> None:
    windows = local_windows("30 23 * * *", "00:30", TOKYO, datetime(2026, 12, 5), days=1)
    assert windows == [("12-05 23:30 JST", "12-06 00:30 JST", timedelta(hours=1))]


def test_equal_times_mean_24_hours() -> None:
    windows = local_windows("0 3 * * *", "03:00", TOKYO, datetime(2026, 12, 5), days=1)
    assert windows == [("12-05 03:00 JST", "12-06 03:00 JST", timedelta(hours=24))]


def test_end_before_start_means_next_day() -> None:
    windows = local_windows("0 22 * * *", "02:00", TOKYO, datetime(2026, 12, 5), days=1)
    assert windows == [("12-05 22:00 JST", "12-06 02:00 JST", timedelta(hours=4))]


def test_windows_keep_local_time_across_summer_time() -> None:
    # The Saturday before and the Monday after Berlin's change on 2026-03-29.
    windows = local_windows("0 2 * * MON,SAT", "03:00", BERLIN, datetime(2026, 3, 28), days=3)
    assert windows == [
        ("03-28 02:00 CET", "03-28 03:00 CET", timedelta(hours=1)),
        ("03-30 02:00 CEST", "03-30 03:00 CEST", timedelta(hours=1)),
    ]


def test_utc_start_moves_by_the_shift() -> None:
    after = datetime(2026, 3, 27, tzinfo=UTC)
    windows = recurring_windows("0 3 * * *", "03:10", BERLIN, after, after + timedelta(days=4))
    assert [start.hour for start, _ in windows] == [2, 2, 1, 1]


# Spring forward: 02:00-03:00 local does not exist


@pytest.mark.parametrize(
    ("zone", "day", "abbreviations"),
    [
        (BERLIN, datetime(2026, 3, 28), ("CET", "CEST")),
        (NEW_YORK, datetime(2026, 3, 7), ("EST", "EDT")),
    ],
)
def test_window_inside_spring_gap_is_skipped(
    zone: ZoneInfo, day: datetime, abbreviations: tuple[str, str]
) -> None:
    before, after = abbreviations
    windows = local_windows("0 2 * * *", "03:00", zone, day, days=3)
    change_day = (day + timedelta(days=1)).strftime("%m-%d")
    assert [start for start, _, _ in windows] == [
        f"{day:%m-%d} 02:00 {before}",
        f"{day + timedelta(days=2):%m-%d} 02:00 {after}",
    ]
    assert all(not start.startswith(change_day) for start, _, _ in windows)


@pytest.mark.parametrize(
    ("zone", "day", "expected"),
    [
        (BERLIN, datetime(2026, 3, 29), ("03-29 01:30 CET", "03-29 03:00 CEST")),
        (NEW_YORK, datetime(2026, 3, 8), ("03-08 01:30 EST", "03-08 03:00 EDT")),
    ],
)
def test_end_in_spring_gap_moves_to_the_change(
    zone: ZoneInfo, day: datetime, expected: tuple[str, str]
) -> None:
    windows = local_windows("30 1 * * *", "02:30", zone, day, days=1)
    assert windows == [(*expected, timedelta(minutes=30))]


def test_start_in_spring_gap_moves_to_the_change() -> None:
    windows = local_windows("30 2 * * *", "04:00", BERLIN, datetime(2026, 3, 29), days=1)
    assert windows == [("03-29 03:00 CEST", "03-29 04:00 CEST", timedelta(hours=1))]


def test_start_in_gap_matches_cron() -> None:
    after = datetime(2026, 3, 28, 12, tzinfo=UTC)
    cron_start = next(CronSim("30 2 * * *", after.astimezone(BERLIN)))
    windows = recurring_windows("30 2 * * *", "04:00", BERLIN, after, after + timedelta(days=1))
    assert windows[0][0] == cron_start.astimezone(UTC)


def test_lord_howe_half_hour_gap() -> None:
    # Lord Howe Island moves from 02:00 to 02:30 on 2026-10-04.
    windows = local_windows("0 2 * * *", "03:00", LORD_HOWE, datetime(2026, 10, 4), days=1)
    assert windows == [("10-04 02:30 +11", "10-04 03:00 +11", timedelta(minutes=30))]


def test_24_hour_window_on_spring_day_is_23_hours() -> None:
    windows = local_windows("0 4 * * *", "04:00", BERLIN, datetime(2026, 3, 28), days=2)
    assert [length for _, _, length in windows] == [timedelta(hours=23), timedelta(hours=24)]


# Fall back: 02:00-03:00 local happens twice in Berlin, 01:00-02:00 in New York


def test_berlin_fall_back_window_covers_the_repeat() -> None:
    windows = local_windows("0 2 * * *", "03:00", BERLIN, datetime(2026, 10, 24), days=3)
    assert windows == [
        ("10-24 02:00 CEST", "10-24 03:00 CEST", timedelta(hours=1)),
        ("10-25 02:00 CEST", "10-25 03:00 CET", timedelta(hours=2)),
        ("10-26 02:00 CET", "10-26 03:00 CET", timedelta(hours=1)),
    ]


def test_new_york_fall_back_window_covers_the_repeat() -> None:
    windows = local_windows("0 1 * * *", "02:00", NEW_YORK, datetime(2026, 11, 1), days=1)
    assert windows == [("11-01 01:00 EDT", "11-01 02:00 EST", timedelta(hours=2))]


def test_new_york_window_after_repeat_is_unchanged() -> None:
    windows = local_windows("0 2 * * *", "03:00", NEW_YORK, datetime(2026, 11, 1), days=1)
    assert windows == [("11-01 02:00 EST", "11-01 03:00 EST", timedelta(hours=1))]


def test_start_in_repeated_hour_runs_once() -> None:
    windows = local_windows("30 2 * * *", "02:40", BERLIN, datetime(2026, 10, 25), days=1)
    assert len(windows) == 1


def test_window_inside_repeated_hour_spans_both_passes() -> None:
    windows = local_windows("30 2 * * *", "02:40", BERLIN, datetime(2026, 10, 25), days=1)
    assert windows == [("10-25 02:30 CEST", "10-25 02:40 CET", timedelta(hours=1, minutes=10))]


def test_lord_howe_fall_back_repeats_half_an_hour() -> None:
    # Lord Howe Island moves from 02:00 back to 01:30 on 2026-04-05.
    windows = local_windows("30 1 * * *", "02:00", LORD_HOWE, datetime(2026, 4, 5), days=1)
    assert windows == [("04-05 01:30 +11", "04-05 02:00 +1030", timedelta(minutes=60))]


def test_24_hour_window_on_fall_day_is_25_hours() -> None:
    windows = local_windows("0 4 * * *", "04:00", BERLIN, datetime(2026, 10, 24), days=2)
    assert [length for _, _, length in windows] == [timedelta(hours=25), timedelta(hours=24)]


def test_window_crossing_midnight_into_fall_back() -> None:
    windows = local_windows("0 23 * * SAT", "04:00", BERLIN, datetime(2026, 10, 24), days=1)
    assert windows == [("10-24 23:00 CEST", "10-25 04:00 CET", timedelta(hours=6))]


def test_tokyo_has_no_shift() -> None:
    windows = local_windows("0 2 * * *", "03:00", TOKYO, datetime(2026, 3, 28), days=3)
    assert [length for _, _, length in windows] == [timedelta(hours=1)] * 3


# Horizon


def test_daily_schedule_fills_the_horizon() -> None:
    windows = recurring_windows("0 3 * * *", "03:10", TOKYO, NOW, NOW + HORIZON)
    assert len(windows) == 90


def test_windows_start_after_the_given_time() -> None:
    after = datetime(2026, 12, 5, 18, 0, tzinfo=UTC)  # exactly 03:00 JST on a Sunday
    windows = recurring_windows("0 3 * * SUN", "03:10", TOKYO, after, after + timedelta(days=8))
    assert windows[0][0] == after + timedelta(days=7)


# Validation: one-off


def test_valid_one_off_is_converted_to_utc() -> None:
    spec = validate_maintenance(
        MaintenanceInput(
            title=" Database upgrade ",
            timezone="Asia/Tokyo",
            components=["database", "database"],
            starts_at="2026-12-06T03:00",
            ends_at="2026-12-06T03:10",
        ),
        COMPONENTS,
        NOW,
    )
    assert (spec.title, spec.components, spec.starts_at, spec.ends_at) == (
        "Database upgrade",
        ("database",),
        datetime(2026, 12, 5, 18, 0, tzinfo=UTC),
        datetime(2026, 12, 5, 18, 10, tzinfo=UTC),
    )


def test_title_is_required() -> None:
    assert "Title is required" in spec_errors(title="  ")["title"]


def test_title_length_is_limited() -> None:
    assert "201 characters" in spec_errors(title="x" * 201)["title"]


def test_unknown_timezone_names_the_value() -> None:
    message = spec_errors(timezone="Tokyo")["timezone"]
    assert "'Tokyo' is not an IANA time zone" in message
    assert "Asia/Tokyo" in message


@pytest.mark.parametrize("value", ["+09:00", "UTC+9", "GMT-5", "Etc/GMT-9", "EST"])
def test_fixed_offset_is_rejected(value: str) -> None:
    assert "fixed UTC offset" in spec_errors(timezone=value)["timezone"]


def test_utc_is_accepted() -> None:
    spec = validate_maintenance(
        MaintenanceInput(
            title="x", timezone="UTC", starts_at="2026-12-06T03:00", ends_at="2026-12-06T04:00"
        ),
        COMPONENTS,
        NOW,
    )
    assert spec.starts_at == datetime(2026, 12, 6, 3, tzinfo=UTC)


def test_end_must_follow_start() -> None:
    message = spec_errors(ends_at="2026-12-06T02:50")["ends_at"]
    assert message == (
        "End 2026-12-06 02:50 JST is not after the start 2026-12-06 03:00 JST: choose a later end."
    )


def test_bad_date_names_value_and_format() -> None:
    message = spec_errors(starts_at="06/12/2026 3am")["starts_at"]
    assert "'06/12/2026 3am' is not a date and time" in message
    assert "2026-12-06T03:00" in message


def test_missing_start_is_reported() -> None:
    assert "required" in spec_errors(starts_at="")["starts_at"]


def test_start_may_be_a_few_minutes_past() -> None:
    spec = validate_maintenance(
        MaintenanceInput(
            title="x",
            timezone="Asia/Tokyo",
            starts_at="2026-12-01T08:50",  # 10 minutes before NOW
            ends_at="2026-12-01T09:10",
        ),
        COMPONENTS,
        NOW,
    )
    assert spec.starts_at == NOW - timedelta(minutes=10)


def test_start_long_past_is_rejected() -> None:
    message = spec_errors(starts_at="2026-12-01T08:00", ends_at="2026-12-01T10:00")["starts_at"]
    assert "60 minutes in the past" in message
    assert "at most 15 minutes ago" in message


def test_unchanged_past_start_is_allowed_on_edit() -> None:
    start = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
    spec = validate_maintenance(
        MaintenanceInput(
            title="x", timezone="UTC", starts_at=start, ends_at=NOW + timedelta(hours=1)
        ),
        COMPONENTS,
        NOW,
        current_start=start,
    )
    assert spec.starts_at == start


def test_start_in_spring_gap_is_rejected() -> None:
    message = spec_errors(
        timezone="Europe/Berlin", starts_at="2027-03-28T02:30", ends_at="2027-03-28T04:00"
    )["starts_at"]
    assert message == (
        "2027-03-28 02:30 does not exist in Europe/Berlin, because the clocks move forward "
        "from 02:00 to 03:00 that night: choose 03:00 or later, or a time before 02:00."
    )


def test_one_off_in_repeated_hour_covers_both_passes() -> None:
    spec = validate_maintenance(
        MaintenanceInput(
            title="x",
            timezone="Europe/Berlin",
            starts_at="2027-10-31T02:00",
            ends_at="2027-10-31T02:30",
        ),
        COMPONENTS,
        NOW,
    )
    assert spec.starts_at is not None and spec.ends_at is not None
    assert spec.ends_at - spec.starts_at == timedelta(hours=1, minutes=30)


def test_aware_times_are_exact() -> None:
    # The second 02:30 of Berlin's fall-back night, given with its offset.
    second = datetime.fromisoformat("2027-10-31T02:30:00+01:00")
    spec = validate_maintenance(
        MaintenanceInput(
            title="x", timezone="Europe/Berlin", starts_at=second, ends_at=second + timedelta(1)
        ),
        COMPONENTS,
        NOW,
    )
    assert spec.starts_at == datetime(2027, 10, 31, 1, 30, tzinfo=UTC)


def test_unknown_component_lists_known_ones() -> None:
    message = spec_errors(components=["db"])["components"]
    assert message == "Unknown component db: choose from website, api, database."


# Validation: recurring


def recurring_errors(schedule: str = "0 3 * * SUN", end_time: str = "03:10") -> dict[str, str]:
    return spec_errors(recurring=True, schedule=schedule, end_time=end_time)


def test_valid_recurring_keeps_schedule_and_times() -> None:
    spec = validate_maintenance(
        MaintenanceInput(
            title="Weekly restart",
            timezone="Asia/Tokyo",
            recurring=True,
            schedule=" 0  3 * * SUN ",
            end_time="3:10",
        ),
        COMPONENTS,
        NOW,
    )
    assert (spec.schedule, spec.start_time, spec.end_time) == ("0 3 * * SUN", "03:00", "03:10")


def test_invalid_cron_shows_an_example() -> None:
    message = recurring_errors(schedule="0 25 * * *")["schedule"]
    assert "'0 25 * * *' is not a valid cron expression (Bad hour)" in message
    assert "'0 3 * * SUN'" in message


def test_cron_with_wrong_field_count_is_rejected() -> None:
    assert "has 3 fields" in recurring_errors(schedule="0 3 *")["schedule"]


def test_cron_with_several_start_times_is_rejected() -> None:
    message = recurring_errors(schedule="*/30 * * * *")["schedule"]
    assert "starts at more than one time of day" in message


def test_schedule_without_window_in_horizon_is_rejected() -> None:
    # The next 29 February after 2026-12-01 is in 2028.
    message = recurring_errors(schedule="0 3 29 2 *")["schedule"]
    assert "has no window in the next 90 days" in message


def test_missing_schedule_is_reported() -> None:
    assert "Schedule is required" in recurring_errors(schedule="")["schedule"]


def test_bad_end_time_names_the_value() -> None:
    message = recurring_errors(end_time="3.10")["end_time"]
    assert message == "'3.10' is not a time: use HH:MM, for example 03:10."


def test_errors_are_reported_together() -> None:
    errors = spec_errors(title="", timezone="Mars/Olympus", recurring=True, schedule="x")
    assert set(errors) == {"title", "timezone", "schedule", "end_time"}


# Lifecycle


def window(**fields: object) -> MaintenanceWindow:
    values: dict[str, object] = {
        "id": 1,
        "maintenance_id": 1,
        "title": "x",
        "components": (),
        "starts_at": NOW,
        "ends_at": NOW + timedelta(minutes=10),
    }
    values.update(fields)
    return MaintenanceWindow(**values)  # type: ignore[arg-type]


def test_status_follows_the_clock() -> None:
    plain = window()
    assert [plain.status(NOW + timedelta(minutes=m)) for m in (-1, 0, 9, 10)] == [
        WindowStatus.SCHEDULED,
        WindowStatus.IN_PROGRESS,
        WindowStatus.IN_PROGRESS,
        WindowStatus.COMPLETED,
    ]


def test_extension_by_minutes_adds_real_time() -> None:
    # 01:50 CET on Berlin's spring-forward night: 30 more minutes end at 03:20 CEST.
    current_end = datetime(2027, 3, 28, 0, 50, tzinfo=UTC)
    new_end = parse_new_end("", "+30", current_end, BERLIN)
    assert new_end.astimezone(BERLIN).strftime("%H:%M %Z") == "03:20 CEST"


def test_extension_to_local_end() -> None:
    new_end = parse_new_end("2026-12-06T03:30", "", NOW, TOKYO)
    assert new_end == datetime(2026, 12, 5, 18, 30, tzinfo=UTC)


def test_extension_needs_one_value() -> None:
    with pytest.raises(ValidationError) as raised:
        parse_new_end("", "", NOW, TOKYO)
    assert "Enter a new end" in str(raised.value.errors["ends_at"])


def test_extension_minutes_must_be_positive() -> None:
    with pytest.raises(ValidationError) as raised:
        parse_new_end("", "-5", NOW, TOKYO)
    assert "'-5' is not a number of minutes" in str(raised.value.errors["minutes"])


# Limits on times and lengths


RANGE_MESSAGE = (
    "is outside the allowed range: enter a time from 1970-01-01 00:00 UTC "
    "to before 9000-01-01 00:00 UTC."
)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("starts_at", "0001-01-01T00:00"),
        ("starts_at", "1969-12-31T23:59"),
        ("ends_at", "9999-12-31T23:59"),
        ("ends_at", "9000-01-01T09:00"),
    ],
)
def test_local_time_out_of_range_is_rejected(field: str, value: str) -> None:
    message = spec_errors(**{field: value})[field]
    assert message.endswith(RANGE_MESSAGE)


def test_out_of_range_message_names_field() -> None:
    message = spec_errors(ends_at="9999-12-31T23:59")["ends_at"]
    assert message.startswith("End 9999-12-31T23:59 ")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("starts_at", datetime(1, 1, 1, tzinfo=ZoneInfo("Asia/Tokyo"))),
        ("starts_at", datetime.fromisoformat("0001-01-01T00:00:00+09:00")),
        ("ends_at", datetime.fromisoformat("9999-12-31T23:59:00-05:00")),
        ("ends_at", datetime(9999, 12, 31, 23, tzinfo=UTC)),
    ],
)
def test_aware_time_out_of_range_is_rejected(field: str, value: datetime) -> None:
    fields: dict[str, object] = {
        "starts_at": datetime(2026, 12, 6, 3, tzinfo=UTC),
        "ends_at": datetime(2026, 12, 6, 4, tzinfo=UTC),
        field: value,
    }
    assert spec_errors(**fields)[field].endswith(RANGE_MESSAGE)


def test_window_of_seven_days_is_accepted() -> None:
    spec = validate_maintenance(
        MaintenanceInput(
            title="x",
            timezone="Asia/Tokyo",
            starts_at="2026-12-06T03:00",
            ends_at="2026-12-13T03:00",
        ),
        COMPONENTS,
        NOW,
    )
    assert spec.ends_at == datetime(2026, 12, 12, 18, tzinfo=UTC)


def test_window_longer_than_seven_days_is_rejected() -> None:
    message = spec_errors(ends_at="2026-12-13T03:01")["ends_at"]
    assert message == (
        "End 2026-12-13 03:01 JST is 168 hours 1 minute after the start 2026-12-06 03:00 JST, "
        "but a window may last at most 168 hours (7 days): choose an earlier end, or schedule "
        "several windows."
    )


def test_long_rejected_value_is_shortened() -> None:
    message = spec_errors(starts_at="x" * 5000)["starts_at"]
    assert len(message) < 200


def test_first_update_length_is_limited() -> None:
    message = spec_errors(body="x" * 20_001)["body"]
    assert message == "First update is 20001 characters long: shorten it to at most 20000."


@pytest.mark.parametrize("title", ["Database\nupgrade", "Database\x00upgrade", "A\u2028B"])
def test_title_control_characters_are_rejected(title: str) -> None:
    message = spec_errors(title=title)["title"]
    assert "it must be one line without control characters" in message


def test_title_message_names_character() -> None:
    message = spec_errors(title="Database\u0085upgrade")["title"]
    assert message.startswith("Title contains U+0085 at position 9")


@pytest.mark.parametrize("text", ["0001-01-01T00:00", "9999-12-31T23:59", "1969-12-31T12:00"])
def test_update_display_time_out_of_range_is_rejected(text: str) -> None:
    with pytest.raises(ValidationError) as raised:
        parse_display_at(text, TOKYO, NOW)
    assert str(raised.value.errors["display_at"]).endswith(RANGE_MESSAGE)


@pytest.mark.parametrize("minutes", ["²", "①", "\uff13\uff10", "1e3", "9" * 5000])
def test_extension_minutes_must_be_ascii_digits(minutes: str) -> None:
    with pytest.raises(ValidationError) as raised:
        parse_new_end("", minutes, NOW, TOKYO)
    assert "is not a number of minutes" in str(raised.value.errors["minutes"])


def test_extension_to_end_out_of_range_is_rejected() -> None:
    with pytest.raises(ValidationError) as raised:
        parse_new_end("9999-12-31T23:59", "", NOW, TOKYO)
    assert str(raised.value.errors["ends_at"]).endswith(RANGE_MESSAGE)


def test_extension_beyond_window_limit_names_minutes() -> None:
    starts_at = NOW - timedelta(days=6)
    with pytest.raises(ValidationError) as raised:
        parse_new_end("", "1441", NOW, TOKYO, starts_at=starts_at)
    assert "but a window may last at most 168 hours" in str(raised.value.errors["minutes"])


def test_extension_up_to_window_limit_is_accepted() -> None:
    starts_at = NOW - timedelta(days=6)
    assert parse_new_end("", "1440", NOW, TOKYO, starts_at=starts_at) == starts_at + (
        MAX_WINDOW_LENGTH
    )


def test_stored_extension_beyond_window_limit_is_rejected() -> None:
    current = window(starts_at=NOW - timedelta(hours=1), ends_at=NOW + timedelta(hours=1))
    new_end = current.starts_at + MAX_WINDOW_LENGTH + timedelta(minutes=1)
    with pytest.raises(MaintenanceError) as raised:
        check_extension(current, new_end, NOW, TOKYO)
    assert raised.value.field == "ends_at"


def test_format_local_falls_back_to_utc_when_out_of_range() -> None:
    moment = datetime(9999, 12, 31, 23, tzinfo=UTC)
    assert format_local(moment, TOKYO) == "9999-12-31 23:00 UTC"
