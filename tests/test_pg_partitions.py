"""Partition signals against a PullLog-shaped database on a real PostgreSQL server."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from statuspage.checks.pgstats.collector import Group
from statuspage.checks.pgstats.partitions import BALANCE_MINIMUM_BYTES, read_partitions
from statuspage.checks.postgres import PostgresProbe
from statuspage.config import PartitionedTable, PostgresCheck
from statuspage.thresholds import DAY, POSTGRES_SIGNALS, Threshold
from tests.fixtures_postgres import PostgresServer

pytestmark = pytest.mark.anyio

SCHEMA = Path(__file__).with_name("pulllog_schema.sql")
SIGNALS = ("partitions", "partition_balance", "default_partition_rows", "partitions_ahead")
LOGS = PartitionedTable("public", "logs", 10)
EVENTS = PartitionedTable("public", "events")

# About 12 MiB of rows in one hash bucket, above BALANCE_MINIMUM_BYTES. A 1000-byte payload
# stays below the TOAST threshold (about 2 KiB), so it is stored uncompressed.
SKEW_ROWS = 12_000
PAYLOAD_BYTES = 1000

Readings = dict[tuple[str, str | None], dict[str, Any]]


@dataclass(frozen=True)
class Database:
    name: str
    dsn: str  # superuser DSN for this database


@pytest.fixture
async def pulllog(postgres_server: PostgresServer) -> AsyncIterator[Database]:
    """Create a database with the PullLog-shaped schema, dropped at teardown."""
    name = f"statuspage_pulllog_{uuid.uuid4().hex[:8]}"
    async with postgres_server.admin() as admin:
        await admin.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    try:
        dsn = postgres_server.dsn_for(dbname=name)
        async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as connection:
            await connection.execute(SCHEMA.read_bytes())
        yield Database(name, dsn)
    finally:
        async with postgres_server.admin() as admin:
            await admin.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
            )


async def read_signals(
    dsn: str,
    *tables: PartitionedTable,
    thresholds: dict[str, Threshold | None] | None = None,
) -> Readings:
    """Run the partitions group once through PostgresProbe, keyed by (signal, subject)."""
    limits: dict[str, Threshold | None] = {
        name: spec.default for name, spec in POSTGRES_SIGNALS.items()
    }
    limits.update(thresholds or {})
    settings = PostgresCheck(
        dsn=dsn,
        partitioned_tables=tables,
        heavy_interval=0,
        thresholds=limits,
        application_name=f"statuspage-test-{uuid.uuid4().hex[:8]}",
    )
    group = Group("partitions", SIGNALS, read_partitions, heavy=True)
    probe = PostgresProbe("pulllog-db", settings, groups=[group])
    try:
        result = await probe.run()
    finally:
        await probe.close()
    assert "signals" in result.details, result.details
    return {
        (signal["name"], signal["subject"]): signal
        for signal in result.details["signals"]
        if signal["name"] in SIGNALS
    }


async def execute(dsn: str, *statements: str) -> None:
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as connection:
        for statement in statements:
            await connection.execute(statement.encode())


async def fetch_value(dsn: str, query: str) -> Any:
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as connection:
        cursor = await connection.execute(query.encode())
        row = await cursor.fetchone()
    assert row is not None
    return row[0]


async def insert_skewed_logs(dsn: str) -> str:
    """Fill the hash partition of user 1 with SKEW_ROWS rows; return that partition's name."""
    await execute(
        dsn,
        f"insert into logs (user_id, payload) select 1, repeat('x', {PAYLOAD_BYTES})"
        f" from generate_series(1, {SKEW_ROWS})",
    )
    name: str = await fetch_value(dsn, "select tableoid::regclass::text from logs limit 1")
    return f"public.{name}"


