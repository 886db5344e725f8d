"""What the public sees, built from the store after every change and served from memory.

Pages never query the database per request: a crowd arriving during an outage reads the same
immutable snapshot. The snapshot also carries what operators posted: open incidents, the
maintenance windows in progress and coming up, and the incidents of the last days.

Incidents are grouped under the local day on which they started (their first update's
display time), both here and on the history page, so each incident is listed once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlite_utils

from statuspage import incident_store, maintenance_store
from statuspage.config import Component, Config, Site
from statuspage.incidents import Incident
from statuspage.maintenance import MaintenanceWindow, WindowStatus
from statuspage.result import Outcome
from statuspage.rollup import local_day_start, max_gap_for, observed_span, split_by_day
from statuspage.state import (
    ComponentStatus,
    EffectiveState,
    State,
    covered_at,
    effective_state,
    maintenance_coverage,
    page_state,
    split_by_coverage,
)
from statuspage.store import (
    STATE_COLUMNS,
    DailyRollup,
    HourlyRollup,
    Store,
    hour_start,
    split_by_hour,
)
from statuspage.uptime import DayUptime, daily_uptime, overall_ratio

logger = logging.getLogger(__name__)

HISTORY_DAYS = 90
# Uptime periods shown by the API, badges and metrics. "24h" comes from the hourly rollups: the
# current UTC hour and the 24 before it, so between 24 and 25 hours. The others are the last N
# local days, today included, from the daily rollups.
UPTIME_PERIODS = ("24h", "7d", "30d", "90d")
UPTIME_PERIOD_DAYS = {"7d": 7, "30d": 30, "90d": 90}
HOURLY_UPTIME_HOURS = 24
RECENT_INCIDENT_DAYS = 14
UPCOMING_MAINTENANCE_DAYS = 7


@dataclass(frozen=True)
class DayEvents:
    """Incidents and maintenance windows of one component on one local day, for its day bar."""

    incidents: tuple[Incident, ...] = ()  # earliest start first
    maintenance: tuple[MaintenanceWindow, ...] = ()  # windows that started, earliest first


@dataclass(frozen=True)
class ComponentView:
    id: str
    name: str
    description: str
    group: str | None
    state: State  # the check's state
    since: datetime | None
    last_checked_at: datetime | None
    latency_ms: float | None
    reason: str  # public-safe reason of the last run, shown when not operational
    days: tuple[DayUptime, ...]
    uptime: float | None  # over all `days`
    # What visitors see: the check's state with open incidents and maintenance applied.
    effective_state: EffectiveState = EffectiveState.NO_DATA
    maintenance_until: datetime | None = None  # end of the maintenance in progress, if any
    day_events: tuple[DayEvents, ...] = ()  # one per entry of `days`
    # Uptime ratio by UPTIME_PERIODS key; None when the period has no observed time.
    uptime_periods: Mapping[str, float | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Group:
    name: str | None
    components: tuple[ComponentView, ...]


@dataclass(frozen=True)
class IncidentDay:
    day: date
    incidents: tuple[Incident, ...]  # newest start first


@dataclass(frozen=True)
class Snapshot:
    built_at: datetime
    site: Site
    today: date  # in the site's time zone
    overall: EffectiveState  # the banner's state, `state.page_state`
    components: tuple[ComponentView, ...]
    groups: tuple[Group, ...]
    active_incidents: tuple[Incident, ...] = ()  # newest start first
    active_maintenance: tuple[MaintenanceWindow, ...] = ()
    upcoming_maintenance: tuple[MaintenanceWindow, ...] = ()  # earliest start first
    recent_incidents: tuple[IncidentDay, ...] = ()  # one per local day, newest day first
    # The next start or end of a maintenance window within the upcoming days, when the page
    # must change even without a new check result.
    next_boundary: datetime | None = None

    @property
    def component_names(self) -> dict[str, str]:
        return {view.id: view.name for view in self.components}


@dataclass(frozen=True)
class HistoryDay:
    day: date
    incidents: tuple[Incident, ...]  # newest start first
    maintenance: tuple[MaintenanceWindow, ...]  # completed windows, newest start first


@dataclass(frozen=True)
class MonthHistory:
    month: date  # the first day of the month
    days: tuple[HistoryDay, ...]  # only days with an incident or maintenance, newest first


def build_snapshot(config: Config, store: Store, now: datetime) -> Snapshot:
    """Read statuses, rollups, incidents and maintenance. Call on the store's thread."""
    zone = config.site.timezone
    today = now.astimezone(zone).date()
    first_day = today - timedelta(days=HISTORY_DAYS - 1)
    range_start = local_day_start(first_day, zone)
    range_end = local_day_start(today + timedelta(days=1), zone)

    rollups = store.daily_rollups(first_day, today)
    hourly = store.hourly_rollups(hour_start(now) - timedelta(hours=HOURLY_UPTIME_HOURS))
    statuses = store.statuses()
    open_incidents = incident_store.open_incidents(store.db)
    incidents = incident_store.incidents_between(store.db, range_start, range_end)
    windows = [
        window
        for window in store.maintenance_windows(range_start, range_end)
        if window.starts_at <= now
    ]
    active = maintenance_store.active_windows(store.db, now)
    upcoming = maintenance_store.upcoming_windows(store.db, now, UPCOMING_MAINTENANCE_DAYS)

    views: list[ComponentView] = []
    for component in config.components:
        status = statuses.get(component.id)
        coverage = maintenance_coverage([*windows, *active, *upcoming], component.id)
        component_rollups = rollups.get(component.id, {})
        component_hourly = hourly.get(component.id, {})
        if status is not None and status.observing:
            pending = _time_since_last_run(component, status, now, coverage)
            component_rollups = _with_pending_days(component_rollups, component.id, pending, zone)
            component_hourly = _with_pending_hours(component_hourly, component.id, pending)
        days = daily_uptime(component_rollups, today, HISTORY_DAYS)
        state = status.state if status else State.NO_DATA
        declared = [
            incident.components[component.id]
            for incident in open_incidents
            if component.id in incident.components
        ]
        in_maintenance = covered_at(coverage, now)
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
                effective_state=effective_state(state, declared, in_maintenance),
                maintenance_until=_coverage_end(coverage, now) if in_maintenance else None,
                day_events=_day_events(component.id, days, zone, incidents, windows),
                uptime_periods=_uptime_periods(days, component_hourly.values()),
            )
        )

    recent_first_day = today - timedelta(days=RECENT_INCIDENT_DAYS - 1)
    recent = group_incidents_by_day(incidents, zone, recent_first_day, today)
    return Snapshot(
        built_at=now,
        site=config.site,
        today=today,
        overall=page_state(
            (view.effective_state for view in views),
            (incident.impact for incident in open_incidents),
        ),
        components=tuple(views),
        groups=_group(views),
        active_incidents=tuple(open_incidents),
        active_maintenance=tuple(active),
        upcoming_maintenance=tuple(upcoming),
        recent_incidents=tuple(
            IncidentDay(
                recent_first_day + timedelta(days=offset),
                tuple(recent.get(recent_first_day + timedelta(days=offset), ())),
            )
            for offset in reversed(range(RECENT_INCIDENT_DAYS))
        ),
        next_boundary=_next_boundary(active, upcoming, now),
    )


