"""Incidents on the status page and on their own page."""

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from starlette.testclient import TestClient

from statuspage import incident_store
from statuspage.config import Config
from statuspage.incidents import ComponentImpact, Impact, IncidentStatus
from statuspage.store import Store
from statuspage.web.app import create_app
from statuspage.web.context import AppContext
from tests.factories import ok
from tests.pages import Element, find_element, find_elements, parse_status_page
from tests.test_web import NOW, seed, write_config

XSS_BODY = (
    "Fixed <script>alert('body')</script> <img src=x onerror=alert(1)> "
    '[click](javascript:alert(1)) <a href="javascript:alert(2)">raw</a>'
)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return write_config(tmp_path)


@pytest.fixture
def data_dir(config: Config, tmp_path: Path) -> Path:
    """Website up all along, API down since ten minutes ago, database not configured."""
    directory = tmp_path / "data"
    seed(config, directory)
    return directory


def create_incident(
    data_dir: Path,
    components: dict[str, ComponentImpact],
    title: str = "Slow pages",
    started: datetime = NOW - timedelta(minutes=30),
    status: IncidentStatus = IncidentStatus.INVESTIGATING,
    body: str = "We are looking into it.",
    impact: Impact = Impact.MINOR,
) -> int:
    store = Store.open(data_dir)
    incident_id = incident_store.create_incident(
        store.db,
        title=title,
        impact=impact,
        components=components,
        status=status,
        body=body,
        display_at=started,
        created_by="alice",
        now=started,
    )
    store.close()
    return incident_id


def add_update(
    data_dir: Path, incident_id: int, status: IncidentStatus, body: str, at: datetime
) -> None:
    store = Store.open(data_dir)
    incident_store.add_update(
        store.db, incident_id, status=status, body=body, display_at=at, created_by="alice", now=at
    )
    store.close()


@pytest.fixture
def client(config: Config, data_dir: Path) -> Iterator[TestClient]:
    with (
        time_machine.travel(NOW, tick=False),
        TestClient(create_app(config, data_dir, run_checks=False)) as test_client,
    ):
        yield test_client


def open_client(config: Config, data_dir: Path) -> TestClient:
    return TestClient(create_app(config, data_dir, run_checks=False))


def home(config: Config, data_dir: Path) -> str:
    with time_machine.travel(NOW, tick=False), open_client(config, data_dir) as client:
        return client.get("/").text


def get(config: Config, data_dir: Path, path: str) -> tuple[int, str]:
    with time_machine.travel(NOW, tick=False), open_client(config, data_dir) as client:
        response = client.get(path)
        return response.status_code, response.text


def assert_inert(element: Element) -> None:
    """Fail if the element contains anything a browser would run."""
    tags = [tag for tag, _ in element.descendants]
    assert "script" not in tags
    for tag, attributes in element.descendants:
        handlers = [name for name in attributes if name.startswith("on")]
        assert handlers == [], f"<{tag}> has event handler attributes {handlers}"
    assert not [link for link in element.links if "javascript" in link.lower()]


# Effective states


def test_incident_state_overrides_operational_check(config: Config, data_dir: Path) -> None:
    create_incident(data_dir, {"website": ComponentImpact.PARTIAL_OUTAGE})
    row = parse_status_page(home(config, data_dir)).components["website"]
    assert row.effective_state == "partial_outage"
    assert "Partial outage" in row.text


def test_worse_check_state_beats_incident(config: Config, data_dir: Path) -> None:
    create_incident(data_dir, {"api": ComponentImpact.DEGRADED})
    row = parse_status_page(home(config, data_dir)).components["api"]
    assert row.effective_state == "major_outage"


def test_worst_declared_state_of_open_incidents(config: Config, data_dir: Path) -> None:
    create_incident(data_dir, {"website": ComponentImpact.DEGRADED})
    create_incident(data_dir, {"website": ComponentImpact.MAJOR_OUTAGE}, title="Website down")
    row = parse_status_page(home(config, data_dir)).components["website"]
    assert row.effective_state == "major_outage"