async def wait_for_stats(
    connection: psycopg.AsyncConnection[Any], table: str, condition: str, within: float = 10.0
) -> None:
    """Flush this session's statistics and poll until `condition` holds for `table`.

    `condition` is SQL over the columns of pg_stat_user_tables. PostgreSQL 14 sends statistics
    and resets through its statistics collector, so they show up only after a delay.
    """
    if connection.info.server_version >= 150000:
        await connection.execute("select pg_stat_force_next_flush()")
    query = f"select {condition} from pg_stat_user_tables where relid = %s::regclass"
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        cursor = await connection.execute(query.encode(), (table,))
        row = await cursor.fetchone()
        if row is not None and row[0]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"statistics of {table} did not show {condition} within {within} s")


async def insert_default_events(dsn: str, rows: int, *, analyze: bool = True) -> None:
    """Insert rows that no monthly partition covers, so they go to the default partition.

    ANALYZE sets n_live_tup, and counts still pending in the inserting session would be added
    on top when that session flushes them later, so the statistics are flushed first.
    """
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as connection:
        await connection.execute(
            "insert into events (occurred_at, kind) "
            "select '2000-01-01'::timestamptz, 'outside' from generate_series(1, %s)",
            (rows,),
        )
        await wait_for_stats(connection, "events_default", f"n_tup_ins >= {rows}")
        if analyze:
            await connection.execute("analyze events_default")


async def test_pulllog_logs_all_attached(pulllog: Database) -> None:
    readings = await read_signals(pulllog.dsn, LOGS)

    partitions = readings["partitions", "public.logs"]
    assert partitions["level"] == "ok"
    assert partitions["value"] == 10
    assert partitions["summary"] == "10 of 10 partitions attached"
    balance = readings["partition_balance", "public.logs"]
    assert balance["level"] == "n/a"
    assert balance["summary"].startswith("n/a: too small to judge balance")
    assert readings["default_partition_rows", "public.logs"]["level"] == "n/a"
    assert readings["partitions_ahead", "public.logs"]["level"] == "n/a"


async def test_detached_partition_critical(pulllog: Database) -> None:
    await execute(pulllog.dsn, "alter table logs detach partition logs_p3")

    readings = await read_signals(pulllog.dsn, LOGS)

    partitions = readings["partitions", "public.logs"]
    assert partitions["level"] == "critical"
    assert partitions["value"] == 9
    assert partitions["summary"] == "9 of 10 partitions attached"


async def test_pending_detach_not_counted(pulllog: Database) -> None:
    """A DETACH ... CONCURRENTLY that was cancelled while waiting leaves the partition pending."""
    holder = await psycopg.AsyncConnection.connect(pulllog.dsn)
    detacher = await psycopg.AsyncConnection.connect(pulllog.dsn, autocommit=True)
    try:
        # A transaction that uses the parent makes the detach wait for it to end.
        await holder.execute("lock table logs in access share mode")
        detach = asyncio.create_task(
            detacher.execute("alter table logs detach partition logs_p3 concurrently")
        )
        pid = detacher.info.backend_pid
        waiting = False
        deadline = time.monotonic() + 10
        async with await psycopg.AsyncConnection.connect(pulllog.dsn, autocommit=True) as admin:
            while not waiting and time.monotonic() < deadline:
                cursor = await admin.execute(
                    "select wait_event_type = 'Lock' from pg_stat_activity where pid = %s", (pid,)
                )
                row = await cursor.fetchone()
                waiting = bool(row and row[0])
                if not waiting:
                    await asyncio.sleep(0.05)
            assert waiting, "the concurrent detach did not start waiting within 10 s"
            await admin.execute("select pg_cancel_backend(%s)", (pid,))
        with pytest.raises(psycopg.errors.QueryCanceled):
            await detach
    finally:
        await holder.close()
        await detacher.close()

    readings = await read_signals(pulllog.dsn, LOGS)

    partitions = readings["partitions", "public.logs"]
    assert partitions["level"] == "critical"
    assert partitions["value"] == 9
    assert partitions["summary"] == "9 of 10 partitions attached (1 being detached)"


