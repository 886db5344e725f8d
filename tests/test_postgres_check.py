"""PostgresProbe against a real PostgreSQL server and against sockets that misbehave."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from statuspage.checks.pgstats.collector import Group, default_groups
from statuspage.checks.postgres import CANCEL_GRACE, PostgresProbe
from statuspage.config import PostgresCheck
from statuspage.result import Failure, Outcome, Result
from statuspage.thresholds import POSTGRES_SIGNALS, Threshold
from tests.fixtures_postgres import PostgresServer
from tests.pg_versions import server_version_num

pytestmark = pytest.mark.anyio

# Slack for scheduling and process start-up on a loaded machine when checking elapsed times.
TIMING_SLACK = 0.75
COMPONENT_ID = "main-db"

ProbeFactory = Callable[..., PostgresProbe]


def thresholds(**overrides: Threshold | None) -> dict[str, Threshold | None]:
    """Return the default thresholds with `overrides`; None switches a signal off."""
    values: dict[str, Threshold | None] = {
        name: spec.default for name, spec in POSTGRES_SIGNALS.items()
    }
    values.update(overrides)
    return values


def groups_named(*names: str) -> list[Group]:
    return [group for group in default_groups() if group.name in names]


def find_signal(result: Result, name: str) -> dict[str, Any]:
    """Return the signal `name` from the result's details."""
    matches: list[dict[str, Any]] = [
        item for item in result.details["signals"] if item["name"] == name
    ]
    assert len(matches) == 1, f"expected one {name} signal in {result.details['signals']}"
    return matches[0]


@pytest.fixture
async def make_probe() -> AsyncIterator[ProbeFactory]:
    """Build probes with short timeouts and a unique application_name, closed at teardown.

    `groups` selects the signal groups (all by default), `thresholds` replaces threshold
    defaults, and other keyword arguments are PostgresCheck settings.
    """
    probes: list[PostgresProbe] = []

    def build(
        dsn: str,
        *,
        groups: list[Group] | None = None,
        thresholds: Mapping[str, Threshold | None] | None = None,
        **overrides: Any,
    ) -> PostgresProbe:
        values: dict[str, Any] = {
            "timeout": 2.0,
            "connect_timeout": 1.0,
            "statement_timeout": 1.0,
            "application_name": f"statuspage-test-{uuid.uuid4().hex[:8]}",
        }
        values.update(overrides)
        if thresholds is not None:
            values["thresholds"] = thresholds
        probe = PostgresProbe(COMPONENT_ID, PostgresCheck(dsn=dsn, **values), groups)
        probes.append(probe)
        return probe

    yield build
    for probe in probes:
        await probe.close()


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A 127.0.0.1 port that is bound but not listening, so connecting to it is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture
async def hung_port() -> AsyncIterator[int]:
    """A 127.0.0.1 port that accepts connections and never sends a byte."""
    writers: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        # Reading until the client goes away keeps the connection open without sending anything.
        while await reader.read(4096):
            pass
        writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield port
    server.close()
    for writer in writers:
        writer.close()
    await server.wait_closed()