def test_resolved_incident_stops_overriding(config: Config, data_dir: Path) -> None:
    incident_id = create_incident(data_dir, {"website": ComponentImpact.MAJOR_OUTAGE})
    add_update(data_dir, incident_id, IncidentStatus.RESOLVED, "Fixed.", NOW - timedelta(minutes=5))
    row = parse_status_page(home(config, data_dir)).components["website"]
    assert row.effective_state == "operational"


def test_banner_shows_worst_effective_state(config: Config, data_dir: Path) -> None:
    create_incident(data_dir, {"website": ComponentImpact.MAJOR_OUTAGE})
    page = parse_status_page(home(config, data_dir))
    assert page.banner == "Major outage"


def test_banner_shows_declared_degradation(config: Config, tmp_path: Path) -> None:
    data_dir = tmp_path / "quiet"
    store = Store.open(data_dir)
    zone = config.site.timezone
    for minute in range(10):
        moment = NOW - timedelta(minutes=10 - minute)
        store.record(config.component("website"), ok(moment, 0.2, "website"), zone)
        store.record(config.component("api"), ok(moment), zone)
    store.close()
    create_incident(data_dir, {"api": ComponentImpact.DEGRADED})
    assert parse_status_page(home(config, data_dir)).banner == "Some systems are degraded"


# Home page sections


def test_active_incident_shows_latest_update(config: Config, data_dir: Path) -> None:
    incident_id = create_incident(data_dir, {"website": ComponentImpact.DEGRADED})
    add_update(
        data_dir,
        incident_id,
        IncidentStatus.IDENTIFIED,
        "The **cache** is full.",
        NOW - timedelta(minutes=10),
    )
    article = find_element(home(config, data_dir), f"incident-{incident_id}")
    assert article is not None
    assert "Slow pages" in article.text
    assert "Minor impact" in article.text
    assert "Identified" in article.text
    assert "The cache is full." in article.text
    assert "We are looking into it." not in article.text


def test_active_incident_renders_markdown(config: Config, data_dir: Path) -> None:
    create_incident(data_dir, {"website": ComponentImpact.DEGRADED}, body="The **cache** is full.")
    bodies = find_elements(home(config, data_dir), "markdown")
    assert len(bodies) == 1
    assert bodies[0].descendants == [("p", {}), ("strong", {})]


def test_active_incident_time_is_local(config: Config, data_dir: Path) -> None:
    create_incident(data_dir, {"website": ComponentImpact.DEGRADED})
    section = find_element(home(config, data_dir), "active-incidents")
    assert section is not None
    assert ("2026-12-04T02:30:00Z", "2026-12-04 11:30 JST") in section.times


def test_resolved_incident_is_not_active(config: Config, data_dir: Path) -> None:
    incident_id = create_incident(data_dir, {"website": ComponentImpact.DEGRADED})
    add_update(data_dir, incident_id, IncidentStatus.RESOLVED, "Fixed.", NOW - timedelta(minutes=5))
    assert find_element(home(config, data_dir), "active-incidents") is None


def test_past_incidents_cover_fourteen_local_days(config: Config, data_dir: Path) -> None:
    days = find_elements(home(config, data_dir), "day")
    assert len(days) == 14
    assert days[0].attributes["id"] == "day-2026-12-04"
    assert days[-1].attributes["id"] == "day-2026-11-21"


def test_quiet_day_says_no_incidents(config: Config, data_dir: Path) -> None:
    days = find_elements(home(config, data_dir), "day")
    assert all("No incidents reported." in day.text for day in days)


