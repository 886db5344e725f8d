"""The history page: a month of incidents and completed maintenance, by local day."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from starlette.testclient import TestClient

from statuspage import incident_store, maintenance_store
from statuspage.config import Config
from statuspage.incidents import Impact, IncidentStatus
from statuspage.maintenance import MaintenanceSpec
from statuspage.store import Store
from statuspage.web.app import create_app
from statuspage.web.context import AppContext
from tests.pages import element_text, find_element, find_elements
from tests.test_web import NOW, write_config


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return write_config(tmp_path)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def add_incident(data_dir: Path, title: str, started: datetime) -> int:
    """Create an incident that started and was resolved at `started`."""
    store = Store.open(data_dir)
    incident_id = incident_store.create_incident(
        store.db,
        title=title,
        impact=Impact.MINOR,
        components={},
        status=IncidentStatus.RESOLVED,
        body="Resolved.",
        display_at=started,
        created_by="alice",
        now=started,
    )
    store.close()
    return incident_id


def add_window(data_dir: Path, title: str, start: datetime, end: datetime) -> None:
    store = Store.open(data_dir)
    spec = MaintenanceSpec(
        title=title,
        description="",
        timezone="Asia/Tokyo",
        components=("api",),
        starts_at=start,
        ends_at=end,
    )
    maintenance_store.create_maintenance(store.db, spec, start - timedelta(days=1), "operator")
    store.close()


def get(config: Config, data_dir: Path, path: str, at: datetime = NOW) -> tuple[int, str]:
    with (
        time_machine.travel(at, tick=False),
        TestClient(create_app(config, data_dir, run_checks=False)) as client,
    ):
        response = client.get(path)
        return response.status_code, response.text


def day_ids(html: str) -> list[str]:
    return [day.attributes["id"] for day in find_elements(html, "day")]


def links(html: str) -> dict[str, str]:
    """Return the pager's links by their rel."""
    pager = find_elements(html, "pager")[0]
    return {
        attributes["rel"]: attributes["href"]
        for tag, attributes in pager.descendants
        if tag == "a" and "rel" in attributes
    }


def test_default_month_is_current_local_month(config: Config, data_dir: Path) -> None:
    # 2026-12-01 01:00 in Tokyo, still November in UTC.
    _, html = get(config, data_dir, "/history", at=datetime(2026, 11, 30, 16, 0, tzinfo=UTC))
    assert "History for 2026-12" in html


def test_incidents_are_grouped_by_day_newest_first(config: Config, data_dir: Path) -> None:
    add_incident(data_dir, "Older", datetime(2026, 12, 1, 3, 0, tzinfo=UTC))
    add_incident(data_dir, "Newer", datetime(2026, 12, 3, 3, 0, tzinfo=UTC))
    _, html = get(config, data_dir, "/history")
    assert day_ids(html) == ["day-2026-12-03", "day-2026-12-01"]
    assert "Newer" in element_text(html, "day-2026-12-03")
    assert "Older" in element_text(html, "day-2026-12-01")


def test_incident_belongs_to_its_local_day(config: Config, data_dir: Path) -> None:
    # 2026-12-01 00:30 in Tokyo.
    add_incident(data_dir, "Just after midnight", datetime(2026, 11, 30, 15, 30, tzinfo=UTC))
    _, december = get(config, data_dir, "/history?month=2026-12")
    _, november = get(config, data_dir, "/history?month=2026-11")
    assert day_ids(december) == ["day-2026-12-01"]
    assert "Just after midnight" not in november


def test_month_shows_only_its_incidents(config: Config, data_dir: Path) -> None:
    add_incident(data_dir, "November outage", datetime(2026, 11, 10, 3, 0, tzinfo=UTC))
    add_incident(data_dir, "December outage", datetime(2026, 12, 2, 3, 0, tzinfo=UTC))
    status, html = get(config, data_dir, "/history?month=2026-11")
    assert status == 200
    assert "November outage" in html
    assert "December outage" not in html


def test_incident_links_to_its_page(config: Config, data_dir: Path) -> None:
    incident_id = add_incident(data_dir, "Outage", datetime(2026, 12, 2, 3, 0, tzinfo=UTC))
    _, html = get(config, data_dir, "/history")
    day = find_element(html, "day-2026-12-02")
    assert day is not None
    assert f"/incidents/{incident_id}" in day.links


