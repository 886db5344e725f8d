"""The Jinja2 filters that every page uses."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from statuspage.web.templating import create_templates

TOKYO = ZoneInfo("Asia/Tokyo")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")


def local_time(zone: ZoneInfo, moment: datetime | None, pattern: str | None = None) -> str:
    local_time_filter = create_templates(zone).env.filters["local_time"]
    text: str = local_time_filter(moment) if pattern is None else local_time_filter(moment, pattern)
    return text


def test_local_time_in_site_zone() -> None:
    moment = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
    assert local_time(TOKYO, moment) == "2026-12-04 12:00:00 JST"


def test_local_time_of_none_is_empty() -> None:
    assert local_time(TOKYO, None) == ""


@pytest.mark.parametrize(
    ("zone", "moment", "text"),
    [
        (TOKYO, datetime(9999, 12, 31, 23, 0, tzinfo=UTC), "9999-12-31T23:00:00+00:00"),
        (LOS_ANGELES, datetime(1, 1, 1, 0, 0, tzinfo=UTC), "0001-01-01T00:00:00+00:00"),
    ],
)
def test_local_time_out_of_range_shows_utc(zone: ZoneInfo, moment: datetime, text: str) -> None:
    assert local_time(zone, moment, "%Y-%m-%d %H:%M %Z") == text
