"""Streaming replication: connected replicas, replay lag and the standby's WAL receiver."""

from __future__ import annotations

from dataclasses import dataclass, replace

from statuspage.checks.pgstats.signal import (
    Poll,
    Signal,
    fixed,
    measure,
    not_applicable,
    unknown,
)
from statuspage.thresholds import Level

# Without pg_read_all_stats (part of pg_monitor), pg_stat_replication and pg_stat_wal_receiver
# show other roles' WAL senders and receivers with every column but the pid set to NULL.
NEEDS_READ_ALL_STATS = "needs pg_read_all_stats (grant pg_monitor to the monitoring role)"

# A standby has no WAL insert position of its own. Its cascading WAL senders send what it has
# received, or replayed from its archive, whichever is further.
REPLICAS_QUERY = """
with position as (
    select case when pg_is_in_recovery()
        then greatest(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())
        else pg_current_wal_lsn()
    end as lsn
)
select
    r.pid,
    r.application_name,
    r.state,
    extract(epoch from r.replay_lag)::float8,
    pg_wal_lsn_diff(position.lsn, r.replay_lsn)::float8,
    coalesce(r.replay_lsn >= r.sent_lsn and r.sent_lsn >= position.lsn, false)
from pg_stat_replication as r, position
order by r.pid
"""

# primary_conninfo may contain a password, so only whether it is set leaves the server. The
# pg_settings row is hidden from roles without pg_read_all_settings (part of pg_monitor).
STANDBY_QUERY = """
select
    (select count(*) from pg_stat_wal_receiver),
    (select status from pg_stat_wal_receiver limit 1),
    (select setting <> '' from pg_settings where name = 'primary_conninfo'),
    pg_is_wal_replay_paused(),
    pg_last_wal_receive_lsn() is not null,
    coalesce(pg_last_wal_replay_lsn() >= pg_last_wal_receive_lsn(), false),
    pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::float8,
    extract(epoch from now() - pg_last_xact_replay_timestamp())::float8
"""

# Worst first when one replication_lag signal stands for several replicas. An unknown lag
# outranks an OK one so that a replica whose lag cannot be read is never hidden behind others.
_SEVERITY = {Level.CRITICAL: 3, Level.WARNING: 2, Level.UNKNOWN: 1, Level.OK: 0}


@dataclass(frozen=True)
class _Replica:
    """One row of pg_stat_replication."""

    pid: int
    application_name: str | None
    state: str | None  # None when the monitoring role may not see the WAL sender's details
    replay_lag: float | None  # seconds, None once the replica is caught up and idle
    unreplayed_bytes: float | None  # WAL this server has that the replica has not replayed
    caught_up: bool

    @property
    def subject(self) -> str:
        return self.application_name or f"pid {self.pid}"


async def read_replication(poll: Poll) -> list[Signal]:
    cursor = await poll.connection.execute("select pg_is_in_recovery()")
    row = await cursor.fetchone()
    assert row is not None
    role = "standby" if row[0] else "primary"

    cursor = await poll.connection.execute(REPLICAS_QUERY)
    replicas = [_Replica(*row) for row in await cursor.fetchall()]

    if role == "primary":
        return [
            _replicas(poll, role, replicas),
            _primary_lag(poll, role, replicas),
            not_applicable("wal_receiver", "n/a: a primary has no WAL receiver"),
        ]

    # The lag of a standby's own cascading replicas is left out, because replication_lag is
    # the standby's lag behind its upstream server.
    replicas_signal = (
        _replicas(poll, role, replicas)
        if replicas
        else not_applicable("replicas", "n/a: standby without cascading replicas")
    )
    return [replicas_signal, *await _standby_signals(poll)]


def _replicas(poll: Poll, role: str, replicas: list[_Replica]) -> Signal:
    expected = poll.settings.expected_replicas
    connected = len(replicas)
    if any(replica.state is None for replica in replicas):
        if connected < expected:
            # Hidden WAL senders still count as connected, so too few is certain.
            return fixed(
                "replicas",
                Level.CRITICAL,
                None,
                f"{role}: expected {_replicas_text(expected)}, {connected} connected",
            )
        return unknown(
            "replicas",
            f"{role}: {connected} WAL senders connected but their state is hidden;"
            f" {NEEDS_READ_ALL_STATS}",
        )

    streaming = sum(1 for replica in replicas if replica.state == "streaming")
    connected_text = f"{connected} connected"
    if streaming < connected:
        # Replicas in the other states (startup, catchup, backup, stopping) are connected but
        # not streaming.
        states = sorted({str(replica.state) for replica in replicas} - {"streaming"})
        connected_text += f", {streaming} streaming, the others in state {', '.join(states)}"

    if streaming < expected:
        return fixed(
            "replicas",
            Level.CRITICAL,
            float(streaming),
            f"{role}: expected {_replicas_text(expected)}, {connected_text}",
        )
    return measure(
        poll, "replicas", float(streaming), f"{role}: {connected_text}, expected {expected}"
    )