def test_completed_maintenance_is_listed(config: Config, data_dir: Path) -> None:
    start = datetime(2026, 12, 2, 18, 0, tzinfo=UTC)  # 2026-12-03 03:00 in Tokyo
    add_window(data_dir, "Database upgrade", start, start + timedelta(minutes=10))
    _, html = get(config, data_dir, "/history")
    text = element_text(html, "day-2026-12-03")
    assert "Database upgrade" in text
    assert "2026-12-03 03:00 \N{EN DASH} 03:10 JST" in text


def test_maintenance_in_progress_is_not_listed(config: Config, data_dir: Path) -> None:
    add_window(data_dir, "Database upgrade", NOW - timedelta(minutes=5), NOW + timedelta(hours=1))
    _, html = get(config, data_dir, "/history")
    assert "Database upgrade" not in html


def test_quiet_month_says_nothing_was_reported(config: Config, data_dir: Path) -> None:
    _, html = get(config, data_dir, "/history")
    assert "No incidents or maintenance reported in this month." in html


def test_current_month_links_back_only(config: Config, data_dir: Path) -> None:
    _, html = get(config, data_dir, "/history")
    assert links(html) == {"prev": "/history?month=2026-11"}


def test_earlier_month_links_both_ways(config: Config, data_dir: Path) -> None:
    _, html = get(config, data_dir, "/history?month=2026-01")
    assert links(html) == {"prev": "/history?month=2025-12", "next": "/history?month=2026-02"}


def test_first_month_has_no_previous_link(config: Config, data_dir: Path) -> None:
    _, html = get(config, data_dir, "/history?month=1970-01")
    assert links(html) == {"next": "/history?month=1970-02"}


@pytest.mark.parametrize("month", ["2026-13", "2026-00", "2026-1", "12-2026", "abc", ""])
def test_malformed_month_is_rejected(config: Config, data_dir: Path, month: str) -> None:
    status, html = get(config, data_dir, f"/history?month={month}")
    assert status == 400
    assert element_text(html, "month-error") == (
        f"'{month}' is not a month: use YYYY-MM, for example 2026-12."
    )


def test_long_month_is_cut_in_message(config: Config, data_dir: Path) -> None:
    status, html = get(config, data_dir, "/history?month=" + "x" * 5000)
    assert status == 400
    assert element_text(html, "month-error") == (
        f"'{'x' * 59}…' is not a month: use YYYY-MM, for example 2026-12."
    )


def test_long_month_gives_short_page(config: Config, data_dir: Path) -> None:
    _, short = get(config, data_dir, "/history?month=x")
    _, long = get(config, data_dir, "/history?month=" + "x" * 5000)
    assert len(long) - len(short) < 100


def test_month_with_other_digits_is_rejected(config: Config, data_dir: Path) -> None:
    arabic_indic = "\u0662\u0660\u0662\u0666-\u0661\u0661"  # 2026-11 in Arabic-Indic digits
    status, _ = get(config, data_dir, f"/history?month={arabic_indic}")
    assert status == 400


def test_future_month_is_rejected(config: Config, data_dir: Path) -> None:
    status, html = get(config, data_dir, "/history?month=2027-01")
    assert status == 400
    assert "2027-01 has not started yet: choose 2026-12 or an earlier month" in html


def test_month_before_history_is_rejected(config: Config, data_dir: Path) -> None:
    status, html = get(config, data_dir, "/history?month=0000-01")
    assert status == 400
    assert "the history starts at 1970-01" in html


def test_history_is_cached_until_next_snapshot(config: Config, data_dir: Path) -> None:
    with (
        time_machine.travel(NOW, tick=False),
        TestClient(create_app(config, data_dir, run_checks=False)) as client,
    ):
        context: AppContext = client.app.state.context  # type: ignore[attr-defined]
        before = client.get("/history").text
        client.portal.call(  # type: ignore[union-attr]
            lambda: context.store.call(
                incident_store.create_incident,
                context.store.db,
                title="Posted now",
                impact=Impact.MINOR,
                components={},
                status=IncidentStatus.INVESTIGATING,
                body="Looking.",
                display_at=NOW,
                created_by="alice",
                now=NOW,
            )
        )
        cached = client.get("/history").text
        client.portal.call(context.monitor.refresh_snapshot)  # type: ignore[union-attr]
        refreshed = client.get("/history").text
    assert cached == before
    assert "Posted now" in refreshed
