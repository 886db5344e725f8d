"""What the public sees, built from the store after every change and served from memory.

Pages never query the database per request: a crowd arriving during an outage reads the same
immutable snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from statuspage.config import Config, Site
from statuspage.state import SEVERITY, State
from statuspage.store import Store
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
        days = daily_uptime(rollups.get(component.id, {}), today, HISTORY_DAYS)
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
                last_checked_at=status.last_checked_at if status else None,
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
