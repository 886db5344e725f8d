"""GET /metrics: the API key requirement, `[metrics] public`, and the exported values."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from statuspage import metrics
from statuspage.config import ConfigError
from statuspage.web import metrics_route
from tests.public_app import AUTH, App, running_app, write_config

PUBLIC = "[metrics]\npublic = true"


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    with running_app(tmp_path) as running:
        yield running


@pytest.fixture
def public_app(tmp_path: Path) -> Iterator[App]:
    with running_app(tmp_path, extra=PUBLIC) as running:
        yield running


def samples(app: App, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """Return the samples of one metric, by their sorted labels."""
    response = app.client.get("/metrics", headers=AUTH)
    assert response.status_code == 200, response.text
    found = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


# Access


def test_metrics_require_key_by_default(app: App) -> None:
    assert app.client.get("/metrics").status_code == 401


def test_metrics_reject_wrong_key(app: App) -> None:
    response = app.client.get("/metrics", headers={"Authorization": "Bearer sp_wrong"})
    assert response.status_code == 401


def test_metrics_with_key(app: App) -> None:
    response = app.client.get("/metrics", headers=AUTH)
    assert response.status_code == 200
    assert response.headers["content-type"] == metrics.CONTENT_TYPE


def test_protected_metrics_are_not_stored(app: App) -> None:
    assert app.client.get("/metrics", headers=AUTH).headers["cache-control"] == "no-store"


def test_public_metrics_need_no_key(public_app: App) -> None:
    assert public_app.client.get("/metrics").status_code == 200


def test_public_metrics_are_cacheable(public_app: App) -> None:
    etag = public_app.client.get("/metrics").headers["etag"]
    assert public_app.client.get("/metrics", headers={"If-None-Match": etag}).status_code == 304


def test_metrics_rendered_once_per_snapshot(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    original = metrics.render_metrics

    def counting(*args: Any) -> bytes:
        calls.append(args)
        return original(*args)

    monkeypatch.setattr(metrics_route.metrics, "render_metrics", counting)
    for _ in range(20):
        app.client.get("/metrics", headers=AUTH)
    assert len(calls) == 1


# Values


def test_state_series_marks_effective_state(app: App) -> None:
    states = samples(app, "statuspage_component_state")
    current = {
        dict(labels)["component"]: dict(labels)["state"]
        for labels, value in states.items()
        if value == 1
    }
    assert current == {"website": "operational", "api": "major_outage", "database": "no_data"}


def test_uptime_is_absent_without_data(app: App) -> None:
    uptime = samples(app, "statuspage_uptime_ratio")
    components = {dict(labels)["component"] for labels in uptime}
    assert components == {"website", "api"}


def test_uptime_has_every_period(app: App) -> None:
    uptime = samples(app, "statuspage_uptime_ratio")
    periods = sorted(
        dict(labels)["period"] for labels in uptime if ("component", "website") in labels
    )
    assert periods == ["24h", "30d", "7d", "90d"]


def test_response_time_in_seconds(app: App) -> None:
    times = samples(app, "statuspage_response_time_seconds")
    assert times == {(("component", "website"),): 0.2}


# Configuration


def test_metrics_public_defaults_to_false(tmp_path: Path) -> None:
    assert write_config(tmp_path).metrics.public is False


def test_metrics_public_is_read(tmp_path: Path) -> None:
    assert write_config(tmp_path, extra=PUBLIC).metrics.public is True


def test_metrics_public_must_be_boolean(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"metrics\.public"):
        write_config(tmp_path, extra='[metrics]\npublic = "yes"')


def test_metrics_unknown_key_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"metrics\.token"):
        write_config(tmp_path, extra='[metrics]\ntoken = "secret"')
