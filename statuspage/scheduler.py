"""APScheduler jobs: one per check, plus housekeeping."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from statuspage.monitor import Monitor
from statuspage.state import State

logger = logging.getLogger(__name__)

# First runs are spread over at most this many seconds, so a restart does not send every
# request at the same instant.
STAGGER_WINDOW = 10.0
SNAPSHOT_REFRESH = 60.0  # seconds; keeps "last checked" ages and the current day fresh
PRUNE_INTERVAL = 3600.0


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
        monitor.refresh_snapshot,
        IntervalTrigger(seconds=SNAPSHOT_REFRESH, timezone=UTC),
        id="snapshot",
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
    return scheduler


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