@pytest.mark.parametrize(
    ("statements", "summary"),
    [
        (("alter table logs rename to logs_old",), "public.logs not found"),
        (("drop table logs",), "public.logs not found"),
        (
            ("alter table logs rename to logs_old", "create table logs (id bigint)"),
            "public.logs is not a partitioned table",
        ),
    ],
    ids=["renamed", "dropped", "plain-table"],
)
async def test_missing_parent_critical(
    pulllog: Database, statements: tuple[str, ...], summary: str
) -> None:
    await execute(pulllog.dsn, *statements)

    readings = await read_signals(pulllog.dsn, LOGS)

    partitions = readings["partitions", "public.logs"]
    assert partitions["level"] == "critical"
    assert partitions["summary"] == summary
    for name in SIGNALS[1:]:
        assert readings[name, "public.logs"]["level"] == "n/a"
        assert readings[name, "public.logs"]["summary"] == f"n/a: {summary}"


async def test_extra_partition_warning(pulllog: Database) -> None:
    # Splitting one bucket of modulus 10 into two of modulus 20 leaves 11 partitions.
    await execute(
        pulllog.dsn,
        "alter table logs detach partition logs_p3",
        "create table logs_p3a partition of logs for values with (modulus 20, remainder 3)",
        "create table logs_p3b partition of logs for values with (modulus 20, remainder 13)",
    )

    readings = await read_signals(pulllog.dsn, LOGS)

    partitions = readings["partitions", "public.logs"]
    assert partitions["level"] == "warning"
    assert partitions["value"] == 11
    assert partitions["summary"] == "11 partitions attached, 10 expected"


async def test_no_expected_count_ok(pulllog: Database) -> None:
    await execute(pulllog.dsn, "alter table logs detach partition logs_p3")

    readings = await read_signals(pulllog.dsn, PartitionedTable("public", "logs"), EVENTS)

    logs = readings["partitions", "public.logs"]
    assert logs["level"] == "ok"
    assert logs["value"] == 9
    assert logs["summary"] == "9 partitions attached"
    # Three monthly partitions and the default partition.
    events = readings["partitions", "public.events"]
    assert events["level"] == "ok"
    assert events["value"] == 4


async def test_skewed_hash_partition_critical(pulllog: Database) -> None:
    partition = await insert_skewed_logs(pulllog.dsn)

    readings = await read_signals(pulllog.dsn, LOGS)

    balance = readings["partition_balance", "public.logs"]
    assert balance["level"] == "critical"
    # One partition contains nearly all rows, so it is close to 10 times the mean of 10.
    assert 8 < balance["value"] <= 10
    assert balance["summary"].startswith(f"largest partition {partition} (")
    assert "10 partitions" in balance["summary"]


async def test_skewed_hash_partition_warning(pulllog: Database) -> None:
    await insert_skewed_logs(pulllog.dsn)

    readings = await read_signals(
        pulllog.dsn, LOGS, thresholds={"partition_balance": Threshold(2.0, 20.0)}
    )

    balance = readings["partition_balance", "public.logs"]
    assert balance["level"] == "warning"
    assert balance["warning"] == 2.0
    assert balance["critical"] == 20.0


async def test_even_hash_partitions_ok(pulllog: Database) -> None:
    # 997 users spread over 10 buckets by hash: each bucket gets about a tenth of the rows.
    await execute(
        pulllog.dsn,
        f"insert into logs (user_id, payload) select g % 997, repeat('x', {PAYLOAD_BYTES})"
        f" from generate_series(1, {SKEW_ROWS}) g",
    )
    total = await fetch_value(
        pulllog.dsn,
        "select sum(pg_total_relation_size(relid)) from pg_partition_tree('logs') where isleaf",
    )
    assert total >= BALANCE_MINIMUM_BYTES

    readings = await read_signals(pulllog.dsn, LOGS)

    balance = readings["partition_balance", "public.logs"]
    assert balance["level"] == "ok"
    assert 1.0 <= balance["value"] < 1.5


