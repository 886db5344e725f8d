"""SQLite storage: results, transitions, current statuses and daily rollups.

This is the only module that writes SQL. One `Store` owns one connection and one worker
thread, and every read and write goes through that thread, so writes never contend with each
other and "database is locked" cannot come from this process. WAL mode and a busy timeout let
other processes (the sqlite3 shell, a backup) read at the same time.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, ParamSpec, TypeVar
from zoneinfo import ZoneInfo

import sqlite_utils

from statuspage.config import Component
from statuspage.migrations import migrate
from statuspage.result import Outcome, Result
from statuspage.rollup import max_gap_for, observed_span, split_by_day
from statuspage.state import ComponentStatus, State, Transition, next_status

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
}


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
                for day, seconds in split_by_day(span[0], span[1], zone):
                    self._add_seconds(component.id, day, STATE_COLUMNS[previous.state], seconds)
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
                    for day, seconds in split_by_day(span[0], span[1], zone):
                        self._add_seconds(component.id, day, STATE_COLUMNS[previous.state], seconds)
                self._save_status(previous, status)
            self._statuses[component.id] = status

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
                "select * from transitions where component_id = ? order by id", [component_id]
            )
        ]

    def prune_results(self, before: datetime) -> int:
        """Delete raw results older than `before`; rollups and transitions are kept."""
        with self.db.conn:
            cursor = self.db.execute("delete from results where time < ?", [to_text(before)])
        return cursor.rowcount


def _milliseconds(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)
