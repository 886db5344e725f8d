"""Component states and the rules that move a component from one state to another.

A component goes down only after `failures_before_down` consecutive failed runs and comes back
after `successes_before_up` consecutive successful ones. Between a first failure and the
threshold it keeps its state, so one lost packet does not open an outage.

Visitors see an effective state (`EffectiveState`) built on top of the check's state: an
in-progress maintenance window shows "maintenance", and an open incident shows the state the
operator declared unless the check reports worse. The check's state machine does not take
either into account.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from statuspage.config import Component
from statuspage.incidents import ComponentImpact, Impact
from statuspage.maintenance import MaintenanceWindow
from statuspage.result import Outcome, Result


class State(enum.StrEnum):
    OPERATIONAL = "operational"
    DEGRADED = "degraded"
    DOWN = "down"
    NO_DATA = "no_data"
    # Only in transition rows written at maintenance window boundaries; `next_status` never
    # produces it, so a component's stored check state is never "maintenance".
    MAINTENANCE = "maintenance"


class EffectiveState(enum.StrEnum):
    """The state of a component as visitors see it."""

    OPERATIONAL = "operational"
    DEGRADED = "degraded"
    PARTIAL_OUTAGE = "partial_outage"
    MAJOR_OUTAGE = "major_outage"
    MAINTENANCE = "maintenance"
    NO_DATA = "no_data"


# Higher is worse. The page banner shows the worst state among components that have data, and
# maintenance ranks above operational so the banner shows it when nothing is worse.
EFFECTIVE_SEVERITY = {
    EffectiveState.MAJOR_OUTAGE: 5,
    EffectiveState.PARTIAL_OUTAGE: 4,
    EffectiveState.DEGRADED: 3,
    EffectiveState.MAINTENANCE: 2,
    EffectiveState.OPERATIONAL: 1,
    EffectiveState.NO_DATA: 0,
}

# The page-wide state that an open incident's impact shows, as Statuspage's status indicator
# ranks them: minor matches degraded, major a partial outage and critical a major outage.
IMPACT_STATES = {
    Impact.MINOR: EffectiveState.DEGRADED,
    Impact.MAJOR: EffectiveState.PARTIAL_OUTAGE,
    Impact.CRITICAL: EffectiveState.MAJOR_OUTAGE,
}

_CHECK_EFFECTIVE_STATES = {
    State.OPERATIONAL: EffectiveState.OPERATIONAL,
    State.DEGRADED: EffectiveState.DEGRADED,
    State.DOWN: EffectiveState.MAJOR_OUTAGE,
    State.NO_DATA: EffectiveState.NO_DATA,
    State.MAINTENANCE: EffectiveState.MAINTENANCE,
}


@dataclass(frozen=True)
class ComponentStatus:
    """Current status of a component, persisted so that a restart resumes where it stopped."""

    component_id: str
    state: State = State.NO_DATA
    since: datetime | None = None
    failures: int = 0  # consecutive failed runs
    successes: int = 0  # consecutive successful runs
    last_checked_at: datetime | None = None
    last_outcome: Outcome | None = None
    last_latency: float | None = None  # seconds, of the last run that got a response
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


# Effective state and maintenance coverage


def effective_state(
    check_state: State, declared: Iterable[ComponentImpact], in_maintenance: bool
) -> EffectiveState:
    """Combine the check's state, the states declared by open incidents and maintenance.

    An incident's declared state wins over maintenance, because an operator who posts an
    incident during maintenance is saying that something beyond the planned work is wrong.
    Without an incident, maintenance hides the check's state. Otherwise the worse of the
    declared state and the check's state is shown.
    """
    declared_states = [EffectiveState(impact.value) for impact in declared]
    worst_declared = max(declared_states, key=EFFECTIVE_SEVERITY.__getitem__, default=None)
    if in_maintenance:
        return worst_declared or EffectiveState.MAINTENANCE
    checked = _CHECK_EFFECTIVE_STATES[check_state]
    if worst_declared is None:
        return checked
    return max(worst_declared, checked, key=EFFECTIVE_SEVERITY.__getitem__)


def overall_state(states: Iterable[EffectiveState]) -> EffectiveState:
    """Return the state for the page banner: the worst state among components with data.

    A major outage of some components is a partial outage of the whole. The banner shows a
    major outage only when every component with data and not in maintenance has one.
    """
    with_data = [state for state in states if state is not EffectiveState.NO_DATA]
    if not with_data:
        return EffectiveState.NO_DATA
    worst = max(with_data, key=EFFECTIVE_SEVERITY.__getitem__)
    if worst is EffectiveState.MAJOR_OUTAGE:
        others = [state for state in with_data if state is not EffectiveState.MAINTENANCE]
        if all(state is EffectiveState.MAJOR_OUTAGE for state in others):
            return EffectiveState.MAJOR_OUTAGE
        return EffectiveState.PARTIAL_OUTAGE
    return worst


def page_state(
    component_states: Iterable[EffectiveState], incident_impacts: Iterable[Impact]
) -> EffectiveState:
    """Return the state of the whole page: the components' `overall_state`, raised to the
    state of the worst impact among open incidents (`IMPACT_STATES`).

    An operator may open an incident without declaring a state for any component, and its
    impact still shows on the banner, as the Statuspage v2 indicator shows it.
    """
    states = [overall_state(component_states)]
    states += [IMPACT_STATES[impact] for impact in incident_impacts if impact in IMPACT_STATES]
    return max(states, key=EFFECTIVE_SEVERITY.__getitem__)


def maintenance_coverage(
    windows: Iterable[MaintenanceWindow], component_id: str
) -> list[tuple[datetime, datetime]]:
    """Return the spans in which a window covers the component, merged and in time order.

    Overlapping or touching windows merge into one span, so back-to-back windows are one
    maintenance for the component. Cancelled windows and windows that never started are
    expected to be filtered out by the caller; an early end is taken into account.
    """
    spans = sorted(
        (window.starts_at, window.effective_end)
        for window in windows
        if component_id in window.components and window.effective_end > window.starts_at
    )
    merged: list[tuple[datetime, datetime]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def covered_at(coverage: Iterable[tuple[datetime, datetime]], moment: datetime) -> bool:
    return any(start <= moment < end for start, end in coverage)


def split_by_coverage(
    start: datetime, end: datetime, coverage: Iterable[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime, bool]]:
    """Split [start, end) into (start, end, in maintenance) pieces, in time order."""
    pieces: list[tuple[datetime, datetime, bool]] = []
    cursor = start
    for span_start, span_end in coverage:
        if span_end <= cursor or span_start >= end:
            continue
        if span_start > cursor:
            pieces.append((cursor, span_start, False))
            cursor = span_start
        piece_end = min(span_end, end)
        pieces.append((cursor, piece_end, True))
        cursor = piece_end
    if cursor < end:
        pieces.append((cursor, end, False))
    return pieces


def maintenance_boundaries(
    coverage: Iterable[tuple[datetime, datetime]],
    inside: bool,
    after: datetime | None,
    not_before: datetime,
    now: datetime,
) -> list[tuple[datetime, bool]]:
    """Return the (time, entering) boundaries not yet recorded for one component.

    `inside` and `after` describe the last recorded boundary: whether it entered maintenance,
    and its time (None when none was recorded). Boundaries at or before `after`, before
    `not_before` or after `now` are skipped. When the coverage at `now` still differs from
    the recorded state (a window was cancelled, or its maintenance deleted, so its end is
    gone), one more boundary at `now` settles it.
    """
    spans = list(coverage)
    events = sorted(
        [(start, True) for start, _ in spans] + [(end, False) for _, end in spans],
    )
    boundaries: list[tuple[datetime, bool]] = []
    for moment, entering in events:
        if moment > now or moment < not_before or (after is not None and moment <= after):
            continue
        if entering != inside:
            boundaries.append((moment, entering))
            inside = entering
    covered_now = covered_at(spans, now)
    if inside != covered_now:
        boundaries.append((now, covered_now))
    return boundaries
