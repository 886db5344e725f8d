from datetime import date

from statuspage.store import DailyRollup
from statuspage.uptime import daily_uptime, day_uptime, format_percent, overall_ratio

DAY = date(2026, 3, 1)


def rollup(**seconds: float) -> DailyRollup:
    return DailyRollup(component_id="api", day=DAY, **seconds)


def test_day_without_rollup_is_no_data() -> None:
    assert day_uptime(DAY, None).ratio is None


def test_day_with_only_unobserved_time_is_no_data() -> None:
    assert day_uptime(DAY, rollup(no_data_s=3600)).ratio is None


def test_uptime_is_time_weighted() -> None:
    assert day_uptime(DAY, rollup(operational_s=3000, down_s=600)).ratio == 3000 / 3600


def test_degraded_time_is_not_downtime() -> None:
    assert day_uptime(DAY, rollup(operational_s=1800, degraded_s=1800)).ratio == 1.0


def test_maintenance_time_is_excluded() -> None:
    assert day_uptime(DAY, rollup(operational_s=900, down_s=100, maintenance_s=5000)).ratio == 0.9


def test_overall_ratio_weights_days_by_observed_time() -> None:
    days = [
        day_uptime(DAY, rollup(operational_s=86400)),
        day_uptime(DAY, rollup(operational_s=0, down_s=3600)),
        day_uptime(DAY, None),
    ]
    assert overall_ratio(days) == 86400 / 90000


def test_overall_ratio_without_data_is_none() -> None:
    assert overall_ratio([day_uptime(DAY, None)]) is None


def test_daily_uptime_covers_requested_days() -> None:
    days = daily_uptime({}, DAY, 90)
    assert len(days) == 90
    assert days[-1].day == DAY


def test_percent_rounds_down() -> None:
    assert format_percent(0.99996) == "99.99%"


def test_percent_is_100_only_without_downtime() -> None:
    assert format_percent(1.0) == "100.00%"
    assert format_percent(0.9999999) == "99.99%"


def test_percent_keeps_exact_values() -> None:
    assert format_percent(0.9995) == "99.95%"


def test_percent_of_nothing_is_none() -> None:
    assert format_percent(None) is None
