"""APScheduler jobs: one per check, maintenance boundaries, plus housekeeping.

Maintenance window starts and ends change the page without any new check result. A one-off
job at the next boundary refreshes the snapshot at that moment. Whenever a new snapshot has a
different next boundary, because an operator added, extended or ended a window, the job moves.
The minute job records any boundary the one-off job missed, and the monitor catches up on
boundaries that passed while it was stopped when it starts.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from statuspage.monitor import Monitor
from statuspage.state import State

logger = logging.getLogger(__name__)

# First runs are spread over at most this many seconds, so a restart does not send every
# request at the same instant.
STAGGER_WINDOW = 10.0
SNAPSHOT_REFRESH = 60.0  # seconds; keeps "last checked" ages and the current day fresh
PRUNE_INTERVAL = 3600.0
MATERIALIZE_INTERVAL = timedelta(days=1)
BOUNDARY_JOB = "maintenance-boundary"


def create_scheduler(monitor: Monitor) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone=UTC)
    now = datetime.now(UTC)
    components = [c for c in monitor.config.components if c.id in monitor.probes]
    step = min(STAGGER_WINDOW / max(len(components), 1), 2.0)

    for position, component in enumerate(components):
        scheduler.add_job(
            _run_check,
            IntervalTrigger(seconds=component.interval, timezone=UTC),
            args=[monitor, scheduler, component.id],
            id=f"check:{component.id}",
            name=f"check {component.id}",
            next_run_time=now + timedelta(seconds=position * step),
            # A check never overlaps itself; a run missed while the previous one was still
            # going is dropped rather than queued.
            max_instances=1,
            coalesce=True,
            misfire_grace_time=int(component.interval),
        )

    scheduler.add_job(
        monitor.update_maintenance,
        IntervalTrigger(seconds=SNAPSHOT_REFRESH, timezone=UTC),
        id="snapshot",
        max_instances=1,
        coalesce=True,
    )
    # The monitor materialized windows when it started; this keeps the horizon moving.
    scheduler.add_job(
        monitor.materialize_maintenance,
        IntervalTrigger(seconds=MATERIALIZE_INTERVAL.total_seconds(), timezone=UTC),
        id="materialize",
        max_instances=1,
        coalesce=True,
    )
    scheduler.add_job(
        monitor.prune,
        IntervalTrigger(seconds=PRUNE_INTERVAL, timezone=UTC),
        id="prune",
        next_run_time=now + timedelta(seconds=30),
        max_instances=1,
        coalesce=True,
    )

    def follow_boundary(moment: datetime | None) -> None:
        schedule_boundary(scheduler, monitor, moment)

    monitor.on_next_boundary = follow_boundary
    schedule_boundary(scheduler, monitor, monitor.snapshot.next_boundary)
    return scheduler


def schedule_boundary(
    scheduler: AsyncIOScheduler, monitor: Monitor, moment: datetime | None
) -> None:
    """Run the monitor's maintenance update at `moment`, replacing any earlier plan."""
    if scheduler.get_job(BOUNDARY_JOB) is not None:
        scheduler.remove_job(BOUNDARY_JOB)
    if moment is None:
        return
    scheduler.add_job(
        monitor.update_maintenance,
        DateTrigger(run_date=moment, timezone=UTC),
        id=BOUNDARY_JOB,
        name="maintenance boundary",
        # However late the event loop gets to it, the boundary still has to be recorded.
        misfire_grace_time=None,
    )
    logger.debug("next maintenance boundary at %s", moment.isoformat())


async def _run_check(monitor: Monitor, scheduler: AsyncIOScheduler, component_id: str) -> None:
    try:
        status = await monitor.run_check(component_id)
    except asyncio.CancelledError:
        # The scheduler cancels running checks when the server stops; that is not an error.
        logger.info("check %s cancelled by shutdown", component_id)
        return
    except Exception:
        logger.exception("check %s: recording the result failed", component_id)
        return

    # While a failure is being confirmed, retry sooner than the normal interval.
    component = monitor.config.component(component_id)
    if status.failures > 0 and status.state is not State.DOWN:
        retry_at = datetime.now(UTC) + timedelta(seconds=component.retry_interval)
        job = scheduler.get_job(f"check:{component_id}")
        if job is not None and job.next_run_time is not None and job.next_run_time > retry_at:
            job.modify(next_run_time=retry_at)
