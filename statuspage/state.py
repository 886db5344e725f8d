"""Component states and the rules that move a component from one state to another.

A component goes down only after `failures_before_down` consecutive failed runs and comes back
after `successes_before_up` consecutive successful ones. Between a first failure and the
threshold it keeps its state, so one lost packet does not open an outage.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime

from statuspage.config import Component
from statuspage.result import Outcome, Result


class State(enum.StrEnum):
    OPERATIONAL = "operational"
    DEGRADED = "degraded"
    DOWN = "down"
    NO_DATA = "no_data"


# Worst first: the page banner shows the worst state among components that have data.
SEVERITY = {State.DOWN: 3, State.DEGRADED: 2, State.OPERATIONAL: 1, State.NO_DATA: 0}


@dataclass(frozen=True)
class ComponentStatus:
    """What is known about a component now; persisted so a restart resumes where it stopped."""

    component_id: str
    state: State = State.NO_DATA
    since: datetime | None = None
    failures: int = 0  # consecutive failed runs
    successes: int = 0  # consecutive successful runs
    last_checked_at: datetime | None = None
    last_outcome: Outcome | None = None
    last_latency: float | None = None  # seconds, of the last run that got an answer
    last_reason: str = ""
    # False after a clean stop of the monitor, until its next run.
    observing: bool = True


@dataclass(frozen=True)
class Transition:
    component_id: str
    time: datetime
    from_state: State
    to_state: State
    reason: str


def next_status(
    status: ComponentStatus, result: Result, component: Component
) -> tuple[ComponentStatus, Transition | None]:
    """Apply one result to a component's status; return the new status and any transition."""
    updated = replace(
        status,
        last_checked_at=result.time,
        last_outcome=result.outcome,
        last_latency=result.latency if result.succeeded else None,
        last_reason=result.reason,
        observing=True,
    )

    if result.outcome is Outcome.NOT_CONFIGURED:
        updated = replace(updated, failures=0, successes=0)
        target = State.NO_DATA
    elif result.succeeded:
        updated = replace(updated, failures=0, successes=status.successes + 1)
        target = State.DEGRADED if result.outcome is Outcome.DEGRADED else State.OPERATIONAL
        if status.state is State.DOWN and updated.successes < component.successes_before_up:
            target = State.DOWN
    else:
        updated = replace(updated, failures=status.failures + 1, successes=0)
        target = State.DOWN if updated.failures >= component.failures_before_down else status.state

    if target is status.state:
        return updated, None

    reason = result.reason or _default_reason(target)
    transition = Transition(
        component_id=status.component_id,
        time=result.time,
        from_state=status.state,
        to_state=target,
        reason=reason,
    )
    return replace(updated, state=target, since=result.time), transition


def _default_reason(state: State) -> str:
    if state is State.OPERATIONAL:
        return "responding normally"
    return state.value.replace("_", " ")
