"""The admin incident pages, through the real app and the real login."""

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
import time_machine
from starlette.testclient import TestClient

from statuspage import accounts, incident_store, passwords
from statuspage.config import Config, load_config
from statuspage.incidents import ComponentImpact, Impact, Incident, IncidentStatus
from statuspage.store import Store
from statuspage.web.app import create_app

CONFIG = """
[site]
name = "PullLog"
timezone = "Asia/Tokyo"

[[components]]
id = "website"
name = "Website"
[components.check]
type = "http"
url = "http://127.0.0.1:9/"

[[components]]
id = "api"
name = "API"
[components.check]
type = "http"
url = "http://127.0.0.1:9/api/v1/dummy"
"""

NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)  # 12:00 in Tokyo
OPERATOR = "alice"
PASSWORD = "correct horse battery staple"


@functools.cache
def password_hash() -> str:
    return passwords.hash_password(PASSWORD)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    path = tmp_path / "checks.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return load_config(path, {})


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    data_dir = tmp_path / "data"
    store = Store.open(data_dir)
    accounts.create_operator(store.db, OPERATOR, password_hash(), NOW)
    store.close()
    return data_dir


@pytest.fixture
def anonymous(config: Config, data_dir: Path) -> Iterator[TestClient]:
    with (
        time_machine.travel(NOW, tick=False),
        TestClient(create_app(config, data_dir, run_checks=False)) as client,
    ):
        yield client


