from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from starlette.testclient import TestClient

from statuspage.config import Config, load_config
from statuspage.store import Store
from statuspage.web.app import create_app
from tests.factories import failed, ok
from tests.pages import find_element, parse_status_page

CONFIG = """
[site]
name = "PullLog"
timezone = "Asia/Tokyo"

[[components]]
id = "website"
name = "Website"
group = "PullLog"
[components.check]
type = "http"
url = "http://127.0.0.1:9/"

[[components]]
id = "api"
name = "API"
group = "PullLog"
[components.check]
type = "http"
url = "http://127.0.0.1:9/api/v1/dummy"

[[components]]
id = "database"
name = "Database"
[components.check]
type = "postgres"
dsn = "${STATUSPAGE_TEST_UNSET_DSN}"
"""

NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)  # 12:00 in Tokyo


def write_config(tmp_path: Path) -> Config:
    path = tmp_path / "checks.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return load_config(path, {})


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return write_config(tmp_path)


def seed(config: Config, data_dir: Path) -> None:
    """Website up all along; API up, then down since two failures ten minutes ago."""
    store = Store.open(data_dir)
    zone = config.site.timezone
    start = NOW - timedelta(hours=2)
    for minute in range(0, 121):
        store.record(
            config.component("website"), ok(start + timedelta(minutes=minute), 0.2, "website"), zone
        )
    for minute in range(0, 110):
        store.record(config.component("api"), ok(start + timedelta(minutes=minute), 0.1), zone)
    store.record(config.component("api"), failed(NOW - timedelta(minutes=10)), zone)
    store.record(config.component("api"), failed(NOW - timedelta(minutes=9, seconds=40)), zone)
    store.close()


@pytest.fixture
def client(config: Config, tmp_path: Path) -> Iterator[TestClient]:
    data_dir = tmp_path / "data"
    seed(config, data_dir)
    with (
        time_machine.travel(NOW, tick=False),
        TestClient(create_app(config, data_dir, run_checks=False)) as test_client,
    ):
        yield test_client


def test_page_shows_each_component_state(client: TestClient) -> None:
    page = parse_status_page(client.get("/").text)
    states = {component_id: row.state for component_id, row in page.components.items()}
    assert states == {"website": "operational", "api": "down", "database": "no_data"}


def test_down_check_shows_major_outage(client: TestClient) -> None:
    page = parse_status_page(client.get("/").text)
    effective = {component_id: row.effective_state for component_id, row in page.components.items()}
    assert effective == {"website": "operational", "api": "major_outage", "database": "no_data"}
    assert "Major outage" in page.components["api"].text


def test_banner_shows_partial_outage(client: TestClient) -> None:
    assert parse_status_page(client.get("/").text).banner == "Partial outage"


def test_last_check_time_is_in_site_time_zone(client: TestClient) -> None:
    row = parse_status_page(client.get("/").text).components["website"]
    assert "Last checked 2026-12-04 12:00:00 JST" in row.text


def test_last_check_time_has_utc_datetime(client: TestClient) -> None:
    row = find_element(client.get("/").text, "component-website")
    assert row is not None
    assert ("2026-12-04T03:00:00Z", "2026-12-04 12:00:00 JST") in row.times


def test_response_time_is_shown(client: TestClient) -> None:
    row = parse_status_page(client.get("/").text).components["website"]
    assert "Response time 200 ms" in row.text


def test_down_component_shows_public_reason(client: TestClient) -> None:
    row = parse_status_page(client.get("/").text).components["api"]
    assert "HTTP 500" in row.text


def test_unconfigured_component_says_so(client: TestClient) -> None:
    row = parse_status_page(client.get("/").text).components["database"]
    assert "not configured" in row.text
    assert "STATUSPAGE_TEST_UNSET_DSN" not in client.get("/").text


def test_ninety_daily_bars(client: TestClient) -> None:
    row = parse_status_page(client.get("/").text).components["website"]
    assert len(row.bars) == 90


def test_days_without_data_are_grey(client: TestClient) -> None:
    row = parse_status_page(client.get("/").text).components["website"]
    assert row.bars[:89] == ["none"] * 89
    assert row.bars[-1] == "up"


def test_bar_title_gives_day_and_uptime(client: TestClient) -> None:
    row = parse_status_page(client.get("/").text).components["api"]
    assert row.bar_titles[-1] == "2026-12-04: 98.07% uptime"
    assert row.bar_titles[0] == "2026-09-06: No data"


def test_day_with_downtime_is_not_green(client: TestClient) -> None:
    row = parse_status_page(client.get("/").text).components["api"]
    assert row.bars[-1] == "major"


def test_uptime_excludes_unobserved_time(client: TestClient) -> None:
    row = parse_status_page(client.get("/").text).components["api"]
    # Up until the second failure confirmed the outage, then down since, but the 9 min 40 s
    # without a run count only up to the 130 s one run can stand for.
    up = 109 * 60 + 60 + 20
    down = 130
    assert up / (up + down) == pytest.approx(0.98074, abs=1e-5)
    assert "98.07% uptime over 90 days" in row.text


def test_healthz_reports_ok(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_page_never_shows_check_urls(client: TestClient) -> None:
    assert "127.0.0.1:9" not in client.get("/").text
