"""SQLite storage: results, transitions, current statuses, and daily and hourly rollups.

This is the only module that writes SQL for checks. One `Store` owns one connection and one
worker thread, and every read and write goes through that thread, so writes never contend with
each other and "database is locked" cannot come from this process. WAL mode and a busy timeout
let other processes (the sqlite3 shell, a backup) read at the same time.

Observed time that falls inside a maintenance window covering the component goes to
`maintenance_s`, whatever the check's state, so it counts neither as up nor as down.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, ParamSpec, TypeVar
from zoneinfo import ZoneInfo

import sqlite_utils

from statuspage.config import Component
from statuspage.maintenance import MaintenanceWindow
from statuspage.migrations import migrate
from statuspage.result import Outcome, Result
from statuspage.rollup import max_gap_for, observed_span, split_by_day
from statuspage.state import (
    ComponentStatus,
    State,
    Transition,
    maintenance_boundaries,
    maintenance_coverage,
    next_status,
    split_by_coverage,
)

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

DATABASE_FILE = "statuspage.db"
BUSY_TIMEOUT_MS = 5000

STATE_COLUMNS = {
    State.OPERATIONAL: "operational_s",
    State.DEGRADED: "degraded_s",
    State.DOWN: "down_s",
    State.NO_DATA: "no_data_s",
    State.MAINTENANCE: "maintenance_s",
}

MAINTENANCE_STARTED = "maintenance started"
MAINTENANCE_ENDED = "maintenance ended"
STILL_DOWN_AFTER_MAINTENANCE = "still down after maintenance"
# Window boundaries older than this, missed while the monitor was stopped, are not recorded
# one by one. A single row at the next run settles the component's maintenance state instead.
BOUNDARY_CATCH_UP = timedelta(days=7)


@dataclass(frozen=True)
class DailyRollup:
    """Seconds in each state on one local day, and latency of successful runs that day."""

    component_id: str
    day: date
    operational_s: float = 0.0
    degraded_s: float = 0.0
    down_s: float = 0.0
    maintenance_s: float = 0.0
    no_data_s: float = 0.0
    runs: int = 0
    failed_runs: int = 0
    latency_count: int = 0
    latency_sum_ms: float = 0.0
    latency_min_ms: float | None = None
    latency_max_ms: float | None = None


@dataclass(frozen=True)
class HourlyRollup:
    """Seconds in each state in one UTC hour, counted like `DailyRollup`'s."""

    component_id: str
    hour: datetime  # start of the hour, UTC
    operational_s: float = 0.0
    degraded_s: float = 0.0
    down_s: float = 0.0
    maintenance_s: float = 0.0
    no_data_s: float = 0.0


class StatusConflict(Exception):
    """Another writer changed a component's status between our read and our write."""


