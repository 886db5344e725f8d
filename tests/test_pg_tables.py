"""Dead tuples, vacuum age and freeze age of tables, on a real PostgreSQL server."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from statuspage.checks.pgstats.collector import Group
from statuspage.checks.pgstats.tables import read_tables
from statuspage.checks.postgres import PostgresProbe
from statuspage.config import PostgresCheck
from statuspage.thresholds import POSTGRES_SIGNALS, Threshold
from tests.fixtures_postgres import PostgresServer

pytestmark = pytest.mark.anyio

SCHEMA = Path(__file__).with_name("pulllog_schema.sql")
SIGNALS = ("dead_tuples", "vacuum_age", "table_xid_age")
# age() of transaction ID 0, the relfrozenxid of partitioned parents.
INVALID_XID_AGE = 2**31 - 1
# The oldest freeze age, computed without the group's query. It needs no owner lookup, because
# a TOAST table's age counts the same as its owner's.
OLDEST_TABLE_AGE = (
    "select max(age(relfrozenxid)) from pg_class"
    " where relkind in ('r', 'm', 't') and relfrozenxid <> '0'"
)

Readings = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Database:
    name: str
    dsn: str  # superuser DSN for this database


DatabaseFactory = Callable[..., Awaitable[Database]]


@pytest.fixture
async def make_database(postgres_server: PostgresServer) -> AsyncIterator[DatabaseFactory]:
    """Create databases, with the PullLog-shaped schema unless `schema=False`, dropped after."""
    names: list[str] = []

    async def create(*, schema: bool = True) -> Database:
        name = f"statuspage_tables_{uuid.uuid4().hex[:8]}"
        async with postgres_server.admin() as admin:
            await admin.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        names.append(name)
        dsn = postgres_server.dsn_for(dbname=name)
        if schema:
            async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as connection:
                await connection.execute(SCHEMA.read_bytes())
        return Database(name, dsn)

    yield create
    async with postgres_server.admin() as admin:
        for name in names:
            await admin.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
            )


async def read_signals(
    dsn: str, *, largest_tables: int = 10, thresholds: dict[str, Threshold | None] | None = None
) -> Readings:
    """Run the tables group once through PostgresProbe, keyed by signal name."""
    limits: dict[str, Threshold | None] = {
        name: spec.default for name, spec in POSTGRES_SIGNALS.items()
    }
    limits.update(thresholds or {})
    settings = PostgresCheck(
        dsn=dsn,
        largest_tables=largest_tables,
        heavy_interval=0,
        thresholds=limits,
        application_name=f"statuspage-test-{uuid.uuid4().hex[:8]}",
    )
    group = Group("tables", SIGNALS, read_tables, heavy=True)
    probe = PostgresProbe("pulllog-db", settings, groups=[group])
    try:
        result = await probe.run()
    finally:
        await probe.close()
    assert "signals" in result.details, result.details
    return {
        signal["name"]: signal for signal in result.details["signals"] if signal["name"] in SIGNALS
    }


async def execute(dsn: str, *statements: str) -> None:
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as connection:
        for statement in statements:
            await connection.execute(statement.encode())


async def fetch_row(dsn: str, query: str) -> tuple[Any, ...]:
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as connection:
        cursor = await connection.execute(query.encode())
        row = await cursor.fetchone()
    assert row is not None
    return row


async def wait_for_stats(
    connection: psycopg.AsyncConnection[Any],
    table: str,
    condition: str,
    within: float = 10.0,
) -> None:
    """Flush this session's statistics and poll until `condition` holds for `table`.

    `condition` is SQL over the columns of pg_stat_user_tables.
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


async def create_dead_tuples(
    connection: psycopg.AsyncConnection[Any], table: str, rows: int, keep: int
) -> None:
    """Fill `table` (columns: id, name) with `rows` rows, delete all but `keep`, wait for stats.

    Autovacuum is switched off for the table so that the dead tuples stay until a test vacuums.
    """
    await connection.execute(
        sql.SQL("alter table {} set (autovacuum_enabled = off)").format(sql.Identifier(table))
    )
    await connection.execute(
        sql.SQL("insert into {} (name) select 'user ' || g from generate_series(1, %s) g").format(
            sql.Identifier(table)
        ),
        (rows,),
    )
    await connection.execute(
        sql.SQL("delete from {} where id > %s").format(sql.Identifier(table)), (keep,)
    )
    await wait_for_stats(connection, table, f"n_dead_tup >= {rows - keep}")


