"""Read every signal group once per run, the heavy ones less often, each failure kept local.

A group that fails (missing privilege, statement or lock timeout, a catalog missing on this
version) turns only its own signals into "unknown", and the other groups keep working. Only a
broken connection ends the run, because then nothing else can be read either.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

import psycopg

from statuspage.checks.pgstats.activity import read_activity
from statuspage.checks.pgstats.partitions import read_partitions
from statuspage.checks.pgstats.rates import RATES_SIGNALS, read_rates
from statuspage.checks.pgstats.replication import read_replication
from statuspage.checks.pgstats.signal import Connection, Poll, Privileges, Signal, unknown
from statuspage.checks.pgstats.size import SIZE_SIGNALS, read_size
from statuspage.checks.pgstats.tables import read_tables
from statuspage.checks.pgstats.wraparound import read_wraparound
from statuspage.thresholds import Level

logger = logging.getLogger(__name__)

Reader = Callable[[Poll], Awaitable[list[Signal]]]

PRIVILEGES_QUERY = """
select
    rolsuper,
    rolsuper or pg_has_role(current_user, 'pg_read_all_stats', 'USAGE'),
    rolsuper or pg_has_role(current_user, 'pg_monitor', 'USAGE'),
    current_setting('server_version_num')::int,
    pg_backend_pid(),
    now()
from pg_roles
where rolname = current_user
"""


@dataclass(frozen=True)
class Group:
    name: str
    signals: tuple[str, ...]
    read: Reader
    heavy: bool = False  # read at most every `heavy_interval` seconds


def default_groups() -> list[Group]:
    return [
        Group(
            "activity",
            ("connections", "longest_query", "idle_in_transaction", "lock_waits"),
            read_activity,
        ),
        Group("wraparound", ("xid_age", "multixact_age"), read_wraparound),
        Group("rates", RATES_SIGNALS, read_rates),
        Group("replication", ("replicas", "replication_lag", "wal_receiver"), read_replication),
        Group("size", SIZE_SIGNALS, read_size, heavy=True),
        Group("tables", ("dead_tuples", "vacuum_age", "table_xid_age"), read_tables, heavy=True),
        Group(
            "partitions",
            ("partitions", "partition_balance", "default_partition_rows", "partitions_ahead"),
            read_partitions,
            heavy=True,
        ),
    ]


class Collector:
    """Keeps what signal groups need between runs: counters for rates, heavy readings."""

    def __init__(self, component_id: str, groups: list[Group] | None = None) -> None:
        self.component_id = component_id
        self.groups = default_groups() if groups is None else groups
        self.memory: dict[str, object] = {}
        self._heavy: dict[str, tuple[float, list[Signal]]] = {}
        self._levels: dict[str, Level] = {}

    async def poll(self, poll: Poll) -> list[Signal]:
        signals: list[Signal] = []
        for group in self.groups:
            if not any(poll.enabled(name) for name in group.signals):
                continue
            readings = await self._read_group(poll, group)
            signals.extend(signal for signal in readings if poll.enabled(signal.name))
        self._log_changes(signals)
        return signals

    async def _read_group(self, poll: Poll, group: Group) -> list[Signal]:
        if group.heavy:
            cached = self._heavy.get(group.name)
            if cached is not None and time.monotonic() - cached[0] < poll.settings.heavy_interval:
                return cached[1]

        try:
            readings = await group.read(poll)
        except psycopg.Error as exc:
            if poll.connection.broken or poll.connection.closed:
                raise
            why = _group_failure(exc)
            logger.debug(
                "postgres check %s: signal group %s failed: %s (SQLSTATE %s)",
                self.component_id,
                group.name,
                type(exc).__name__,
                exc.sqlstate or "-",
            )
            readings = [unknown(name, why) for name in group.signals]

        if group.heavy:
            self._heavy[group.name] = (time.monotonic(), readings)
        return readings

    def _log_changes(self, signals: list[Signal]) -> None:
        """Log each signal when its level changes, so a missing grant is reported once."""
        for signal in signals:
            previous = self._levels.get(signal.key)
            self._levels[signal.key] = signal.level
            if previous == signal.level or (previous is None and signal.level is Level.OK):
                continue
            if signal.pending:
                level = logging.DEBUG
            elif signal.level in (Level.OK, Level.NOT_APPLICABLE):
                level = logging.INFO
            else:
                level = logging.WARNING
            logger.log(
                level,
                "postgres check %s: %s is %s: %s",
                self.component_id,
                signal.key,
                signal.level.value,
                signal.summary,
            )


@dataclass(frozen=True)
class Session:
    """Facts about the monitoring session, read once per run."""

    privileges: Privileges
    server_version_num: int
    backend_pid: int
    now: datetime


async def read_session(connection: Connection) -> Session:
    cursor = await connection.execute(PRIVILEGES_QUERY)
    row = await cursor.fetchone()
    if row is None:
        raise RuntimeError("the current role is missing from pg_roles")
    superuser, read_all_stats, monitor, version, pid, now = row
    return Session(Privileges(superuser, read_all_stats, monitor), version, pid, now)


def _group_failure(error: psycopg.Error) -> str:
    if isinstance(error, psycopg.errors.InsufficientPrivilege):
        return "permission denied; grant pg_monitor to the monitoring role"
    if isinstance(error, psycopg.errors.QueryCanceled):
        return "query timed out (statement_timeout)"
    if isinstance(error, psycopg.errors.LockNotAvailable):
        return "waited too long for a lock (lock_timeout)"
    if isinstance(
        error,
        psycopg.errors.UndefinedTable
        | psycopg.errors.UndefinedColumn
        | psycopg.errors.UndefinedFunction,
    ):
        return "not available on this PostgreSQL version"
    return f"query failed (SQLSTATE {error.sqlstate or 'unknown'})"
