"""Rates between two polls: deadlocks, rollbacks, cache hits, temporary files, checkpoints.

PostgreSQL keeps these as cumulative counters, so each poll stores the counters with the
server's clock in `poll.memory` and the next poll reports the change. An interval in which
the counters restarted (statistics reset, server restart, a counter that went backwards) has
no meaningful change, so its rates are unknown and the new counters become the baseline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from statuspage.checks.pgstats.signal import Poll, Signal, measure, not_applicable, unknown
from statuspage.thresholds import HOUR, MINUTE

MEMORY_KEY = "rates"

DATABASE_RATES = ("deadlocks", "rollback_ratio", "cache_hit_ratio", "temp_bytes")
RATES_SIGNALS = (*DATABASE_RATES, "checkpoints_requested")

FIRST_POLL = "needs two polls: this poll stored the counters that the next poll compares with"
RESUMES = "rates resume on the next poll"

# pg_stat_checkpointer replaced the checkpoint columns of pg_stat_bgwriter in PostgreSQL 17.
# The server is probed for the view and its columns rather than trusted by version number.
CHECKPOINT_SOURCES_QUERY = """
select
    pg_postmaster_start_time(),
    exists (
        select from pg_attribute
        where attrelid = to_regclass('pg_catalog.pg_stat_checkpointer')
            and attname = 'num_requested' and not attisdropped
    ),
    exists (
        select from pg_attribute
        where attrelid = to_regclass('pg_catalog.pg_stat_bgwriter')
            and attname = 'checkpoints_req' and not attisdropped
    )
"""

CHECKPOINTER_QUERY = "select stats_reset, num_timed, num_requested from pg_stat_checkpointer"
BGWRITER_QUERY = "select stats_reset, checkpoints_timed, checkpoints_req from pg_stat_bgwriter"

# The row with datid 0 counts shared catalogs and has no datname. Its counters are 0 rather
# than NULL on PostgreSQL 14 to 17; coalesce keeps a NULL from failing the whole group.
DATABASES_QUERY = """
select
    datid,
    coalesce(datname, '(shared objects)'),
    stats_reset,
    coalesce(deadlocks, 0),
    coalesce(xact_commit, 0),
    coalesce(xact_rollback, 0),
    coalesce(blks_hit, 0),
    coalesce(blks_read, 0),
    coalesce(temp_bytes, 0)