async def test_dead_tuples_then_vacuum(make_database: DatabaseFactory) -> None:
    database = await make_database()
    async with await psycopg.AsyncConnection.connect(database.dsn, autocommit=True) as connection:
        await create_dead_tuples(connection, "users", rows=5000, keep=500)

    before = await read_signals(database.dsn)
    (since_start,) = await fetch_row(
        database.dsn,
        "select extract(epoch from now() - greatest(pg_postmaster_start_time(),"
        " (select stats_reset from pg_stat_database where datname = current_database())))",
    )

    async with await psycopg.AsyncConnection.connect(database.dsn, autocommit=True) as connection:
        await connection.execute("vacuum users")
        await wait_for_stats(connection, "users", "n_dead_tup = 0 and last_vacuum is not null")
    after = await read_signals(database.dsn)

    dead = before["dead_tuples"]
    assert dead["level"] == "critical"
    assert dead["subject"] == "public.users"
    assert dead["value"] == 0.9
    assert dead["summary"] == "public.users has 4,500 dead tuples, 90% of 5,000"
    age = before["vacuum_age"]
    assert age["subject"] == "public.users"
    assert age["level"] == "ok"
    assert age["value"] == pytest.approx(float(since_start), abs=5)
    assert "has no vacuum on record for at least" in age["summary"]

    assert after["dead_tuples"]["level"] == "ok"
    assert after["dead_tuples"]["value"] is None
    assert after["dead_tuples"]["summary"] == (
        "none of the 10 largest tables has 1,000 or more dead tuples"
    )
    assert after["vacuum_age"]["level"] == "ok"
    assert after["vacuum_age"]["value"] is None


async def test_vacuum_age_counts_from_last_vacuum(make_database: DatabaseFactory) -> None:
    database = await make_database()
    # A repeatable-read snapshot taken before the delete keeps the deleted rows visible to it,
    # so VACUUM records its run but must leave them as dead tuples.
    holder = await psycopg.AsyncConnection.connect(database.dsn)
    try:
        await holder.set_isolation_level(psycopg.IsolationLevel.REPEATABLE_READ)
        await holder.execute("select 1")
        async with await psycopg.AsyncConnection.connect(
            database.dsn, autocommit=True
        ) as connection:
            await create_dead_tuples(connection, "users", rows=5000, keep=500)
            await connection.execute("vacuum users")
            await wait_for_stats(connection, "users", "last_vacuum is not null")
        readings = await read_signals(database.dsn)
        dead_after_vacuum, since_vacuum = await fetch_row(
            database.dsn,
            "select n_dead_tup, extract(epoch from now() - last_vacuum)"
            " from pg_stat_user_tables where relname = 'users'",
        )
    finally:
        await holder.close()

    assert dead_after_vacuum == 4500
    age = readings["vacuum_age"]
    assert age["subject"] == "public.users"
    assert age["level"] == "ok"
    assert age["value"] == pytest.approx(float(since_vacuum), abs=5)
    assert age["summary"].startswith("public.users (4,500 dead tuples) was last vacuumed ")
    assert readings["dead_tuples"]["level"] == "critical"


async def test_vacuum_age_thresholds_grade(make_database: DatabaseFactory) -> None:
    database = await make_database()
    async with await psycopg.AsyncConnection.connect(database.dsn, autocommit=True) as connection:
        await create_dead_tuples(connection, "users", rows=5000, keep=500)

    # Any positive age crosses these limits, which shows the reading is graded.
    readings = await read_signals(database.dsn, thresholds={"vacuum_age": Threshold(0.0, None)})

    assert readings["vacuum_age"]["level"] == "warning"
    assert readings["vacuum_age"]["warning"] == 0.0


async def test_few_dead_tuples_ignored(make_database: DatabaseFactory) -> None:
    database = await make_database()
    async with await psycopg.AsyncConnection.connect(database.dsn, autocommit=True) as connection:
        # 90% dead, but only 900 dead tuples.
        await create_dead_tuples(connection, "users", rows=1000, keep=100)

    readings = await read_signals(database.dsn)

    assert readings["dead_tuples"]["level"] == "ok"
    assert readings["dead_tuples"]["value"] is None
    assert readings["vacuum_age"]["level"] == "ok"
    assert readings["vacuum_age"]["value"] is None


async def test_largest_tables_limits_set(make_database: DatabaseFactory) -> None:
    database = await make_database(schema=False)
    async with await psycopg.AsyncConnection.connect(database.dsn, autocommit=True) as connection:
        for table in ("big", "small"):
            await connection.execute(
                sql.SQL(
                    "create table {} (id bigint generated always as identity, name text)"
                ).format(sql.Identifier(table))
            )
        # big: 20,000 rows of which 10% dead. small: 2,000 rows of which 75% dead.
        await create_dead_tuples(connection, "big", rows=20_000, keep=18_000)
        await create_dead_tuples(connection, "small", rows=2000, keep=500)

    largest_only = await read_signals(database.dsn, largest_tables=1)
    both = await read_signals(database.dsn, largest_tables=2)

    assert largest_only["dead_tuples"]["subject"] == "public.big"
    assert largest_only["dead_tuples"]["value"] == 0.1
    assert largest_only["dead_tuples"]["level"] == "ok"
    assert both["dead_tuples"]["subject"] == "public.small"
    assert both["dead_tuples"]["value"] == 0.75
    assert both["dead_tuples"]["level"] == "critical"


