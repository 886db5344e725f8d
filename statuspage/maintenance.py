"""Maintenance: planned windows, one-off or recurring, in an IANA time zone."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class WindowStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Maintenance:
    """A maintenance as the operator defined it; its windows are materialized separately."""

    id: int
    title: str
    description: str  # Markdown source
    timezone: str  # IANA name
    components: tuple[str, ...]
    schedule: str | None = None  # cron expression of start times, recurring only
    start_time: str | None = None  # local "HH:MM", recurring only
    end_time: str | None = None  # local "HH:MM", recurring only
    created_at: datetime | None = None
    updated_at: datetime | None = None
    deleted_at: datetime | None = None

    @property
    def recurring(self) -> bool:
        return self.schedule is not None


@dataclass(frozen=True)
class MaintenanceWindow:
    """One occurrence of a maintenance, with its own lifecycle."""

    id: int
    maintenance_id: int
    title: str
    components: tuple[str, ...]
    starts_at: datetime  # UTC
    ends_at: datetime  # UTC; later than planned when extended
    ended_at: datetime | None = None  # UTC, when the operator ended it early
    cancelled_at: datetime | None = None

    def status(self, now: datetime) -> WindowStatus:
        if self.cancelled_at is not None:
            return WindowStatus.CANCELLED
        if self.ended_at is not None and self.ended_at <= now:
            return WindowStatus.COMPLETED
        if now < self.starts_at:
            return WindowStatus.SCHEDULED
        if now < self.ends_at:
            return WindowStatus.IN_PROGRESS
        return WindowStatus.COMPLETED

    @property
    def effective_end(self) -> datetime:
        """When the window really ends: early end, or the planned (possibly extended) end."""
        if self.ended_at is not None and self.ended_at < self.ends_at:
            return self.ended_at
        return self.ends_at
