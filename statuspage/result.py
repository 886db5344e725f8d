"""The outcome of running one check once."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class Outcome(enum.StrEnum):
    """Outcome of a single check run."""

    OK = "ok"
    # The target responded correctly but slower than the check's degraded threshold.
    DEGRADED = "degraded"
    FAILED = "failed"
    # The check cannot run because its settings are incomplete (an unset environment variable).
    NOT_CONFIGURED = "not_configured"


class Failure(enum.StrEnum):
    """Class of a failed run, coarse enough to show on a public page."""

    DNS = "dns"
    REFUSED = "refused"
    TLS = "tls"
    TIMEOUT = "timeout"
    STATUS = "status"
    CONDITION = "condition"
    REDIRECT = "redirect"
    CONNECTION = "connection"
    AUTH = "auth"
    QUERY = "query"
    # A health signal crossed its critical threshold.
    HEALTH = "health"
    INTERNAL = "internal"


@dataclass(frozen=True)
class Result:
    """One run of one check.

    `reason` is short and safe for a public page: it never contains hostnames, user names,
    DSNs, query text, response bodies or raw driver messages. `details` contains operator-only
    figures (status code, connection counts) and is never rendered on public pages.
    """

    component_id: str
    time: datetime  # UTC, when the run started
    outcome: Outcome
    latency: float | None = None  # seconds
    failure: Failure | None = None
    reason: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return self.outcome in (Outcome.OK, Outcome.DEGRADED)