def build_history(
    db: sqlite_utils.Database, zone: ZoneInfo, month: date, now: datetime
) -> MonthHistory:
    """Read the incidents and completed maintenance that started in `month`, by local day.

    Call on the store's thread. `month` is the first day of a month.
    """
    next_month = (month + timedelta(days=32)).replace(day=1)
    last_day = next_month - timedelta(days=1)
    start = local_day_start(month, zone)
    end = local_day_start(next_month, zone)

    incidents = group_incidents_by_day(
        incident_store.incidents_between(db, start, end), zone, month, last_day
    )
    maintenance: dict[date, list[MaintenanceWindow]] = {}
    for window in maintenance_store.windows_between(db, start, end):
        day = _local_date(window.starts_at, zone, "maintenance window", window.id)
        if day is None:
            continue
        if window.status(now) is WindowStatus.COMPLETED and month <= day <= last_day:
            maintenance.setdefault(day, []).append(window)

    days = sorted(set(incidents) | set(maintenance), reverse=True)
    return MonthHistory(
        month=month,
        days=tuple(
            HistoryDay(
                day=day,
                incidents=tuple(incidents.get(day, ())),
                maintenance=tuple(reversed(maintenance.get(day, ()))),
            )
            for day in days
        ),
    )


def incident_started_at(incident: Incident) -> datetime:
    """Return when an incident started: its earliest update's display time."""
    return min((update.display_at for update in incident.updates), default=incident.created_at)


def group_incidents_by_day(
    incidents: Iterable[Incident], zone: ZoneInfo, first_day: date, last_day: date
) -> dict[date, list[Incident]]:
    """Group incidents by the local day they started, keeping days in [first_day, last_day].

    Within a day, the newest start comes first.
    """
    grouped: dict[date, list[Incident]] = {}
    for incident in sorted(incidents, key=incident_started_at, reverse=True):
        day = _local_date(incident_started_at(incident), zone, "incident", incident.id)
        if day is not None and first_day <= day <= last_day:
            grouped.setdefault(day, []).append(incident)
    return grouped


# (kind, id) of the records logged by `_local_date`, so a snapshot rebuilt every minute logs
# each of them once per process.
_logged_out_of_range: set[tuple[str, int]] = set()


