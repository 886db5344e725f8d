"""Badge routes: state, uptime and response time of a component, as SVG."""

import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from statuspage.snapshot import UPTIME_PERIODS
from tests.public_app import App, running_app

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    with running_app(tmp_path) as running:
        yield running


@pytest.fixture
def empty_app(tmp_path: Path) -> Iterator[App]:
    """The app before any check has run."""
    with running_app(tmp_path, seeded=False) as running:
        yield running


def title(app: App, path: str) -> str:
    """Return the badge's accessible title, "label: message"."""
    response = app.client.get(path)
    assert response.status_code == 200, response.text
    element = ElementTree.fromstring(response.content).find(f"{SVG}title")
    assert element is not None
    return element.text or ""


# Status


@pytest.mark.parametrize(
    ("component_id", "expected"),
    [
        ("website", "Website: operational"),
        ("api", "API: major outage"),
        ("database", "Database: no data"),
    ],
)
def test_status_badge_shows_effective_state(app: App, component_id: str, expected: str) -> None:
    assert title(app, f"/badges/{component_id}/status.svg") == expected


def test_status_badge_shows_declared_incident_state(app: App) -> None:
    app.post_incident(components={"website": "degraded_performance"})
    assert title(app, "/badges/website/status.svg") == "Website: degraded"


def test_status_badge_shows_maintenance(app: App) -> None:
    app.post_maintenance(timedelta(minutes=1), timedelta(minutes=60))
    app.clock.shift(timedelta(minutes=2))
    app.refresh()
    assert title(app, "/badges/api/status.svg") == "API: maintenance"


def test_badge_media_type(app: App) -> None:
    response = app.client.get("/badges/api/status.svg")
    assert response.headers["content-type"] == "image/svg+xml; charset=utf-8"


# Uptime


def test_uptime_badge_defaults_to_90_days(app: App) -> None:
    assert title(app, "/badges/website/uptime.svg") == "Website uptime 90d: 100.00%"


@pytest.mark.parametrize("period", UPTIME_PERIODS)
def test_uptime_badge_period(app: App, period: str) -> None:
    assert title(app, f"/badges/website/uptime.svg?period={period}") == (
        f"Website uptime {period}: 100.00%"
    )


def test_uptime_badge_shows_downtime_over_24h(app: App) -> None:
    # Up from 01:00 to 02:50:20 UTC, then down. The last run was at 02:50:20 and counts for
    # at most 130 s (two intervals and the timeout), so 6620 of 6750 observed seconds are up.
    assert title(app, "/badges/api/uptime.svg?period=24h") == "API uptime 24h: 98.07%"


@pytest.mark.parametrize("period", UPTIME_PERIODS)
def test_uptime_badge_without_data_says_no_data(app: App, period: str) -> None:
    badge = title(app, f"/badges/database/uptime.svg?period={period}")
    assert badge == f"Database uptime {period}: no data"


def test_badges_never_show_zero_without_data(empty_app: App) -> None:
    titles = [
        title(empty_app, f"/badges/{component_id}/uptime.svg?period={period}")
        for component_id in ("website", "api", "database")
        for period in UPTIME_PERIODS
    ]
    assert [badge for badge in titles if "0%" in badge or "0.00" in badge] == []
    assert all(badge.endswith(": no data") for badge in titles)


def test_uptime_badge_rejects_unknown_period(app: App) -> None:
    response = app.client.get("/badges/website/uptime.svg?period=1y")
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")


# Response time


def test_response_time_badge(app: App) -> None:
    assert title(app, "/badges/website/response-time.svg") == "Website response time: 200 ms"


def test_response_time_badge_without_response(app: App) -> None:
    assert title(app, "/badges/database/response-time.svg") == ("Database response time: no data")


# Unknown components


@pytest.mark.parametrize("badge", ["status.svg", "uptime.svg", "response-time.svg"])
def test_unknown_component_is_404_text(app: App, badge: str) -> None:
    response = app.client.get(f"/badges/nope/{badge}")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/plain")
    assert b"<svg" not in response.content
