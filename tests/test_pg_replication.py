"""Replication signals against a real primary and a real streaming standby."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from statuspage.checks.pgstats.collector import Group
from statuspage.checks.pgstats.replication import read_replication
from statuspage.checks.postgres import PostgresProbe
from statuspage.config import PostgresCheck
from statuspage.result import Outcome
from statuspage.thresholds import POSTGRES_SIGNALS, Threshold
from tests.fixtures_pg_replication import (  # noqa: F401 (fixtures used by name)
    MONITOR_ROLE,
    PLAIN_ROLE,
    STANDBY_NAME,
    Node,
    ReplicationPair,
    cascading_standby_fixture,
    replication_fixture,
    replication_pair_fixture,
)
from tests.fixtures_postgres import PostgresServer

pytestmark = pytest.mark.anyio

REPLICATION_GROUP = Group(
    "replication", ("replicas", "replication_lag", "wal_receiver"), read_replication
)

ProbeFactory = Callable[..., PostgresProbe]
Signals = dict[str, dict[str, Any]]


@pytest.fixture
async def make_probe() -> AsyncIterator[ProbeFactory]:
    """Build probes that read only the replication group, closed at teardown."""
    probes: list[PostgresProbe] = []

    def build(dsn: str, **overrides: Any) -> PostgresProbe:
        values: dict[str, Any] = {"timeout": 5.0, "connect_timeout": 2.0, "statement_timeout": 2.0}
        values.update(overrides)
        probe = PostgresProbe("database", PostgresCheck(dsn=dsn, **values), [REPLICATION_GROUP])
        probes.append(probe)
        return probe

    yield build
    for probe in probes:
        await probe.close()


async def read_signals(probe: PostgresProbe) -> Signals:
    result = await probe.run()
    assert "signals" in result.details, result.details
    return {signal["name"]: signal for signal in result.details["signals"]}


def with_threshold(name: str, threshold: Threshold) -> dict[str, Threshold | None]:
    thresholds: dict[str, Threshold | None] = {
        signal: spec.default for signal, spec in POSTGRES_SIGNALS.items()
    }
    thresholds[name] = threshold
    return thresholds


async def test_primary_with_streaming_standby(
    replication: ReplicationPair, make_probe: ProbeFactory
) -> None:
    replication.wait_until_caught_up()
    probe = make_probe(replication.dsn(Node.PRIMARY, MONITOR_ROLE), expected_replicas=1)

    result = await probe.run()
    signals = {signal["name"]: signal for signal in result.details["signals"]}

    assert result.outcome is Outcome.OK
    assert signals["replicas"]["level"] == "ok"
    assert signals["replicas"]["value"] == 1
    assert signals["replicas"]["summary"] == "primary: 1 connected, expected 1"
    lag = signals["replication_lag"]
    assert lag["level"] == "ok"
    assert lag["subject"] == STANDBY_NAME
    # WAL that a background process writes after the wait shows up as a small measured lag.
    assert lag["value"] is not None
    assert lag["value"] < 1.0
    assert lag["summary"].startswith("primary: ")
    assert signals["wal_receiver"]["level"] == "n/a"


async def test_stopped_standby_is_missing_replica(
    replication: ReplicationPair, make_probe: ProbeFactory
) -> None:
    replication.stop_standby()
    replication.wait_for(
        Node.PRIMARY,
        "select not exists (select from pg_stat_replication)",
        "the primary notices that the standby has gone",
    )
    probe = make_probe(replication.dsn(Node.PRIMARY, MONITOR_ROLE), expected_replicas=1)

    result = await probe.run()
    signals = {signal["name"]: signal for signal in result.details["signals"]}

    assert result.outcome is Outcome.FAILED
    assert signals["replicas"]["level"] == "critical"
    assert signals["replicas"]["value"] == 0
    assert signals["replicas"]["summary"] == "primary: expected 1 replica, 0 connected"
    assert signals["replication_lag"]["level"] == "n/a"


async def test_standalone_primary_expecting_none(
    postgres_server: PostgresServer, make_probe: ProbeFactory
) -> None:
    probe = make_probe(postgres_server.dsn, expected_replicas=0)

    result = await probe.run()
    signals = {signal["name"]: signal for signal in result.details["signals"]}

    assert result.outcome is Outcome.OK
    assert signals["replicas"]["level"] == "ok"
    assert signals["replicas"]["value"] == 0
    assert signals["replication_lag"]["level"] == "n/a"
    assert signals["wal_receiver"]["level"] == "n/a"


async def test_standby_streaming_and_caught_up(
    replication: ReplicationPair, make_probe: ProbeFactory
) -> None:
    replication.wait_for(
        Node.STANDBY,
        "select pg_last_wal_replay_lsn() >= pg_last_wal_receive_lsn()",
        "the standby has replayed all WAL it received",
    )
    probe = make_probe(replication.dsn(Node.STANDBY, MONITOR_ROLE), expected_replicas=1)

    signals = await read_signals(probe)

    assert signals["wal_receiver"]["level"] == "ok"
    assert signals["wal_receiver"]["value"] == 1
    assert signals["wal_receiver"]["summary"] == "standby: WAL receiver streaming"
    assert signals["replication_lag"]["level"] == "ok"
    assert signals["replication_lag"]["value"] == 0
    assert signals["replication_lag"]["summary"].startswith("standby: ")
    # expected_replicas describes the primary, so the standby is not held to it.
    assert signals["replicas"]["level"] == "n/a"


async def test_standby_with_cascading_replica(
    cascading_standby: ReplicationPair, make_probe: ProbeFactory
) -> None:
    probe = make_probe(cascading_standby.dsn(Node.STANDBY, MONITOR_ROLE), expected_replicas=1)

    signals = await read_signals(probe)

    assert signals["replicas"]["level"] == "ok"
    assert signals["replicas"]["value"] == 1
    assert signals["replicas"]["summary"] == "standby: 1 connected, expected 1"
    # replication_lag stays the standby's own lag, not that of its cascading replica.
    assert signals["replication_lag"]["subject"] is None
    assert signals["replication_lag"]["summary"].startswith("standby: ")
    assert signals["wal_receiver"]["level"] == "ok"


async def test_paused_replay_lag_on_standby(
    replication: ReplicationPair, make_probe: ProbeFactory
) -> None:
    # A replayed commit gives the standby a last replayed transaction time to measure from.
    replayed = replication.write_on_primary()
    replication.wait_for(
        Node.STANDBY,
        f"select pg_last_wal_replay_lsn() >= '{replayed}'",
        "the standby has replayed the first write",
    )
    committed_by = time.time()
    replication.pause_replay()
    pending = replication.write_on_primary()
    replication.execute(Node.PRIMARY, "select pg_switch_wal()")
    replication.wait_for(
        Node.STANDBY,
        f"select pg_last_wal_receive_lsn() >= '{pending}'",
        "the standby has received the second write",
    )
    probe = make_probe(
        replication.dsn(Node.STANDBY, MONITOR_ROLE),
        thresholds=with_threshold("replication_lag", Threshold(warning=0.001, critical=3600)),
    )

    started = time.time()
    signals = await read_signals(probe)

    lag = signals["replication_lag"]
    assert lag["level"] == "warning"
    # The value is rounded to milliseconds.
    assert lag["value"] >= started - committed_by - 0.001
    assert lag["summary"].startswith("standby: replay paused; ")
    assert "bytes received but not replayed" in lag["summary"]
    # The WAL receiver keeps streaming while replay is paused.
    assert signals["wal_receiver"]["level"] == "ok"


async def test_paused_replay_lag_on_primary(
    replication: ReplicationPair, make_probe: ProbeFactory
) -> None:
    replication.pause_replay()
    pending = replication.write_on_primary()
    # The standby replies every second, and each reply raises replay_lag while replay is paused.
    replication.wait_for(
        Node.PRIMARY,
        "select exists (select from pg_stat_replication"
        f" where flush_lsn >= '{pending}' and replay_lag >= interval '0.5 s')",
        "the primary measures the paused standby's replay lag",
    )
    probe = make_probe(
        replication.dsn(Node.PRIMARY, MONITOR_ROLE),
        expected_replicas=1,
        thresholds=with_threshold("replication_lag", Threshold(warning=0.5, critical=3600)),
    )

    signals = await read_signals(probe)

    lag = signals["replication_lag"]
    assert lag["level"] == "warning"
    assert lag["value"] >= 0.5
    assert lag["subject"] == STANDBY_NAME
    assert "bytes not replayed" in lag["summary"]
    assert signals["replicas"]["level"] == "ok"


async def test_silent_standby_lag_unknown(
    replication: ReplicationPair, make_probe: ProbeFactory
) -> None:
    replication.wait_until_caught_up()
    # Once the standby has reported twice that it has replayed everything, the primary clears
    # replay_lag to NULL, and only a reply from the standby sets it again.
    replication.wait_for(
        Node.PRIMARY,
        "select exists (select from pg_stat_replication where replay_lag is null)",
        "the primary clears the standby's replay lag",
    )
    probe = make_probe(replication.dsn(Node.PRIMARY, MONITOR_ROLE), expected_replicas=1)

    with replication.frozen_wal_receiver():
        replication.write_on_primary()
        signals = await read_signals(probe)

    lag = signals["replication_lag"]
    assert lag["level"] == "unknown"
    assert lag["subject"] == STANDBY_NAME
    assert "has not reported a replay lag" in lag["summary"]
    assert "bytes not replayed" in lag["summary"]


async def test_stopped_primary_stops_receiver(
    replication: ReplicationPair, make_probe: ProbeFactory
) -> None:
    replication.stop_primary()
    replication.wait_for(
        Node.STANDBY,
        "select not exists (select from pg_stat_wal_receiver where status = 'streaming')",
        "the standby's WAL receiver stops streaming",
    )
    probe = make_probe(replication.dsn(Node.STANDBY, MONITOR_ROLE))

    result = await probe.run()
    signals = {signal["name"]: signal for signal in result.details["signals"]}

    assert result.outcome is Outcome.FAILED
    assert signals["wal_receiver"]["level"] == "critical"
    assert signals["wal_receiver"]["value"] == 0
    assert signals["wal_receiver"]["summary"].startswith("standby: WAL receiver not streaming")


async def test_role_without_monitor_on_primary(
    replication: ReplicationPair, make_probe: ProbeFactory
) -> None:
    probe = make_probe(replication.dsn(Node.PRIMARY, PLAIN_ROLE), expected_replicas=1)

    signals = await read_signals(probe)

    assert signals["replication_lag"]["level"] == "unknown"
    assert "grant pg_monitor" in signals["replication_lag"]["summary"]
    # The WAL sender is visible without its state, so one connected replica is not too few.
    assert signals["replicas"]["level"] == "unknown"
    assert "grant pg_monitor" in signals["replicas"]["summary"]


async def test_role_without_monitor_missing_replicas(
    replication: ReplicationPair, make_probe: ProbeFactory
) -> None:
    probe = make_probe(replication.dsn(Node.PRIMARY, PLAIN_ROLE), expected_replicas=2)

    signals = await read_signals(probe)

    assert signals["replicas"]["level"] == "critical"
    assert signals["replicas"]["summary"] == "primary: expected 2 replicas, 1 connected"


async def test_role_without_monitor_on_standby(
    replication: ReplicationPair, make_probe: ProbeFactory
) -> None:
    probe = make_probe(replication.dsn(Node.STANDBY, PLAIN_ROLE))

    signals = await read_signals(probe)

    assert signals["wal_receiver"]["level"] == "unknown"
    assert "grant pg_monitor" in signals["wal_receiver"]["summary"]
    # The standby's own positions are readable by every role.
    assert signals["replication_lag"]["level"] != "unknown"
