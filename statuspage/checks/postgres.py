"""PostgreSQL probe: `select 1` on one persistent connection, plus connection-slot usage."""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import TupleRow

from statuspage.checks.pgstats.collector import Collector, Group, read_session
from statuspage.checks.pgstats.signal import Poll, Signal, measure
from statuspage.config import POSTGRES_CANCEL_GRACE, PostgresCheck
from statuspage.result import Failure, Outcome, Result
from statuspage.thresholds import Level

logger = logging.getLogger(__name__)

Connection = psycopg.AsyncConnection[TupleRow]

# After the deadline interrupts a running query, psycopg sends the server a cancel request and
# waits for the query to end, for up to 10 s (psycopg 3.3). Cancelling matters because a backend
# blocked on a lock does not notice that its client went away, so it would keep its connection
# slot. Past this grace the probe closes the connection without waiting further.
CANCEL_GRACE = POSTGRES_CANCEL_GRACE

# Errors reported by the server after the connection is up carry a SQLSTATE.
SQLSTATE_FAILURES: dict[str, tuple[Failure, str]] = {
    "28P01": (Failure.AUTH, "authentication failed"),
    "28000": (Failure.AUTH, "authentication failed"),
    "3D000": (Failure.CONNECTION, "database does not exist"),
    "53300": (Failure.CONNECTION, "too many connections"),
    "57P01": (Failure.CONNECTION, "server terminated the connection"),
    "57P02": (Failure.CONNECTION, "server terminated the connection"),
    "57P03": (Failure.CONNECTION, "server is starting up or shutting down"),
    "57014": (Failure.TIMEOUT, "query timed out"),
    "55P03": (Failure.TIMEOUT, "lock wait timed out"),
}

# libpq does not expose the SQLSTATE of an error raised while a connection is being set up, so
# those errors are matched on message text, first match wins. The patterns cover libpq's and
# psycopg's own messages and the English server messages (tests run them against PostgreSQL 16).
# NOTE: a server with non-English lc_messages sends translated texts, which end up as
# "connection failed".
CONNECT_MESSAGE_FAILURES: tuple[tuple[re.Pattern[str], Failure, str], ...] = tuple(
    (re.compile(pattern), failure, reason)
    for pattern, failure, reason in (
        # psycopg resolves host names itself before calling libpq.
        (r"failed to resolve host", Failure.DNS, "host name could not be resolved"),
        (r"could not translate host name", Failure.DNS, "host name could not be resolved"),
        (r"connection refused", Failure.REFUSED, "connection refused"),
        # A Unix socket path without a server behind it.
        (r"no such file or directory", Failure.REFUSED, "connection refused"),
        (r"timeout expired", Failure.TIMEOUT, "connection timed out"),
        (r"authentication failed", Failure.AUTH, "authentication failed"),
        (r"no pg_hba\.conf entry", Failure.AUTH, "authentication failed"),
        (r"no password supplied", Failure.AUTH, "authentication failed"),
        (
            r"\brole +(does not exist|is not permitted to log in)",
            Failure.AUTH,
            "authentication failed",
        ),
        (r"\bdatabase +does not exist", Failure.CONNECTION, "database does not exist"),
        (r"too many clients|too many connections", Failure.CONNECTION, "too many connections"),
        (r"remaining connection slots are reserved", Failure.CONNECTION, "too many connections"),
        (
            r"the database system is (starting up|shutting down|in recovery mode|not)",
            Failure.CONNECTION,
            "server is starting up or shutting down",
        ),
        (r"\bssl\b", Failure.TLS, "TLS negotiation failed"),
    )
)

# Host names, paths, user and database names appear quoted in libpq and psycopg messages. They
# are removed before matching so that, say, a host named "ssl-db" is not read as a TLS error.
QUOTED_NAME = re.compile(r"\"[^\"]*\"|'[^'\s]*'")


@dataclass(frozen=True)
class _Measurement:
    latency: float  # seconds for connect-if-needed and `select 1`
    new_connection: bool
    server_version_num: int
    backend_pid: int
    signals: list[Signal]


