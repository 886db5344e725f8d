"""What the public sees, built from the store after every change and served from memory.

Pages never query the database per request: a crowd arriving during an outage reads the same
immutable snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from statuspage.config import Component, Config, Site
from statuspage.result import Outcome
from statuspage.rollup import max_gap_for, observed_span, split_by_day
from statuspage.state import SEVERITY, ComponentStatus, State
from statuspage.store import STATE_COLUMNS, DailyRollup, Store
from statuspage.uptime import DayUptime, daily_uptime, overall_ratio

HISTORY_DAYS = 90


@dataclass(frozen=True)
class ComponentView:
    id: str
    name: str
    description: str
    group: str | None
    state: State
    since: datetime | None
    last_checked_at: datetime | None
    latency_ms: float | None
    reason: str  # public-safe reason of the last run, shown when not operational
    days: tuple[DayUptime, ...]
    uptime: float | None  # over all `days`


@dataclass(frozen=True)
class Group:
    name: str | None
    components: tuple[ComponentView, ...]


@dataclass(frozen=True)
class Snapshot:
    built_at: datetime
    site: Site
    today: date  # in the site's time zone
    overall: str  # operational, degraded, partial_outage, major_outage or no_data
    components: tuple[ComponentView, ...]
    groups: tuple[Group, ...]


def overall_condition(states: list[State]) -> str:
    observed = [state for state in states if state is not State.NO_DATA]
    if not observed:
        return "no_data"
    worst = max(observed, key=lambda state: SEVERITY[state])
    if worst is State.DOWN:
        return "major_outage" if all(s is State.DOWN for s in observed) else "partial_outage"
    if worst is State.DEGRADED:
        return "degraded"
    return "operational"


def build_snapshot(config: Config, store: Store, now: datetime) -> Snapshot:
    """Read statuses and rollups; call on the store's thread."""
    zone = config.site.timezone
    today = now.astimezone(zone).date()
    first_day = today - timedelta(days=HISTORY_DAYS - 1)
    rollups = store.daily_rollups(first_day, today)
    statuses = store.statuses()

    views: list[ComponentView] = []
    for component in config.components:
        status = statuses.get(component.id)
        component_rollups = rollups.get(component.id, {})
        if status is not None and status.observing:
            component_rollups = _with_time_since_last_run(
                component_rollups, component, status, now, config.site.timezone
            )
        days = daily_uptime(component_rollups, today, HISTORY_DAYS)
        state = status.state if status else State.NO_DATA
        reason = status.last_reason if status else ""
        if component.missing_env and not reason:
            reason = "not configured"
        views.append(
            ComponentView(
                id=component.id,
                name=component.name,
                description=component.description,
                group=component.group,
                state=state,
                since=status.since if status else None,
                last_checked_at=status.last_checked_at
                if status and status.last_outcome is not Outcome.NOT_CONFIGURED
                else None,
                latency_ms=status.last_latency * 1000
                if status and status.last_latency is not None
                else None,
                reason=reason,
                days=tuple(days),
                uptime=overall_ratio(days),
            )
        )

    return Snapshot(
        built_at=now,
        site=config.site,
        today=today,
        overall=overall_condition([view.state for view in views]),
        components=tuple(views),
        groups=_group(views),
    )


def _with_time_since_last_run(
    rollups: dict[date, DailyRollup],
    component: Component,
    status: ComponentStatus,
    now: datetime,
    zone: ZoneInfo,
) -> dict[date, DailyRollup]:
    """Count the time since the last run in the current state, as the next run will.

    Without this a component that just went down would show no downtime until its next run.
    """
    span = observed_span(
        status.last_checked_at, now, max_gap_for(component.interval, component.check.timeout)
    )
    if span is None:
        return rollups
    updated = dict(rollups)
    column = STATE_COLUMNS[status.state]
    for day, seconds in split_by_day(span[0], span[1], zone):
        rollup = updated.get(day) or DailyRollup(component_id=component.id, day=day)
        updated[day] = replace(rollup, **{column: getattr(rollup, column) + seconds})
    return updated


def _group(views: list[ComponentView]) -> tuple[Group, ...]:
    """Group components in order of first appearance; ungrouped ones stand alone."""
    groups: list[Group] = []
    index: dict[str, int] = {}
    for view in views:
        if view.group is None:
            groups.append(Group(None, (view,)))
        elif view.group in index:
            position = index[view.group]
            groups[position] = Group(view.group, (*groups[position].components, view))
        else:
            index[view.group] = len(groups)
            groups.append(Group(view.group, (view,)))
    return tuple(groups)