def _primary_lag(poll: Poll, role: str, replicas: list[_Replica]) -> Signal:
    if not replicas:
        return not_applicable("replication_lag", f"n/a: {role} without connected replicas")

    signals = [_replica_lag(poll, role, replica) for replica in replicas]
    worst = max(signals, key=lambda signal: (_SEVERITY[signal.level], signal.value or 0.0))
    if len(signals) > 1:
        return replace(worst, summary=f"{worst.summary} (worst of {len(signals)} replicas)")
    return worst


def _replica_lag(poll: Poll, role: str, replica: _Replica) -> Signal:
    subject = replica.subject
    if replica.state is None:
        return unknown("replication_lag", f"{role}: {NEEDS_READ_ALL_STATS}", subject)
    if replica.caught_up:
        return measure(
            poll, "replication_lag", 0.0, f"{role}: {subject} has replayed all WAL", subject
        )
    if replica.unreplayed_bytes is None:
        return unknown(
            "replication_lag", f"{role}: {subject} has not reported a replay position yet", subject
        )

    gap = f"{_bytes_text(replica.unreplayed_bytes)} not replayed"
    if replica.replay_lag is None:
        # The WAL sender clears replay_lag after two replies in a row report everything
        # replayed, and sets it again from the next reply after new WAL. A replica that has
        # stopped replying (hung host, stopped process) leaves it NULL until
        # wal_sender_timeout ends the connection.
        return unknown(
            "replication_lag",
            f"{role}: {subject} has not reported a replay lag for the newest WAL; {gap}",
            subject,
        )
    # While replay is stuck but the replica keeps replying, the WAL sender's lag tracker
    # (LagTrackerRead in walsender.c) keeps replay_lag growing, so a stuck replay shows.
    lag = replica.replay_lag
    return measure(
        poll,
        "replication_lag",
        lag,
        f"{role}: {subject} replays {lag:.1f} s behind; {gap}",
        subject,
    )


async def _standby_signals(poll: Poll) -> list[Signal]:
    cursor = await poll.connection.execute(STANDBY_QUERY)
    row = await cursor.fetchone()
    assert row is not None
    receivers, status, streaming_configured, paused = row[:4]
    received, caught_up, unreplayed_bytes, since_replay = row[4:]
    return [
        _standby_lag(poll, paused, received, caught_up, unreplayed_bytes, since_replay),
        _wal_receiver(poll, receivers, status, streaming_configured),
    ]


def _standby_lag(
    poll: Poll,
    paused: bool,
    received: bool,
    caught_up: bool,
    unreplayed_bytes: float | None,
    since_replay: float | None,
) -> Signal:
    prefix = "standby: replay paused; " if paused else "standby: "
    if not received:
        return unknown(
            "replication_lag",
            f"{prefix}no WAL received by streaming since the server started, so the lag"
            " cannot be compared",
        )
    if caught_up:
        return measure(poll, "replication_lag", 0.0, f"{prefix}has replayed all WAL received")

    gap = f"{_bytes_text(unreplayed_bytes or 0.0)} received but not replayed"
    if since_replay is None:
        return unknown(
            "replication_lag",
            f"{prefix}{gap}, and no transaction replayed since the server started to time it",
        )
    # NOTE: this is the age of the last replayed commit, as the primary stamped it. After the
    # primary has been idle, it overstates the lag until the new WAL is replayed, which is
    # usually within milliseconds. Clock skew between the hosts shifts it, and a standby clock
    # behind the primary's could make it negative, which is reported as 0.
    seconds = max(0.0, since_replay)
    return measure(
        poll,
        "replication_lag",
        seconds,
        f"{prefix}last replayed transaction committed {seconds:.1f} s ago; {gap}",
    )


def _wal_receiver(
    poll: Poll, receivers: int, status: str | None, streaming_configured: bool | None
) -> Signal:
    if receivers == 0:
        if streaming_configured is False:
            return not_applicable(
                "wal_receiver", "n/a: standby without primary_conninfo, replaying from archive"
            )
        return fixed(
            "wal_receiver", Level.CRITICAL, 0.0, "standby: WAL receiver not streaming (not running)"
        )
    if status is None:
        return unknown(
            "wal_receiver", f"standby: WAL receiver status hidden; {NEEDS_READ_ALL_STATS}"
        )
    if status != "streaming":
        return fixed(
            "wal_receiver",
            Level.CRITICAL,
            0.0,
            f"standby: WAL receiver not streaming (status {status})",
        )
    return measure(poll, "wal_receiver", 1.0, "standby: WAL receiver streaming")


def _replicas_text(count: int) -> str:
    return f"{count} replica" if count == 1 else f"{count} replicas"


def _bytes_text(count: float) -> str:
    return f"{int(count):,} bytes"