def test_incident_is_listed_under_its_local_day(config: Config, data_dir: Path) -> None:
    # 2026-12-01 23:30 in Tokyo, still 2026-12-01 14:30 in UTC.
    started = datetime.fromisoformat("2026-12-01T14:30:00+00:00")
    incident_id = create_incident(data_dir, {"api": ComponentImpact.DEGRADED}, started=started)
    add_update(data_dir, incident_id, IncidentStatus.RESOLVED, "Fixed.", started)
    days = {day.attributes["id"]: day for day in find_elements(home(config, data_dir), "day")}
    assert "Slow pages" in days["day-2026-12-01"].text
    assert "No incidents reported." not in days["day-2026-12-01"].text
    assert "No incidents reported." in days["day-2026-12-02"].text


def test_old_incident_not_in_recent_days(config: Config, data_dir: Path) -> None:
    started = NOW - timedelta(days=20)
    incident_id = create_incident(data_dir, {"api": ComponentImpact.DEGRADED}, started=started)
    add_update(data_dir, incident_id, IncidentStatus.RESOLVED, "Fixed.", started)
    section = find_element(home(config, data_dir), "past-incidents")
    assert section is not None
    assert "Slow pages" not in section.text


def test_home_page_is_served_from_snapshot(client: TestClient) -> None:
    context: AppContext = client.app.state.context  # type: ignore[attr-defined]
    before = client.get("/").text
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
    cached = client.get("/").text
    client.portal.call(context.monitor.refresh_snapshot)  # type: ignore[union-attr]
    refreshed = client.get("/").text
    assert cached == before
    assert "Posted now" in refreshed


# Day bars


def test_bar_title_names_incident(config: Config, data_dir: Path) -> None:
    incident_id = create_incident(data_dir, {"api": ComponentImpact.DEGRADED}, title="API errors")
    row = parse_status_page(home(config, data_dir)).components["api"]
    assert "Incident: API errors" in row.bar_titles[-1]
    assert row.bar_links[-1] == f"/incidents/{incident_id}"


def test_bar_links_first_incident_of_day(config: Config, data_dir: Path) -> None:
    first = create_incident(
        data_dir,
        {"api": ComponentImpact.DEGRADED},
        title="First",
        started=NOW - timedelta(hours=2),
    )
    create_incident(data_dir, {"api": ComponentImpact.DEGRADED}, title="Second")
    row = parse_status_page(home(config, data_dir)).components["api"]
    assert "Incident: First · Incident: Second" in row.bar_titles[-1]
    assert row.bar_links[-1] == f"/incidents/{first}"


def test_bar_title_leaves_out_unaffected_component(config: Config, data_dir: Path) -> None:
    create_incident(data_dir, {"api": ComponentImpact.DEGRADED}, title="API errors")
    row = parse_status_page(home(config, data_dir)).components["website"]
    assert "API errors" not in row.bar_titles[-1]
    assert row.bar_links[-1] is None


def test_incident_spanning_days_marks_each_day(config: Config, data_dir: Path) -> None:
    started = NOW - timedelta(days=2)
    incident_id = create_incident(data_dir, {"api": ComponentImpact.DEGRADED}, started=started)
    add_update(data_dir, incident_id, IncidentStatus.RESOLVED, "Fixed.", NOW - timedelta(days=1))
    row = parse_status_page(home(config, data_dir)).components["api"]
    marked = [bool(title.count("Incident: Slow pages")) for title in row.bar_titles[-4:]]
    assert marked == [False, True, True, False]


# Incident page


def test_incident_page_shows_timeline(config: Config, data_dir: Path) -> None:
    incident_id = create_incident(data_dir, {"api": ComponentImpact.MAJOR_OUTAGE})
    add_update(data_dir, incident_id, IncidentStatus.MONITORING, "A *fix* is out.", NOW)
    status, html = get(config, data_dir, f"/incidents/{incident_id}")
    updates = find_elements(html, "update")
    assert status == 200
    assert [update.text for update in updates] == [
        "Monitoring 2026-12-04 12:00 JST A fix is out.",
        "Investigating 2026-12-04 11:30 JST We are looking into it.",
    ]
    assert ("em", {}) in updates[0].descendants
    assert ("2026-12-04T03:00:00Z", "2026-12-04 12:00 JST") in updates[0].times


