"""The admin maintenance pages, through the real app and the real login."""

import functools
import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import time_machine
from starlette.testclient import TestClient

from statuspage import accounts, maintenance_store, passwords
from statuspage.config import Config, load_config
from statuspage.maintenance import (
    Maintenance,
    MaintenanceSpec,
    MaintenanceUpdate,
    MaintenanceWindow,
)
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
id = "database"
name = "Database"
[components.check]
type = "http"
url = "http://127.0.0.1:9/db"
"""

NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)  # Friday 12:00 in Tokyo
OPERATOR = "alice"
PASSWORD = "correct horse battery staple"
ONE_OFF = {
    "kind": "one_off",
    "title": "Database upgrade",
    "description": "Reads keep working.",
    "timezone": "Asia/Tokyo",
    "components": "database",
    "starts_at": "2026-12-04T12:30",
    "ends_at": "2026-12-04T12:40",
}
WEEKLY = {
    "kind": "recurring",
    "title": "Weekly restart",
    "timezone": "Asia/Tokyo",
    "components": "website",
    "schedule": "0 3 * * SUN",
    "end_time": "03:10",
}


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
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def anonymous(
    config: Config, data_dir: Path, clock: time_machine.Traveller
) -> Iterator[TestClient]:
    with TestClient(create_app(config, data_dir, run_checks=False)) as client:
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


def hidden_value(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match is not None, f"no field {name}"
    return match.group(1)


def post(client: TestClient, path: str, fields: dict[str, Any]) -> httpx.Response:
    token = hidden_value(client.get("/admin/maintenance/new").text, "csrf_token")
    response: httpx.Response = client.post(
        path, data={"csrf_token": token, **fields}, follow_redirects=False
    )
    return response


def store_call(client: TestClient, function: Any, *args: Any) -> Any:
    """Run a store helper on the app's store thread, as a route would."""
    store = client.app.state.context.store  # type: ignore[attr-defined]
    assert client.portal is not None
    return client.portal.call(functools.partial(store.call, function, store.db, *args))


def create(client: TestClient, fields: dict[str, Any]) -> int:
    response = post(client, "/admin/maintenance/new", fields)
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/admin/maintenance/(\d+)\?done=created", response.headers["location"])
    assert match is not None
    return int(match[1])


def windows(client: TestClient, maintenance_id: int) -> list[MaintenanceWindow]:
    found: list[MaintenanceWindow] = store_call(
        client, maintenance_store.windows_of, maintenance_id
    )
    return found


def maintenance(client: TestClient, maintenance_id: int) -> Maintenance | None:
    found: Maintenance | None = store_call(
        client, maintenance_store.get_maintenance, maintenance_id
    )
    return found


def updates(client: TestClient, maintenance_id: int) -> list[MaintenanceUpdate]:
    found: list[MaintenanceUpdate] = store_call(
        client, maintenance_store.updates_of, maintenance_id
    )
    return found


def window_status(page: str, window_id: int) -> str:
    match = re.search(rf'id="window-{window_id}" data-status="(\w+)"', page)
    assert match is not None, f"window {window_id} not on the page"
    return match[1]


def error_text(page: str, field_id: str) -> str:
    match = re.search(rf'id="{field_id}-error">([^<]*)<', page)
    assert match is not None, f"no error for {field_id}"
    return html.unescape(match[1])


# Access


