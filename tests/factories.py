"""Small builders for settings and results used across tests."""

from __future__ import annotations

from datetime import UTC, datetime

from statuspage.config import Component, HttpCheck
from statuspage.result import Failure, Outcome, Result

T0 = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)


def component(
    component_id: str = "api", failures_before_down: int = 2, successes_before_up: int = 1
) -> Component:
    return Component(
        id=component_id,
        name=component_id.upper(),
        check=HttpCheck(url="http://127.0.0.1:9/", timeout=10.0),
        interval=60.0,
        retry_interval=20.0,
        failures_before_down=failures_before_down,
        successes_before_up=successes_before_up,
    )


def ok(time: datetime, latency: float = 0.1, component_id: str = "api") -> Result:
    return Result(component_id, time, Outcome.OK, latency=latency)


def slow(time: datetime, latency: float = 4.0, component_id: str = "api") -> Result:
    return Result(component_id, time, Outcome.DEGRADED, latency=latency, reason="slow response")


def failed(time: datetime, component_id: str = "api", reason: str = "HTTP 500") -> Result:
    return Result(
        component_id, time, Outcome.FAILED, latency=0.05, failure=Failure.STATUS, reason=reason
    )
