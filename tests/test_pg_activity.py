"""The activity and wraparound signal groups against sessions that really run, wait and idle."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
import pytest
from psycopg import sql

from statuspage.checks.pgstats.activity import NEEDS_READ_ALL_STATS
from statuspage.checks.pgstats.collector import Group, default_groups
from statuspage.checks.postgres import PostgresProbe
from statuspage.config import PostgresCheck
from statuspage.result import Failure, Outcome, Result
from statuspage.thresholds import POSTGRES_SIGNALS, Threshold
from tests.fixtures_postgres import PostgresServer, start_postgres_server

pytestmark = pytest.mark.anyio

COMPONENT_ID = "activity-db"
COLLECTOR_LOGGER = "statuspage.checks.pgstats.collector"
# Other sessions' queries carry this comment. Query text may hold personal data, so it must
# never reach a result or a log line. The helpers check that pg_stat_activity shows it.
MARKER = "statuspage-secret-marker"
MARKER_PATTERN = f"%{MARKER}%"
# Conditions are provoked until they are at least this old, so that thresholds of this size
# are crossed without sleeping.
MIN_AGE = 0.05  # seconds
WAIT_LIMIT = 5.0  # seconds to wait for another session to reach a state
ACTIVITY_SIGNALS = ("connections", "longest_query", "idle_in_transaction", "lock_waits")

Connection = psycopg.AsyncConnection[Any]
ProbeFactory = Callable[..., PostgresProbe]


def groups_named(*names: str) -> list[Group]:
    selected = [group for group in default_groups() if group.name in names]
    assert [group.name for group in selected] == list(names)
    return selected


def find_signal(result: Result, name: str) -> dict[str, Any]:
    """Return the signal `name` from the result's details."""
    matches: list[dict[str, Any]] = [
        item for item in result.details["signals"] if item["name"] == name
    ]
    assert len(matches) == 1, f"expected one {name} signal in {result.details['signals']}"
    return matches[0]


def assert_no_query_text(result: Result) -> None:
    assert MARKER not in json.dumps(result.details)
    assert MARKER not in result.reason


@pytest.fixture
async def make_probe() -> AsyncIterator[ProbeFactory]:
    """Build probes over the activity and wraparound groups, closed at teardown.

    Latency is switched off because it is not under test here and a loaded machine could
    cross its threshold. `thresholds` overrides the other defaults.
    """
    probes: list[PostgresProbe] = []

    def build(
        dsn: str,
        thresholds: dict[str, Threshold | None] | None = None,
        group_names: tuple[str, ...] = ("activity", "wraparound"),
    ) -> PostgresProbe:
        limits: dict[str, Threshold | None] = {
            name: spec.default for name, spec in POSTGRES_SIGNALS.items()
        }
        limits["latency"] = None
        limits.update(thresholds or {})
        settings = PostgresCheck(
            dsn=dsn,
            timeout=5.0,
            connect_timeout=2.0,
            statement_timeout=2.0,
            application_name=f"statuspage-test-{uuid.uuid4().hex[:8]}",
            thresholds=limits,
        )
        probe = PostgresProbe(COMPONENT_ID, settings, groups_named(*group_names))
        probes.append(probe)
        return probe

    yield build
    for probe in probes:
        await probe.close()


async def wait_until(admin: Connection, query: str, *params: Any) -> None:
    """Poll `query` until its first column is true, for at most WAIT_LIMIT seconds."""
    deadline = time.monotonic() + WAIT_LIMIT
    while True:
        cursor = await admin.execute(query, params)
        row = await cursor.fetchone()
        if row is not None and row[0]:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {WAIT_LIMIT} s: {query.strip()} {params}")
        await asyncio.sleep(0.02)


async def wait_until_gone(admin: Connection, pids: list[int]) -> None:
    """Wait for closed sessions to end, because a backend exits a moment after its client."""
    await wait_until(
        admin, "select not exists (select from pg_stat_activity where pid = any(%s))", pids
    )


async def backend_pid(connection: Connection) -> int:
    cursor = await connection.execute("select pg_backend_pid()")
    row = await cursor.fetchone()
    assert row is not None
    pid: int = row[0]
    return pid


@asynccontextmanager
async def running_query(server: PostgresServer, admin: Connection) -> AsyncIterator[int]:
    """Run a 30 s query in another session until the block ends; yield that session's pid."""
    connection = await psycopg.AsyncConnection.connect(server.dsn, autocommit=True)
    try:
        pid = await backend_pid(connection)
        task = asyncio.create_task(connection.execute(f"select pg_sleep(30) /* {MARKER} */"))
        try:
            await wait_until(
                admin,
                """
                select now() - query_start >= make_interval(secs => %s)
                from pg_stat_activity where pid = %s and state = 'active' and query like %s
                """,
                MIN_AGE,
                pid,
                MARKER_PATTERN,
            )
            yield pid
        finally:
            await admin.execute("select pg_cancel_backend(%s)", (pid,))
            with contextlib.suppress(psycopg.errors.QueryCanceled):
                await task
    finally:
        await connection.close()


