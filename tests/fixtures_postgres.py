"""A real PostgreSQL server for the tests, started once per session.

By default `pgserver` runs a private server in a temporary directory, listening only on a Unix
socket. Set STATUSPAGE_TEST_POSTGRES_URL to a superuser DSN to test against another server
instead. Tests that need to change the server's authentication rules or signal its processes
check `PostgresServer.local` and skip otherwise.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

URL_VARIABLE = "STATUSPAGE_TEST_POSTGRES_URL"

# pgserver runs initdb with trust authentication for everyone. The superuser keeps trust so the
# fixture can administer the server, and every other role must send its password, so tests can
# see authentication fail.
PG_HBA = """\
local   all   postgres   trust
local   all   all        scram-sha-256
host    all   all        127.0.0.1/32   scram-sha-256
host    all   all        ::1/128        scram-sha-256
"""


@dataclass
class PostgresServer:
    """Connection details and helpers for the session's test server."""

    dsn: str  # superuser DSN
    local: bool  # True when pgserver started the server in this process
    _roles: list[str] = field(default_factory=list)

    def dsn_for(self, **params: Any) -> str:
        """Return the superuser DSN with `params` (user, password, dbname, ...) replaced."""
        return make_conninfo(self.dsn, **params)

    @asynccontextmanager
    async def admin(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """Open a superuser connection in autocommit mode, closed when the block ends."""
        async with await psycopg.AsyncConnection.connect(self.dsn, autocommit=True) as connection:
            yield connection

    async def create_role(self, password: str, *, prefix: str = "statuspage_test") -> str:
        """Create a login role with `password` and return its name. Teardown drops the role."""
        name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        async with self.admin() as connection:
            await connection.execute(
                sql.SQL("create role {} login password {}").format(
                    sql.Identifier(name), sql.Literal(password)
                )
            )
        self._roles.append(name)
        return name

    def drop_roles(self) -> None:
        if not self._roles:
            return
        with psycopg.connect(self.dsn, autocommit=True) as connection:
            for name in self._roles:
                # DROP ROLE succeeds while the role has sessions, and those then fail with
                # "invalid role OID", so they are ended first.
                connection.execute(
                    "select pg_terminate_backend(pid) from pg_stat_activity where usename = %s",
                    (name,),
                )
                connection.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(name)))
        self._roles.clear()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """Start pgserver (or use STATUSPAGE_TEST_POSTGRES_URL) for the whole session."""
    url = os.environ.get(URL_VARIABLE)
    if url:
        server = PostgresServer(dsn=url, local=False)
        yield server
        server.drop_roles()
        return

    import pgserver

    # As root, pgserver runs the server as a separate system user that must traverse the path.
    # pytest's tmp_path does not work for that, because every pytest start resets
    # /tmp/pytest-of-<user> to mode 0700.
    with tempfile.TemporaryDirectory(prefix="statuspage-postgres-") as parent:
        data_dir = Path(parent) / "data"
        handle = pgserver.get_server(data_dir, cleanup_mode="stop")
        try:
            dsn = handle.get_uri()
            _require_passwords(data_dir, dsn)
            server = PostgresServer(dsn=dsn, local=True)
            yield server
            server.drop_roles()
        finally:
            handle.cleanup()


@pytest.fixture(scope="session")
def postgres_dsn(postgres_server: PostgresServer) -> str:
    """Superuser DSN of the session's test server."""
    return postgres_server.dsn


def _require_passwords(data_dir: Path, dsn: str) -> None:
    # Writing in place keeps the owner, which is the pgserver system user when run as root.
    (data_dir / "pg_hba.conf").write_text(PG_HBA)
    with psycopg.connect(dsn, autocommit=True) as connection:
        before = _conf_load_time(connection)
        connection.execute("select pg_reload_conf()")

    # The postmaster rereads its files after pg_reload_conf() returns. New sessions inherit
    # its load time, so a later time shows that the new rules apply.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with psycopg.connect(dsn, autocommit=True) as connection:
            if _conf_load_time(connection) > before:
                return
        time.sleep(0.05)
    raise RuntimeError("the test server did not reload pg_hba.conf within 10 s")


def _conf_load_time(connection: psycopg.Connection[Any]) -> Any:
    row = connection.execute("select pg_conf_load_time()").fetchone()
    assert row is not None
    return row[0]
