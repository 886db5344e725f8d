"""Maintenance on the public page, its boundaries as transitions, and the scheduler's timing."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from starlette.testclient import TestClient

from statuspage import maintenance_store
from statuspage.config import Config
from statuspage.maintenance import MaintenanceSpec
from statuspage.scheduler import BOUNDARY_JOB, create_scheduler
from statuspage.state import State, Transition
from statuspage.store import Store
from statuspage.web.app import create_app
from statuspage.web.context import AppContext
from tests.factories import failed, ok
from tests.pages import element_text, find_element, parse_status_page
from tests.test_web import NOW, write_config

MINUTE = timedelta(minutes=1)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return write_config(tmp_path)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def record_runs(
    config: Config, data_dir: Path, start: datetime, end: datetime, api_up: bool
) -> None:
    """Website up, and the API up or failing, with one run a minute in [start, end]."""
    store = Store.open(data_dir)
    zone = config.site.timezone
    moment = start
    while moment <= end:
        store.record(config.component("website"), ok(moment, 0.2, "website"), zone)
        api_result = ok(moment) if api_up else failed(moment)
        store.record(config.component("api"), api_result, zone)
        moment += MINUTE
    store.close()


def add_window(
    data_dir: Path,
    start: datetime,
    end: datetime,
    components: tuple[str, ...] = ("api",),
    title: str = "Database upgrade",
) -> int:
    """Create a one-off maintenance and return its window's id."""
    store = Store.open(data_dir)
    spec = MaintenanceSpec(
        title=title,
        description="",
        timezone="Asia/Tokyo",
        components=components,
        starts_at=start,
        ends_at=end,
    )
    maintenance_id = maintenance_store.create_maintenance(
        store.db, spec, start - timedelta(hours=1), "operator"
    )
    window_id = maintenance_store.windows_of(store.db, maintenance_id)[0].id
    store.close()
    return window_id


@contextmanager
def running_app(
    config: Config, data_dir: Path, at: datetime
) -> Iterator[tuple[TestClient, time_machine.Traveller]]:
    with (
        time_machine.travel(at, tick=False) as traveller,
        TestClient(create_app(config, data_dir, run_checks=False)) as client,
    ):
        yield client, traveller


def context_of(client: TestClient) -> AppContext:
    context: AppContext = client.app.state.context  # type: ignore[attr-defined]
    return context


def maintenance_rows(data_dir: Path, component_id: str = "api") -> list[Transition]:
    store = Store.open(data_dir)
    rows = [
        transition
        for transition in store.transitions(component_id)
        if State.MAINTENANCE in (transition.from_state, transition.to_state)
    ]
    store.close()
    return rows


def still_down_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        record
        for record in caplog.records
        if record.levelno == logging.WARNING and "still down after maintenance" in record.message
    ]


# The page


def test_component_in_window_shows_maintenance(config: Config, data_dir: Path) -> None:
    record_runs(config, data_dir, NOW - 20 * MINUTE, NOW, api_up=False)
    add_window(data_dir, NOW - 5 * MINUTE, NOW + 10 * MINUTE)
    with running_app(config, data_dir, NOW) as (client, _):
        row = parse_status_page(client.get("/").text).components["api"]
    assert row.effective_state == "maintenance"
    assert row.state == "down"
    assert "Under maintenance" in row.text
    assert "Maintenance until 2026-12-04 12:10 JST" in row.text


def test_banner_shows_maintenance_when_nothing_worse(config: Config, data_dir: Path) -> None:
    record_runs(config, data_dir, NOW - 20 * MINUTE, NOW, api_up=True)
    add_window(data_dir, NOW - 5 * MINUTE, NOW + 10 * MINUTE)
    with running_app(config, data_dir, NOW) as (client, _):
        page = parse_status_page(client.get("/").text)
    assert page.banner == "Maintenance in progress"


def test_banner_shows_outage_worse_than_maintenance(config: Config, data_dir: Path) -> None:
    record_runs(config, data_dir, NOW - 20 * MINUTE, NOW, api_up=False)
    add_window(data_dir, NOW - 5 * MINUTE, NOW + 10 * MINUTE, components=("website",))
    with running_app(config, data_dir, NOW) as (client, _):
        page = parse_status_page(client.get("/").text)
    assert page.components["website"].effective_state == "maintenance"
    assert page.banner == "Major outage"


def test_in_progress_section_names_window_and_end(config: Config, data_dir: Path) -> None:
    add_window(data_dir, NOW - 5 * MINUTE, NOW + 10 * MINUTE)
    with running_app(config, data_dir, NOW) as (client, _):
        section = find_element(client.get("/").text, "active-maintenance")
    assert section is not None
    assert "Database upgrade" in section.text
    assert "Until 2026-12-04 12:10 JST" in section.text
    assert ("2026-12-04T03:10:00Z", "2026-12-04 12:10 JST") in section.times