def test_list_requires_login(anonymous: TestClient) -> None:
    response = anonymous.get("/admin/maintenance", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/admin/login")


def test_post_without_csrf_token_is_rejected(client: TestClient) -> None:
    response = client.post("/admin/maintenance/new", data=ONE_OFF, follow_redirects=False)
    assert response.status_code == 403


def test_nothing_is_created_without_csrf_token(client: TestClient) -> None:
    client.post("/admin/maintenance/new", data=ONE_OFF, follow_redirects=False)
    assert store_call(client, maintenance_store.list_maintenances) == []


# Create


def test_new_form_defaults_to_site_zone(client: TestClient) -> None:
    page = client.get("/admin/maintenance/new").text
    assert re.search(r'name="timezone" value="Asia/Tokyo"', page)


def test_one_off_is_read_in_its_zone(client: TestClient) -> None:
    maintenance_id = create(client, {**ONE_OFF, "timezone": "Europe/Berlin"})
    window = windows(client, maintenance_id)[0]
    assert window.starts_at == datetime(2026, 12, 4, 11, 30, tzinfo=UTC)


def test_one_off_components_are_stored(client: TestClient) -> None:
    maintenance_id = create(client, {**ONE_OFF, "components": ["database", "website"]})
    assert windows(client, maintenance_id)[0].components == ("database", "website")


def test_first_update_is_posted_by_operator(client: TestClient) -> None:
    maintenance_id = create(client, {**ONE_OFF, "body": "Starting at 12:30."})
    assert [(u.body, u.created_by) for u in updates(client, maintenance_id)] == [
        ("Starting at 12:30.", OPERATOR)
    ]


def test_recurring_materializes_windows(client: TestClient) -> None:
    maintenance_id = create(client, WEEKLY)
    found = windows(client, maintenance_id)
    assert len(found) == 13
    assert found[0].starts_at == datetime(2026, 12, 5, 18, 0, tzinfo=UTC)


def test_detail_shows_local_times(client: TestClient) -> None:
    maintenance_id = create(client, WEEKLY)
    page = client.get(f"/admin/maintenance/{maintenance_id}").text
    assert "2026-12-06 03:00 JST" in page
    assert "2026-12-06 03:10 JST" in page


def test_create_refreshes_snapshot(client: TestClient) -> None:
    monitor = client.app.state.context.monitor  # type: ignore[attr-defined]
    before = monitor.snapshot
    create(client, ONE_OFF)
    assert monitor.snapshot is not before


def test_invalid_form_returns_400(client: TestClient) -> None:
    response = post(client, "/admin/maintenance/new", {**WEEKLY, "schedule": "0 3 * *"})
    assert response.status_code == 400


def test_invalid_form_shows_message_by_field(client: TestClient) -> None:
    response = post(client, "/admin/maintenance/new", {**WEEKLY, "schedule": "0 3 * *"})
    assert "'0 3 * *' has 4 fields" in error_text(response.text, "schedule")


def test_invalid_form_keeps_typed_values(client: TestClient) -> None:
    fields = {**WEEKLY, "schedule": "0 3 * *", "title": "Keep <me>", "end_time": "03:10"}
    page = post(client, "/admin/maintenance/new", fields).text
    assert 'value="Keep &lt;me&gt;"' in page
    assert 'value="0 3 * *"' in page
    assert 'value="03:10"' in page
    assert re.search(r'id="kind-recurring" name="kind" value="recurring" checked', page)
    assert re.search(r'value="website" checked', page)


def test_nonexistent_local_time_is_explained(client: TestClient) -> None:
    fields = {
        **ONE_OFF,
        "timezone": "America/New_York",
        "starts_at": "2027-03-14T02:30",
        "ends_at": "2027-03-14T04:00",
    }
    message = error_text(post(client, "/admin/maintenance/new", fields).text, "starts_at")
    assert "does not exist in America/New_York" in message


def test_message_values_are_escaped(client: TestClient) -> None:
    page = post(client, "/admin/maintenance/new", {**ONE_OFF, "timezone": "<b>x"}).text
    assert "'&lt;b&gt;x' is not an IANA time zone name" in page


@pytest.mark.parametrize(
    ("field", "value"),
    [("starts_at", "0001-01-01T00:00"), ("ends_at", "9999-12-31T23:59")],
)
def test_time_out_of_range_is_rejected(client: TestClient, field: str, value: str) -> None:
    response = post(client, "/admin/maintenance/new", {**ONE_OFF, field: value})
    assert response.status_code == 400
    assert "is outside the allowed range" in error_text(response.text, field)


def test_time_out_of_range_is_kept_in_form(client: TestClient) -> None:
    response = post(client, "/admin/maintenance/new", {**ONE_OFF, "ends_at": "9999-12-31T23:59"})
    assert 'value="9999-12-31T23:59"' in response.text


def test_window_longer_than_seven_days_is_rejected(client: TestClient) -> None:
    response = post(client, "/admin/maintenance/new", {**ONE_OFF, "ends_at": "2026-12-11T12:31"})
    assert response.status_code == 400
    assert "a window may last at most 168 hours" in error_text(response.text, "ends_at")


def test_title_with_control_character_is_rejected(client: TestClient) -> None:
    response = post(client, "/admin/maintenance/new", {**ONE_OFF, "title": "Upgrade\u2028now"})
    assert response.status_code == 400
    assert "Title contains U+2028 at position 8" in error_text(response.text, "title")


def test_long_first_update_is_rejected(client: TestClient) -> None:
    response = post(client, "/admin/maintenance/new", {**ONE_OFF, "body": "x" * 20_001})
    assert response.status_code == 400
    assert "First update is 20001 characters long" in error_text(response.text, "body")


def test_unknown_zone_is_rejected(client: TestClient) -> None:
    fields = {**ONE_OFF, "timezone": "JST"}
    message = error_text(post(client, "/admin/maintenance/new", fields).text, "timezone")
    assert "'JST' is not an IANA time zone name" in message


# Edit


def test_edit_form_is_prefilled(client: TestClient) -> None:
    maintenance_id = create(client, ONE_OFF)
    page = client.get(f"/admin/maintenance/{maintenance_id}/edit").text
    assert 'value="2026-12-04T12:30"' in page
    assert 'value="Database upgrade"' in page


def test_edit_regenerates_recurring_windows(client: TestClient) -> None:
    maintenance_id = create(client, WEEKLY)
    response = post(
        client,
        f"/admin/maintenance/{maintenance_id}/edit",
        {**WEEKLY, "schedule": "0 4 * * SAT", "end_time": "04:30"},
    )
    assert response.status_code == 303
    found = windows(client, maintenance_id)
    assert found[0].starts_at == datetime(2026, 12, 4, 19, 0, tzinfo=UTC)


def test_edit_of_started_one_off_keeps_times(
    client: TestClient, clock: time_machine.Traveller
) -> None:
    maintenance_id = create(client, ONE_OFF)
    clock.move_to(NOW + timedelta(minutes=35))
    response = post(
        client, f"/admin/maintenance/{maintenance_id}/edit", {**ONE_OFF, "title": "Renamed"}
    )
    assert response.status_code == 303
    found = maintenance(client, maintenance_id)
    assert found is not None and found.title == "Renamed"


def test_edit_cannot_move_started_one_off(
    client: TestClient, clock: time_machine.Traveller
) -> None:
    maintenance_id = create(client, ONE_OFF)
    clock.move_to(NOW + timedelta(minutes=35))
    response = post(
        client,
        f"/admin/maintenance/{maintenance_id}/edit",
        {**ONE_OFF, "starts_at": "2026-12-04T12:36"},
    )
    assert response.status_code == 400
    assert "can no longer be edited" in error_text(response.text, "starts_at")


def test_edit_components_while_window_in_progress(
    client: TestClient, clock: time_machine.Traveller
) -> None:
    maintenance_id = create(client, ONE_OFF)
    clock.move_to(NOW + timedelta(minutes=35))
    response = post(
        client, f"/admin/maintenance/{maintenance_id}/edit", {**ONE_OFF, "components": "website"}
    )
    assert response.status_code == 303
    found = maintenance(client, maintenance_id)
    assert found is not None and found.components == ("website",)


def test_component_edit_keeps_started_window_components(
    client: TestClient, clock: time_machine.Traveller
) -> None:
    maintenance_id = create(client, ONE_OFF)
    clock.move_to(NOW + timedelta(minutes=35))
    post(client, f"/admin/maintenance/{maintenance_id}/edit", {**ONE_OFF, "components": "website"})
    assert windows(client, maintenance_id)[0].components == ("database",)


def test_rejected_edit_keeps_typed_values(
    client: TestClient, clock: time_machine.Traveller
) -> None:
    maintenance_id = create(client, ONE_OFF)
    clock.move_to(NOW + timedelta(minutes=35))
    response = post(
        client,
        f"/admin/maintenance/{maintenance_id}/edit",
        {
            **ONE_OFF,
            "title": "Renamed upgrade",
            "components": "website",
            "starts_at": "2026-12-04T12:36",
        },
    )
    assert response.status_code == 400
    assert 'value="Renamed upgrade"' in response.text
    assert re.search(
        r'id="component-website" name="components" value="website" checked', response.text
    )


def test_edit_components_before_window_starts(client: TestClient) -> None:
    maintenance_id = create(client, ONE_OFF)
    post(client, f"/admin/maintenance/{maintenance_id}/edit", {**ONE_OFF, "components": "website"})
    assert windows(client, maintenance_id)[0].components == ("website",)


def test_edit_of_missing_maintenance_is_404(client: TestClient) -> None:
    assert client.get("/admin/maintenance/99/edit").status_code == 404


# Window lifecycle


def test_window_lifecycle_on_detail_page(client: TestClient, clock: time_machine.Traveller) -> None:
    maintenance_id = create(client, ONE_OFF)
    window_id = windows(client, maintenance_id)[0].id
    seen = []
    for minutes in (0, 35, 45):
        clock.move_to(NOW + timedelta(minutes=minutes))
        page = client.get(f"/admin/maintenance/{maintenance_id}").text
        seen.append(window_status(page, window_id))
    assert seen == ["scheduled", "in_progress", "completed"]


def test_end_window_early(client: TestClient, clock: time_machine.Traveller) -> None:
    maintenance_id = create(client, ONE_OFF)
    window_id = windows(client, maintenance_id)[0].id
    clock.move_to(NOW + timedelta(minutes=32))
    response = post(client, f"/admin/maintenance/windows/{window_id}/end", {})
    assert response.status_code == 303
    page = client.get(f"/admin/maintenance/{maintenance_id}").text
    assert window_status(page, window_id) == "completed"


def test_end_scheduled_window_is_refused(client: TestClient) -> None:
    maintenance_id = create(client, ONE_OFF)
    window_id = windows(client, maintenance_id)[0].id
    response = post(client, f"/admin/maintenance/windows/{window_id}/end", {})
    assert response.status_code == 400
    assert "has not started yet" in error_text(response.text, f"window-{window_id}-window")


def test_extend_by_minutes(client: TestClient, clock: time_machine.Traveller) -> None:
    maintenance_id = create(client, ONE_OFF)
    window_id = windows(client, maintenance_id)[0].id
    clock.move_to(NOW + timedelta(minutes=35))
    post(client, f"/admin/maintenance/windows/{window_id}/extend", {"minutes": "+20"})
    clock.move_to(NOW + timedelta(minutes=50))
    page = client.get(f"/admin/maintenance/{maintenance_id}").text
    assert window_status(page, window_id) == "in_progress"
    assert windows(client, maintenance_id)[0].ends_at == NOW + timedelta(minutes=60)


def test_extend_to_local_end(client: TestClient) -> None:
    maintenance_id = create(client, ONE_OFF)
    window_id = windows(client, maintenance_id)[0].id
    response = post(
        client, f"/admin/maintenance/windows/{window_id}/extend", {"ends_at": "2026-12-04T13:15"}
    )
    assert response.status_code == 303
    assert windows(client, maintenance_id)[0].ends_at == datetime(2026, 12, 4, 4, 15, tzinfo=UTC)


def test_extend_to_earlier_end_is_refused(client: TestClient) -> None:
    maintenance_id = create(client, ONE_OFF)
    window_id = windows(client, maintenance_id)[0].id
    response = post(
        client, f"/admin/maintenance/windows/{window_id}/extend", {"ends_at": "2026-12-04T12:35"}
    )
    assert response.status_code == 400
    assert "is not after the current end 2026-12-04 12:40 JST" in error_text(
        response.text, f"window-{window_id}-ends_at"
    )


def test_extend_keeps_typed_minutes(client: TestClient) -> None:
    maintenance_id = create(client, ONE_OFF)
    window_id = windows(client, maintenance_id)[0].id
    response = post(client, f"/admin/maintenance/windows/{window_id}/extend", {"minutes": "ten"})
    assert response.status_code == 400
    assert 'value="ten"' in response.text


def test_cancel_window(client: TestClient) -> None:
    maintenance_id = create(client, WEEKLY)
    window_id = windows(client, maintenance_id)[0].id
    response = post(client, f"/admin/maintenance/windows/{window_id}/cancel", {})
    assert response.status_code == 303
    page = client.get(f"/admin/maintenance/{maintenance_id}").text
    assert window_status(page, window_id) == "cancelled"


def test_action_on_missing_window_is_404(client: TestClient) -> None:
    assert post(client, "/admin/maintenance/windows/99/cancel", {}).status_code == 404


@pytest.mark.parametrize("minutes", ["²", "①", "\uff13\uff10"])
def test_extend_by_non_ascii_digits_is_refused(client: TestClient, minutes: str) -> None:
    maintenance_id = create(client, ONE_OFF)
    window_id = windows(client, maintenance_id)[0].id
    response = post(client, f"/admin/maintenance/windows/{window_id}/extend", {"minutes": minutes})
    assert response.status_code == 400
    assert "is not a number of minutes" in error_text(response.text, f"window-{window_id}-minutes")


def test_extend_beyond_seven_days_is_refused(client: TestClient) -> None:
    maintenance_id = create(client, ONE_OFF)
    window_id = windows(client, maintenance_id)[0].id
    response = post(
        client, f"/admin/maintenance/windows/{window_id}/extend", {"ends_at": "2026-12-11T12:31"}
    )
    assert response.status_code == 400
    assert "a window may last at most 168 hours (7 days)" in error_text(
        response.text, f"window-{window_id}-ends_at"
    )


def test_extend_to_year_9999_is_refused(client: TestClient) -> None:
    maintenance_id = create(client, ONE_OFF)
    window_id = windows(client, maintenance_id)[0].id
    response = post(
        client, f"/admin/maintenance/windows/{window_id}/extend", {"ends_at": "9999-12-31T23:59"}
    )
    assert response.status_code == 400
    assert "is outside the allowed range" in error_text(
        response.text, f"window-{window_id}-ends_at"
    )


def store_window_ending_in_year_9999(client: TestClient) -> int:
    """Store a window that validation now rejects, as an older version could have."""
    spec = MaintenanceSpec(
        title="Endless",
        description="",
        timezone="Asia/Tokyo",
        components=("database",),
        starts_at=NOW - timedelta(minutes=5),
        ends_at=datetime(9999, 12, 31, 23, 0, tzinfo=UTC),
    )
    maintenance_id: int = store_call(
        client, maintenance_store.create_maintenance, spec, NOW, OPERATOR
    )
    return maintenance_id


@pytest.mark.parametrize("path", ["/admin/maintenance", "/admin/maintenance/{id}"])
def test_pages_render_window_stored_out_of_range(client: TestClient, path: str) -> None:
    maintenance_id = store_window_ending_in_year_9999(client)
    assert client.get(path.format(id=maintenance_id)).status_code == 200


def test_status_page_renders_window_stored_out_of_range(client: TestClient) -> None:
    store_window_ending_in_year_9999(client)
    context = client.app.state.context  # type: ignore[attr-defined]
    assert client.portal is not None
    client.portal.call(context.monitor.refresh_snapshot)
    assert client.get("/").status_code == 200


# Ids beyond SQLite's integer range

HUGE_ID = 2**63


@pytest.mark.parametrize("path", ["/admin/maintenance/{id}", "/admin/maintenance/{id}/edit"])
def test_page_with_huge_id_is_404(client: TestClient, path: str) -> None:
    assert client.get(path.format(id=HUGE_ID)).status_code == 404


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/admin/maintenance/{id}/edit", ONE_OFF),
        ("/admin/maintenance/{id}/updates", {"body": "x"}),
        ("/admin/maintenance/{id}/delete", {"confirm": "yes"}),
        ("/admin/maintenance/windows/{id}/end", {}),
        ("/admin/maintenance/windows/{id}/extend", {"minutes": "30"}),
        ("/admin/maintenance/windows/{id}/cancel", {}),
    ],
)
def test_form_with_huge_id_is_404(client: TestClient, path: str, fields: dict[str, Any]) -> None:
    assert post(client, path.format(id=HUGE_ID), fields).status_code == 404


