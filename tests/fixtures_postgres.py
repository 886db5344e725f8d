"""Real PostgreSQL servers for the tests: one shared by the session, more on request.

The server comes from one of three places, checked in this order:

- STATUSPAGE_TEST_POSTGRES_URL: a superuser DSN of a server that is already running. Tests that
  change the server's authentication rules or signal its processes check
  `PostgresServer.local` and skip.
- STATUSPAGE_TEST_POSTGRES_BIN: a directory with initdb, pg_ctl and postgres, such as
  /usr/lib/postgresql/15/bin. The fixture starts a throwaway cluster from it.
- Otherwise the binaries of the `pgserver` package (PostgreSQL 16).

Throwaway clusters listen only on a Unix socket in a temporary directory. `start_postgres_server`
starts another one from the same binaries, for tests that change server-wide settings.
"""

from __future__ import annotations

import importlib.util
import os
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from tests.pg_versions import start_cluster

URL_VARIABLE = "STATUSPAGE_TEST_POSTGRES_URL"
BIN_VARIABLE = "STATUSPAGE_TEST_POSTGRES_BIN"

# The superuser keeps trust authentication so the fixtures can administer the server, and every
# other role must send its password, so tests can see authentication fail.
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
    local: bool  # True when the fixtures started the server in this process
    # The server's initdb, pg_ctl, postgres, pg_basebackup...; None for an external server.
    bin_dir: Path | None = None
    data_dir: Path | None = None
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


def postgres_bin_dir() -> Path:
    """Return the binary directory that local test servers start from."""
    configured = os.environ.get(BIN_VARIABLE)
    if configured:
        return Path(configured)
    # Locating pgserver without importing it avoids its lock files and platformdirs warnings.
    spec = importlib.util.find_spec("pgserver")
    if spec is None or spec.origin is None:
        raise RuntimeError(f"pgserver is not installed; install it or set {BIN_VARIABLE}")
    return Path(spec.origin).parent / "pginstall" / "bin"


@contextmanager
def start_postgres_server(
    settings: Mapping[str, object] | None = None,
) -> Iterator[PostgresServer]:
    """Start a private server from `postgres_bin_dir()`, with postgresql.conf `settings`."""
    bin_dir = postgres_bin_dir()
    with start_cluster(bin_dir, settings=settings, hba=PG_HBA) as cluster:
        server = PostgresServer(
            dsn=cluster.dsn(), local=True, bin_dir=bin_dir, data_dir=cluster.data_dir
        )
        try:
            yield server
        finally:
            server.drop_roles()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """Start a server (or use STATUSPAGE_TEST_POSTGRES_URL) for the whole session."""
    url = os.environ.get(URL_VARIABLE)
    if url:
        server = PostgresServer(dsn=url, local=False)
        yield server
        server.drop_roles()
        return

    with start_postgres_server() as server:
        yield server


@pytest.fixture(scope="session")
def postgres_dsn(postgres_server: PostgresServer) -> str:
    """Superuser DSN of the session's test server."""
    return postgres_server.dsn