def test_incident_page_names_affected_components(config: Config, data_dir: Path) -> None:
    incident_id = create_incident(
        data_dir,
        {"api": ComponentImpact.MAJOR_OUTAGE, "website": ComponentImpact.DEGRADED},
        impact=Impact.CRITICAL,
    )
    _, html = get(config, data_dir, f"/incidents/{incident_id}")
    components = find_element(html, "affected-components")
    page = find_element(html, f"incident-{incident_id}")
    assert components is not None and page is not None
    assert "API: Major outage" in components.text
    assert "Website: Degraded performance" in components.text
    assert "Critical impact" in page.text


def test_incident_page_shows_postmortem(config: Config, data_dir: Path) -> None:
    incident_id = create_incident(data_dir, {"api": ComponentImpact.MAJOR_OUTAGE})
    add_update(data_dir, incident_id, IncidentStatus.RESOLVED, "Fixed.", NOW)
    store = Store.open(data_dir)
    incident_store.set_postmortem(store.db, incident_id, "## Root cause\n\nA full disk.", NOW)
    store.close()
    _, html = get(config, data_dir, f"/incidents/{incident_id}")
    postmortem = find_element(html, "postmortem")
    assert postmortem is not None
    assert "Root cause A full disk." in postmortem.text
    assert ("h2", {}) in postmortem.descendants


def test_unknown_incident_is_not_found(config: Config, data_dir: Path) -> None:
    status, _ = get(config, data_dir, "/incidents/999")
    assert status == 404


def test_huge_incident_id_is_not_found(config: Config, data_dir: Path) -> None:
    status, _ = get(config, data_dir, "/incidents/99999999999999999999999")
    assert status == 404


def test_deleted_incident_is_not_found(config: Config, data_dir: Path) -> None:
    incident_id = create_incident(data_dir, {"api": ComponentImpact.MAJOR_OUTAGE})
    store = Store.open(data_dir)
    incident_store.delete_incident(store.db, incident_id, NOW)
    store.close()
    status, _ = get(config, data_dir, f"/incidents/{incident_id}")
    assert status == 404


def test_deleted_incident_leaves_home_page(config: Config, data_dir: Path) -> None:
    incident_id = create_incident(data_dir, {"website": ComponentImpact.MAJOR_OUTAGE})
    store = Store.open(data_dir)
    incident_store.delete_incident(store.db, incident_id, NOW)
    store.close()
    html = home(config, data_dir)
    assert "Slow pages" not in html
    assert parse_status_page(html).components["website"].effective_state == "operational"


def test_script_in_update_is_inert_on_incident_page(config: Config, data_dir: Path) -> None:
    incident_id = create_incident(data_dir, {"api": ComponentImpact.DEGRADED}, body=XSS_BODY)
    _, html = get(config, data_dir, f"/incidents/{incident_id}")
    timeline = find_element(html, "timeline")
    assert timeline is not None
    assert_inert(timeline)
    assert "alert('body')" in timeline.text  # shown as text, not dropped silently


def test_script_in_update_is_inert_on_home_page(config: Config, data_dir: Path) -> None:
    create_incident(data_dir, {"api": ComponentImpact.DEGRADED}, body=XSS_BODY)
    section = find_element(home(config, data_dir), "active-incidents")
    assert section is not None
    assert_inert(section)


def test_script_in_title_is_escaped(config: Config, data_dir: Path) -> None:
    incident_id = create_incident(
        data_dir, {"api": ComponentImpact.DEGRADED}, title="<script>alert(1)</script>"
    )
    html = home(config, data_dir)
    page = find_element(html, "components")
    article = find_element(html, f"incident-{incident_id}")
    assert page is not None and article is not None
    assert_inert(article)
    assert_inert(page)
    assert "<script>alert(1)</script>" in article.text
