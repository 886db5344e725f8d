"""Run a component's check, record the result and keep the public snapshot current.

The monitor also records maintenance window boundaries as transitions and keeps recurring
maintenance windows materialized. The scheduler decides when.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx

from statuspage import maintenance_store
from statuspage.checks import Probe, create_probe
from statuspage.config import Component, Config
from statuspage.result import Failure, Outcome, Result
from statuspage.snapshot import Snapshot, build_snapshot
from statuspage.state import ComponentStatus, State
from statuspage.store import Store, to_text

logger = logging.getLogger(__name__)

RESULT_RETENTION = timedelta(days=14)


def not_configured_result(component: Component, now: datetime) -> Result:
    names = ", ".join(component.missing_env)
    return Result(
        component_id=component.id,
        time=now,
        outcome=Outcome.NOT_CONFIGURED,
        reason="not configured",
        details={"missing_env": names},
    )


class Monitor:
    """Owns the probes; the scheduler calls `run_check` for each component."""

    def __init__(
        self,
        config: Config,
        store: Store,
        client: httpx.AsyncClient,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.probes: dict[str, Probe] = {
            component.id: create_probe(component, client)
            for component in config.components
            if not component.missing_env
        }
        self.snapshot: Snapshot = build_snapshot(config, store, clock())
        # True while the last attempt to store a result failed; /healthz reports it.
        self.recording_failed = False
        # Called with the snapshot's next maintenance boundary whenever it changes, so the
        # scheduler can refresh the page at that exact moment.
        self.on_next_boundary: Callable[[datetime | None], None] | None = None

    async def start(self) -> None:
        """Record once that unconfigured checks cannot run; they get no scheduled job."""
        for component in self.config.components:
            if not component.missing_env:
                continue
            logger.warning(
                "check %s is not configured: environment variable %s is not set or empty",
                component.id,
                ", ".join(component.missing_env),
            )
            status = self.store.status(component.id)
            if status.state is not State.NO_DATA or status.last_reason != "not configured":
                await self._record(component, not_configured_result(component, self.clock()))
        # A failure here must not keep the status page from starting. The scheduler runs the
        # materialization again daily and the boundary recording each minute.
        try:
            await self.materialize_maintenance(refresh=False)
        except Exception:
            logger.exception("materializing recurring maintenance windows failed")
        try:
            # Catch up on window starts and ends that passed while the monitor was stopped.
            await self.record_maintenance_boundaries()
        except Exception:
            logger.exception("recording maintenance window boundaries failed")
        await self.refresh_snapshot()

    async def run_check(self, component_id: str) -> ComponentStatus:
        component = self.config.component(component_id)
        probe = self.probes[component_id]
        try:
            result = await probe.run()
        except Exception:
            # Probes are written not to raise; this keeps the scheduler alive if one does.
            logger.exception("check %s raised instead of returning a result", component_id)
            result = Result(
                component_id=component_id,
                time=self.clock(),
                outcome=Outcome.FAILED,
                failure=Failure.INTERNAL,
                reason="internal error in the check",
            )
        status = await self._record(component, result)
        await self.refresh_snapshot()
        return status

    async def _record(self, component: Component, result: Result) -> ComponentStatus:
        try:
            status, transition = await self.store.call(
                self.store.record, component, result, self.config.site.timezone
            )
        except Exception:
            self.recording_failed = True
            raise
        self.recording_failed = False
        if transition is not None:
            logger.info(
                "check %s: %s -> %s (%s)",
                component.id,
                transition.from_state.value,
                transition.to_state.value,
                transition.reason,
            )
        elif status.state is State.DOWN and not result.succeeded:
            logger.debug("check %s still failing: %s", component.id, result.reason)
        elif not result.succeeded and result.outcome is not Outcome.NOT_CONFIGURED:
            logger.info(
                "check %s failed (%d of %d before down): %s",
                component.id,
                status.failures,
                component.failures_before_down,
                result.reason,
            )
        return status

    async def refresh_snapshot(self) -> None:
        previous = self.snapshot.next_boundary
        self.snapshot = await self.store.call(build_snapshot, self.config, self.store, self.clock())
        if self.on_next_boundary is not None and self.snapshot.next_boundary != previous:
            self.on_next_boundary(self.snapshot.next_boundary)

    async def update_maintenance(self) -> None:
        """Record the maintenance boundaries that passed, then refresh the snapshot."""
        await self.record_maintenance_boundaries()
        await self.refresh_snapshot()

    async def record_maintenance_boundaries(self) -> None:
        """Record each window start and end that passed as a transition, once, and log it."""
        component_ids = [component.id for component in self.config.components]
        transitions = await self.store.call(
            self.store.record_maintenance_boundaries, component_ids, self.clock()
        )
        for transition in transitions:
            if transition.from_state is State.MAINTENANCE and transition.to_state is State.DOWN:
                logger.warning(
                    "check %s: still down after maintenance ended at %s",
                    transition.component_id,
                    to_text(transition.time),
                )
            else:
                logger.info(
                    "check %s: %s -> %s at %s (%s)",
                    transition.component_id,
                    transition.from_state.value,
                    transition.to_state.value,
                    to_text(transition.time),
                    transition.reason,
                )

    async def materialize_maintenance(self, refresh: bool = True) -> None:
        """Add recurring maintenance windows up to the horizon. The scheduler runs this daily."""
        added = await self.store.call(
            maintenance_store.materialize_windows, self.store.db, self.clock()
        )
        if added:
            logger.info("added %d recurring maintenance windows", added)
        if refresh:
            await self.refresh_snapshot()

    async def prune(self) -> None:
        deleted = await self.store.call(self.store.prune_results, self.clock() - RESULT_RETENTION)
        if deleted:
            logger.info("pruned %d results older than %s", deleted, RESULT_RETENTION)

    async def close(self) -> None:
        """Close the probes and record that observation stopped now."""
        try:
            await self.store.call(
                self.store.stop_observing,
                list(self.config.components),
                self.clock(),
                self.config.site.timezone,
            )
        except Exception:
            logger.exception("recording the stop of observation failed")
        for component_id, probe in self.probes.items():
            try:
                await probe.close()
            except Exception:
                logger.exception("closing check %s failed", component_id)
