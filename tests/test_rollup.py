from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from statuspage.rollup import observed_span, split_by_day

TOKYO = ZoneInfo("Asia/Tokyo")
BERLIN = ZoneInfo("Europe/Berlin")


def test_span_split_at_tokyo_midnight() -> None:
    start = datetime(2026, 3, 1, 14, 59, tzinfo=UTC)  # 23:59 in Tokyo
    pieces = split_by_day(start, start + timedelta(minutes=2), TOKYO)
    assert pieces == [(date(2026, 3, 1), 60.0), (date(2026, 3, 2), 60.0)]


def test_spring_forward_day_has_23_hours() -> None:
    start = datetime(2026, 3, 29, 0, 0, tzinfo=BERLIN)
    end = datetime(2026, 3, 30, 0, 0, tzinfo=BERLIN)
    assert split_by_day(start, end, BERLIN) == [(date(2026, 3, 29), 23 * 3600.0)]


def test_fall_back_day_has_25_hours() -> None:
    start = datetime(2026, 10, 25, 0, 0, tzinfo=BERLIN)
    end = datetime(2026, 10, 26, 0, 0, tzinfo=BERLIN)
    assert split_by_day(start, end, BERLIN) == [(date(2026, 10, 25), 25 * 3600.0)]


def test_gap_longer_than_max_is_cut() -> None:
    previous = datetime(2026, 3, 1, tzinfo=UTC)
    span = observed_span(previous, previous + timedelta(hours=5), max_gap=130)
    assert span == (previous, previous + timedelta(seconds=130))


def test_first_run_has_no_span() -> None:
    assert observed_span(None, datetime(2026, 3, 1, tzinfo=UTC), max_gap=130) is None


def test_clock_going_backwards_has_no_span() -> None:
    now = datetime(2026, 3, 1, tzinfo=UTC)
    assert observed_span(now, now - timedelta(seconds=5), max_gap=130) is None


def test_fall_back_across_midnight_has_no_negative_day() -> None:
    # America/Goose_Bay turned clocks back from 00:01 to 23:01 on 2005-10-30.
    zone = ZoneInfo("America/Goose_Bay")
    start = datetime(2005, 10, 29, 12, 0, tzinfo=zone)
    end = datetime(2005, 10, 31, 0, 0, tzinfo=zone)
    pieces = split_by_day(start, end, zone)
    assert all(seconds > 0 for _, seconds in pieces)
    assert sum(seconds for _, seconds in pieces) == (end - start.astimezone(UTC)).total_seconds()
