"""Uptime, computed in one place from daily rollups.

Uptime is time-weighted: the share of observed time in which a component was not down.
Degraded time counts as up. Time with no observations (monitor stopped, check not configured)
and maintenance time are left out of both sides, so a day without data is "no data", never 0%
or 100%.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from statuspage.store import DailyRollup


@dataclass(frozen=True)
class DayUptime:
    day: date
    observed_s: float
    down_s: float
    degraded_s: float
    latency_avg_ms: float | None
    maintenance_s: float = 0.0  # left out of `observed_s`

    @property
    def ratio(self) -> float | None:
        if self.observed_s <= 0:
            return None
        return (self.observed_s - self.down_s) / self.observed_s


def observed_seconds(rollup: DailyRollup) -> float:
    return rollup.operational_s + rollup.degraded_s + rollup.down_s


def day_uptime(day: date, rollup: DailyRollup | None) -> DayUptime:
    if rollup is None:
        return DayUptime(day, 0.0, 0.0, 0.0, None)
    average = rollup.latency_sum_ms / rollup.latency_count if rollup.latency_count else None
    return DayUptime(
        day=day,
        observed_s=observed_seconds(rollup),
        down_s=rollup.down_s,
        degraded_s=rollup.degraded_s,
        latency_avg_ms=average,
        maintenance_s=rollup.maintenance_s,
    )


def daily_uptime(rollups: dict[date, DailyRollup], last_day: date, days: int) -> list[DayUptime]:
    """Return one entry per day, oldest first, ending with `last_day`."""
    first_day = last_day - timedelta(days=days - 1)
    return [
        day_uptime(
            first_day + timedelta(days=offset), rollups.get(first_day + timedelta(days=offset))
        )
        for offset in range(days)
    ]


def overall_ratio(days: Iterable[DayUptime]) -> float | None:
    observed = 0.0
    down = 0.0
    for day in days:
        observed += day.observed_s
        down += day.down_s
    if observed <= 0:
        return None
    return (observed - down) / observed


def format_percent(ratio: float | None, decimals: int = 2) -> str | None:
    """Format a ratio as a percentage, rounded down so any downtime shows below 100%."""
    if ratio is None:
        return None
    scale = 10**decimals
    # Round down, with a little slack for float error so an exact 99.95% stays 99.95%.
    value = math.floor(ratio * 100 * scale + 1e-6) / scale
    if value >= 100 and ratio < 1:
        value = 100 - 1 / scale
    return f"{value:.{decimals}f}%"