def _local_date(moment: datetime, zone: ZoneInfo, kind: str, record_id: int) -> date | None:
    """Return the local date of `moment` in `zone`, or None when it has none.

    Validation keeps times within years 1970 to 9000, but rows stored before it did may hold
    a time such as year 1, whose local time in a zone west of UTC falls before year 1, which
    datetime cannot represent. Such a record is left out of the days instead of failing the
    whole snapshot.
    """
    try:
        return moment.astimezone(zone).date()
    except OverflowError:
        if (kind, record_id) not in _logged_out_of_range:
            _logged_out_of_range.add((kind, record_id))
            logger.warning(
                "%s %d starts at %s, which has no local date in %s, so the status page and "
                "the history leave it out of their days",
                kind,
                record_id,
                moment.isoformat(),
                zone.key,
            )
        return None


def _day_events(
    component_id: str,
    days: Sequence[DayUptime],
    zone: ZoneInfo,
    incidents: Sequence[Incident],
    windows: Sequence[MaintenanceWindow],
) -> tuple[DayEvents, ...]:
    """Return, for each day, the incidents and maintenance windows that touched the component."""
    affecting = sorted(
        (incident for incident in incidents if component_id in incident.components),
        key=incident_started_at,
    )
    covering = [window for window in windows if component_id in window.components]
    if not affecting and not covering:
        return tuple(_NO_EVENTS for _ in days)

    events = []
    for entry in days:
        day_start = local_day_start(entry.day, zone)
        day_end = local_day_start(entry.day + timedelta(days=1), zone)
        day_incidents = tuple(
            incident
            for incident in affecting
            if _overlaps_day(
                incident_started_at(incident), incident.resolved_at, day_start, day_end
            )
        )
        day_windows = tuple(
            window
            for window in covering
            if window.starts_at < day_end and window.effective_end > day_start
        )
        events.append(
            DayEvents(day_incidents, day_windows) if day_incidents or day_windows else _NO_EVENTS
        )
    return tuple(events)


_NO_EVENTS = DayEvents()


def _overlaps_day(
    start: datetime, end: datetime | None, day_start: datetime, day_end: datetime
) -> bool:
    """Tell whether [start, end] touches the day. An open incident has no end yet."""
    if start >= day_end:
        return False
    return end is None or end > day_start or start >= day_start


def _coverage_end(coverage: Sequence[tuple[datetime, datetime]], now: datetime) -> datetime | None:
    for start, end in coverage:
        if start <= now < end:
            return end
    return None


def _next_boundary(
    active: Sequence[MaintenanceWindow], upcoming: Sequence[MaintenanceWindow], now: datetime
) -> datetime | None:
    moments = [window.effective_end for window in active]
    moments += [window.starts_at for window in upcoming]
    return min((moment for moment in moments if moment > now), default=None)


def _time_since_last_run(
    component: Component,
    status: ComponentStatus,
    now: datetime,
    coverage: Sequence[tuple[datetime, datetime]],
) -> list[tuple[datetime, datetime, str]]:
    """Return the time since the last run as (start, end, rollup column) pieces.

    The next run will count this time in the current state, so counting it now keeps a
    component that just went down from showing no downtime until its next run. Time inside a
    maintenance window counts as maintenance, as `Store.record` counts it.
    """
    span = observed_span(
        status.last_checked_at, now, max_gap_for(component.interval, component.check.timeout)
    )
    if span is None:
        return []
    return [
        (start, end, STATE_COLUMNS[State.MAINTENANCE if in_maintenance else status.state])
        for start, end, in_maintenance in split_by_coverage(span[0], span[1], coverage)
    ]


def _with_pending_days(
    rollups: dict[date, DailyRollup],
    component_id: str,
    pending: Sequence[tuple[datetime, datetime, str]],
    zone: ZoneInfo,
) -> dict[date, DailyRollup]:
    if not pending:
        return rollups
    updated = dict(rollups)
    for start, end, column in pending:
        for day, seconds in split_by_day(start, end, zone):
            rollup = updated.get(day) or DailyRollup(component_id=component_id, day=day)
            updated[day] = replace(rollup, **{column: getattr(rollup, column) + seconds})
    return updated


def _with_pending_hours(
    rollups: dict[datetime, HourlyRollup],
    component_id: str,
    pending: Sequence[tuple[datetime, datetime, str]],
) -> dict[datetime, HourlyRollup]:
    if not pending:
        return rollups
    updated = dict(rollups)
    for start, end, column in pending:
        for hour, seconds in split_by_hour(start, end):
            rollup = updated.get(hour) or HourlyRollup(component_id=component_id, hour=hour)
            updated[hour] = replace(rollup, **{column: getattr(rollup, column) + seconds})
    return updated


def _uptime_periods(
    days: Sequence[DayUptime], hours: Iterable[HourlyRollup]
) -> dict[str, float | None]:
    """Return the uptime ratio of each of UPTIME_PERIODS, None for a period without data."""
    observed = 0.0
    down = 0.0
    for hour in hours:
        observed += hour.operational_s + hour.degraded_s + hour.down_s
        down += hour.down_s
    periods: dict[str, float | None] = {
        "24h": (observed - down) / observed if observed > 0 else None
    }
    for period, count in UPTIME_PERIOD_DAYS.items():
        periods[period] = overall_ratio(days[-count:])
    return periods


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
