"""Rate and size signals against real PostgreSQL servers, with each condition provoked."""

from __future__ import annotations

import asyncio
import re
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from typing import Any

import psycopg
import pytest
from psycopg import sql

from statuspage.checks.pgstats.collector import Group, read_session
from statuspage.checks.pgstats.rates import (
    DATABASE_RATES,
    MEMORY_KEY,
    RATES_SIGNALS,
    RatesReading,
    read_rates,
)
from statuspage.checks.pgstats.signal import Connection, Poll, Signal
from statuspage.checks.pgstats.size import SIZE_SIGNALS, read_size
from statuspage.checks.postgres import PostgresProbe
from statuspage.config import PostgresCheck
from statuspage.result import Outcome
from statuspage.thresholds import POSTGRES_SIGNALS, Level, Threshold
from tests.fixtures_postgres import PostgresServer, start_postgres_server
from tests.pg_versions import server_user

pytestmark = pytest.mark.anyio

RATES_GROUP = Group("rates", RATES_SIGNALS, read_rates)
SIZE_GROUP = Group("size", SIZE_SIGNALS, read_size, heavy=True)

# Upper bound for statistics to become visible to other sessions. With
# pg_stat_force_next_flush (PostgreSQL 15+) they are visible at once, and PostgreSQL 14's
# statistics collector needs up to about a second.
STATS_DEADLINE = 10.0
# Bounds every statement of the test's own sessions, so a stuck lock fails the test quickly.
SESSION_OPTIONS = "-c statement_timeout=5000"

DEADLOCKS = "select sum(deadlocks) from pg_stat_database"
COMMITS = "select sum(xact_commit) from pg_stat_database"
ROLLBACKS = "select sum(xact_rollback) from pg_stat_database"
TEMP_BYTES = "select sum(temp_bytes) from pg_stat_database"

Reader = Callable[[Poll], Awaitable[list[Signal]]]


@pytest.fixture(scope="module")
def dedicated_server() -> Iterator[PostgresServer]:
    """A server of this module only, which its tests may reset and restart."""
    with start_postgres_server() as server:
        yield server


def restart_server(server: PostgresServer) -> None:
    assert server.bin_dir is not None
    assert server.data_dir is not None
    # Output goes to a file, because the restarted postmaster would keep a pipe open.
    with tempfile.TemporaryFile("w+") as output:
        completed = subprocess.run(
            [
                str(server.bin_dir / "pg_ctl"),
                "restart",
                "--pgdata",
                str(server.data_dir),
                "--log",
                str(server.data_dir / "server.log"),
                "--mode",
                "fast",
                "--wait",
                "--timeout",
                "30",
            ],
            cwd=server.data_dir.parent,
            user=server_user(),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            timeout=60,
            check=False,
        )
        output.seek(0)
        assert completed.returncode == 0, output.read()


async def connect(dsn: str, *, autocommit: bool = True) -> Connection:
    return await psycopg.AsyncConnection.connect(
        dsn, autocommit=autocommit, options=SESSION_OPTIONS
    )


@pytest.fixture
async def monitor(postgres_server: PostgresServer) -> AsyncIterator[Connection]:
    async with await connect(postgres_server.dsn) as connection:
        yield connection


@pytest.fixture
async def worker(postgres_server: PostgresServer) -> AsyncIterator[Connection]:
    async with await connect(postgres_server.dsn) as connection:
        yield connection


@pytest.fixture
async def row_table(postgres_server: PostgresServer) -> AsyncIterator[sql.Identifier]:
    """A table of two rows, 1 and 2, dropped at teardown."""
    table = sql.Identifier(f"rates_rows_{uuid.uuid4().hex[:8]}")
    async with postgres_server.admin() as admin:
        await admin.execute(sql.SQL("create table {} (id int primary key)").format(table))
        await admin.execute(sql.SQL("insert into {} values (1), (2)").format(table))
    yield table
    async with postgres_server.admin() as admin:
        await admin.execute(sql.SQL("drop table if exists {}").format(table))