@asynccontextmanager
async def idle_transaction(
    server: PostgresServer, admin: Connection, *, aborted: bool = False
) -> AsyncIterator[int]:
    """Leave another session idle in an open transaction; yield its pid."""
    connection = await psycopg.AsyncConnection.connect(server.dsn)
    pid = await backend_pid(connection)
    try:
        await connection.execute(f"select 1 /* {MARKER} */")
        if aborted:
            with contextlib.suppress(psycopg.errors.DivisionByZero):
                await connection.execute(f"select 1 / 0 /* {MARKER} */")
        await wait_until(
            admin,
            """
            select now() - state_change >= make_interval(secs => %s)
            from pg_stat_activity
            where pid = %s and state like 'idle in transaction%%' and query like %s
            """,
            MIN_AGE,
            pid,
            MARKER_PATTERN,
        )
        yield pid
    finally:
        await connection.close()
        await wait_until_gone(admin, [pid])


@asynccontextmanager
async def lock_wait(server: PostgresServer, admin: Connection) -> AsyncIterator[int]:
    """Make one session wait for a table lock that another holds; yield the waiting pid."""
    table = sql.Identifier(f"lock_wait_{uuid.uuid4().hex[:8]}")
    await admin.execute(sql.SQL("create table {} (id int)").format(table))
    holder = await psycopg.AsyncConnection.connect(server.dsn)
    waiter = await psycopg.AsyncConnection.connect(server.dsn, autocommit=True)
    try:
        await holder.execute(sql.SQL("lock table {} in access exclusive mode").format(table))
        pid = await backend_pid(waiter)
        query = sql.SQL("select count(*) from {} /* {} */").format(table, sql.SQL(MARKER))
        task = asyncio.create_task(waiter.execute(query))
        try:
            # waitstart can be null for a moment after the wait began.
            await wait_until(
                admin,
                """
                select bool_or(now() - l.waitstart >= make_interval(secs => %s))
                from pg_locks l join pg_stat_activity a using (pid)
                where l.pid = %s and not l.granted and a.query like %s
                """,
                MIN_AGE,
                pid,
                MARKER_PATTERN,
            )
            yield pid
        finally:
            await holder.rollback()
            await task
    finally:
        await holder.close()
        await waiter.close()
        await admin.execute(sql.SQL("drop table {}").format(table))


async def test_own_session_never_counts(
    postgres_server: PostgresServer, make_probe: ProbeFactory
) -> None:
    # With no other session busy, every reading is exactly zero even against a 1 µs threshold,
    # although the probe's own session is active while it reads.
    tiny = Threshold(warning=1e-6, critical=None)
    probe = make_probe(postgres_server.dsn, {"longest_query": tiny, "idle_in_transaction": tiny})

    result = await probe.run()

    assert result.outcome is Outcome.OK
    longest = find_signal(result, "longest_query")
    assert longest["level"] == "ok"
    assert longest["value"] == 0
    assert longest["summary"] == "longest active query running 0 s"
    idle = find_signal(result, "idle_in_transaction")
    assert idle["value"] == 0
    assert idle["summary"] == "no session idle in transaction"
    waits = find_signal(result, "lock_waits")
    assert waits["value"] == 0
    assert waits["summary"] == "no session waiting for a lock"


@pytest.mark.parametrize(
    ("limit", "outcome", "failure", "level"),
    [
        (Threshold(warning=MIN_AGE, critical=3600), Outcome.DEGRADED, None, "warning"),
        (Threshold(warning=0.001, critical=MIN_AGE), Outcome.FAILED, Failure.HEALTH, "critical"),
    ],
    ids=["warning", "critical"],
)
async def test_long_query_graded(
    postgres_server: PostgresServer,
    make_probe: ProbeFactory,
    caplog: pytest.LogCaptureFixture,
    limit: Threshold,
    outcome: Outcome,
    failure: Failure | None,
    level: str,
) -> None:
    caplog.set_level(logging.DEBUG, logger="statuspage")
    probe = make_probe(postgres_server.dsn, {"longest_query": limit})

    async with postgres_server.admin() as admin, running_query(postgres_server, admin):
        result = await probe.run()
    after = await probe.run()

    assert result.outcome is outcome
    assert result.failure is failure
    assert result.reason == f"database health {level}"
    assert result.details[level] == ["longest_query"]
    longest = find_signal(result, "longest_query")
    assert longest["level"] == level
    assert MIN_AGE <= longest["value"] < 30
    assert longest["summary"].startswith("longest active query running ")
    assert_no_query_text(result)
    assert MARKER not in caplog.text
    assert after.outcome is Outcome.OK
    assert find_signal(after, "longest_query")["value"] == 0


