"""The monitoring role from README.md, created as written, runs every signal."""

import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from statuspage.checks.postgres import PostgresProbe
from statuspage.config import PartitionedTable, PostgresCheck
from statuspage.result import Outcome
from tests.fixtures_postgres import PostgresServer

pytestmark = pytest.mark.anyio

REPO = Path(__file__).resolve().parent.parent
SCHEMA = (REPO / "tests" / "pulllog_schema.sql").read_text(encoding="utf-8")


def readme_role_sql() -> list[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Monitoring role for PostgreSQL", 1)[1]
    block = re.search(r"```sql\n(.*?)```", section, re.DOTALL)
    assert block is not None
    return [statement.strip() for statement in block.group(1).split(";") if statement.strip()]


@pytest.fixture
async def monitored(postgres_server: PostgresServer) -> AsyncIterator[tuple[str, str]]:
    """A PullLog-like database and the README's role; yields (database, role)."""
    database = f"pulllog_{uuid.uuid4().hex[:8]}"
    role = f"statuspage_monitor_{uuid.uuid4().hex[:8]}"
    async with postgres_server.admin() as admin:
        await admin.execute(sql.SQL("create database {}").format(sql.Identifier(database)))
    async with await psycopg.AsyncConnection.connect(
        postgres_server.dsn_for(dbname=database), autocommit=True
    ) as connection:
        await connection.execute(SCHEMA)
    async with postgres_server.admin() as admin:
        for statement in readme_role_sql():
            text = statement.replace("statuspage_monitor", role).replace("pulllog", database)
            await admin.execute(text)
    yield database, role
    async with postgres_server.admin() as admin:
        await admin.execute(
            sql.SQL("drop database {} with (force)").format(sql.Identifier(database))
        )
        await admin.execute(sql.SQL("drop role {}").format(sql.Identifier(role)))


async def test_readme_role_reads_every_signal(
    postgres_server: PostgresServer, monitored: tuple[str, str]
) -> None:
    if not postgres_server.local:
        pytest.skip("needs a server whose roles the tests may create")
    database, role = monitored
    settings = PostgresCheck(
        dsn=postgres_server.dsn_for(user=role, password="change-me", dbname=database),
        heavy_interval=0,
        partitioned_tables=(PartitionedTable("public", "logs", 10),),
    )
    probe = PostgresProbe("database", settings)
    try:
        await probe.run()
        result = await probe.run()
    finally:
        await probe.close()

    assert result.outcome is Outcome.OK
    assert result.details["unknown"] == []
    names = {signal["name"] for signal in result.details["signals"]}
    assert {"longest_query", "idle_in_transaction", "replication_lag", "partitions"} <= names


async def test_readme_role_cannot_read_table_rows(
    postgres_server: PostgresServer, monitored: tuple[str, str]
) -> None:
    database, role = monitored
    dsn = postgres_server.dsn_for(dbname=database)
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as connection:
        cursor = await connection.execute(
            "select has_table_privilege(%s, 'public.logs', 'select')", (role,)
        )
        row = await cursor.fetchone()
    assert row == (False,)


async def test_readme_role_has_limits_and_timeouts(
    postgres_server: PostgresServer, monitored: tuple[str, str]
) -> None:
    _, role = monitored
    async with postgres_server.admin() as admin:
        cursor = await admin.execute(
            "select rolsuper, rolconnlimit, rolconfig from pg_roles where rolname = %s", (role,)
        )
        row = await cursor.fetchone()
    assert row is not None
    superuser, connection_limit, settings = row
    assert superuser is False
    assert connection_limit == 3
    assert "statement_timeout=5s" in settings
    assert "lock_timeout=1s" in settings