@pytest.fixture
def client(anonymous: TestClient) -> TestClient:
    login_page = anonymous.get("/admin/login")
    response = anonymous.post(
        "/admin/login",
        data={
            "name": OPERATOR,
            "password": PASSWORD,
            "csrf_token": hidden_value(login_page.text, "csrf_token"),
            "next": "/admin/",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return anonymous


def hidden_value(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match is not None, f"no field {name}"
    return match.group(1)


def csrf(client: TestClient) -> str:
    return hidden_value(client.get("/admin/incidents/new").text, "csrf_token")


def post(client: TestClient, path: str, fields: dict[str, str]) -> httpx.Response:
    response: httpx.Response = client.post(
        path, data={"csrf_token": csrf(client), **fields}, follow_redirects=False
    )
    return response


def store_call(client: TestClient, function: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a store helper on the app's store thread, as a route would."""
    store = client.app.state.context.store  # type: ignore[attr-defined]
    assert client.portal is not None
    return client.portal.call(functools.partial(store.call, function, store.db, *args, **kwargs))


def incident(client: TestClient, incident_id: int) -> Incident:
    found: Incident | None = store_call(
        client, incident_store.get_incident, incident_id, include_deleted=True
    )
    assert found is not None
    return found


def seed_incident(client: TestClient, status: IncidentStatus = IncidentStatus.INVESTIGATING) -> int:
    incident_id: int = store_call(
        client,
        incident_store.create_incident,
        title="API errors",
        impact=Impact.MAJOR,
        components={"api": ComponentImpact.MAJOR_OUTAGE},
        status=status,
        body="We are looking into it.",
        display_at=NOW - timedelta(hours=1),
        created_by="bob",
    )
    return incident_id


VALID = {
    "title": "API errors",
    "impact": "major",
    "status": "investigating",
    "body": "We are **looking** into it.",
    "display_at": "",
    "components.api": "major_outage",
    "components.website": "operational",
}


@dataclass
class Form:
    """What a browser would show of a form page: field values and messages per field."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.form = Form()
        self._select: str | None = None
        self._option: str | None = None
        self._capture: tuple[str, str] | None = None  # (kind, key)
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        name = attributes.get("name", "")
        classes = attributes.get("class", "").split()
        if tag == "input" and attributes.get("type") not in ("hidden", "checkbox"):
            self.form.values[name] = attributes.get("value", "")
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select is not None and "selected" in attributes:
            self.form.values[self._select] = attributes.get("value", "")
        elif tag == "textarea":
            self._capture, self._text = ("value", name), ""
        elif tag == "p" and attributes.get("id", "").endswith("-error"):
            self._capture, self._text = ("error", attributes["id"].removesuffix("-error")), ""
        elif tag == "p" and "notice" in classes:
            self._capture, self._text = ("notice", ""), ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        if tag in ("textarea", "p") and self._capture is not None:
            kind, key = self._capture
            if kind == "value":
                self.form.values[key] = self._text.removeprefix("\n")
            elif kind == "error":
                self.form.errors[key] = self._text.strip()
            else:
                self.form.notices.append(self._text.strip())
            self._capture = None

    def handle_data(self, data: str) -> None:
        if self._capture is not None:
            self._text += data


def parse_form(html: str) -> Form:
    parser = _FormParser()
    parser.feed(html)
    return parser.form


# Access


def test_list_requires_login(anonymous: TestClient) -> None:
    response = anonymous.get("/admin/incidents", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/admin/login")


def test_create_requires_login(anonymous: TestClient) -> None:
    response = anonymous.post("/admin/incidents/new", data=VALID, follow_redirects=False)
    assert response.status_code == 303
    assert store_call(anonymous, incident_store.list_incidents, include_deleted=True) == []


def test_create_without_csrf_token_rejected(client: TestClient) -> None:
    response = client.post("/admin/incidents/new", data=VALID, follow_redirects=False)
    assert response.status_code == 403
    assert store_call(client, incident_store.list_incidents, include_deleted=True) == []


def test_update_with_wrong_csrf_token_rejected(client: TestClient) -> None:
    incident_id = seed_incident(client)
    response = client.post(
        f"/admin/incidents/{incident_id}/updates",
        data={"csrf_token": "forged", "status": "resolved", "body": "Fixed."},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert incident(client, incident_id).status is IncidentStatus.INVESTIGATING


# Creating


def test_new_form_lists_components(client: TestClient) -> None:
    form = parse_form(client.get("/admin/incidents/new").text)
    assert (form.values["components.website"], form.values["components.api"]) == (
        "operational",
        "operational",
    )


def test_create_redirects_to_incident(client: TestClient) -> None:
    response = post(client, "/admin/incidents/new", VALID)
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/incidents/1?done=created"


def test_create_stores_incident(client: TestClient) -> None:
    post(client, "/admin/incidents/new", VALID)
    created = incident(client, 1)
    assert (created.title, created.impact, created.status, created.components) == (
        "API errors",
        Impact.MAJOR,
        IncidentStatus.INVESTIGATING,
        {"api": ComponentImpact.MAJOR_OUTAGE},
    )


def test_create_records_operator_and_time(client: TestClient) -> None:
    post(client, "/admin/incidents/new", VALID)
    [first] = incident(client, 1).updates
    assert (first.created_by, first.display_at) == (OPERATOR, NOW)


def test_create_reads_local_time_in_site_zone(client: TestClient) -> None:
    post(client, "/admin/incidents/new", {**VALID, "display_at": "2026-12-04T11:30"})
    assert incident(client, 1).updates[0].display_at == datetime(2026, 12, 4, 2, 30, tzinfo=UTC)


def test_create_rebuilds_snapshot(client: TestClient) -> None:
    before = client.app.state.context.monitor.snapshot  # type: ignore[attr-defined]
    post(client, "/admin/incidents/new", VALID)
    assert client.app.state.context.monitor.snapshot is not before  # type: ignore[attr-defined]


def test_invalid_create_returns_400(client: TestClient) -> None:
    response = post(client, "/admin/incidents/new", {**VALID, "title": "  "})
    assert response.status_code == 400


def test_invalid_create_saves_nothing(client: TestClient) -> None:
    post(client, "/admin/incidents/new", {**VALID, "title": "  "})
    assert store_call(client, incident_store.list_incidents, include_deleted=True) == []


def test_invalid_create_shows_message_next_to_field(client: TestClient) -> None:
    response = post(client, "/admin/incidents/new", {**VALID, "title": ""})
    assert parse_form(response.text).errors == {"title": "Enter a title."}


def test_invalid_create_keeps_typed_values(client: TestClient) -> None:
    typed = {
        **VALID,
        "title": "x" * 201,
        "impact": "minor",
        "status": "identified",
        "body": "Line one\nLine <two> & three",
        "display_at": "2026-12-04T11:30",
        "components.website": "degraded",
    }
    values = parse_form(post(client, "/admin/incidents/new", typed).text).values
    assert values == {key: value for key, value in typed.items()}


def test_future_display_time_rejected(client: TestClient) -> None:
    response = post(client, "/admin/incidents/new", {**VALID, "display_at": "2026-12-04T13:00"})
    assert parse_form(response.text).errors["display_at"] == (
        "2026-12-04T13:00 is in the future. "
        "Enter a time up to now, or leave the field empty for now."
    )


OUT_OF_RANGE = "is outside the allowed range. Enter a time from 1970-01-01T00:00Z up to now."


@pytest.mark.parametrize("display_at", ["0001-01-01T00:00", "1969-12-31T23:59", "9999-12-31T23:59"])
def test_display_time_out_of_range_rejected(client: TestClient, display_at: str) -> None:
    response = post(client, "/admin/incidents/new", {**VALID, "display_at": display_at})
    assert response.status_code == 400
    assert parse_form(response.text).errors["display_at"].startswith(display_at)


def test_display_time_before_1970_names_range(client: TestClient) -> None:
    response = post(client, "/admin/incidents/new", {**VALID, "display_at": "0001-01-01T00:00"})
    assert parse_form(response.text).errors["display_at"] == f"0001-01-01T00:00 {OUT_OF_RANGE}"


def test_display_time_out_of_range_is_kept_in_form(client: TestClient) -> None:
    response = post(client, "/admin/incidents/new", {**VALID, "display_at": "0001-01-01T00:00"})
    assert parse_form(response.text).values["display_at"] == "0001-01-01T00:00"


def test_display_time_out_of_range_saves_nothing(client: TestClient) -> None:
    post(client, "/admin/incidents/new", {**VALID, "display_at": "0001-01-01T00:00"})
    assert store_call(client, incident_store.list_incidents, include_deleted=True) == []


def test_unknown_component_state_rejected(client: TestClient) -> None:
    response = post(client, "/admin/incidents/new", {**VALID, "components.api": "exploded"})
    assert "components.api" in parse_form(response.text).errors


def test_unknown_impact_rejected(client: TestClient) -> None:
    response = post(client, "/admin/incidents/new", {**VALID, "impact": "huge"})
    assert parse_form(response.text).errors["impact"] == (
        "Impact 'huge' is not one of none, minor, major, critical."
    )


def test_error_message_is_escaped(client: TestClient) -> None:
    response = post(client, "/admin/incidents/new", {**VALID, "impact": "<script>x</script>"})
    assert "<script>x</script>" not in response.text


# The list and one incident


def test_list_shows_incident(client: TestClient) -> None:
    incident_id = seed_incident(client)
    assert f'id="incident-{incident_id}"' in client.get("/admin/incidents").text


def test_list_marks_deleted_incidents(client: TestClient) -> None:
    incident_id = seed_incident(client)
    store_call(client, incident_store.delete_incident, incident_id)
    html = client.get("/admin/incidents").text
    assert re.search(rf'id="incident-{incident_id}"[^>]*data-deleted="true"', html)


def test_list_shows_times_in_site_zone(client: TestClient) -> None:
    seed_incident(client)
    assert "2026-12-04 11:00" in client.get("/admin/incidents").text


def test_detail_shows_times_in_site_zone(client: TestClient) -> None:
    incident_id = seed_incident(client)
    assert "2026-12-04 11:00 JST" in client.get(f"/admin/incidents/{incident_id}").text


def test_detail_renders_markdown(client: TestClient) -> None:
    post(client, "/admin/incidents/new", VALID)
    assert "We are <strong>looking</strong> into it." in client.get("/admin/incidents/1").text


def test_detail_escapes_html_in_body(client: TestClient) -> None:
    post(client, "/admin/incidents/new", {**VALID, "body": "<img src=x onerror=alert(1)>"})
    html = client.get("/admin/incidents/1").text
    assert "<img src=x onerror" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_detail_of_unknown_incident_is_404(client: TestClient) -> None:
    assert client.get("/admin/incidents/42").status_code == 404


def test_done_message_shown(client: TestClient) -> None:
    incident_id = seed_incident(client)
    form = parse_form(client.get(f"/admin/incidents/{incident_id}?done=update_posted").text)
    assert form.notices == ["Update posted."]


def test_unknown_done_key_shows_nothing(client: TestClient) -> None:
    incident_id = seed_incident(client)
    form = parse_form(client.get(f"/admin/incidents/{incident_id}?done=<b>hi</b>").text)
    assert form.notices == []


# Updates


def test_post_update_moves_status(client: TestClient) -> None:
    incident_id = seed_incident(client)
    post(
        client,
        f"/admin/incidents/{incident_id}/updates",
        {"status": "identified", "body": "Found it."},
    )
    assert incident(client, incident_id).status is IncidentStatus.IDENTIFIED


def test_post_update_redirects_back(client: TestClient) -> None:
    incident_id = seed_incident(client)
    response = post(
        client,
        f"/admin/incidents/{incident_id}/updates",
        {"status": "identified", "body": "Found."},
    )
    assert response.headers["location"] == f"/admin/incidents/{incident_id}?done=update_posted"


def test_post_update_rebuilds_snapshot(client: TestClient) -> None:
    incident_id = seed_incident(client)
    before = client.app.state.context.monitor.snapshot  # type: ignore[attr-defined]
    post(client, f"/admin/incidents/{incident_id}/updates", {"status": "identified", "body": "x"})
    assert client.app.state.context.monitor.snapshot is not before  # type: ignore[attr-defined]


def test_resolving_update_sets_resolved_at(client: TestClient) -> None:
    incident_id = seed_incident(client)
    post(
        client,
        f"/admin/incidents/{incident_id}/updates",
        {"status": "resolved", "body": "Fixed.", "display_at": "2026-12-04T11:45"},
    )
    assert incident(client, incident_id).resolved_at == datetime(2026, 12, 4, 2, 45, tzinfo=UTC)


def test_invalid_update_returns_400_with_typed_values(client: TestClient) -> None:
    incident_id = seed_incident(client)
    typed = {"status": "monitoring", "body": "", "display_at": "2026-12-04T11:45"}
    response = post(client, f"/admin/incidents/{incident_id}/updates", typed)
    form = parse_form(response.text)
    assert response.status_code == 400
    assert set(form.errors) == {"body"}
    assert {name: form.values[name] for name in typed} == typed


def test_invalid_update_posts_nothing(client: TestClient) -> None:
    incident_id = seed_incident(client)
    post(client, f"/admin/incidents/{incident_id}/updates", {"status": "monitoring", "body": ""})
    assert len(incident(client, incident_id).updates) == 1


def test_update_to_deleted_incident_is_conflict(client: TestClient) -> None:
    incident_id = seed_incident(client)
    store_call(client, incident_store.delete_incident, incident_id)
    response = post(
        client, f"/admin/incidents/{incident_id}/updates", {"status": "identified", "body": "x"}
    )
    assert response.status_code == 409
    assert len(incident(client, incident_id).updates) == 1


def test_update_to_unknown_incident_is_404(client: TestClient) -> None:
    response = post(client, "/admin/incidents/42/updates", {"status": "identified", "body": "x"})
    assert response.status_code == 404


# Ids beyond SQLite's integer range

HUGE_ID = 2**63


@pytest.mark.parametrize("path", ["/admin/incidents/{id}", "/admin/incidents/{id}/edit"])
def test_page_with_huge_id_is_404(client: TestClient, path: str) -> None:
    assert client.get(path.format(id=HUGE_ID)).status_code == 404


@pytest.mark.parametrize(
    ("action", "fields"),
    [
        ("updates", {"status": "identified", "body": "x"}),
        ("edit", {"title": "x", "impact": "minor"}),
        ("postmortem", {"postmortem": "x"}),
        ("delete", {"confirm": "yes"}),
        ("restore", {}),
    ],
)
def test_form_with_huge_id_is_404(client: TestClient, action: str, fields: dict[str, str]) -> None:
    response = post(client, f"/admin/incidents/{HUGE_ID}/{action}", fields)
    assert response.status_code == 404


# Typed text kept when the incident changed meanwhile


def test_update_to_deleted_incident_keeps_typed_text(client: TestClient) -> None:
    incident_id = seed_incident(client)
    store_call(client, incident_store.delete_incident, incident_id)
    typed = {"status": "identified", "body": "Found the cause.", "display_at": "2026-12-04T11:30"}
    response = post(client, f"/admin/incidents/{incident_id}/updates", typed)
    values = parse_form(response.text).values
    assert {name: values.get(name) for name in typed} == typed


def test_update_to_deleted_incident_explains_in_form(client: TestClient) -> None:
    incident_id = seed_incident(client)
    store_call(client, incident_store.delete_incident, incident_id)
    response = post(
        client, f"/admin/incidents/{incident_id}/updates", {"status": "identified", "body": "x"}
    )
    assert (
        f"Incident {incident_id} is deleted. Restore it before changing it. "
        "The text below is not saved yet."
    ) in parse_form(response.text).notices


def test_postmortem_for_reopened_incident_keeps_typed_text(client: TestClient) -> None:
    incident_id = seed_incident(client, status=IncidentStatus.RESOLVED)
    store_call(
        client,
        incident_store.add_update,
        incident_id,
        status=IncidentStatus.INVESTIGATING,
        body="It is back.",
        display_at=NOW,
        created_by="bob",
    )
    response = post(
        client, f"/admin/incidents/{incident_id}/postmortem", {"postmortem": "Root cause: a typo"}
    )
    assert response.status_code == 400
    assert parse_form(response.text).values["postmortem"] == "Root cause: a typo"


def test_postmortem_for_deleted_incident_keeps_typed_text(client: TestClient) -> None:
    incident_id = seed_incident(client, status=IncidentStatus.RESOLVED)
    store_call(client, incident_store.delete_incident, incident_id)
    response = post(
        client, f"/admin/incidents/{incident_id}/postmortem", {"postmortem": "Root cause: a typo"}
    )
    assert response.status_code == 409
    assert parse_form(response.text).values["postmortem"] == "Root cause: a typo"


def test_postmortem_for_deleted_incident_explains_next_to_text(client: TestClient) -> None:
    incident_id = seed_incident(client, status=IncidentStatus.RESOLVED)
    store_call(client, incident_store.delete_incident, incident_id)
    response = post(client, f"/admin/incidents/{incident_id}/postmortem", {"postmortem": "x"})
    assert parse_form(response.text).errors["postmortem"] == (
        f"Incident {incident_id} is deleted. Restore it before changing it. "
        "The text below is not saved yet."
    )


# Editing


def test_edit_form_shows_current_values(client: TestClient) -> None:
    incident_id = seed_incident(client)
    values = parse_form(client.get(f"/admin/incidents/{incident_id}/edit").text).values
    assert values == {
        "title": "API errors",
        "impact": "major",
        "components.website": "operational",
        "components.api": "major_outage",
    }


def test_edit_changes_incident(client: TestClient) -> None:
    incident_id = seed_incident(client)
    post(
        client,
        f"/admin/incidents/{incident_id}/edit",
        {
            "title": "Website slow",
            "impact": "minor",
            "components.website": "degraded",
            "components.api": "operational",
        },
    )
    edited = incident(client, incident_id)
    assert (edited.title, edited.impact, edited.components) == (
        "Website slow",
        Impact.MINOR,
        {"website": ComponentImpact.DEGRADED},
    )


def test_edit_keeps_updates(client: TestClient) -> None:
    incident_id = seed_incident(client)
    before = incident(client, incident_id).updates
    post(client, f"/admin/incidents/{incident_id}/edit", {"title": "Renamed", "impact": "major"})
    assert incident(client, incident_id).updates == before


def test_invalid_edit_keeps_values_and_saves_nothing(client: TestClient) -> None:
    incident_id = seed_incident(client)
    typed = {
        "title": "",
        "impact": "minor",
        "components.website": "partial_outage",
        "components.api": "operational",
    }
    response = post(client, f"/admin/incidents/{incident_id}/edit", typed)
    assert response.status_code == 400
    assert parse_form(response.text).values == typed
    assert incident(client, incident_id).title == "API errors"


# Postmortem


def test_postmortem_before_resolution_rejected(client: TestClient) -> None:
    incident_id = seed_incident(client)
    response = post(
        client, f"/admin/incidents/{incident_id}/postmortem", {"postmortem": "Root cause"}
    )
    assert response.status_code == 400
    assert parse_form(response.text).errors["postmortem"] == (
        "Resolve the incident before writing its postmortem. The text below is not saved yet."
    )


def test_postmortem_saved_after_resolution(client: TestClient) -> None:
    incident_id = seed_incident(client, status=IncidentStatus.RESOLVED)
    post(client, f"/admin/incidents/{incident_id}/postmortem", {"postmortem": "Root cause"})
    assert incident(client, incident_id).postmortem == "Root cause"


def test_postmortem_shown_rendered(client: TestClient) -> None:
    incident_id = seed_incident(client, status=IncidentStatus.RESOLVED)
    post(client, f"/admin/incidents/{incident_id}/postmortem", {"postmortem": "# Root cause"})
    assert "<h1>Root cause</h1>" in client.get(f"/admin/incidents/{incident_id}").text


# Delete and restore


def test_delete_without_confirmation_rejected(client: TestClient) -> None:
    incident_id = seed_incident(client)
    response = post(client, f"/admin/incidents/{incident_id}/delete", {})
    assert response.status_code == 400
    assert parse_form(response.text).errors == {
        "confirm": f"Tick the box to confirm that incident {incident_id} should be deleted."
    }
    assert incident(client, incident_id).deleted_at is None


def test_delete_with_confirmation(client: TestClient) -> None:
    incident_id = seed_incident(client)
    response = post(client, f"/admin/incidents/{incident_id}/delete", {"confirm": "yes"})
    assert response.status_code == 303
    assert incident(client, incident_id).deleted_at == NOW


def test_deleted_incident_leaves_public_queries(client: TestClient) -> None:
    incident_id = seed_incident(client)
    post(client, f"/admin/incidents/{incident_id}/delete", {"confirm": "yes"})
    assert store_call(client, incident_store.open_incidents) == []


def test_restore_brings_incident_back(client: TestClient) -> None:
    incident_id = seed_incident(client)
    post(client, f"/admin/incidents/{incident_id}/delete", {"confirm": "yes"})
    response = post(client, f"/admin/incidents/{incident_id}/restore", {})
    assert response.status_code == 303
    assert [found.id for found in store_call(client, incident_store.open_incidents)] == [
        incident_id
    ]


def test_deleted_incident_page_offers_restore(client: TestClient) -> None:
    incident_id = seed_incident(client)
    store_call(client, incident_store.delete_incident, incident_id)
    html = client.get(f"/admin/incidents/{incident_id}").text
    assert f'action="/admin/incidents/{incident_id}/restore"' in html
    assert f'action="/admin/incidents/{incident_id}/updates"' not in html
