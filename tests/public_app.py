"""A running app with seeded history and an API key, for the tests of the public read routes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import time_machine
from starlette.testclient import TestClient

from statuspage import accounts
from statuspage.config import Config, load_config
from statuspage.store import Store
from statuspage.web.app import create_app
from statuspage.web.context import AppContext
from tests.test_web import seed

CONFIG = """
[site]
name = "PullLog"
timezone = "Asia/Tokyo"
{site}

{extra}

[[components]]
id = "website"
name = "Website"
description = "pulllog.net"
group = "PullLog"
[components.check]
type = "http"
url = "http://127.0.0.1:9/"

[[components]]
id = "api"
name = "API"
description = "The API behind the apps"
group = "PullLog"
[components.check]
type = "http"
url = "http://127.0.0.1:9/api/v1/dummy"

[[components]]
id = "database"
name = "Database"
[components.check]
type = "postgres"
dsn = "${{STATUSPAGE_TEST_UNSET_DSN}}"
"""

NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)  # 12:00 in Tokyo
KEY = "sp_" + "r" * 43
AUTH = {"Authorization": f"Bearer {KEY}"}

INCIDENT = {
    "incident": {
        "name": "API errors",
        "status": "investigating",
        "impact": "major",
        "body": "We are looking into failed requests.",
        "components": {"api": "major_outage"},
    }
}


@dataclass
class App:
    client: TestClient
    clock: time_machine.Traveller
    config: Config

    @property
    def context(self) -> AppContext:
        context: AppContext = self.client.app.state.context  # type: ignore[attr-defined]
        return context

    def refresh(self) -> None:
        """Rebuild the snapshot at the current time, as the scheduler does each minute."""
        assert self.client.portal is not None
        self.client.portal.call(self.context.monitor.refresh_snapshot)

    def post(self, path: str, body: Any) -> httpx.Response:
        response: httpx.Response = self.client.post(path, json=body, headers=AUTH)
        assert response.status_code == 201, response.text
        return response

    def post_incident(self, **fields: Any) -> int:
        body = {"incident": {**INCIDENT["incident"], **fields}}
        incident_id: int = self.post("/api/v1/incidents", body).json()["id"]
        return incident_id

    def post_update(self, incident_id: int, status: str, body: str) -> None:
        self.post(
            f"/api/v1/incidents/{incident_id}/updates",
            {"incident_update": {"status": status, "body": body}},
        )

    def post_maintenance(
        self, starts_in: timedelta, duration: timedelta, name: str = "Database upgrade"
    ) -> int:
        """Schedule a one-off window on the API and return the window's id."""
        start = datetime.now(UTC) + starts_in
        body = {
            "maintenance": {
                "name": name,
                "scheduled_for": start.isoformat(),
                "scheduled_until": (start + duration).isoformat(),
                "components": ["api"],
                "body": "Upgrading PostgreSQL.",
            }
        }
        window_id: int = self.post("/api/v1/maintenances", body).json()["window_id"]
        return window_id


def write_config(tmp_path: Path, site: str = "", extra: str = "") -> Config:
    path = tmp_path / "checks.toml"
    path.write_text(CONFIG.format(site=site, extra=extra), encoding="utf-8")
    return load_config(path, {})


@contextmanager
def running_app(
    tmp_path: Path, site: str = "", extra: str = "", seeded: bool = True
) -> Iterator[App]:
    """Start the app at NOW with the clock stopped; `seeded` records two hours of checks."""
    config = write_config(tmp_path, site, extra)
    data_dir = tmp_path / "data"
    if seeded:
        seed(config, data_dir)
    store = Store.open(data_dir)
    accounts.create_api_key(store.db, "reader-tests", KEY, NOW - timedelta(days=1), None)
    store.close()
    with (
        time_machine.travel(NOW, tick=False) as clock,
        TestClient(create_app(config, data_dir, run_checks=False)) as client,
    ):
        yield App(client, clock, config)
