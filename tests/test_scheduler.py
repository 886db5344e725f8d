from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from statuspage.checks.http import create_client
from statuspage.config import Config, load_config
from statuspage.monitor import Monitor
from statuspage.result import Result
from statuspage.scheduler import _run_check, create_scheduler
from statuspage.state import State
from statuspage.store import Store
from tests.fixtures_http import ApiTarget

pytestmark = pytest.mark.anyio


def write_config(tmp_path: Path, target: ApiTarget) -> Config:
    path = tmp_path / "checks.toml"
    components = ""
    for component_id in ("api", "website", "docs"):
        components += f"""
[[components]]
id = "{component_id}"
name = "{component_id}"
[components.check]
type = "http"
url = "{target.url}"
interval = 60
retry_interval = 15
timeout = 2
"""
    path.write_text(f'[site]\nname = "T"\ntimezone = "UTC"\n{components}', encoding="utf-8")
    return load_config(path, {})


@pytest.fixture
async def monitor(tmp_path: Path, api_target: ApiTarget) -> AsyncIterator[Monitor]:
    config = write_config(tmp_path, api_target)
    store = Store.open(tmp_path / "data")
    async with create_client() as client:
        yield Monitor(config, store, client)
    store.close()


class RaisingProbe:
    async def run(self) -> Result:
        raise RuntimeError("probe bug")

    async def close(self) -> None:
        pass


async def test_failing_check_is_retried_sooner(monitor: Monitor, api_target: ApiTarget) -> None:
    api_target.mode = "error"
    scheduler = create_scheduler(monitor)
    before = datetime.now(UTC)
    await _run_check(monitor, scheduler, "api")
    job = scheduler.get_job("check:api")
    assert job.next_run_time <= before + timedelta(seconds=16)


async def test_healthy_check_keeps_interval(monitor: Monitor) -> None:
    scheduler = create_scheduler(monitor)
    await _run_check(monitor, scheduler, "website")
    job = scheduler.get_job("check:website")
    assert job.next_run_time < datetime.now(UTC) + timedelta(seconds=11)
    assert job.trigger.interval == timedelta(seconds=60)


async def test_first_runs_are_staggered(monitor: Monitor) -> None:
    scheduler = create_scheduler(monitor)
    times = sorted(
        scheduler.get_job(f"check:{c}").next_run_time for c in ("api", "website", "docs")
    )
    assert times[1] - times[0] >= timedelta(seconds=1)
    assert times[2] - times[0] <= timedelta(seconds=10)


async def test_check_never_overlaps_itself(monitor: Monitor) -> None:
    scheduler = create_scheduler(monitor)
    assert scheduler.get_job("check:api").max_instances == 1


async def test_raising_probe_is_recorded_as_failure(
    monitor: Monitor, caplog: pytest.LogCaptureFixture
) -> None:
    monitor.probes["api"] = RaisingProbe()
    status = await monitor.run_check("api")
    assert status.failures == 1
    assert "check api raised" in caplog.text


async def test_check_after_raising_probe_still_runs(monitor: Monitor) -> None:
    healthy = monitor.probes["api"]
    monitor.probes["api"] = RaisingProbe()
    await monitor.run_check("api")
    monitor.probes["api"] = healthy
    status = await monitor.run_check("api")
    assert status.state is State.OPERATIONAL


async def test_snapshot_follows_results(monitor: Monitor) -> None:
    await monitor.run_check("docs")
    view = {c.id: c for c in monitor.snapshot.components}["docs"]
    assert view.state is State.OPERATIONAL