@pytest.fixture
async def probes() -> AsyncIterator[list[PostgresProbe]]:
    """Probes that the test appends here are closed at teardown."""
    opened: list[PostgresProbe] = []
    yield opened
    for probe in opened:
        await probe.close()


def make_probe(
    probes: list[PostgresProbe], dsn: str, groups: list[Group], **settings: Any
) -> PostgresProbe:
    values: dict[str, Any] = {
        "timeout": 10.0,
        "connect_timeout": 5.0,
        "statement_timeout": 5.0,
        "application_name": f"statuspage-test-{uuid.uuid4().hex[:8]}",
    }
    values.update(settings)
    probe = PostgresProbe("main-db", PostgresCheck(dsn=dsn, **values), groups=groups)
    probes.append(probe)
    return probe


def settings_with(thresholds: Mapping[str, Threshold | None] | None = None) -> PostgresCheck:
    merged: dict[str, Threshold | None] = {
        name: spec.default for name, spec in POSTGRES_SIGNALS.items()
    }
    merged.update(thresholds or {})
    return PostgresCheck(dsn="", thresholds=merged)


async def poll_group(
    connection: Connection,
    read: Reader,
    memory: dict[str, Any],
    thresholds: Mapping[str, Threshold | None] | None = None,
) -> dict[str, Signal]:
    """Run one signal group once, the way the collector does, and key its signals by name."""
    session = await read_session(connection)
    poll = Poll(
        connection=connection,
        settings=settings_with(thresholds),
        server_version_num=session.server_version_num,
        privileges=session.privileges,
        backend_pid=session.backend_pid,
        now=session.now,
        latency=0.0,
        memory=memory,
    )
    return {signal.name: signal for signal in await read(poll)}