async def test_mixed_moduli_weighted(pulllog: Database) -> None:
    await execute(
        pulllog.dsn,
        "alter table logs detach partition logs_p3",
        "create table logs_p3a partition of logs for values with (modulus 20, remainder 3)",
        "create table logs_p3b partition of logs for values with (modulus 20, remainder 13)",
        f"insert into logs (user_id, payload) select g % 997, repeat('x', {PAYLOAD_BYTES})"
        f" from generate_series(1, {SKEW_ROWS}) g",
    )

    readings = await read_signals(pulllog.dsn, LOGS)

    # Each modulus-20 partition contains half as many rows as the others by design, which the
    # weighting takes into account, so the spread still reads as even.
    balance = readings["partition_balance", "public.logs"]
    assert balance["level"] == "ok"
    assert 1.0 <= balance["value"] < 1.5
    assert "weighted by hash modulus" in balance["summary"]


async def test_range_balance_not_applicable(pulllog: Database) -> None:
    readings = await read_signals(pulllog.dsn, EVENTS)

    balance = readings["partition_balance", "public.events"]
    assert balance["level"] == "n/a"
    assert balance["summary"] == "n/a: range partitions are expected to differ in size"


async def test_default_partition_rows_warning(pulllog: Database) -> None:
    before = await read_signals(pulllog.dsn, EVENTS)
    await insert_default_events(pulllog.dsn, 5)
    after = await read_signals(pulllog.dsn, EVENTS)

    empty = before["default_partition_rows", "public.events"]
    assert empty["level"] == "ok"
    assert empty["value"] == 0
    filled = after["default_partition_rows", "public.events"]
    assert filled["level"] == "warning"
    assert filled["value"] == 5
    assert filled["summary"] == (
        "default partition public.events_default holds about 5 rows (estimate from statistics)"
    )


async def test_default_partition_never_analyzed_unknown(pulllog: Database) -> None:
    # Resetting the counters after the insert leaves a heap with a row, statistics that show
    # nothing, and reltuples -1 because autovacuum is off for the table.
    await execute(pulllog.dsn, "alter table events_default set (autovacuum_enabled = off)")
    await insert_default_events(pulllog.dsn, 1, analyze=False)
    async with await psycopg.AsyncConnection.connect(pulllog.dsn, autocommit=True) as connection:
        # On PostgreSQL 14 the insert's statistics arrive asynchronously; a reset processed
        # before them would be undone when they land.
        await wait_for_stats(connection, "events_default", "n_tup_ins = 1")
        await connection.execute(
            "select pg_stat_reset_single_table_counters('events_default'::regclass)"
        )
        await wait_for_stats(connection, "events_default", "n_tup_ins = 0 and n_live_tup = 0")

    readings = await read_signals(pulllog.dsn, EVENTS)

    rows = readings["default_partition_rows", "public.events"]
    assert rows["level"] == "unknown"
    assert rows["summary"] == (
        "default partition public.events_default has data but no statistics yet;"
        " run ANALYZE public.events_default"
    )


@pytest.mark.parametrize(
    ("key_type", "upper_bound", "level"),
    [
        ("timestamptz", "now() + interval '2 days'", "warning"),
        ("timestamptz", "now() + interval '12 hours'", "critical"),
        ("timestamptz", "now() - interval '1 day'", "critical"),
        ("timestamptz", "now() + interval '30 days'", "ok"),
        ("timestamp", "localtimestamp + interval '2 days'", "warning"),
        ("timestamp", "localtimestamp + interval '12 hours'", "critical"),
        # Midnight two days ahead is between one and two days from now.
        ("date", "current_date + 2", "warning"),
        ("date", "current_date + 60", "ok"),
    ],
)
async def test_partitions_ahead_levels(
    pulllog: Database, key_type: str, upper_bound: str, level: str
) -> None:
    await execute(
        pulllog.dsn,
        f"create table uploads (uploaded_at {key_type}) partition by range (uploaded_at)",
        "create table uploads_old partition of uploads"
        " for values from ('2000-01-01') to ('2001-01-01')",
        "create table uploads_current partition of uploads"
        f" for values from ('2001-01-01') to ({upper_bound})",
    )
    expected: float = await fetch_value(
        pulllog.dsn, f"select extract(epoch from ({upper_bound})::timestamptz - now())"
    )

    readings = await read_signals(pulllog.dsn, PartitionedTable("public", "uploads"))

    ahead = readings["partitions_ahead", "public.uploads"]
    assert ahead["level"] == level
    assert ahead["value"] == pytest.approx(float(expected), abs=5)
    assert ahead["warning"] == 7 * DAY
    assert ahead["critical"] == 1 * DAY