class PostgresProbe:
    """Check a PostgreSQL server over one connection that is kept open between runs.

    Each run executes `select 1`, then reads the health signals of `statuspage.checks.pgstats`.
    The component's state is the worst signal: critical is down, warning is degraded. A signal
    that cannot be read is unknown, which is reported but changes no state. The role in the DSN
    needs pg_monitor for the full set of signals.
    """

    def __init__(
        self, component_id: str, settings: PostgresCheck, groups: list[Group] | None = None
    ) -> None:
        self.component_id = component_id
        self.settings = settings
        self._connection: Connection | None = None
        # What the current run is doing, "connect" or "query", for classifying its errors.
        self._phase = "connect"
        # Key of the last failure that was logged at WARNING, so identical repeats go to DEBUG.
        self._last_failure: tuple[Failure, str] | None = None
        self._collector = Collector(component_id, groups)

    async def run(self) -> Result:
        """Run the check once and return its result.

        Every `Exception` becomes a failed result, so only a cancellation propagates.
        """
        started = datetime.now(UTC)
        try:
            return await self._run(started)
        except asyncio.CancelledError:
            # The connection may be mid-query, so the next run starts on a new one.
            await self._discard()
            raise
        except Exception:
            logger.exception("postgres check %s failed with an unexpected error", self.component_id)
            await self._discard()
            self._last_failure = (Failure.INTERNAL, "internal error")
            return self._failure_result(started, Failure.INTERNAL, "internal error", {})

    async def close(self) -> None:
        """Close the persistent connection, if one is open."""
        await self._discard()

    async def _run(self, started: datetime) -> Result:
        timeout = self.settings.timeout
        try:
            async with asyncio.timeout(timeout + CANCEL_GRACE):
                async with asyncio.timeout(timeout):
                    measurement = await self._measure()
        except TimeoutError:
            await self._discard()
            details = {"error": "TimeoutError", "phase": self._phase}
            return self._failed(started, Failure.TIMEOUT, f"timed out after {timeout:g} s", details)
        except psycopg.Error as exc:
            await self._discard()
            if self._phase == "connect":
                failure, reason = _classify_connect_error(exc)
            else:
                failure, reason = _classify_query_error(exc)
            details = {"error": type(exc).__name__, "phase": self._phase}
            if exc.sqlstate:
                details["sqlstate"] = exc.sqlstate
            return self._failed(started, failure, reason, details)

        return self._succeeded(started, measurement)

    async def _measure(self) -> _Measurement:
        start = time.perf_counter()
        new_connection = self._connection is None
        connection = await self._connect_if_needed()
        try:
            self._phase = "query"
            await connection.execute("select 1")
        except psycopg.OperationalError:
            if new_connection or not connection.broken:
                raise
            # The server dropped the idle connection since the last run (restart, failover,
            # pg_terminate_backend, idle_session_timeout). The server may well be up now, so the
            # probe retries once on a new connection.
            logger.info(
                "postgres check %s: the server closed the idle connection, reconnecting",
                self.component_id,
            )
            await self._discard()
            new_connection = True
            connection = await self._connect_if_needed()
            self._phase = "query"
            await connection.execute("select 1")
        latency = time.perf_counter() - start

        session = await read_session(connection)
        poll = Poll(
            connection=connection,
            settings=self.settings,
            server_version_num=session.server_version_num,
            privileges=session.privileges,
            backend_pid=session.backend_pid,
            now=session.now,
            latency=latency,
            memory=self._collector.memory,
        )
        signals = [measure(poll, "latency", latency, f"connect and select 1 took {latency:.3f} s")]
        signals = [signal for signal in signals if poll.enabled(signal.name)]
        signals += await self._collector.poll(poll)
        return _Measurement(
            latency=latency,
            new_connection=new_connection,
            server_version_num=session.server_version_num,
            backend_pid=session.backend_pid,
            signals=signals,
        )

    async def _connect_if_needed(self) -> Connection:
        if self._connection is not None and not self._connection.closed:
            return self._connection
        self._connection = None
        self._phase = "connect"

        settings = self.settings
        # Appending keeps any server options that the DSN itself sets.
        dsn_options = conninfo_to_dict(settings.dsn).get("options") or ""
        statement_timeout_ms = round(settings.statement_timeout * 1000)
        lock_timeout_ms = round(settings.lock_timeout * 1000)
        options = (
            f"{dsn_options} -c statement_timeout={statement_timeout_ms}"
            f" -c lock_timeout={lock_timeout_ms}"
        ).strip()
        self._connection = await psycopg.AsyncConnection.connect(
            settings.dsn,
            autocommit=True,
            # libpq takes whole seconds and psycopg raises values below 2 s to 2 s.
            connect_timeout=max(1, math.ceil(settings.connect_timeout)),
            application_name=settings.application_name,
            options=options,
        )
        return self._connection

    async def _discard(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            # close() only calls PQfinish, which sends Terminate without waiting for a reply.
            await connection.close()
        except Exception:
            logger.debug("postgres check %s: closing the connection failed", self.component_id)

    def _succeeded(self, started: datetime, measurement: _Measurement) -> Result:
        by_level: dict[Level, list[str]] = {}
        for signal in measurement.signals:
            by_level.setdefault(signal.level, []).append(signal.key)
        details: dict[str, Any] = {
            "backend_pid": measurement.backend_pid,
            "new_connection": measurement.new_connection,
            "server_version_num": measurement.server_version_num,
            "critical": by_level.get(Level.CRITICAL, []),
            "warning": by_level.get(Level.WARNING, []),
            "unknown": by_level.get(Level.UNKNOWN, []),
            "signals": [signal.as_json() for signal in measurement.signals],
        }

        if self._last_failure is not None:
            logger.info("postgres check %s succeeded again", self.component_id)
            self._last_failure = None

        # The public page shows only this coarse reason; operators read `details`.
        outcome, failure, reason = Outcome.OK, None, ""
        if details["critical"]:
            outcome, failure, reason = Outcome.FAILED, Failure.HEALTH, "database health critical"
        elif details["warning"]:
            outcome, reason = Outcome.DEGRADED, "database health warning"
        return Result(
            component_id=self.component_id,
            time=started,
            outcome=outcome,
            latency=measurement.latency,
            failure=failure,
            reason=reason,
            details=details,
        )

    def _failed(
        self, started: datetime, failure: Failure, reason: str, details: dict[str, Any]
    ) -> Result:
        key = (failure, reason)
        level = logging.DEBUG if key == self._last_failure else logging.WARNING
        self._last_failure = key
        # Driver messages name hosts, users and databases, which operators may see in logs,
        # but the probe logs only its own wording so nothing from the DSN can leak there.
        logger.log(
            level,
            "postgres check %s failed: %s (%s, SQLSTATE %s)",
            self.component_id,
            reason,
            details.get("error", "-"),
            details.get("sqlstate", "-"),
        )
        return self._failure_result(started, failure, reason, details)

    def _failure_result(
        self, started: datetime, failure: Failure, reason: str, details: dict[str, Any]
    ) -> Result:
        return Result(
            component_id=self.component_id,
            time=started,
            outcome=Outcome.FAILED,
            failure=failure,
            reason=reason,
            details=details,
        )


def _classify_connect_error(error: psycopg.Error) -> tuple[Failure, str]:
    if error.sqlstate in SQLSTATE_FAILURES:
        return SQLSTATE_FAILURES[error.sqlstate]
    if isinstance(error, psycopg.errors.ConnectionTimeout):
        return Failure.TIMEOUT, "connection timed out"
    if isinstance(error, psycopg.ProgrammingError):
        # conninfo parsing failed. Its message may quote part of the DSN, so it is dropped.
        return Failure.CONNECTION, "invalid DSN"

    message = QUOTED_NAME.sub("", str(error)).lower()
    for pattern, failure, reason in CONNECT_MESSAGE_FAILURES:
        if pattern.search(message):
            return failure, reason
    return Failure.CONNECTION, "connection failed"


def _classify_query_error(error: psycopg.Error) -> tuple[Failure, str]:
    sqlstate = error.sqlstate
    if sqlstate in SQLSTATE_FAILURES:
        return SQLSTATE_FAILURES[sqlstate]
    # Class 08 is "connection exception". Without a SQLSTATE an OperationalError during a query
    # means that libpq lost the connection.
    if (sqlstate or "").startswith("08") or (
        sqlstate is None and isinstance(error, psycopg.OperationalError)
    ):
        return Failure.CONNECTION, "connection lost"
    return Failure.QUERY, "query failed"