from pg_stat_database
"""
COUNTERS = ("deadlocks", "xact_commit", "xact_rollback", "blks_hit", "blks_read", "temp_bytes")


@dataclass(frozen=True)
class DatabaseCounters:
    """One row of pg_stat_database."""

    name: str
    stats_reset: datetime | None
    deadlocks: int
    xact_commit: int
    xact_rollback: int
    blks_hit: int
    blks_read: int
    temp_bytes: int


@dataclass(frozen=True)
class CheckpointCounters:
    source: str  # the view the counters came from
    stats_reset: datetime | None
    timed: int
    requested: int


@dataclass(frozen=True)
class RatesReading:
    """The counters of one poll, kept until the next one."""

    now: datetime  # server clock
    postmaster_start: datetime
    databases: dict[int, DatabaseCounters]  # by datid
    checkpoints: CheckpointCounters | None  # None when the server has neither view


async def read_rates(poll: Poll) -> list[Signal]:
    current = await _read_counters(poll)
    previous = poll.memory.get(MEMORY_KEY)
    # Every outcome below, skipped intervals included, makes these counters the next baseline.
    poll.memory[MEMORY_KEY] = current

    if not isinstance(previous, RatesReading):
        return _all_unknown(poll, current, FIRST_POLL)
    if current.postmaster_start != previous.postmaster_start:
        started = current.postmaster_start.isoformat(timespec="seconds")
        return _all_unknown(
            poll, current, f"the server restarted at {started} since the last poll; {RESUMES}"
        )

    elapsed = (current.now - previous.now).total_seconds()
    reset = _database_reset(previous, current)
    if reset is not None:
        signals = [unknown(name, reset) for name in DATABASE_RATES]
    else:
        signals = _database_rates(poll, previous, current, elapsed)
    signals.append(_checkpoint_rate(poll, previous.checkpoints, current.checkpoints, elapsed))
    return signals


async def _read_counters(poll: Poll) -> RatesReading:
    cursor = await poll.connection.execute(CHECKPOINT_SOURCES_QUERY)
    row = await cursor.fetchone()
    assert row is not None
    postmaster_start, has_checkpointer, has_bgwriter = row

    cursor = await poll.connection.execute(DATABASES_QUERY)
    databases = {
        datid: DatabaseCounters(name, reset, *(int(value) for value in counters))
        for datid, name, reset, *counters in await cursor.fetchall()
    }

    checkpoints = None
    if has_checkpointer:
        checkpoints = await _read_checkpoints(poll, "pg_stat_checkpointer", CHECKPOINTER_QUERY)
    elif has_bgwriter:
        checkpoints = await _read_checkpoints(poll, "pg_stat_bgwriter", BGWRITER_QUERY)

    return RatesReading(poll.now, postmaster_start, databases, checkpoints)


async def _read_checkpoints(poll: Poll, source: str, query: str) -> CheckpointCounters:
    cursor = await poll.connection.execute(query)
    row = await cursor.fetchone()
    assert row is not None
    stats_reset, timed, requested = row
    return CheckpointCounters(source, stats_reset, int(timed), int(requested))


def _checkpoints_unavailable(poll: Poll) -> str:
    version = poll.server_version_num // 10000
    return (
        f"not available on PostgreSQL {version}: neither pg_stat_checkpointer.num_requested"
        " nor pg_stat_bgwriter.checkpoints_req exists"
    )


def _all_unknown(poll: Poll, current: RatesReading, reason: str) -> list[Signal]:
    pending = reason == FIRST_POLL
    signals = [unknown(name, reason, pending=pending) for name in DATABASE_RATES]
    if current.checkpoints is None:
        signals.append(unknown("checkpoints_requested", _checkpoints_unavailable(poll)))
    else:
        signals.append(unknown("checkpoints_requested", reason, pending=pending))
    return signals


def _database_reset(previous: RatesReading, current: RatesReading) -> str | None:
    """Describe a statistics reset of a database seen in both polls, if there was one.

    A database whose counters were all zero at the last poll counts from zero either way, so
    its reset is ignored. PostgreSQL 14 sets stats_reset when a database first gets
    statistics, such as the shared objects row after the first access to a shared catalog.
    """
    for datid, counters in current.databases.items():
        before = previous.databases.get(datid)
        if before is None or before.stats_reset == counters.stats_reset:
            continue
        if not any(getattr(before, counter) for counter in COUNTERS):
            continue
        when = (
            f" at {counters.stats_reset.isoformat(timespec='seconds')}"
            if counters.stats_reset is not None
            else ""
        )
        return (
            f"statistics of database {counters.name} were reset{when} since the last poll;"
            f" {RESUMES}"
        )
    return None


@dataclass(frozen=True)
class _Change:
    total: int
    backwards: str | None = None  # a database whose counter decreased


def _change(previous: RatesReading, current: RatesReading, counter: str) -> _Change:
    """Sum one counter's change over the databases.

    A database created since the last poll started from zero, so all of its count is new. A
    dropped database is left out, because its counters are gone with it.
    """
    total = 0
    for datid, counters in current.databases.items():
        before = previous.databases.get(datid)
        delta = getattr(counters, counter) - (getattr(before, counter) if before else 0)
        if delta < 0:
            return _Change(0, counters.name)
        total += delta
    return _Change(total)


def _backwards(counter: str, database: str) -> str:
    return f"{counter} of database {database} went backwards since the last poll; {RESUMES}"


def _database_rates(
    poll: Poll, previous: RatesReading, current: RatesReading, elapsed: float
) -> list[Signal]:
    duration = format_duration(elapsed)
    signals: list[Signal] = []

    deadlocks = _change(previous, current, "deadlocks")
    if deadlocks.backwards is not None:
        signals.append(unknown("deadlocks", _backwards("deadlocks", deadlocks.backwards)))
    else:
        signals.append(
            _per_minute(
                poll,
                "deadlocks",
                deadlocks.total,
                elapsed,
                lambda rate: (
                    f"{deadlocks.total} {'deadlock' if deadlocks.total == 1 else 'deadlocks'}"
                    f" in {duration} ({rate:.2f} per minute)"
                ),
            )
        )

    commits = _change(previous, current, "xact_commit")
    rollbacks = _change(previous, current, "xact_rollback")
    if commits.backwards is not None:
        signals.append(unknown("rollback_ratio", _backwards("xact_commit", commits.backwards)))
    elif rollbacks.backwards is not None:
        signals.append(unknown("rollback_ratio", _backwards("xact_rollback", rollbacks.backwards)))
    elif commits.total + rollbacks.total == 0:
        signals.append(
            not_applicable("rollback_ratio", f"n/a: no transaction ended in the last {duration}")
        )
    else:
        transactions = commits.total + rollbacks.total
        ratio = rollbacks.total / transactions
        signals.append(
            measure(
                poll,
                "rollback_ratio",
                ratio,
                f"{rollbacks.total:,} of {transactions:,} transactions rolled back"
                f" ({ratio:.1%}) in the last {duration}",
            )
        )

    hits = _change(previous, current, "blks_hit")
    reads = _change(previous, current, "blks_read")
    if hits.backwards is not None:
        signals.append(unknown("cache_hit_ratio", _backwards("blks_hit", hits.backwards)))
    elif reads.backwards is not None:
        signals.append(unknown("cache_hit_ratio", _backwards("blks_read", reads.backwards)))
    elif hits.total + reads.total == 0:
        signals.append(
            not_applicable("cache_hit_ratio", f"n/a: no block requests in the last {duration}")
        )
    else:
        requests = hits.total + reads.total
        ratio = hits.total / requests
        signals.append(
            measure(
                poll,
                "cache_hit_ratio",
                ratio,
                f"{hits.total:,} of {requests:,} block requests found in shared buffers"
                f" ({ratio:.2%}) in the last {duration}",
            )
        )

    temp = _change(previous, current, "temp_bytes")
    if temp.backwards is not None:
        signals.append(unknown("temp_bytes", _backwards("temp_bytes", temp.backwards)))
    else:
        signals.append(
            _per_minute(
                poll,
                "temp_bytes",
                temp.total,
                elapsed,
                lambda rate: (
                    f"{format_bytes(temp.total)} written to temporary files in"
                    f" {duration} ({format_bytes(rate)} per minute)"
                ),
            )
        )
    return signals


def _per_minute(
    poll: Poll, name: str, count: int, elapsed: float, summary: Callable[[float], str]
) -> Signal:
    if elapsed < 0:
        return unknown(
            name,
            f"the server clock went back {format_duration(-elapsed)} since the last poll;"
            f" {RESUMES}",
        )
    if elapsed == 0:
        return not_applicable(name, "n/a: no server time passed since the last poll")
    rate = count / elapsed * MINUTE
    return measure(poll, name, rate, summary(rate))


def _checkpoint_rate(
    poll: Poll,
    previous: CheckpointCounters | None,
    current: CheckpointCounters | None,
    elapsed: float,
) -> Signal:
    name = "checkpoints_requested"
    if current is None:
        return unknown(name, _checkpoints_unavailable(poll))
    if previous is None or previous.source != current.source:
        return unknown(name, FIRST_POLL, pending=True)
    if previous.stats_reset != current.stats_reset:
        when = (
            f" at {current.stats_reset.isoformat(timespec='seconds')}"
            if current.stats_reset is not None
            else ""
        )
        return unknown(
            name, f"statistics of {current.source} were reset{when} since the last poll; {RESUMES}"
        )

    timed = current.timed - previous.timed
    requested = current.requested - previous.requested
    if timed < 0 or requested < 0:
        return unknown(
            name,
            f"checkpoint counters of {current.source} went backwards since the last poll;"
            f" {RESUMES}",
        )
    duration = format_duration(elapsed)
    if timed + requested == 0:
        return not_applicable(name, f"n/a: no checkpoint in the last {duration}")
    ratio = requested / (timed + requested)
    return measure(
        poll,
        name,
        ratio,
        f"{requested} of {timed + requested} checkpoints requested rather than timed"
        f" in the last {duration}",
    )


def format_duration(seconds: float) -> str:
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 2 * MINUTE:
        return f"{seconds:.0f} s"
    if seconds < 2 * HOUR:
        return f"{seconds / MINUTE:.0f} min"
    return f"{seconds / HOUR:.1f} h"


def format_bytes(size: float) -> str:
    """Format a byte count with binary units, such as "1.5 MiB" or "-512.0 KiB"."""
    magnitude = abs(size)
    for unit, factor in (("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if magnitude >= factor:
            return f"{size / factor:.1f} {unit}"
    return f"{size:.0f} bytes"
