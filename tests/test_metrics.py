from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from statuspage.metrics import STATES, ComponentMetrics, render_metrics

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def samples(components: list[ComponentMetrics], metric: str) -> list[Sample]:
    text = render_metrics(components, NOW).decode("utf-8")
    families = {family.name: family for family in text_string_to_metric_families(text)}
    if metric not in families:
        return []
    return list(families[metric].samples)


def values_by_label(items: list[Sample], label: str) -> dict[str, float]:
    return {sample.labels[label]: sample.value for sample in items}


def component(**changes: Any) -> ComponentMetrics:
    return replace(ComponentMetrics(id="api", name="API", state="operational"), **changes)


def test_state_is_one_hot() -> None:
    states = values_by_label(
        samples([component(state="degraded")], "statuspage_component_state"), "state"
    )

    assert states["degraded"] == 1
    assert sum(states.values()) == 1


def test_state_lists_every_state() -> None:
    states = values_by_label(samples([component()], "statuspage_component_state"), "state")

    assert sorted(states) == sorted(STATES)


def test_state_down_counts_as_major_outage() -> None:
    states = values_by_label(
        samples([component(state="down")], "statuspage_component_state"), "state"
    )

    assert states["major_outage"] == 1


def test_state_rejects_unknown_state() -> None:
    with pytest.raises(ValueError, match="unknown state 'broken' for component 'api'"):
        render_metrics([component(state="broken")], NOW)


def test_state_series_per_component() -> None:
    items = samples(
        [component(), component(id="db", name="DB", state="no_data")],
        "statuspage_component_state",
    )
    current = {
        sample.labels["component"]: sample.labels["state"] for sample in items if sample.value
    }

    assert current == {"api": "operational", "db": "no_data"}


def test_response_time_in_seconds() -> None:
    items = samples([component(latency_seconds=0.142)], "statuspage_response_time_seconds")

    assert values_by_label(items, "component") == {"api": 0.142}


def test_response_time_omitted_when_unknown() -> None:
    assert samples([component()], "statuspage_response_time_seconds") == []


def test_response_time_rejects_negative_latency() -> None:
    with pytest.raises(ValueError, match="invalid latency"):
        render_metrics([component(latency_seconds=-0.1)], NOW)


def test_last_check_timestamp_in_unix_seconds() -> None:
    checked = NOW - timedelta(seconds=30)
    items = samples([component(last_checked_at=checked)], "statuspage_last_check_timestamp_seconds")

    assert values_by_label(items, "component") == {"api": checked.timestamp()}


def test_last_check_omitted_before_first_check() -> None:
    assert samples([component()], "statuspage_last_check_timestamp_seconds") == []


def test_uptime_ratio_by_period() -> None:
    uptime = {"24h": 1.0, "7d": 0.9995, "30d": 0.99996, "90d": 0.5}
    items = samples([component(uptime=uptime)], "statuspage_uptime_ratio")

    assert values_by_label(items, "period") == uptime


def test_uptime_without_data_is_omitted() -> None:
    items = samples([component(uptime={"24h": None, "7d": 0.999})], "statuspage_uptime_ratio")

    assert values_by_label(items, "period") == {"7d": 0.999}


def test_uptime_zero_is_exported() -> None:
    items = samples([component(uptime={"24h": 0.0})], "statuspage_uptime_ratio")

    assert values_by_label(items, "period") == {"24h": 0.0}


def test_uptime_rejects_unknown_period() -> None:
    with pytest.raises(ValueError, match="unknown uptime period '1y'"):
        render_metrics([component(uptime={"1y": 0.9})], NOW)


def test_uptime_rejects_ratio_above_one() -> None:
    with pytest.raises(ValueError, match="invalid uptime ratio"):
        render_metrics([component(uptime={"24h": 1.2})], NOW)


def test_certificate_expiry_when_known() -> None:
    expiry = datetime(2026, 6, 1, tzinfo=UTC)
    items = samples(
        [component(certificate_expiry=expiry)], "statuspage_certificate_expiry_timestamp_seconds"
    )

    assert values_by_label(items, "component") == {"api": expiry.timestamp()}


def test_certificate_expiry_omitted_when_unknown() -> None:
    assert samples([component()], "statuspage_certificate_expiry_timestamp_seconds") == []


def test_component_info_carries_name() -> None:
    items = samples([component(name="Public API")], "statuspage_component_info")

    assert values_by_label(items, "name") == {"Public API": 1.0}


def test_label_values_are_escaped() -> None:
    name = 'API "v2"\\edge\nline two'
    items = samples([component(name=name)], "statuspage_component_info")

    assert [sample.labels["name"] for sample in items] == [name]


def test_label_value_keeps_japanese_text() -> None:
    items = samples([component(name="決済 API")], "statuspage_component_info")

    assert [sample.labels["name"] for sample in items] == ["決済 API"]


def test_snapshot_timestamp_is_now() -> None:
    items = samples([], "statuspage_snapshot_timestamp_seconds")

    assert [sample.value for sample in items] == [NOW.timestamp()]


def test_each_call_uses_fresh_registry() -> None:
    render_metrics([component(id="old")], NOW)
    items = samples([component(id="new")], "statuspage_component_info")

    assert values_by_label(items, "component") == {"new": 1.0}


def test_output_is_text_format_with_types() -> None:
    text = render_metrics([component()], NOW).decode("utf-8")

    assert "# TYPE statuspage_component_state gauge\n" in text


def test_rejects_naive_datetime() -> None:
    with pytest.raises(ValueError, match="aware datetime"):
        render_metrics([component(last_checked_at=datetime(2026, 3, 1))], NOW)


def test_rejects_duplicate_component() -> None:
    with pytest.raises(ValueError, match="listed twice"):
        render_metrics([component(), component()], NOW)