# Updates and deletion


def test_update_is_rendered_as_markdown(client: TestClient) -> None:
    maintenance_id = create(client, ONE_OFF)
    post(
        client,
        f"/admin/maintenance/{maintenance_id}/updates",
        {"body": "**Done** <script>x</script>"},
    )
    page = client.get(f"/admin/maintenance/{maintenance_id}").text
    assert "<strong>Done</strong>" in page
    assert "<script>x" not in page


def test_update_display_time_is_local(client: TestClient) -> None:
    maintenance_id = create(client, {**ONE_OFF, "timezone": "Europe/Berlin"})
    post(
        client,
        f"/admin/maintenance/{maintenance_id}/updates",
        {"body": "Started", "display_at": "2026-12-04T03:55"},
    )
    found = updates(client, maintenance_id)
    assert found[0].display_at == datetime(2026, 12, 4, 2, 55, tzinfo=UTC)


def test_update_display_time_out_of_range_is_refused(client: TestClient) -> None:
    maintenance_id = create(client, ONE_OFF)
    response = post(
        client,
        f"/admin/maintenance/{maintenance_id}/updates",
        {"body": "Started.", "display_at": "0001-01-01T00:00"},
    )
    assert response.status_code == 400
    assert "is outside the allowed range" in error_text(response.text, "display_at")


