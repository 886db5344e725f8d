"""Size of this database and its growth between two size readings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

from statuspage.checks.pgstats.rates import format_bytes, format_duration
from statuspage.checks.pgstats.signal import Poll, Signal, measure, not_applicable, unknown
from statuspage.thresholds import HOUR

MEMORY_KEY = "size"

SIZE_SIGNALS = ("database_size", "database_growth")

# pg_database_size calls stat() on every file of the database, so this group is heavy.
SIZE_QUERY = "select pg_database_size(current_database())"

FIRST_READING = "needs two size readings: this one is stored for the next heavy poll"


@dataclass(frozen=True)
class SizeReading:
    database: str
    size: int  # bytes
    now: datetime  # server clock


async def read_size(poll: Poll) -> list[Signal]:
    database = poll.connection.info.dbname
    try:
        cursor = await poll.connection.execute(SIZE_QUERY)
    except psycopg.errors.InsufficientPrivilege:
        # Logging in needs CONNECT as well, so CONNECT was revoked after the probe connected.
        reason = (
            f"permission denied for pg_database_size on database {database}; grant CONNECT on"
            f" database {database}, or pg_read_all_stats (part of pg_monitor), to the"
            " monitoring role"
        )
        return [unknown(name, reason, subject=database) for name in SIZE_SIGNALS]
    row = await cursor.fetchone()
    assert row is not None
    current = SizeReading(database, int(row[0]), poll.now)
    previous = poll.memory.get(MEMORY_KEY)
    poll.memory[MEMORY_KEY] = current

    return [
        measure(
            poll,
            "database_size",
            float(current.size),
            f"database {database} is {format_bytes(current.size)}",
            subject=database,
        ),
        _growth(poll, previous, current),
    ]


def _growth(poll: Poll, previous: object, current: SizeReading) -> Signal:
    name, database = "database_growth", current.database
    if not isinstance(previous, SizeReading) or previous.database != current.database:
        return unknown(name, FIRST_READING, subject=database, pending=True)

    elapsed = (current.now - previous.now).total_seconds()
    if elapsed < 0:
        return unknown(
            name,
            f"the server clock went back {format_duration(-elapsed)} since the last size"
            " reading; growth resumes on the next heavy poll",
            subject=database,
        )
    if elapsed == 0:
        return not_applicable(
            name, "n/a: no server time passed since the last size reading", subject=database
        )

    # A shrink (dropped tables, VACUUM FULL, truncation) is a valid negative growth.
    change = current.size - previous.size
    rate = change / elapsed * HOUR
    verb = "shrank" if change < 0 else "grew"
    return measure(
        poll,
        name,
        rate,
        f"database {database} {verb} by {format_bytes(abs(change))} in"
        f" {format_duration(elapsed)} ({format_bytes(rate)} per hour)",
        subject=database,
    )
