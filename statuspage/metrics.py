"""Component state, response time, uptime and certificate expiry in the Prometheus text format.

Every call builds a fresh `CollectorRegistry`, so the output contains exactly the components
passed in and nothing from the process-wide default registry. Values that are not known are
left out instead of exported as 0, because a 0 would read as "down" or "expired".
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest

__all__ = [
    "CONTENT_TYPE",
    "STATES",
    "UPTIME_PERIODS",
    "ComponentMetrics",
    "render_metrics",
]

CONTENT_TYPE = CONTENT_TYPE_LATEST  # the Content-Type header to send with `render_metrics`
# Every state gets a series, so a query like `statuspage_component_state{state="degraded"} == 1`
# finds each component without knowing its current state.
STATES = ("operational", "degraded", "partial_outage", "major_outage", "maintenance", "no_data")
# The monitor reports a failing component as "down", which the page counts as a major outage.
_STATE_ALIASES = {"down": "major_outage"}
UPTIME_PERIODS = ("24h", "7d", "30d", "90d")


@dataclass(frozen=True)
class ComponentMetrics:
    """The exported values of one component, with None for a value that is not known."""

    id: str
    name: str
    state: str  # one of STATES, or "down"
    last_checked_at: datetime | None = None  # aware
    latency_seconds: float | None = None  # of the last check that received a response
    uptime: Mapping[str, float | None] = field(default_factory=dict)  # by UPTIME_PERIODS key
    certificate_expiry: datetime | None = None  # aware; the TLS certificate's notAfter


def render_metrics(components: Iterable[ComponentMetrics], now: datetime) -> bytes:
    """Render the metrics of `components` as of `now`.

    Raises ValueError on an unknown state or uptime period, an out-of-range number, a naive
    datetime or a component listed twice.
    """
    registry = CollectorRegistry(auto_describe=True)
    snapshot_time = Gauge(
        "statuspage_snapshot_timestamp_seconds",
        "Unix time at which the exported component data was computed.",
        registry=registry,
    )
    info = Gauge(
        "statuspage_component_info",
        "Always 1; the labels give each component's display name.",
        ["component", "name"],
        registry=registry,
    )
    state = Gauge(
        "statuspage_component_state",
        "1 for the component's current state and 0 for every other state.",
        ["component", "state"],
        registry=registry,
    )
    response_time = Gauge(
        "statuspage_response_time_seconds",
        "Response time of the last check that received a response.",
        ["component"],
        registry=registry,
    )
    last_check = Gauge(
        "statuspage_last_check_timestamp_seconds",
        "Unix time of the component's last check.",
        ["component"],
        registry=registry,
    )
    uptime = Gauge(
        "statuspage_uptime_ratio",
        "Share of observed time the component was not down, from 0 to 1; "
        "absent for a period with no observations.",
        ["component", "period"],
        registry=registry,
    )
    certificate_expiry = Gauge(
        "statuspage_certificate_expiry_timestamp_seconds",
        "Unix time at which the component's TLS certificate expires.",
        ["component"],
        registry=registry,
    )

    snapshot_time.set(_timestamp(now, "now"))
    seen: set[str] = set()
    for component in components:
        if component.id in seen:
            raise ValueError(f"component {component.id!r} is listed twice")
        seen.add(component.id)
        current = _normalize_state(component)

        info.labels(component.id, component.name).set(1)
        for name in STATES:
            state.labels(component.id, name).set(1 if name == current else 0)
        if component.latency_seconds is not None:
            response_time.labels(component.id).set(
                _latency(component.latency_seconds, component.id)
            )
        if component.last_checked_at is not None:
            last_check.labels(component.id).set(
                _timestamp(component.last_checked_at, f"{component.id} last_checked_at")
            )
        for period, ratio in _uptime(component):
            uptime.labels(component.id, period).set(ratio)
        if component.certificate_expiry is not None:
            certificate_expiry.labels(component.id).set(
                _timestamp(component.certificate_expiry, f"{component.id} certificate_expiry")
            )
    return generate_latest(registry)


def _normalize_state(component: ComponentMetrics) -> str:
    state = _STATE_ALIASES.get(component.state, component.state)
    if state not in STATES:
        raise ValueError(
            f"unknown state {component.state!r} for component {component.id!r}: "
            f"expected one of {', '.join(STATES)} or down"
        )
    return state


def _latency(seconds: float, component_id: str) -> float:
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(
            f"invalid latency {seconds!r} s for component {component_id!r}: expected 0 or more"
        )
    return seconds


def _uptime(component: ComponentMetrics) -> list[tuple[str, float]]:
    """Return the periods that have data, in UPTIME_PERIODS order."""
    unknown = set(component.uptime) - set(UPTIME_PERIODS)
    if unknown:
        raise ValueError(
            f"unknown uptime period {sorted(unknown)[0]!r} for component {component.id!r}: "
            f"expected one of {', '.join(UPTIME_PERIODS)}"
        )
    ratios = []
    for period in UPTIME_PERIODS:
        ratio = component.uptime.get(period)
        if ratio is None:
            continue
        if not 0 <= ratio <= 1:
            raise ValueError(
                f"invalid uptime ratio {ratio!r} for component {component.id!r} over {period}: "
                "expected a number from 0 to 1"
            )
        ratios.append((period, ratio))
    return ratios


def _timestamp(moment: datetime, field_name: str) -> float:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{field_name} must be an aware datetime, got naive {moment.isoformat()}")
    return moment.timestamp()