def test_upcoming_section_shows_local_start_and_end(config: Config, data_dir: Path) -> None:
    start = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)  # 2026-12-05 03:00 in Tokyo
    add_window(data_dir, start, start + 10 * MINUTE)
    with running_app(config, data_dir, NOW) as (client, _):
        text = element_text(client.get("/").text, "upcoming-maintenance")
    assert "Database upgrade" in text
    assert "2026-12-05 03:00 \N{EN DASH} 03:10 JST" in text


def test_window_beyond_seven_days_is_not_upcoming(config: Config, data_dir: Path) -> None:
    add_window(data_dir, NOW + timedelta(days=8), NOW + timedelta(days=8, minutes=10))
    with running_app(config, data_dir, NOW) as (client, _):
        section = find_element(client.get("/").text, "upcoming-maintenance")
    assert section is None


def test_window_is_left_out_of_uptime(config: Config, data_dir: Path) -> None:
    record_runs(config, data_dir, NOW - 60 * MINUTE, NOW - 31 * MINUTE, api_up=True)
    add_window(data_dir, NOW - 30 * MINUTE, NOW + 30 * MINUTE)
    record_runs(config, data_dir, NOW - 30 * MINUTE, NOW, api_up=False)
    with running_app(config, data_dir, NOW) as (client, _):
        row = parse_status_page(client.get("/").text).components["api"]
    assert "100.00% uptime over 90 days" in row.text
    assert row.bars[-1] == "up"


def test_bar_title_shows_maintenance_day(config: Config, data_dir: Path) -> None:
    add_window(data_dir, NOW - 30 * MINUTE, NOW - 10 * MINUTE)
    with running_app(config, data_dir, NOW) as (client, _):
        row = parse_status_page(client.get("/").text).components["api"]
    assert "Maintenance: Database upgrade" in row.bar_titles[-1]
    assert row.bar_links[-1] == "/history?month=2026-12#day-2026-12-04"


def test_window_start_shows_without_waiting(config: Config, data_dir: Path) -> None:
    record_runs(config, data_dir, NOW - 20 * MINUTE, NOW, api_up=True)
    add_window(data_dir, NOW + MINUTE, NOW + 10 * MINUTE)
    with running_app(config, data_dir, NOW) as (client, traveller):
        before = parse_status_page(client.get("/").text).components["api"].effective_state
        traveller.move_to(NOW + MINUTE)
        client.portal.call(context_of(client).monitor.update_maintenance)  # type: ignore[union-attr]
        after = parse_status_page(client.get("/").text).components["api"].effective_state
    assert before == "operational"
    assert after == "maintenance"


# Scheduling


def test_boundary_job_runs_at_window_start(config: Config, data_dir: Path) -> None:
    add_window(data_dir, NOW + 5 * MINUTE, NOW + 10 * MINUTE)
    with running_app(config, data_dir, NOW) as (client, _):
        scheduler = create_scheduler(context_of(client).monitor)
        run_date = scheduler.get_job(BOUNDARY_JOB).trigger.run_date
    assert run_date == NOW + 5 * MINUTE


def test_boundary_job_moves_to_window_end(config: Config, data_dir: Path) -> None:
    add_window(data_dir, NOW + 5 * MINUTE, NOW + 10 * MINUTE)
    with running_app(config, data_dir, NOW) as (client, traveller):
        monitor = context_of(client).monitor
        scheduler = create_scheduler(monitor)
        traveller.move_to(NOW + 5 * MINUTE)
        client.portal.call(monitor.update_maintenance)  # type: ignore[union-attr]
        run_date = scheduler.get_job(BOUNDARY_JOB).trigger.run_date
    assert run_date == NOW + 10 * MINUTE


def test_boundary_job_follows_early_end(config: Config, data_dir: Path) -> None:
    window_id = add_window(data_dir, NOW - 5 * MINUTE, NOW + 30 * MINUTE)
    with running_app(config, data_dir, NOW) as (client, _):
        context = context_of(client)
        scheduler = create_scheduler(context.monitor)
        client.portal.call(  # type: ignore[union-attr]
            context.store.call, maintenance_store.end_window, context.store.db, window_id, NOW
        )
        client.portal.call(context.monitor.refresh_snapshot)  # type: ignore[union-attr]
        job = scheduler.get_job(BOUNDARY_JOB)
        state = parse_status_page(client.get("/").text).components["api"].effective_state
    assert job is None
    assert state != "maintenance"