@pytest.fixture
async def no_tls_port() -> AsyncIterator[int]:
    """A 127.0.0.1 port that replies "N" (no TLS) to PostgreSQL's SSLRequest, then waits."""
    writers: list[asyncio.StreamWriter] = []

    async def reject_tls(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        # SSLRequest is 8 bytes: length 8 and the code 80877103.
        await reader.readexactly(8)
        writer.write(b"N")
        await writer.drain()
        while await reader.read(4096):
            pass
        writer.close()

    server = await asyncio.start_server(reject_tls, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield port
    server.close()
    for writer in writers:
        writer.close()
    await server.wait_closed()


async def sessions_named(connection: psycopg.AsyncConnection[Any], name: str) -> int:
    """Count sessions with application_name `name`.

    This calls pg_stat_get_activity() because selecting from the pg_stat_activity view waits
    while a test holds a lock on that view.
    """
    cursor = await connection.execute(
        "select count(*) from pg_stat_get_activity(null) where application_name = %s", (name,)
    )
    row = await cursor.fetchone()
    assert row is not None
    count: int = row[0]
    return count


async def wait_for_sessions(
    connection: psycopg.AsyncConnection[Any], name: str, expected: int, within: float = 3.0
) -> int:
    """Poll until `expected` sessions have application_name `name`, for at most `within` s.

    Returns the last count.
    """
    deadline = time.monotonic() + within
    count = await sessions_named(connection, name)
    while count != expected and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        count = await sessions_named(connection, name)
    return count


async def test_healthy_run_reports_ok(
    postgres_server: PostgresServer, make_probe: ProbeFactory
) -> None:
    probe = make_probe(postgres_server.dsn)

    result = await probe.run()

    assert result.outcome is Outcome.OK
    assert result.failure is None
    assert result.reason == ""
    assert result.component_id == COMPONENT_ID
    assert result.latency is not None
    assert 0 < result.latency < 2
    assert result.details["server_version_num"] >= 140000
    if postgres_server.bin_dir is not None:
        # The server really is the version that STATUSPAGE_TEST_POSTGRES_BIN selected.
        assert result.details["server_version_num"] == server_version_num(postgres_server.bin_dir)
    assert result.details["new_connection"] is True
    assert result.details["backend_pid"] > 0
    assert result.details["critical"] == []
    assert result.details["warning"] == []
    names = [item["name"] for item in result.details["signals"]]
    for name in ("latency", "connections", "xid_age", "multixact_age"):
        assert name in names
    for item in result.details["signals"]:
        assert set(item) == {
            "name",
            "subject",
            "level",
            "value",
            "unit",
            "warning",
            "critical",
            "summary",
        }
        assert item["unit"] == POSTGRES_SIGNALS[item["name"]].unit.value
    latency = find_signal(result, "latency")
    assert latency["level"] == "ok"
    assert latency["value"] == pytest.approx(result.latency)
    connections = find_signal(result, "connections")
    assert connections["level"] == "ok"
    assert 0 < connections["value"] < 1
    # The details go into the store as JSON.
    assert json.loads(json.dumps(result.details)) == result.details


async def test_connection_reused_across_runs(
    postgres_server: PostgresServer, make_probe: ProbeFactory
) -> None:
    probe = make_probe(postgres_server.dsn)

    first = await probe.run()
    second = await probe.run()
    third = await probe.run()

    assert first.outcome is Outcome.OK
    assert third.outcome is Outcome.OK
    assert second.details["backend_pid"] == first.details["backend_pid"]
    assert third.details["backend_pid"] == first.details["backend_pid"]
    assert second.details["new_connection"] is False
    async with postgres_server.admin() as admin:
        assert await sessions_named(admin, probe.settings.application_name) == 1


async def test_close_ends_session(
    postgres_server: PostgresServer, make_probe: ProbeFactory
) -> None:
    probe = make_probe(postgres_server.dsn)
    name = probe.settings.application_name
    assert (await probe.run()).outcome is Outcome.OK

    await probe.close()
    await probe.close()

    async with postgres_server.admin() as admin:
        assert await wait_for_sessions(admin, name, 0) == 0
        after_close = await probe.run()
        assert after_close.outcome is Outcome.OK
        assert after_close.details["new_connection"] is True


async def test_wrong_password_is_auth_failure(
    postgres_server: PostgresServer, make_probe: ProbeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    user = await postgres_server.create_role("right-password-1")
    password = "wrong-password-2"
    probe = make_probe(postgres_server.dsn_for(user=user, password=password))
    caplog.set_level(logging.DEBUG, logger="statuspage")

    result = await probe.run()

    if not postgres_server.local and result.outcome is Outcome.OK:
        pytest.skip("the server at STATUSPAGE_TEST_POSTGRES_URL does not check passwords")
    assert result.outcome is Outcome.FAILED
    assert result.failure is Failure.AUTH
    assert result.reason == "authentication failed"
    assert user not in result.reason
    assert password not in result.reason
    assert result.details == {"error": "OperationalError", "phase": "connect"}
    assert password not in caplog.text
    assert user not in caplog.text
    assert f"postgres check {COMPONENT_ID} failed: authentication failed" in caplog.text


async def test_right_password_of_new_role_passes(
    postgres_server: PostgresServer, make_probe: ProbeFactory
) -> None:
    password = "right-password-3"
    user = await postgres_server.create_role(password)
    probe = make_probe(postgres_server.dsn_for(user=user, password=password))

    result = await probe.run()

    assert result.outcome is Outcome.OK
    assert password not in json.dumps(result.details)


async def test_unknown_database_is_connection_failure(
    postgres_server: PostgresServer, make_probe: ProbeFactory
) -> None:
    database = f"missing_{uuid.uuid4().hex[:8]}"
    probe = make_probe(postgres_server.dsn_for(dbname=database))

    result = await probe.run()

    assert result.outcome is Outcome.FAILED
    assert result.failure is Failure.CONNECTION
    assert result.reason == "database does not exist"
    assert database not in result.reason


async def test_refused_port_is_refused(refused_port: int, make_probe: ProbeFactory) -> None:
    probe = make_probe(f"postgresql://u:p@127.0.0.1:{refused_port}/db")

    result = await probe.run()

    assert result.outcome is Outcome.FAILED
    assert result.failure is Failure.REFUSED
    assert result.reason == "connection refused"
    assert "127.0.0.1" not in result.reason


async def test_hung_server_times_out(hung_port: int, make_probe: ProbeFactory) -> None:
    probe = make_probe(f"postgresql://u:p@127.0.0.1:{hung_port}/db", timeout=1.0)

    start = time.monotonic()
    result = await probe.run()
    elapsed = time.monotonic() - start

    assert result.outcome is Outcome.FAILED
    assert result.failure is Failure.TIMEOUT
    assert result.reason == "timed out after 1 s"
    assert result.details == {"error": "TimeoutError", "phase": "connect"}
    assert 0.9 <= elapsed < 1 + TIMING_SLACK


async def test_missing_socket_is_refused(tmp_path: Path, make_probe: ProbeFactory) -> None:
    probe = make_probe(f"host={tmp_path} dbname=db user=u")

    result = await probe.run()

    assert result.outcome is Outcome.FAILED
    assert result.failure is Failure.REFUSED
    assert result.reason == "connection refused"


async def test_server_without_tls_is_tls_failure(
    no_tls_port: int, make_probe: ProbeFactory
) -> None:
    probe = make_probe(f"postgresql://u:p@127.0.0.1:{no_tls_port}/db?sslmode=require")

    result = await probe.run()

    assert result.outcome is Outcome.FAILED
    assert result.failure is Failure.TLS
    assert result.reason == "TLS negotiation failed"


@pytest.mark.parametrize(
    ("role_options", "with_password", "failure", "reason"),
    [
        ("nologin", True, Failure.AUTH, "authentication failed"),
        ("login connection limit 0", True, Failure.CONNECTION, "too many connections"),
        ("login", False, Failure.AUTH, "authentication failed"),
    ],
    ids=["nologin", "connection-limit", "no-password"],
)
async def test_server_rejects_role(
    postgres_server: PostgresServer,
    make_probe: ProbeFactory,
    role_options: str,
    with_password: bool,
    failure: Failure,
    reason: str,
) -> None:
    if not postgres_server.local:
        pytest.skip("depends on the pg_hba.conf rules that the fixture writes")
    password = "role-password-7"
    user = await postgres_server.create_role(password)
    async with postgres_server.admin() as admin:
        await admin.execute(sql.SQL("alter role {} " + role_options).format(sql.Identifier(user)))
    params = {"user": user, "password": password if with_password else ""}
    probe = make_probe(postgres_server.dsn_for(**params))

    result = await probe.run()

    assert result.outcome is Outcome.FAILED
    assert result.failure is failure
    assert result.reason == reason
    assert user not in result.reason


async def test_unresolvable_host_is_dns_failure(make_probe: ProbeFactory) -> None:
    probe = make_probe("postgresql://u:p@statuspage-test.invalid/db")

    result = await probe.run()

    assert result.outcome is Outcome.FAILED
    assert result.failure is Failure.DNS
    assert result.reason == "host name could not be resolved"
    assert "invalid" not in result.reason


async def test_invalid_dsn_is_connection_failure(
    make_probe: ProbeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    # libpq quotes the word it stopped at, which here is the password.
    probe = make_probe("host=/nonexistent password secret-value-4")
    caplog.set_level(logging.DEBUG, logger="statuspage")

    result = await probe.run()

    assert result.outcome is Outcome.FAILED
    assert result.failure is Failure.CONNECTION
    assert result.reason == "invalid DSN"
    assert result.details == {"error": "ProgrammingError", "phase": "connect"}
    assert "secret-value-4" not in caplog.text


async def test_lock_fires_statement_timeout(
    postgres_server: PostgresServer, make_probe: ProbeFactory
) -> None:
    # LOCK on a view also locks the tables it reads, and pg_stat_activity reads pg_authid, so the
    # probe's privilege query on pg_roles waits. That query is no signal group, so the run fails.
    probe = make_probe(postgres_server.dsn, timeout=3.0, statement_timeout=0.5, lock_timeout=2.0)
    assert (await probe.run()).outcome is Outcome.OK

    async with postgres_server.admin() as locker, locker.transaction():
        await locker.execute("lock table pg_catalog.pg_stat_activity in access exclusive mode")
        start = time.monotonic()
        result = await probe.run()
        elapsed = time.monotonic() - start

    assert result.outcome is Outcome.FAILED
    assert result.failure is Failure.TIMEOUT
    assert result.reason == "query timed out"
    assert result.details == {"error": "QueryCanceled", "phase": "query", "sqlstate": "57014"}
    assert 0.5 <= elapsed < 0.5 + TIMING_SLACK
    recovered = await probe.run()
    assert recovered.outcome is Outcome.OK
    assert recovered.details["new_connection"] is True


@pytest.mark.parametrize(
    ("statement_timeout", "lock_timeout", "why"),
    [
        (0.5, 2.0, "query timed out (statement_timeout)"),
        (2.0, 0.5, "waited too long for a lock (lock_timeout)"),
    ],
    ids=["statement-timeout", "lock-timeout"],
)
async def test_blocked_group_turns_unknown(
    postgres_server: PostgresServer,
    make_probe: ProbeFactory,
    statement_timeout: float,
    lock_timeout: float,
    why: str,
) -> None:
    # The lock-wait query of the activity group reads the pg_locks view, and the wraparound
    # group reads only pg_database.
    probe = make_probe(
        postgres_server.dsn,
        groups=groups_named("activity", "wraparound"),
        timeout=3.0,
        statement_timeout=statement_timeout,
        lock_timeout=lock_timeout,
    )
    first = await probe.run()
    assert first.outcome is Outcome.OK

    async with postgres_server.admin() as locker, locker.transaction():
        await locker.execute("lock table pg_catalog.pg_locks in access exclusive mode")
        start = time.monotonic()
        result = await probe.run()
        elapsed = time.monotonic() - start

    # An unknown signal changes no outcome, and the other groups keep reporting.
    assert result.outcome is Outcome.OK
    assert result.failure is None
    activity = ["connections", "longest_query", "idle_in_transaction", "lock_waits"]
    assert sorted(result.details["unknown"]) == sorted(activity)
    for name in activity:
        assert find_signal(result, name)["summary"] == why
        assert find_signal(result, name)["value"] is None
    assert find_signal(result, "xid_age")["level"] == "ok"
    assert find_signal(result, "latency")["level"] == "ok"
    assert 0.5 <= elapsed < 0.5 + TIMING_SLACK
    # A timed-out statement leaves the connection usable.
    assert result.details["new_connection"] is False
    assert result.details["backend_pid"] == first.details["backend_pid"]
    recovered = await probe.run()
    assert recovered.details["unknown"] == []
    assert recovered.details["backend_pid"] == first.details["backend_pid"]


async def test_deadline_cancels_blocked_query(
    postgres_server: PostgresServer, make_probe: ProbeFactory
) -> None:
    # Statement and lock timeouts above the deadline, which checks.toml rejects, leave only the
    # deadline.
    probe = make_probe(postgres_server.dsn, timeout=1.0, statement_timeout=30.0, lock_timeout=30.0)
    name = probe.settings.application_name
    assert (await probe.run()).outcome is Outcome.OK

    async with (
        postgres_server.admin() as locker,
        postgres_server.admin() as observer,
        locker.transaction(),
    ):
        await locker.execute("lock table pg_catalog.pg_stat_activity in access exclusive mode")
        start = time.monotonic()
        result = await probe.run()
        elapsed = time.monotonic() - start
        # The blocked backend must go away while the lock is still held, otherwise each
        # failed run would leave one more backend waiting for the lock.
        remaining = await wait_for_sessions(observer, name, 0)

    assert result.outcome is Outcome.FAILED
    assert result.failure is Failure.TIMEOUT
    assert result.reason == "timed out after 1 s"
    assert result.details == {"error": "TimeoutError", "phase": "query"}
    assert 1.0 <= elapsed < 1.0 + TIMING_SLACK
    assert remaining == 0


async def test_stopped_backend_bounded_by_grace(
    postgres_server: PostgresServer, make_probe: ProbeFactory
) -> None:
    if not postgres_server.local:
        pytest.skip("needs to signal the server's processes, which only a local server allows")
    probe = make_probe(postgres_server.dsn, timeout=1.0)
    first = await probe.run()
    assert first.outcome is Outcome.OK
    backend_pid = first.details["backend_pid"]

    # A stopped backend takes the query and never replies, and the server cannot act on the
    # cancel request either, which is the case the grace period bounds.
    os.kill(backend_pid, signal.SIGSTOP)
    try:
        start = time.monotonic()
        result = await probe.run()
        elapsed = time.monotonic() - start
    finally:
        os.kill(backend_pid, signal.SIGCONT)

    assert result.outcome is Outcome.FAILED
    assert result.failure is Failure.TIMEOUT
    assert result.reason == "timed out after 1 s"
    assert result.details == {"error": "TimeoutError", "phase": "query"}
    assert 1.0 <= elapsed < 1.0 + CANCEL_GRACE + TIMING_SLACK
    assert (await probe.run()).outcome is Outcome.OK


async def test_connections_near_limit_degraded(
    postgres_server: PostgresServer, make_probe: ProbeFactory
) -> None:
    extra = 3
    async with postgres_server.admin() as admin:
        cursor = await admin.execute(
            """
            select
                count(*) filter (where backend_type = 'client backend'),
                current_setting('max_connections')::int
                    - current_setting('superuser_reserved_connections')::int
                    - coalesce(nullif(current_setting('reserved_connections', true), '')::int, 0)
            from pg_stat_activity
            """
        )
        row = await cursor.fetchone()
        assert row is not None
        # The probe's own session is one more client backend.
        baseline = row[0] + 1
        available = row[1]
        limit = Threshold(warning=(baseline + extra) / available, critical=0.99)
        probe = make_probe(
            postgres_server.dsn,
            groups=groups_named("activity"),
            thresholds=thresholds(connections=limit, latency=None),
        )

        before = await probe.run()
        name = f"statuspage-test-extra-{uuid.uuid4().hex[:8]}"
        extra_connections = [
            await psycopg.AsyncConnection.connect(postgres_server.dsn, application_name=name)
            for _ in range(extra)
        ]
        try:
            degraded = await probe.run()
        finally:
            for connection in extra_connections:
                await connection.close()
        # A backend exits a moment after its client closes the connection.
        assert await wait_for_sessions(admin, name, 0) == 0
        recovered = await probe.run()

    assert before.outcome is Outcome.OK
    percent = baseline * 100 // available
    assert find_signal(before, "connections")["summary"] == (
        f"{baseline} of {available} connection slots in use ({percent}%)"
    )
    assert degraded.outcome is Outcome.DEGRADED
    assert degraded.failure is None
    assert degraded.reason == "database health warning"
    assert degraded.details["warning"] == ["connections"]
    connections = find_signal(degraded, "connections")
    assert connections["level"] == "warning"
    assert connections["value"] == pytest.approx((baseline + extra) / available, abs=1e-4)
    assert connections["warning"] == limit.warning
    assert connections["critical"] == limit.critical
    percent = (baseline + extra) * 100 // available
    assert connections["summary"] == (
        f"{baseline + extra} of {available} connection slots in use ({percent}%)"
    )
    assert recovered.outcome is Outcome.OK


async def test_unprivileged_role_counts_hidden_sessions(
    postgres_server: PostgresServer, make_probe: ProbeFactory
) -> None:
    password = "monitor-password-5"
    user = await postgres_server.create_role(password)
    monitor = make_probe(postgres_server.dsn_for(user=user, password=password))
    superuser = make_probe(postgres_server.dsn)

    async with postgres_server.admin():
        # After one run each, both probes see the same sessions, their own two included.
        await monitor.run()
        await superuser.run()
        unprivileged = await monitor.run()
        privileged = await superuser.run()

    assert unprivileged.outcome is Outcome.OK
    # The admin session and the superuser probe belong to another role, so their backend_type
    # is hidden from the unprivileged role, and they still count as used slots.
    assert find_signal(unprivileged, "connections")["level"] == "ok"
    assert (
        find_signal(unprivileged, "connections")["value"]
        == find_signal(privileged, "connections")["value"]
    )
    assert (
        find_signal(unprivileged, "connections")["summary"]
        == find_signal(privileged, "connections")["summary"]
    )


@pytest.mark.parametrize(
    ("limit", "outcome", "failure", "reason", "level"),
    [
        (Threshold(warning=1e-9), Outcome.DEGRADED, None, "database health warning", "warning"),
        (
            Threshold(critical=1e-9),
            Outcome.FAILED,
            Failure.HEALTH,
            "database health critical",
            "critical",
        ),
    ],
    ids=["warning", "critical"],
)
async def test_slow_response_graded(
    postgres_server: PostgresServer,
    make_probe: ProbeFactory,
    limit: Threshold,
    outcome: Outcome,
    failure: Failure | None,
    reason: str,
    level: str,
) -> None:
    probe = make_probe(postgres_server.dsn, thresholds=thresholds(latency=limit))

    result = await probe.run()

    assert result.outcome is outcome
    assert result.failure is failure
    assert result.reason == reason
    assert result.latency is not None
    assert result.details[level] == ["latency"]
    latency = find_signal(result, "latency")
    assert latency["level"] == level
    assert latency["value"] == pytest.approx(result.latency)
    assert latency["summary"].startswith("connect and select 1 took ")


async def test_switched_off_signals_absent(
    postgres_server: PostgresServer, make_probe: ProbeFactory
) -> None:
    probe = make_probe(
        postgres_server.dsn,
        thresholds=thresholds(latency=None, longest_query=None, xid_age=None),
    )

    result = await probe.run()

    assert result.outcome is Outcome.OK
    names = [item["name"] for item in result.details["signals"]]
    assert "latency" not in names
    assert "longest_query" not in names
    assert "xid_age" not in names
    assert "connections" in names
    assert "multixact_age" in names


async def test_terminated_backend_reconnects(
    postgres_server: PostgresServer, make_probe: ProbeFactory
) -> None:
    probe = make_probe(postgres_server.dsn)
    first = await probe.run()
    assert first.outcome is Outcome.OK
    old_pid = first.details["backend_pid"]

    async with postgres_server.admin() as admin:
        await admin.execute("select pg_terminate_backend(%s, 2000)", (old_pid,))
        assert await wait_for_sessions(admin, probe.settings.application_name, 0) == 0

    result = await probe.run()

    assert result.outcome is Outcome.OK
    assert result.details["new_connection"] is True
    assert result.details["backend_pid"] != old_pid


async def test_permission_error_is_query_failure(
    postgres_server: PostgresServer, make_probe: ProbeFactory
) -> None:
    if not postgres_server.local:
        pytest.skip("changes a privilege for every role, so it runs only on a local server")
    password = "query-password-6"
    user = await postgres_server.create_role(password)
    probe = make_probe(postgres_server.dsn_for(user=user, password=password))

    async with postgres_server.admin() as admin:
        await admin.execute("revoke execute on function pg_backend_pid() from public")
        try:
            result = await probe.run()
        finally:
            await admin.execute("grant execute on function pg_backend_pid() to public")

    assert result.outcome is Outcome.FAILED
    assert result.failure is Failure.QUERY
    assert result.reason == "query failed"
    assert result.details == {
        "error": "InsufficientPrivilege",
        "phase": "query",
        "sqlstate": "42501",
    }


async def test_unexpected_error_is_internal(
    monkeypatch: pytest.MonkeyPatch, make_probe: ProbeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken_connect(*args: Any, **kwargs: Any) -> Any:
        raise ValueError("not a driver error")

    monkeypatch.setattr(psycopg.AsyncConnection, "connect", broken_connect)
    probe = make_probe("postgresql://u:p@127.0.0.1:9/db")

    result = await probe.run()

    assert result.outcome is Outcome.FAILED
    assert result.failure is Failure.INTERNAL
    assert result.reason == "internal error"
    assert f"postgres check {COMPONENT_ID} failed with an unexpected error" in caplog.text
    assert "postgresql://" not in caplog.text