async def test_idle_transactions_counted(
    postgres_server: PostgresServer, make_probe: ProbeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="statuspage")
    probe = make_probe(
        postgres_server.dsn, {"idle_in_transaction": Threshold(warning=MIN_AGE, critical=3600)}
    )

    async with (
        postgres_server.admin() as admin,
        idle_transaction(postgres_server, admin),
        idle_transaction(postgres_server, admin, aborted=True),
    ):
        result = await probe.run()
    after = await probe.run()

    assert result.outcome is Outcome.DEGRADED
    assert result.reason == "database health warning"
    assert result.details["warning"] == ["idle_in_transaction"]
    idle = find_signal(result, "idle_in_transaction")
    assert idle["level"] == "warning"
    assert MIN_AGE <= idle["value"] < WAIT_LIMIT * 2
    # Both the plain and the aborted idle transaction count.
    assert idle["summary"].startswith("2 sessions idle in transaction, longest for ")
    assert_no_query_text(result)
    assert MARKER not in caplog.text
    assert after.outcome is Outcome.OK
    assert find_signal(after, "idle_in_transaction")["summary"] == "no session idle in transaction"


async def test_lock_wait_counted(
    postgres_server: PostgresServer, make_probe: ProbeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="statuspage")
    probe = make_probe(
        postgres_server.dsn, {"lock_waits": Threshold(warning=MIN_AGE, critical=3600)}
    )

    async with postgres_server.admin() as admin, lock_wait(postgres_server, admin):
        result = await probe.run()
    after = await probe.run()

    assert result.outcome is Outcome.DEGRADED
    assert result.details["warning"] == ["lock_waits"]
    waits = find_signal(result, "lock_waits")
    assert waits["level"] == "warning"
    assert MIN_AGE <= waits["value"] < WAIT_LIMIT * 2
    assert waits["summary"].startswith("1 session waiting for locks, longest for ")
    # The holder idles in its transaction and the waiter is an active query, both well under
    # the default thresholds.
    assert find_signal(result, "idle_in_transaction")["level"] == "ok"
    assert find_signal(result, "longest_query")["level"] == "ok"
    assert find_signal(result, "longest_query")["value"] >= MIN_AGE
    assert_no_query_text(result)
    assert MARKER not in caplog.text
    assert after.outcome is Outcome.OK
    assert find_signal(after, "lock_waits")["summary"] == "no session waiting for a lock"


@pytest.fixture(scope="module")
def small_server() -> Iterator[PostgresServer]:
    """A server of its own with 8 connection slots for clients, so they can run out."""
    settings = {"max_connections": 10, "superuser_reserved_connections": 2}
    with start_postgres_server(settings) as server:
        yield server


async def test_connections_fill_up(small_server: PostgresServer, make_probe: ProbeFactory) -> None:
    probe = make_probe(
        small_server.dsn,
        {"connections": Threshold(warning=0.5, critical=0.75)},
        group_names=("activity",),
    )
    opened: list[Connection] = []
    pids: list[int] = []

    async def open_connections(count: int) -> None:
        for _ in range(count):
            opened.append(await psycopg.AsyncConnection.connect(small_server.dsn))
            pids.append(await backend_pid(opened[-1]))

    try:
        alone = await probe.run()
        await open_connections(3)
        degraded = await probe.run()
        await open_connections(2)
        failed = await probe.run()
    finally:
        for connection in opened:
            await connection.close()
    async with small_server.admin() as admin:
        await wait_until_gone(admin, pids)
    recovered = await probe.run()

    assert alone.outcome is Outcome.OK
    assert find_signal(alone, "connections")["summary"] == ("1 of 8 connection slots in use (12%)")
    assert degraded.outcome is Outcome.DEGRADED
    assert degraded.reason == "database health warning"
    assert degraded.details["warning"] == ["connections"]
    connections = find_signal(degraded, "connections")
    assert connections["value"] == 0.5
    assert connections["summary"] == "4 of 8 connection slots in use (50%)"
    assert failed.outcome is Outcome.FAILED
    assert failed.failure is Failure.HEALTH
    assert failed.reason == "database health critical"
    assert failed.details["critical"] == ["connections"]
    connections = find_signal(failed, "connections")
    assert connections["value"] == 0.75
    assert connections["summary"] == "6 of 8 connection slots in use (75%)"
    assert recovered.outcome is Outcome.OK