def test_empty_update_is_refused(client: TestClient) -> None:
    maintenance_id = create(client, ONE_OFF)
    response = post(client, f"/admin/maintenance/{maintenance_id}/updates", {"body": " "})
    assert response.status_code == 400
    assert "Update text is required" in error_text(response.text, "body")


def test_delete_needs_confirmation(client: TestClient) -> None:
    maintenance_id = create(client, ONE_OFF)
    response = post(client, f"/admin/maintenance/{maintenance_id}/delete", {})
    assert response.status_code == 400
    assert maintenance(client, maintenance_id) is not None


def test_delete_with_confirmation(client: TestClient) -> None:
    maintenance_id = create(client, ONE_OFF)
    response = post(client, f"/admin/maintenance/{maintenance_id}/delete", {"confirm": "yes"})
    assert response.status_code == 303
    assert client.get(f"/admin/maintenance/{maintenance_id}").status_code == 404


# List


def test_list_shows_sections(client: TestClient, clock: time_machine.Traveller) -> None:
    one_off_id = create(client, ONE_OFF)
    weekly_id = create(client, WEEKLY)
    clock.move_to(NOW + timedelta(minutes=35))
    page = client.get("/admin/maintenance").text
    in_progress, upcoming = page.split('id="upcoming"')[0], page.split('id="upcoming"')[1]
    assert f"/admin/maintenance/{one_off_id}" in in_progress.split('id="in-progress"')[1]
    assert f"/admin/maintenance/{weekly_id}" in upcoming.split('id="recent"')[0]
