"""Turn the time between two runs into seconds per local day, for the daily rollups.

A run's state is assumed to hold until the next run, but never for longer than `max_gap`
seconds: after a stop of the monitor the rest of the gap is unobserved ("no data"), neither up
nor down. Days are the site's local days, so a day in a zone with daylight saving can last 23
or 25 hours.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def observed_span(
    previous: datetime | None, current: datetime, max_gap: float
) -> tuple[datetime, datetime] | None:
    """Return the span after `previous` that the previous state covers, or None."""
    if previous is None or current <= previous:
        return None
    end = min(current, previous + timedelta(seconds=max_gap))
    return previous, end


def local_day_start(day: date, zone: ZoneInfo) -> datetime:
    """Midnight of a local day, in UTC."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def split_by_day(start: datetime, end: datetime, zone: ZoneInfo) -> list[tuple[date, float]]:
    """Split [start, end) into (local day, seconds) pieces."""
    pieces: list[tuple[date, float]] = []
    # Work in UTC: subtracting two datetimes that share a tzinfo ignores DST changes between them.
    cursor = start.astimezone(UTC)
    end = end.astimezone(UTC)
    while cursor < end:
        day = cursor.astimezone(zone).date()
        next_midnight = local_day_start(day + timedelta(days=1), zone)
        if next_midnight <= cursor:
            # Clocks fell back across midnight, so the next local midnight happens twice and
            # the cursor is already past its first occurrence.
            next_midnight = (
                datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
                .replace(fold=1)
                .astimezone(UTC)
            )
        piece_end = min(end, next_midnight)
        if piece_end <= cursor:
            break
        pieces.append((day, (piece_end - cursor).total_seconds()))
        cursor = piece_end
    return pieces


def max_gap_for(interval: float, timeout: float) -> float:
    """Return the maximum time one run stands for: one missed run is tolerated, two are a gap."""
    return 2 * interval + timeout
