"""Sessions: connection slots, long queries, idle transactions and lock waits."""

from __future__ import annotations

import math

from statuspage.checks.pgstats.signal import Poll, Signal, measure, not_applicable, unknown

# Other roles' rows in pg_stat_activity show backend_type and state as NULL unless the role
# has pg_read_all_stats (part of pg_monitor). Their datid stays visible, and only processes
# attached to a database have one, so those rows count as used slots: that over-counts
# autovacuum and parallel workers but never hides a client connection.
ACTIVITY_QUERY = """
select
    count(*) filter (where backend_type = 'client backend'),
    count(*) filter (where backend_type is null and datid is not null),
    current_setting('max_connections')::int,
    current_setting('superuser_reserved_connections')::int,
    coalesce(nullif(current_setting('reserved_connections', true), '')::int, 0),
    max(extract(epoch from now() - query_start)) filter (
        where state = 'active' and backend_type = 'client backend' and pid <> pg_backend_pid()
    ),
    max(extract(epoch from now() - state_change)) filter (
        where state in ('idle in transaction', 'idle in transaction (aborted)')
    ),
    count(*) filter (where state in ('idle in transaction', 'idle in transaction (aborted)'))
from pg_stat_activity
"""

# pg_locks is readable without extra privileges; waitstart exists since PostgreSQL 14.
LOCK_WAITS_QUERY = """
select count(distinct pid), max(extract(epoch from now() - waitstart))
from pg_locks
where not granted and pid <> pg_backend_pid()
"""

NEEDS_READ_ALL_STATS = "needs pg_read_all_stats (grant pg_monitor to the monitoring role)"


async def read_activity(poll: Poll) -> list[Signal]:
    cursor = await poll.connection.execute(ACTIVITY_QUERY)
    row = await cursor.fetchone()
    assert row is not None
    (clients, unclassified, max_connections, superuser_reserved, reserved) = row[:5]
    longest_query, idle_age, idle_count = row[5:]

    signals = [
        _connections(poll, clients + unclassified, max_connections - superuser_reserved - reserved)
    ]

    if not poll.privileges.read_all_stats:
        signals.append(unknown("longest_query", NEEDS_READ_ALL_STATS))
        signals.append(unknown("idle_in_transaction", NEEDS_READ_ALL_STATS))
    else:
        seconds = float(longest_query or 0)
        signals.append(
            measure(poll, "longest_query", seconds, f"longest active query running {seconds:.0f} s")
        )
        idle = float(idle_age or 0)
        signals.append(
            measure(
                poll,
                "idle_in_transaction",
                idle,
                f"{_sessions(idle_count)} idle in transaction, longest for {idle:.0f} s"
                if idle_count
                else "no session idle in transaction",
            )
        )

    cursor = await poll.connection.execute(LOCK_WAITS_QUERY)
    waits = await cursor.fetchone()
    assert waits is not None
    waiting, longest_wait = waits
    wait = float(longest_wait or 0)
    signals.append(
        measure(
            poll,
            "lock_waits",
            wait,
            f"{_sessions(waiting)} waiting for locks, longest for {wait:.0f} s"
            if waiting
            else "no session waiting for a lock",
        )
    )
    return signals


def _connections(poll: Poll, used: int, available: int) -> Signal:
    if available <= 0:
        return not_applicable("connections", "no connection slots available to clients")
    ratio = used / available
    # Graded unrounded, because rounding could move a value across a threshold.
    return measure(
        poll,
        "connections",
        ratio,
        f"{used} of {available} connection slots in use ({math.floor(ratio * 100)}%)",
    )


def _sessions(count: int) -> str:
    return "1 session" if count == 1 else f"{count} sessions"