async def test_wraparound_ages_read(
    postgres_server: PostgresServer, make_probe: ProbeFactory
) -> None:
    # A second session locking a row that another open transaction already locks creates a
    # multixact, so the multixact age is above zero even on a new cluster.
    table = sql.Identifier(f"multixact_{uuid.uuid4().hex[:8]}")
    async with postgres_server.admin() as admin:
        await admin.execute(sql.SQL("create table {} (id int)").format(table))
        await admin.execute(sql.SQL("insert into {} values (1)").format(table))
        first = await psycopg.AsyncConnection.connect(postgres_server.dsn)
        second = await psycopg.AsyncConnection.connect(postgres_server.dsn)
        try:
            for connection in (first, second):
                await connection.execute(sql.SQL("select id from {} for share").format(table))
        finally:
            await first.close()
            await second.close()
        await admin.execute(sql.SQL("drop table {}").format(table))
        cursor = await admin.execute(
            """
            select datname from pg_database
            where age(datfrozenxid) = (select max(age(datfrozenxid)) from pg_database)
            """
        )
        oldest = {row[0] for row in await cursor.fetchall()}
    probe = make_probe(postgres_server.dsn, group_names=("wraparound",))
    lowered = make_probe(
        postgres_server.dsn,
        {"xid_age": Threshold(warning=1, critical=2**31)},
        group_names=("wraparound",),
    )

    result = await probe.run()
    warned = await lowered.run()

    assert result.outcome is Outcome.OK
    xid_age = find_signal(result, "xid_age")
    assert xid_age["level"] == "ok"
    assert xid_age["value"] > 0
    assert xid_age["subject"] in oldest
    assert xid_age["summary"].startswith("oldest unfrozen transaction ID is ")
    multixact_age = find_signal(result, "multixact_age")
    assert multixact_age["level"] == "ok"
    assert multixact_age["value"] > 0
    assert multixact_age["subject"]
    assert warned.outcome is Outcome.DEGRADED
    assert warned.reason == "database health warning"
    warned_xid_age = find_signal(warned, "xid_age")
    assert warned_xid_age["level"] == "warning"
    assert warned.details["warning"] == [f"xid_age:{warned_xid_age['subject']}"]


async def test_pg_monitor_needed_for_others(
    postgres_server: PostgresServer, make_probe: ProbeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="statuspage")
    password = "monitor-password-8"
    user = await postgres_server.create_role(password)
    probe = make_probe(postgres_server.dsn_for(user=user, password=password))

    async with (
        postgres_server.admin() as admin,
        lock_wait(postgres_server, admin),
        running_query(postgres_server, admin),
    ):
        runs = [await probe.run() for _ in range(3)]
        await admin.execute(sql.SQL("grant pg_monitor to {}").format(sql.Identifier(user)))
        granted = await probe.run()

    for result in runs:
        # A signal that cannot be read changes no outcome.
        assert result.outcome is Outcome.OK
        assert result.details["unknown"] == ["longest_query", "idle_in_transaction"]
        for name in ("longest_query", "idle_in_transaction"):
            unread = find_signal(result, name)
            assert unread["level"] == "unknown"
            assert unread["value"] is None
            assert unread["summary"] == NEEDS_READ_ALL_STATS
            assert "pg_monitor" in unread["summary"]
            assert "pg_read_all_stats" in unread["summary"]
        # pg_locks and the slot count need no extra privilege.
        connections = find_signal(result, "connections")
        assert connections["level"] == "ok"
        assert connections["value"] > 0
        waits = find_signal(result, "lock_waits")
        assert waits["level"] == "ok"
        assert waits["summary"].startswith("1 session waiting for locks")
        assert find_signal(result, "xid_age")["level"] == "ok"
        assert_no_query_text(result)

    # The collector logs a level change, not every run that still lacks the grant.
    for name in ("longest_query", "idle_in_transaction"):
        logged = [
            record
            for record in caplog.records
            if record.name == COLLECTOR_LOGGER and f" {name} is unknown" in record.getMessage()
        ]
        assert len(logged) == 1
        assert logged[0].levelno == logging.WARNING
        assert "pg_monitor" in logged[0].getMessage()
    assert MARKER not in caplog.text

    assert granted.details["unknown"] == []
    for name in ACTIVITY_SIGNALS:
        assert find_signal(granted, name)["level"] == "ok"
    # Now the superuser's sessions are visible: the lock holder idles in its transaction, and
    # the waiting query and pg_sleep are active.
    assert find_signal(granted, "idle_in_transaction")["summary"].startswith(
        "1 session idle in transaction"
    )
    assert find_signal(granted, "longest_query")["value"] >= MIN_AGE
    assert_no_query_text(granted)