async def test_partitions_ahead_events_ok(pulllog: Database) -> None:
    readings = await read_signals(pulllog.dsn, EVENTS)

    # The schema creates months up to the end of the month after next.
    ahead = readings["partitions_ahead", "public.events"]
    assert ahead["level"] == "ok"
    assert ahead["value"] > 59 * DAY


async def test_partitions_ahead_maxvalue_ok(pulllog: Database) -> None:
    await execute(
        pulllog.dsn,
        "create table uploads (uploaded_at timestamptz) partition by range (uploaded_at)",
        "create table uploads_all partition of uploads"
        " for values from ('2000-01-01') to (maxvalue)",
    )

    readings = await read_signals(pulllog.dsn, PartitionedTable("public", "uploads"))

    ahead = readings["partitions_ahead", "public.uploads"]
    assert ahead["level"] == "ok"
    assert ahead["value"] is None
    assert ahead["summary"] == "the last partition has no upper bound (MAXVALUE or infinity)"


async def test_partitions_ahead_only_default_critical(pulllog: Database) -> None:
    await execute(
        pulllog.dsn,
        "create table uploads (uploaded_at timestamptz) partition by range (uploaded_at)",
        "create table uploads_default partition of uploads default",
    )

    readings = await read_signals(pulllog.dsn, PartitionedTable("public", "uploads"))

    ahead = readings["partitions_ahead", "public.uploads"]
    assert ahead["level"] == "critical"
    assert ahead["summary"] == (
        "no range partitions attached, so new rows go to the default partition"
    )


async def test_partitions_ahead_integer_key_not_applicable(pulllog: Database) -> None:
    await execute(
        pulllog.dsn,
        "create table counters (n bigint) partition by range (n)",
        "create table counters_low partition of counters for values from (0) to (1000)",
    )

    readings = await read_signals(pulllog.dsn, PartitionedTable("public", "counters"))

    ahead = readings["partitions_ahead", "public.counters"]
    assert ahead["level"] == "n/a"
    assert ahead["summary"] == "n/a: the range key is of type bigint"


async def test_monitoring_role_reads_partitions(
    postgres_server: PostgresServer, pulllog: Database
) -> None:
    password = "monitor-password-partitions"
    role = await postgres_server.create_role(password)
    async with postgres_server.admin() as admin:
        await admin.execute(sql.SQL("grant pg_monitor to {}").format(sql.Identifier(role)))
        await admin.execute(
            sql.SQL("grant connect on database {} to {}").format(
                sql.Identifier(pulllog.name), sql.Identifier(role)
            )
        )
    partition = await insert_skewed_logs(pulllog.dsn)
    await insert_default_events(pulllog.dsn, 3)
    can_select = await fetch_value(
        pulllog.dsn, f"select has_table_privilege('{role}', 'public.logs', 'select')"
    )
    assert can_select is False

    monitor_dsn = postgres_server.dsn_for(dbname=pulllog.name, user=role, password=password)
    readings = await read_signals(monitor_dsn, LOGS, EVENTS)

    assert [key for key, signal in readings.items() if signal["level"] == "unknown"] == []
    assert readings["partitions", "public.logs"]["summary"] == "10 of 10 partitions attached"
    balance = readings["partition_balance", "public.logs"]
    assert balance["level"] == "critical"
    assert balance["summary"].startswith(f"largest partition {partition} (")
    assert readings["default_partition_rows", "public.events"]["value"] == 3
    assert readings["partitions_ahead", "public.events"]["level"] == "ok"