def signals_of(details: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {signal["name"]: signal for signal in details["signals"]}


async def fetch_value(connection: Connection, query: str) -> Any:
    cursor = await connection.execute(query)
    row = await cursor.fetchone()
    assert row is not None
    return row[0]


async def publish_stats(connection: Connection) -> None:
    """Send the session's pending statistics now rather than after up to 10 s idle."""
    if connection.info.server_version >= 150000:
        # PostgreSQL 16 flushes a session's transaction counts only along with other pending
        # statistics, such as table scans, so the statement also scans a catalog.
        await connection.execute("select pg_stat_force_next_flush(), count(*) from pg_am")
    else:
        # PostgreSQL 14 sends them at the end of a statement, at most every 500 ms.
        await connection.execute("select count(*) from pg_am")


async def wait_for(
    connection: Connection,
    query: str,
    condition: Callable[[Any], bool],
    *,
    source: Connection | None = None,
) -> Any:
    """Poll `query` until its value meets `condition`, publishing `source`'s statistics."""
    deadline = time.monotonic() + STATS_DEADLINE
    value = await fetch_value(connection, query)
    while not condition(value) and time.monotonic() < deadline:
        if source is not None:
            await publish_stats(source)
        await asyncio.sleep(0.05)
        value = await fetch_value(connection, query)
    assert condition(value), f"{query} returned {value} for {STATS_DEADLINE:g} s"
    return value


async def wait_until_above(
    connection: Connection, query: str, baseline: int, *, source: Connection | None = None
) -> int:
    return int(await wait_for(connection, query, lambda value: value > baseline, source=source))


async def checkpoint_counter_query(connection: Connection) -> str:
    if await fetch_value(connection, "select to_regclass('pg_catalog.pg_stat_checkpointer')"):
        return "select num_requested from pg_stat_checkpointer"
    return "select checkpoints_req from pg_stat_bgwriter"


async def provoke_deadlock(dsn: str, table: sql.Identifier) -> list[BaseException | None]:
    """Lock rows 1 and 2 from two sessions in opposite order and return each session's error."""
    async with await connect(dsn) as first, await connect(dsn) as second:
        # The first session detects the deadlock after 50 ms and becomes the victim, while the
        # second would wait 5 s, so exactly one of them fails.
        await first.execute("set deadlock_timeout = '50ms'")
        await second.execute("set deadlock_timeout = '5s'")
        locked = [asyncio.Event(), asyncio.Event()]
        select_row = sql.SQL("select from {} where id = %s for update").format(table)

        async def lock_rows(connection: Connection, own: int, other: int) -> None:
            async with connection.transaction():
                await connection.execute(select_row, (own,))
                locked[own - 1].set()
                await locked[other - 1].wait()
                await connection.execute(select_row, (other,))

        async with asyncio.timeout(10):
            outcomes = await asyncio.gather(
                lock_rows(first, 1, 2), lock_rows(second, 2, 1), return_exceptions=True
            )
        for connection in (first, second):
            await publish_stats(connection)
    return [outcome if isinstance(outcome, BaseException) else None for outcome in outcomes]


async def test_first_poll_unknown_then_rates(
    postgres_server: PostgresServer, probes: list[PostgresProbe]
) -> None:
    probe = make_probe(probes, postgres_server.dsn, [RATES_GROUP, SIZE_GROUP])

    first = await probe.run()
    # The probe's own statements may still be pending in its session, so another session adds
    # transactions and block requests that the second run is sure to see.
    async with await connect(postgres_server.dsn) as other:
        commits = await fetch_value(other, COMMITS)
        for _ in range(5):
            await other.execute("select count(*) from pg_class")
        await publish_stats(other)
        await wait_until_above(other, COMMITS, commits, source=other)
    second = await probe.run()

    assert first.outcome is Outcome.OK
    first_signals = signals_of(first.details)
    for name in RATES_SIGNALS:
        assert first_signals[name]["level"] == "unknown", name
        assert first_signals[name]["summary"].startswith("needs two polls"), name
    assert first_signals["database_size"]["level"] == "ok"
    assert first_signals["database_growth"]["level"] == "unknown"
    assert first_signals["database_growth"]["summary"].startswith("needs two size readings")
    second_signals = signals_of(second.details)
    for name in RATES_SIGNALS:
        assert second_signals[name]["level"] != "unknown", second_signals[name]
    assert second_signals["cache_hit_ratio"]["value"] is not None
    assert 0 <= second_signals["cache_hit_ratio"]["value"] <= 1
    assert second_signals["rollback_ratio"]["value"] is not None
    assert 0 <= second_signals["rollback_ratio"]["value"] <= 1


async def test_deadlock_counted_per_minute(
    postgres_server: PostgresServer, monitor: Connection, row_table: sql.Identifier
) -> None:
    memory: dict[str, Any] = {}
    await poll_group(monitor, read_rates, memory)
    before = await fetch_value(monitor, DEADLOCKS)

    errors = await provoke_deadlock(postgres_server.dsn, row_table)
    await wait_until_above(monitor, DEADLOCKS, before)
    baseline = dict(memory)
    signals = await poll_group(monitor, read_rates, memory)

    assert isinstance(errors[0], psycopg.errors.DeadlockDetected)
    assert errors[1] is None
    deadlocks = signals["deadlocks"]
    assert deadlocks.value is not None
    assert deadlocks.value > 0
    assert deadlocks.level in (Level.WARNING, Level.CRITICAL)
    assert re.match(r"\d+ deadlocks? in ", deadlocks.summary), deadlocks.summary
    assert "per minute" in deadlocks.summary

    # The same interval graded again, each time from the stored baseline.
    cases = [
        (Threshold(None, None), Level.OK),
        (Threshold(0.001, None), Level.WARNING),
        (Threshold(0.001, 0.002), Level.CRITICAL),
        (Threshold(1e9, 2e9), Level.OK),
    ]
    for threshold, expected in cases:
        graded = await poll_group(monitor, read_rates, dict(baseline), {"deadlocks": threshold})
        assert graded["deadlocks"].level is expected, threshold
        assert graded["deadlocks"].warning == threshold.warning
        assert graded["deadlocks"].critical == threshold.critical


async def test_rollbacks_raise_rollback_ratio(monitor: Connection, worker: Connection) -> None:
    memory: dict[str, Any] = {}
    await poll_group(monitor, read_rates, memory)

    commits = await fetch_value(monitor, COMMITS)
    for _ in range(20):
        await worker.execute("select 1")
    await publish_stats(worker)
    await wait_until_above(monitor, COMMITS, commits + 19, source=worker)
    low = (await poll_group(monitor, read_rates, memory))["rollback_ratio"]

    rollbacks = await fetch_value(monitor, ROLLBACKS)
    for _ in range(150):
        async with worker.transaction():
            await worker.execute("select 1")
            raise psycopg.Rollback()
    await publish_stats(worker)
    await wait_until_above(monitor, ROLLBACKS, rollbacks + 149, source=worker)
    high = (await poll_group(monitor, read_rates, memory))["rollback_ratio"]

    assert low.value is not None
    assert high.value is not None
    assert high.value > low.value
    # The statements that wait for the statistics commit too, about 80 on PostgreSQL 14.
    assert high.value >= 0.3
    assert high.level in (Level.WARNING, Level.CRITICAL)
    assert "transactions rolled back" in high.summary


async def test_spilled_sort_raises_temp_bytes(monitor: Connection, worker: Connection) -> None:
    memory: dict[str, Any] = {}
    await poll_group(monitor, read_rates, memory)
    before = await fetch_value(monitor, TEMP_BYTES)

    await worker.execute("set work_mem = '64kB'")
    await worker.execute(
        "select count(*) from (select g from generate_series(1, 200000) g order by g desc) s"
    )
    await publish_stats(worker)
    await wait_until_above(monitor, TEMP_BYTES, before, source=worker)
    signals = await poll_group(monitor, read_rates, memory)

    temp = signals["temp_bytes"]
    assert temp.value is not None
    assert temp.value > 0
    assert "written to temporary files" in temp.summary


async def test_idle_interval_is_not_applicable(postgres_server: PostgresServer) -> None:
    # Inside one transaction, now() stays the same and the statistics come from one snapshot,
    # so the second poll reads an interval of zero length in which nothing happened. Outside a
    # transaction the monitor's own queries would always count as activity.
    async with await connect(postgres_server.dsn, autocommit=False) as connection:
        if connection.info.server_version >= 150000:
            await connection.execute("set local stats_fetch_consistency = snapshot")
        memory: dict[str, Any] = {}
        await poll_group(connection, read_rates, memory)
        signals = await poll_group(connection, read_rates, memory)
        await connection.rollback()

    for name in RATES_SIGNALS:
        assert signals[name].level is Level.NOT_APPLICABLE, signals[name]
        assert signals[name].value is None
        assert signals[name].summary.startswith("n/a: "), signals[name]
    assert "no transaction ended" in signals["rollback_ratio"].summary
    assert "no block requests" in signals["cache_hit_ratio"].summary
    assert "no checkpoint" in signals["checkpoints_requested"].summary
    assert "no server time passed" in signals["deadlocks"].summary


async def test_checkpoints_raise_requested_share(
    postgres_server: PostgresServer, monitor: Connection
) -> None:
    memory: dict[str, Any] = {}
    await poll_group(monitor, read_rates, memory)
    counter = await checkpoint_counter_query(monitor)
    before = await fetch_value(monitor, counter)

    async with postgres_server.admin() as admin:
        for _ in range(3):
            await admin.execute("checkpoint")
    # The checkpointer reports its statistics shortly after the CHECKPOINT command returns.
    await wait_until_above(monitor, counter, before + 2)
    signals = await poll_group(monitor, read_rates, memory)

    requested = signals["checkpoints_requested"]
    assert requested.value is not None
    assert requested.value > 0.5
    assert requested.level is Level.WARNING
    assert "requested rather than timed" in requested.summary


async def test_checkpoint_source_matches_server(monitor: Connection) -> None:
    memory: dict[str, Any] = {}
    await poll_group(monitor, read_rates, memory)

    reading = memory[MEMORY_KEY]
    assert isinstance(reading, RatesReading)
    assert reading.checkpoints is not None
    version = monitor.info.server_version
    if version >= 170000:
        assert reading.checkpoints.source == "pg_stat_checkpointer"
    else:
        assert reading.checkpoints.source == "pg_stat_bgwriter"
    if version // 10000 == 16:
        assert reading.checkpoints.source == "pg_stat_bgwriter"


async def test_stats_reset_skips_rates(dedicated_server: PostgresServer) -> None:
    database_reset = "select stats_reset from pg_stat_database where datname = current_database()"
    database_commits = "select xact_commit from pg_stat_database where datname = current_database()"
    async with await connect(dedicated_server.dsn) as monitor:
        # A reset of counters that are all zero changes nothing and is ignored, and on a new
        # PostgreSQL 14 server the database may have no statistics yet.
        await wait_until_above(monitor, database_commits, 0, source=monitor)
        memory: dict[str, Any] = {}
        await poll_group(monitor, read_rates, memory)
        before = await fetch_value(monitor, database_reset)
        await monitor.execute("select pg_stat_reset()")
        await wait_for(monitor, database_reset, lambda value: value != before)
        after_reset = await poll_group(monitor, read_rates, memory)

        commits = await fetch_value(monitor, COMMITS)
        for _ in range(5):
            await monitor.execute("select 1")
        await publish_stats(monitor)
        await wait_until_above(monitor, COMMITS, commits, source=monitor)
        following = await poll_group(monitor, read_rates, memory)

        source = memory[MEMORY_KEY].checkpoints.source
        target = "checkpointer" if source == "pg_stat_checkpointer" else "bgwriter"
        shared_reset = f"select stats_reset from {source}"
        before = await fetch_value(monitor, shared_reset)
        await monitor.execute("select pg_stat_reset_shared(%s)", (target,))
        await wait_for(monitor, shared_reset, lambda value: value != before)
        after_shared_reset = await poll_group(monitor, read_rates, memory)

    for name in DATABASE_RATES:
        assert after_reset[name].level is Level.UNKNOWN, after_reset[name]
        assert "statistics of database postgres were reset" in after_reset[name].summary
        assert "rates resume on the next poll" in after_reset[name].summary
        assert following[name].level is not Level.UNKNOWN, following[name]
        assert after_shared_reset[name].level is not Level.UNKNOWN, after_shared_reset[name]
    assert after_reset["checkpoints_requested"].level is not Level.UNKNOWN
    assert following["rollback_ratio"].value is not None
    checkpoints = after_shared_reset["checkpoints_requested"]
    assert checkpoints.level is Level.UNKNOWN
    assert f"statistics of {source} were reset" in checkpoints.summary


async def test_restart_skips_rates_once(
    dedicated_server: PostgresServer, probes: list[PostgresProbe]
) -> None:
    probe = make_probe(probes, dedicated_server.dsn, [RATES_GROUP])
    first = await probe.run()
    assert first.outcome is Outcome.OK

    restart_server(dedicated_server)
    after_restart = await probe.run()
    following = await probe.run()

    assert after_restart.outcome is Outcome.OK
    assert after_restart.details["new_connection"] is True
    restarted = signals_of(after_restart.details)
    for name in RATES_SIGNALS:
        assert restarted[name]["level"] == "unknown", restarted[name]
        assert "the server restarted at" in restarted[name]["summary"]
    assert sorted(after_restart.details["unknown"]) == sorted(RATES_SIGNALS)
    valid = signals_of(following.details)
    for name in RATES_SIGNALS:
        assert valid[name]["level"] != "unknown", valid[name]


async def test_rates_need_no_monitoring_role(dedicated_server: PostgresServer) -> None:
    password = "rates-password-1"
    role = await dedicated_server.create_role(password)
    dsn = dedicated_server.dsn_for(user=role, password=password)

    async with await connect(dsn) as plain:
        memory: dict[str, Any] = {}
        await poll_group(plain, read_rates, memory)
        signals = await poll_group(plain, read_rates, memory)

    for name in RATES_SIGNALS:
        assert signals[name].level is not Level.UNKNOWN, signals[name]


async def test_size_grows_then_shrinks(
    postgres_server: PostgresServer, probes: list[PostgresProbe]
) -> None:
    table = sql.Identifier(f"size_rows_{uuid.uuid4().hex[:8]}")
    # heavy_interval 0 makes every run read the size instead of the cached reading.
    probe = make_probe(probes, postgres_server.dsn, [SIZE_GROUP], heavy_interval=0.0)
    first = signals_of((await probe.run()).details)

    async with postgres_server.admin() as admin:
        try:
            await admin.execute(sql.SQL("create table {} (id int, note text)").format(table))
            await admin.execute(
                sql.SQL(
                    "insert into {} select g, repeat('x', 200) from generate_series(1, 20000) g"
                ).format(table)
            )
            grown = signals_of((await probe.run()).details)
        finally:
            await admin.execute(sql.SQL("drop table if exists {}").format(table))
    shrunk = signals_of((await probe.run()).details)

    assert first["database_size"]["value"] > 0
    assert first["database_size"]["unit"] == "bytes"
    assert first["database_size"]["subject"] == "postgres"
    assert first["database_growth"]["level"] == "unknown"
    assert grown["database_size"]["value"] > first["database_size"]["value"]
    assert grown["database_growth"]["value"] > 0
    assert grown["database_growth"]["level"] == "ok"
    assert grown["database_growth"]["unit"] == "bytes_per_hour"
    assert "grew by" in grown["database_growth"]["summary"]
    assert shrunk["database_size"]["value"] < grown["database_size"]["value"]
    assert shrunk["database_growth"]["value"] < 0
    assert shrunk["database_growth"]["level"] == "ok"
    assert "shrank by" in shrunk["database_growth"]["summary"]


async def test_size_thresholds_grade_levels(monitor: Connection) -> None:
    cases = [
        ({}, Level.OK),
        ({"database_size": Threshold(1, None)}, Level.WARNING),
        ({"database_size": Threshold(1, 2)}, Level.CRITICAL),
        ({"database_size": Threshold(1e15, 2e15)}, Level.OK),
    ]
    for thresholds, expected in cases:
        signals = await poll_group(monitor, read_size, {}, thresholds)
        assert signals["database_size"].level is expected, thresholds


async def test_growth_threshold_grades_level(
    postgres_server: PostgresServer, monitor: Connection
) -> None:
    table = sql.Identifier(f"growth_rows_{uuid.uuid4().hex[:8]}")
    memory: dict[str, Any] = {}
    await poll_group(monitor, read_size, memory)
    async with postgres_server.admin() as admin:
        try:
            await admin.execute(
                sql.SQL("create table {} as select g from generate_series(1, 20000) g").format(
                    table
                )
            )
            signals = await poll_group(
                monitor, read_size, memory, {"database_growth": Threshold(1, None)}
            )
        finally:
            await admin.execute(sql.SQL("drop table if exists {}").format(table))

    growth = signals["database_growth"]
    assert growth.value is not None
    assert growth.value > 0
    assert growth.level is Level.WARNING


async def test_size_without_connect_names_grant(dedicated_server: PostgresServer) -> None:
    password = "size-password-2"
    role = await dedicated_server.create_role(password)
    database = f"size_db_{uuid.uuid4().hex[:8]}"
    role_name, database_name = sql.Identifier(role), sql.Identifier(database)
    dsn = dedicated_server.dsn_for(user=role, password=password, dbname=database)
    async with await connect(dedicated_server.dsn) as admin:
        await admin.execute(sql.SQL("create database {}").format(database_name))
        try:
            async with await connect(dsn) as plain:
                # The role logged in through PUBLIC's CONNECT, which is revoked afterwards.
                await admin.execute(
                    sql.SQL("revoke connect on database {} from public").format(database_name)
                )
                denied = await poll_group(plain, read_size, {})
                await admin.execute(sql.SQL("grant pg_read_all_stats to {}").format(role_name))
                allowed = await poll_group(plain, read_size, {})
        finally:
            await admin.execute(sql.SQL("drop database {} with (force)").format(database_name))

    for name in SIZE_SIGNALS:
        assert denied[name].level is Level.UNKNOWN, denied[name]
        assert f"grant CONNECT on database {database}" in denied[name].summary
        assert "pg_read_all_stats" in denied[name].summary
        assert denied[name].subject == database
    assert allowed["database_size"].level is Level.OK
    assert allowed["database_size"].value is not None
    assert allowed["database_size"].value > 0