async def test_partitioned_parent_not_in_xid_age(make_database: DatabaseFactory) -> None:
    database = await make_database()
    parents = await fetch_row(
        database.dsn,
        "select array_agg(n.nspname || '.' || c.relname), max(age(c.relfrozenxid))"
        " from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relkind = 'p'",
    )
    partitioned, parent_age = parents
    # The trap: a partitioned parent's relfrozenxid is 0, which age() reports as 2^31 - 1.
    assert set(partitioned) == {"public.logs", "public.events"}
    assert parent_age == INVALID_XID_AGE

    defaults = await read_signals(database.dsn)
    (oldest_before,) = await fetch_row(database.dsn, OLDEST_TABLE_AGE)
    lowered = await read_signals(database.dsn, thresholds={"table_xid_age": Threshold(1, None)})
    (oldest_after,) = await fetch_row(database.dsn, OLDEST_TABLE_AGE)

    assert defaults["table_xid_age"]["level"] == "ok"
    assert defaults["table_xid_age"]["value"] < INVALID_XID_AGE
    assert defaults["table_xid_age"]["subject"] not in partitioned

    flagged = lowered["table_xid_age"]
    assert flagged["level"] == "warning"
    assert flagged["subject"] not in partitioned
    assert oldest_before <= flagged["value"] <= oldest_after
    (relkind,) = await fetch_row(
        database.dsn,
        f"select relkind from pg_class where oid = to_regclass('{flagged['subject']}')",
    )
    assert relkind in ("r", "m")


async def test_toast_age_counts_for_owner(make_database: DatabaseFactory) -> None:
    database = await make_database(schema=False)
    async with await psycopg.AsyncConnection.connect(database.dsn, autocommit=True) as connection:
        await connection.execute("create table notes (id bigint, body text)")
        for _ in range(2):
            await connection.execute("select txid_current()")
        # Freezing every other table, and notes without its TOAST table, leaves that TOAST
        # table with the oldest relfrozenxid in the database.
        cursor = await connection.execute(
            "select n.nspname, c.relname from pg_class c"
            " join pg_namespace n on n.oid = c.relnamespace"
            " where c.relkind in ('r', 'm') and c.oid <> 'notes'::regclass"
        )
        for schema, table in await cursor.fetchall():
            await connection.execute(
                sql.SQL("vacuum (freeze) {}").format(sql.Identifier(schema, table))
            )
        await connection.execute("vacuum (freeze, process_toast false) notes")
        cursor = await connection.execute(
            "select relkind, age(relfrozenxid) from pg_class"
            " where relkind in ('r', 'm', 't') order by age(relfrozenxid) desc limit 1"
        )
        oldest = await cursor.fetchone()
    assert oldest is not None
    assert oldest[0] == "t"

    readings = await read_signals(database.dsn)

    xid_age = readings["table_xid_age"]
    assert xid_age["subject"] == "public.notes"
    assert xid_age["value"] >= oldest[1]
    assert xid_age["summary"].startswith("oldest unfrozen transaction ID in public.notes is ")


async def test_no_tables_not_applicable(make_database: DatabaseFactory) -> None:
    database = await make_database(schema=False)

    readings = await read_signals(database.dsn)

    assert readings["dead_tuples"]["level"] == "n/a"
    assert readings["dead_tuples"]["summary"] == "n/a: no tables in this database"
    assert readings["vacuum_age"]["level"] == "n/a"
    # System catalogs still need freezing.
    assert readings["table_xid_age"]["level"] == "ok"
    assert readings["table_xid_age"]["subject"].startswith("pg_catalog.")


async def test_monitoring_role_reads_tables(
    postgres_server: PostgresServer, make_database: DatabaseFactory
) -> None:
    database = await make_database()
    async with await psycopg.AsyncConnection.connect(database.dsn, autocommit=True) as connection:
        await create_dead_tuples(connection, "users", rows=5000, keep=500)
    password = "monitor-password-tables"
    role = await postgres_server.create_role(password)
    async with postgres_server.admin() as admin:
        await admin.execute(sql.SQL("grant pg_monitor to {}").format(sql.Identifier(role)))
        await admin.execute(
            sql.SQL("grant connect on database {} to {}").format(
                sql.Identifier(database.name), sql.Identifier(role)
            )
        )
    (can_select,) = await fetch_row(
        database.dsn, f"select has_table_privilege('{role}', 'public.users', 'select')"
    )
    assert can_select is False

    monitor_dsn = postgres_server.dsn_for(dbname=database.name, user=role, password=password)
    readings = await read_signals(monitor_dsn)

    assert readings["dead_tuples"]["subject"] == "public.users"
    assert readings["dead_tuples"]["level"] == "critical"
    assert readings["vacuum_age"]["subject"] == "public.users"
    assert readings["table_xid_age"]["level"] == "ok"
