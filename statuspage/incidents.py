"""Incidents: what operators post about an outage, with a timeline of updates."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class Impact(enum.StrEnum):
    NONE = "none"
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"


class IncidentStatus(enum.StrEnum):
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"


class ComponentImpact(enum.StrEnum):
    """The state an operator declares for a component affected by an incident."""

    DEGRADED = "degraded"
    PARTIAL_OUTAGE = "partial_outage"
    MAJOR_OUTAGE = "major_outage"


@dataclass(frozen=True)
class IncidentUpdate:
    id: int
    incident_id: int
    status: IncidentStatus
    body: str  # Markdown source
    display_at: datetime  # UTC
    created_at: datetime  # UTC
    created_by: str


@dataclass(frozen=True)
class Incident:
    id: int
    title: str
    impact: Impact
    status: IncidentStatus
    created_at: datetime  # UTC
    updated_at: datetime  # UTC
    resolved_at: datetime | None = None
    postmortem: str | None = None  # Markdown source
    deleted_at: datetime | None = None
    components: dict[str, ComponentImpact] = field(default_factory=dict)
    updates: tuple[IncidentUpdate, ...] = ()  # oldest first by display_at

    @property
    def open(self) -> bool:
        return self.status is not IncidentStatus.RESOLVED and self.deleted_at is None
