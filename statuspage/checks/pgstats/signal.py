"""A health signal read from PostgreSQL, and what a poll of signal groups has at hand."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import TupleRow

from statuspage.config import PostgresCheck
from statuspage.thresholds import POSTGRES_SIGNALS, Level, Unit

Connection = psycopg.AsyncConnection[TupleRow]


@dataclass(frozen=True)
class Signal:
    """One reading. `summary` is for operators and never contains query text."""

    name: str
    level: Level
    value: float | None
    unit: Unit
    summary: str
    subject: str | None = None  # a table, database or replica the reading is about
    warning: float | None = None
    critical: float | None = None
    # Unknown only until a later poll, such as a rate before its second reading.
    pending: bool = False

    @property
    def key(self) -> str:
        return f"{self.name}:{self.subject}" if self.subject else self.name

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "subject": self.subject,
            "level": self.level.value,
            "value": self.value,
            "unit": self.unit.value,
            "warning": self.warning,
            "critical": self.critical,
            "summary": self.summary,
        }


@dataclass(frozen=True)
class Privileges:
    superuser: bool
    read_all_stats: bool  # pg_read_all_stats, part of pg_monitor: other sessions' activity
    monitor: bool  # pg_monitor


@dataclass
class Poll:
    """Connection, settings and session facts that every signal group reads during one run."""

    connection: Connection
    settings: PostgresCheck
    server_version_num: int
    privileges: Privileges
    backend_pid: int
    now: datetime  # the server's clock, so rates do not depend on the monitor's clock
    latency: float
    # Values kept between polls by groups that compute rates, keyed by group name.
    memory: dict[str, Any] = field(default_factory=dict)

    def enabled(self, name: str) -> bool:
        return self.settings.thresholds.get(name) is not None


def measure(
    poll: Poll,
    name: str,
    value: float,
    summary: str,
    subject: str | None = None,
) -> Signal:
    """Grade a value against the signal's configured thresholds.

    Callers pass the exact value: rounding before grading could move a reading across a
    threshold. Summaries round for display.
    """
    spec = POSTGRES_SIGNALS[name]
    threshold = poll.settings.thresholds.get(name) or spec.default
    return Signal(
        name=name,
        level=threshold.level(value),
        value=value,
        unit=spec.unit,
        summary=summary,
        subject=subject,
        warning=threshold.warning,
        critical=threshold.critical,
    )


def fixed(
    name: str, level: Level, value: float | None, summary: str, subject: str | None = None
) -> Signal:
    """Build a signal whose level comes from a rule rather than from thresholds."""
    return Signal(name, level, value, POSTGRES_SIGNALS[name].unit, summary, subject)


def unknown(name: str, why: str, subject: str | None = None, pending: bool = False) -> Signal:
    signal = fixed(name, Level.UNKNOWN, None, why, subject)
    return replace(signal, pending=True) if pending else signal


def not_applicable(name: str, why: str, subject: str | None = None) -> Signal:
    return fixed(name, Level.NOT_APPLICABLE, None, why, subject)