def to_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def from_text(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        self._connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self._connection.execute("PRAGMA journal_mode = WAL")
        self._connection.execute("PRAGMA synchronous = NORMAL")
        self._connection.execute("PRAGMA foreign_keys = ON")
        self.db = sqlite_utils.Database(self._connection)
        migrate(self.db)
        self._statuses = self._load_statuses()

    @classmethod
    def open(cls, data_dir: Path) -> Store:
        data_dir.mkdir(parents=True, exist_ok=True)
        return cls(data_dir / DATABASE_FILE)

    async def call(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a Store method on the store's thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: function(*args, **kwargs))

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self._connection.close()

    def ping(self) -> bool:
        return bool(self._connection.execute("select 1").fetchone())

    # Statuses

    def status(self, component_id: str) -> ComponentStatus:
        return self._statuses.get(component_id) or ComponentStatus(component_id)

    def statuses(self) -> dict[str, ComponentStatus]:
        return dict(self._statuses)

    def _load_statuses(self) -> dict[str, ComponentStatus]:
        statuses = {}
        for row in self.db.query("select * from component_status"):
            statuses[row["component_id"]] = ComponentStatus(
                component_id=row["component_id"],
                state=State(row["state"]),
                since=from_text(row["since"]),
                failures=row["failures"],
                successes=row["successes"],
                last_checked_at=from_text(row["last_checked_at"]),
                last_outcome=Outcome(row["last_outcome"]) if row["last_outcome"] else None,
                last_latency=row["last_latency_ms"] / 1000
                if row["last_latency_ms"] is not None
                else None,
                last_reason=row["last_reason"],
                observing=bool(row["observing"]),
            )
        return statuses

    # Recording results

    def record(
        self, component: Component, result: Result, zone: ZoneInfo
    ) -> tuple[ComponentStatus, Transition | None]:
        """Store a result, its effect on rollups and any state change, in one transaction."""
        try:
            return self._record_once(component, result, zone)
        except StatusConflict:
            logger.warning(
                "status of %s changed under this process; is another monitor writing to %s?",
                component.id,
                self.path,
            )
            self._statuses = self._load_statuses()
            return self._record_once(component, result, zone)

    def _record_once(
        self, component: Component, result: Result, zone: ZoneInfo
    ) -> tuple[ComponentStatus, Transition | None]:
        previous = self.status(component.id)
        if previous.last_checked_at is not None and result.time < previous.last_checked_at:
            # A clock stepped back, or another process wrote a newer result. Applying an older
            # result would move the state backwards and count its span twice.
            logger.warning(
                "check %s: result from %s is older than the last one (%s); stored, not applied",
                component.id,
                to_text(result.time),
                to_text(previous.last_checked_at),
            )
            with self.db.conn:
                self.db.execute("begin immediate")
                self._insert_result(result)
            return previous, None

        status, transition = next_status(previous, result, component)
        span = None
        if previous.observing:
            span = observed_span(
                previous.last_checked_at,
                result.time,
                max_gap_for(component.interval, component.check.timeout),
            )

        with self.db.conn:
            self.db.execute("begin immediate")
            self._insert_result(result)
            if span is not None:
                self._add_span(component.id, previous.state, span[0], span[1], zone)
            self._count_run(component.id, result, zone)
            if transition is not None:
                self._insert_transition(transition)
            self._save_status(previous, status)

        self._statuses[component.id] = status
        return status, transition

    def _insert_result(self, result: Result) -> None:
        self._insert(
            "results",
            {
                "component_id": result.component_id,
                "time": to_text(result.time),
                "outcome": result.outcome.value,
                "latency_ms": _milliseconds(result.latency),
                "failure": result.failure.value if result.failure else None,
                "reason": result.reason,
            },
        )

    def _insert_transition(self, transition: Transition) -> None:
        self._insert(
            "transitions",
            {
                "component_id": transition.component_id,
                "time": to_text(transition.time),
                "from_state": transition.from_state.value,
                "to_state": transition.to_state.value,
                "reason": transition.reason,
            },
        )

    def _insert(self, table: str, row: dict[str, Any]) -> None:
        # Plain SQL, because sqlite-utils' insert() commits on its own and would split the
        # transaction that record() opened.
        columns = ", ".join(row)
        placeholders = ", ".join(f":{name}" for name in row)
        self.db.execute(f"insert into {table} ({columns}) values ({placeholders})", row)

    def _add_span(
        self, component_id: str, state: State, start: datetime, end: datetime, zone: ZoneInfo
    ) -> None:
        """Add [start, end) to the day rollups: to `state`'s seconds, or to maintenance."""
        coverage = maintenance_coverage(self.maintenance_windows(start, end), component_id)
        for piece_start, piece_end, in_maintenance in split_by_coverage(start, end, coverage):
            column = STATE_COLUMNS[State.MAINTENANCE if in_maintenance else state]
            for day, seconds in split_by_day(piece_start, piece_end, zone):
                self._add_seconds(component_id, day, column, seconds)
            for hour, seconds in split_by_hour(piece_start, piece_end):
                self._add_hour_seconds(component_id, hour, column, seconds)

    def maintenance_windows(self, start: datetime, end: datetime) -> list[MaintenanceWindow]:
        """Return the maintenance windows that overlap [start, end), not cancelled."""
        # Imported here because maintenance_store imports this module for to_text/from_text.
        from statuspage import maintenance_store

        return maintenance_store.windows_between(self.db, start, end)

    def _ensure_rollup(self, component_id: str, day: date) -> None:
        self.db.execute(
            "insert or ignore into daily_rollups (component_id, day) values (?, ?)",
            [component_id, day.isoformat()],
        )

    def _add_seconds(self, component_id: str, day: date, column: str, seconds: float) -> None:
        self._ensure_rollup(component_id, day)
        self.db.execute(
            f"update daily_rollups set {column} = {column} + ? where component_id = ? and day = ?",
            [seconds, component_id, day.isoformat()],
        )

    def _add_hour_seconds(
        self, component_id: str, hour: datetime, column: str, seconds: float
    ) -> None:
        self.db.execute(
            f"insert into hourly_rollups (component_id, hour, {column}) values (?, ?, ?) "
            "on conflict (component_id, hour) "
            f"do update set {column} = {column} + excluded.{column}",
            [component_id, to_text(hour), seconds],
        )

    def _count_run(self, component_id: str, result: Result, zone: ZoneInfo) -> None:
        day = result.time.astimezone(zone).date()
        self._ensure_rollup(component_id, day)
        failed = 0 if result.succeeded else 1
        self.db.execute(
            "update daily_rollups set runs = runs + 1, failed_runs = failed_runs + ? "
            "where component_id = ? and day = ?",
            [failed, component_id, day.isoformat()],
        )
        # Only successful runs count towards latency: a timeout would otherwise report the
        # timeout setting as the response time.
        latency = _milliseconds(result.latency)
        if not result.succeeded or latency is None:
            return
        self.db.execute(
            "update daily_rollups set latency_count = latency_count + 1, "
            "latency_sum_ms = latency_sum_ms + :ms, "
            "latency_min_ms = min(coalesce(latency_min_ms, :ms), :ms), "
            "latency_max_ms = max(coalesce(latency_max_ms, :ms), :ms) "
            "where component_id = :id and day = :day",
            {"ms": latency, "id": component_id, "day": day.isoformat()},
        )

    def _save_status(self, previous: ComponentStatus, status: ComponentStatus) -> None:
        values: dict[str, Any] = {
            "state": status.state.value,
            "since": to_text(status.since) if status.since else None,
            "failures": status.failures,
            "successes": status.successes,
            "last_checked_at": to_text(status.last_checked_at) if status.last_checked_at else None,
            "last_outcome": status.last_outcome.value if status.last_outcome else None,
            "last_latency_ms": _milliseconds(status.last_latency),
            "last_reason": status.last_reason,
            "observing": int(status.observing),
        }
        # Compare-and-set on the last run's time: a second monitor on the same database would
        # otherwise silently overwrite this one's counters.
        assignments = ", ".join(f"{name} = :{name}" for name in values)
        cursor = self.db.execute(
            f"update component_status set {assignments} "
            "where component_id = :component_id and last_checked_at is :expected",
            {
                **values,
                "component_id": status.component_id,
                "expected": to_text(previous.last_checked_at) if previous.last_checked_at else None,
            },
        )
        if cursor.rowcount == 1:
            return
        try:
            self._insert("component_status", {"component_id": status.component_id, **values})
        except sqlite3.IntegrityError:
            raise StatusConflict(status.component_id) from None

    def stop_observing(self, components: list[Component], now: datetime, zone: ZoneInfo) -> None:
        """Count each component's time since its last run up to a clean stop, then no more.

        Without this, the first run after a restart would count the time the monitor was
        stopped as if the old state had been observed.
        """
        for component in components:
            previous = self.status(component.id)
            if not previous.observing or previous.last_checked_at is None:
                continue
            span = observed_span(
                previous.last_checked_at,
                now,
                max_gap_for(component.interval, component.check.timeout),
            )
            status = replace(previous, observing=False)
            with self.db.conn:
                self.db.execute("begin immediate")
                if span is not None:
                    self._add_span(component.id, previous.state, span[0], span[1], zone)
                self._save_status(previous, status)
            self._statuses[component.id] = status

    # Maintenance boundaries

    def record_maintenance_boundaries(
        self, component_ids: Sequence[str], now: datetime
    ) -> list[Transition]:
        """Record each maintenance window start and end up to `now` that is not recorded yet.

        A start is a `X -> maintenance` row and an end a `maintenance -> X` row, where X is the
        check's state at that moment. An end while the check is down has the reason
        "still down after maintenance". The last such row of each component marks which
        boundaries are already recorded, so calling this again, from another tick or after
        a restart, adds nothing twice. Returns the rows added, in time order.
        """
        not_before = now - BOUNDARY_CATCH_UP
        added: list[Transition] = []
        with self.db.conn:
            self.db.execute("begin immediate")
            markers = {
                component_id: self._last_maintenance_row(component_id)
                for component_id in component_ids
            }
            since = not_before
            if all(marker is not None for marker in markers.values()):
                recorded_times = [marker[0] for marker in markers.values() if marker is not None]
                since = max(min(recorded_times, default=not_before), not_before)
            # One millisecond past `now`, so a window starting exactly now is included.
            windows = self.maintenance_windows(since, now + timedelta(milliseconds=1))
            for component_id, marker in markers.items():
                after, inside = marker if marker is not None else (None, False)
                coverage = maintenance_coverage(windows, component_id)
                for moment, entering in maintenance_boundaries(
                    coverage, inside, after, not_before, now
                ):
                    transition = self._maintenance_transition(component_id, moment, entering)
                    self._insert_transition(transition)
                    added.append(transition)
        return sorted(added, key=lambda transition: transition.time)

    def _last_maintenance_row(self, component_id: str) -> tuple[datetime, bool] | None:
        """Return the time of the last maintenance row and whether it entered maintenance."""
        row = self.db.execute(
            "select time, to_state from transitions "
            "where component_id = :id and (from_state = :state or to_state = :state) "
            "order by time desc, id desc limit 1",
            {"id": component_id, "state": State.MAINTENANCE.value},
        ).fetchone()
        if row is None:
            return None
        return datetime.fromisoformat(row[0]), row[1] == State.MAINTENANCE.value

    def _check_state_at(self, component_id: str, moment: datetime) -> State:
        """Return the check's state at `moment`, from the check's own transition rows."""
        row = self.db.execute(
            "select to_state from transitions "
            "where component_id = ? and time <= ? and from_state != ? and to_state != ? "
            "order by time desc, id desc limit 1",
            [component_id, to_text(moment), State.MAINTENANCE.value, State.MAINTENANCE.value],
        ).fetchone()
        return State(row[0]) if row is not None else State.NO_DATA

    def _maintenance_transition(
        self, component_id: str, moment: datetime, entering: bool
    ) -> Transition:
        check_state = self._check_state_at(component_id, moment)
        if entering:
            return Transition(
                component_id, moment, check_state, State.MAINTENANCE, MAINTENANCE_STARTED
            )
        reason = STILL_DOWN_AFTER_MAINTENANCE if check_state is State.DOWN else MAINTENANCE_ENDED
        return Transition(component_id, moment, State.MAINTENANCE, check_state, reason)

    # Reading history

    def daily_rollups(self, first_day: date, last_day: date) -> dict[str, dict[date, DailyRollup]]:
        rollups: dict[str, dict[date, DailyRollup]] = {}
        for row in self.db.query(
            "select * from daily_rollups where day between ? and ? order by component_id, day",
            [first_day.isoformat(), last_day.isoformat()],
        ):
            day = date.fromisoformat(row.pop("day"))
            rollup = DailyRollup(day=day, **row)
            rollups.setdefault(rollup.component_id, {})[day] = rollup
        return rollups

    def hourly_rollups(self, since: datetime) -> dict[str, dict[datetime, HourlyRollup]]:
        """Return the hourly rollups of hours that start at or after `since`, by component."""
        rollups: dict[str, dict[datetime, HourlyRollup]] = {}
        for row in self.db.query(
            "select * from hourly_rollups where hour >= ? order by component_id, hour",
            [to_text(since)],
        ):
            hour = datetime.fromisoformat(row.pop("hour"))
            rollup = HourlyRollup(hour=hour, **row)
            rollups.setdefault(rollup.component_id, {})[hour] = rollup
        return rollups

    def transitions(self, component_id: str) -> list[Transition]:
        return [
            Transition(
                component_id=row["component_id"],
                time=datetime.fromisoformat(row["time"]),
                from_state=State(row["from_state"]),
                to_state=State(row["to_state"]),
                reason=row["reason"],
            )
            for row in self.db.query(
                "select * from transitions where component_id = ? order by time, id",
                [component_id],
            )
        ]

    def prune_results(self, before: datetime) -> int:
        """Delete raw results and hourly rollups older than `before`.

        Daily rollups and transitions are kept. Returns the number of results deleted.
        """
        with self.db.conn:
            cursor = self.db.execute("delete from results where time < ?", [to_text(before)])
            self.db.execute("delete from hourly_rollups where hour < ?", [to_text(before)])
        return cursor.rowcount


def hour_start(moment: datetime) -> datetime:
    """Return the start of the UTC hour that contains `moment`."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def split_by_hour(start: datetime, end: datetime) -> list[tuple[datetime, float]]:
    """Split [start, end) into (start of the UTC hour, seconds) pieces."""
    pieces: list[tuple[datetime, float]] = []
    cursor = start.astimezone(UTC)
    end = end.astimezone(UTC)
    while cursor < end:
        hour = hour_start(cursor)
        piece_end = min(end, hour + timedelta(hours=1))
        pieces.append((hour, (piece_end - cursor).total_seconds()))
        cursor = piece_end
    return pieces


def _milliseconds(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)