def test_startup_materializes_recurring_windows(config: Config, data_dir: Path) -> None:
    store = Store.open(data_dir)
    spec = MaintenanceSpec(
        title="Nightly backup",
        description="",
        timezone="Asia/Tokyo",
        components=("database",),
        schedule="0 3 * * *",
        start_time="03:00",
        end_time="03:10",
    )
    maintenance_id = maintenance_store.create_maintenance(
        store.db, spec, NOW - timedelta(days=10), "operator"
    )
    store.close()
    with running_app(config, data_dir, NOW) as (client, _):
        context = context_of(client)
        windows = client.portal.call(  # type: ignore[union-attr]
            context.store.call, maintenance_store.windows_of, context.store.db, maintenance_id
        )
    assert max(window.starts_at for window in windows) > NOW + timedelta(days=89)


# Transitions at boundaries


def test_boundaries_are_recorded_as_transitions(config: Config, data_dir: Path) -> None:
    record_runs(config, data_dir, NOW - 40 * MINUTE, NOW - MINUTE, api_up=False)
    add_window(data_dir, NOW - 30 * MINUTE, NOW - 10 * MINUTE)
    with running_app(config, data_dir, NOW):
        pass
    rows = [(row.from_state, row.to_state, row.time) for row in maintenance_rows(data_dir)]
    assert rows == [
        (State.DOWN, State.MAINTENANCE, NOW - 30 * MINUTE),
        (State.MAINTENANCE, State.DOWN, NOW - 10 * MINUTE),
    ]


def test_end_while_down_says_still_down(config: Config, data_dir: Path) -> None:
    record_runs(config, data_dir, NOW - 40 * MINUTE, NOW - MINUTE, api_up=False)
    add_window(data_dir, NOW - 30 * MINUTE, NOW - 10 * MINUTE)
    with running_app(config, data_dir, NOW):
        pass
    assert maintenance_rows(data_dir)[-1].reason == "still down after maintenance"


def test_end_while_up_records_return(config: Config, data_dir: Path) -> None:
    record_runs(config, data_dir, NOW - 40 * MINUTE, NOW - MINUTE, api_up=True)
    add_window(data_dir, NOW - 30 * MINUTE, NOW - 10 * MINUTE)
    with running_app(config, data_dir, NOW):
        pass
    last = maintenance_rows(data_dir)[-1]
    assert (last.from_state, last.to_state) == (State.MAINTENANCE, State.OPERATIONAL)
    assert last.reason == "maintenance ended"


def test_still_down_is_recorded_once_across_restart(
    config: Config, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    record_runs(config, data_dir, NOW - 40 * MINUTE, NOW - MINUTE, api_up=False)
    add_window(data_dir, NOW - 30 * MINUTE, NOW - 10 * MINUTE)
    with running_app(config, data_dir, NOW) as (client, _):
        client.portal.call(context_of(client).monitor.update_maintenance)  # type: ignore[union-attr]
    with running_app(config, data_dir, NOW + 5 * MINUTE):
        pass
    still_down = [row for row in maintenance_rows(data_dir) if row.to_state is State.DOWN]
    assert len(still_down) == 1
    warnings = still_down_warnings(caplog)
    assert len(warnings) == 1
    assert "check api" in warnings[0].message


def test_end_at_exact_boundary_is_recorded_on_time(config: Config, data_dir: Path) -> None:
    record_runs(config, data_dir, NOW - 10 * MINUTE, NOW, api_up=False)
    add_window(data_dir, NOW - 5 * MINUTE, NOW + 5 * MINUTE)
    with running_app(config, data_dir, NOW) as (client, traveller):
        traveller.move_to(NOW + 5 * MINUTE)
        client.portal.call(context_of(client).monitor.update_maintenance)  # type: ignore[union-attr]
        state = parse_status_page(client.get("/").text).components["api"].effective_state
    assert maintenance_rows(data_dir)[-1].time == NOW + 5 * MINUTE
    assert state == "major_outage"


def test_cancelled_window_ends_maintenance_once(config: Config, data_dir: Path) -> None:
    record_runs(config, data_dir, NOW - 10 * MINUTE, NOW, api_up=True)
    window_id = add_window(data_dir, NOW - 5 * MINUTE, NOW + 30 * MINUTE)
    with running_app(config, data_dir, NOW) as (client, traveller):
        context = context_of(client)
        traveller.move_to(NOW + MINUTE)
        client.portal.call(  # type: ignore[union-attr]
            context.store.call,
            maintenance_store.cancel_window,
            context.store.db,
            window_id,
            NOW + MINUTE,
        )
        client.portal.call(context.monitor.update_maintenance)  # type: ignore[union-attr]
        client.portal.call(context.monitor.update_maintenance)  # type: ignore[union-attr]
    rows = [(row.to_state, row.time) for row in maintenance_rows(data_dir)]
    assert rows == [
        (State.MAINTENANCE, NOW - 5 * MINUTE),
        (State.OPERATIONAL, NOW + MINUTE),
    ]
