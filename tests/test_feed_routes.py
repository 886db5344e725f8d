"""Feeds, the maintenance calendar and the maintenance window page, through the app."""

import calendar
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import feedparser
import pytest
from icalendar import Calendar

from statuspage import maintenance_store
from statuspage.maintenance import MaintenanceSpec
from tests.pages import find_element
from tests.public_app import NOW, App, running_app

FEEDS = ("/feed.rss", "/feed.atom", "/maintenance.rss", "/maintenance.atom")
SITE_URL = 'url = "https://status.example.com/"'


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    with running_app(tmp_path) as running:
        yield running


def parse(app: App, path: str) -> Any:
    response = app.client.get(path)
    assert response.status_code == 200, response.text
    return feedparser.parse(response.content)


def updated(entry: Any) -> datetime:
    return datetime.fromtimestamp(calendar.timegm(entry.updated_parsed), tz=UTC)


def pub_date(entry: Any) -> datetime:
    """Return an RSS item's pubDate, which feedparser calls `published`."""
    return datetime.fromtimestamp(calendar.timegm(entry.published_parsed), tz=UTC)


def events(app: App) -> list[Any]:
    return list(Calendar.from_ical(app.client.get("/maintenance.ics").content).walk("VEVENT"))


# Parsing


@pytest.mark.parametrize("path", FEEDS)
def test_empty_feed_parses_without_bozo(app: App, path: str) -> None:
    parsed = parse(app, path)
    assert not parsed.bozo, parsed.get("bozo_exception")


@pytest.mark.parametrize("path", FEEDS)
def test_feed_with_entries_parses_without_bozo(app: App, path: str) -> None:
    app.post_incident()
    app.post_maintenance(timedelta(days=2), timedelta(minutes=30))
    parsed = parse(app, path)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.entries != []


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/feed.rss", "application/rss+xml; charset=utf-8"),
        ("/feed.atom", "application/atom+xml; charset=utf-8"),
        ("/maintenance.rss", "application/rss+xml; charset=utf-8"),
        ("/maintenance.atom", "application/atom+xml; charset=utf-8"),
        ("/components/api/feed.rss", "application/rss+xml; charset=utf-8"),
        ("/components/api/feed.atom", "application/atom+xml; charset=utf-8"),
        ("/maintenance.ics", "text/calendar; charset=utf-8"),
    ],
)
def test_document_media_type(app: App, path: str, media_type: str) -> None:
    assert app.client.get(path).headers["content-type"] == media_type


def test_feed_self_link_is_its_url(app: App) -> None:
    parsed = parse(app, "/feed.atom")
    assert parsed.feed.id == "http://testserver/feed.atom"


# Incidents


def test_feed_lists_posted_incident(app: App) -> None:
    app.post_incident()
    titles = [entry.title for entry in parse(app, "/feed.atom").entries]
    assert titles == ["Investigating: API errors"]


def test_feed_entry_updates_on_new_update(app: App) -> None:
    incident_id = app.post_incident()
    before = parse(app, "/feed.atom").entries[0]
    app.clock.shift(timedelta(minutes=10))

    app.post_update(incident_id, "identified", "A bad deploy; rolling back.")

    after = parse(app, "/feed.atom").entries[0]
    assert after.id == before.id
    assert updated(after) == updated(before) + timedelta(minutes=10)
    assert after.title == "Identified: API errors"
    assert "A bad deploy; rolling back." in after.content[0].value


def test_rss_item_date_moves_on_new_update(app: App) -> None:
    incident_id = app.post_incident()
    before = parse(app, "/feed.rss").entries[0]
    app.clock.shift(timedelta(minutes=10))

    app.post_update(incident_id, "monitoring", "Error rates are back to normal.")

    after = parse(app, "/feed.rss").entries[0]
    assert after.id == before.id
    assert pub_date(after) == pub_date(before) + timedelta(minutes=10)


def test_feed_link_uses_request_host_without_site_url(app: App) -> None:
    incident_id = app.post_incident()
    link = parse(app, "/feed.atom").entries[0].link
    assert link == f"http://testserver/incidents/{incident_id}"


def test_feed_link_uses_site_url(tmp_path: Path) -> None:
    with running_app(tmp_path, site=SITE_URL) as app:
        incident_id = app.post_incident()
        link = parse(app, "/feed.atom").entries[0].link
    assert link == f"https://status.example.com/incidents/{incident_id}"


def test_maintenance_feed_leaves_out_incidents(app: App) -> None:
    app.post_incident()
    assert parse(app, "/maintenance.atom").entries == []


# Maintenance


def test_maintenance_feed_lists_window_as_soon_as_scheduled(app: App) -> None:
    app.post_maintenance(timedelta(days=40), timedelta(hours=1))
    titles = [entry.title for entry in parse(app, "/maintenance.atom").entries]
    assert titles == ["Maintenance scheduled: Database upgrade (2027-01-13 12:00 JST)"]


@pytest.mark.parametrize("path", FEEDS)
def test_feed_lists_window_far_ahead(app: App, path: str) -> None:
    window_id = app.post_maintenance(timedelta(days=200), timedelta(hours=1))
    links = [entry.link for entry in parse(app, path).entries]
    assert links == [f"http://testserver/maintenance/windows/{window_id}"]


def test_window_far_ahead_is_published_when_scheduled(app: App) -> None:
    app.post_maintenance(timedelta(days=200), timedelta(hours=1))
    entry = parse(app, "/maintenance.atom").entries[0]
    assert datetime.fromtimestamp(calendar.timegm(entry.published_parsed), tz=UTC) == NOW


def test_calendar_lists_window_far_ahead(app: App) -> None:
    window_id = app.post_maintenance(timedelta(days=200), timedelta(hours=1))
    assert [str(event["url"]) for event in events(app)] == [
        f"http://testserver/maintenance/windows/{window_id}"
    ]


def test_site_feed_lists_window(app: App) -> None:
    app.post_maintenance(timedelta(days=2), timedelta(hours=1))
    titles = [entry.title for entry in parse(app, "/feed.atom").entries]
    assert titles == ["Maintenance scheduled: Database upgrade (2026-12-06 12:00 JST)"]


def test_window_entry_links_to_window_page(app: App) -> None:
    window_id = app.post_maintenance(timedelta(days=2), timedelta(hours=1))
    link = parse(app, "/maintenance.atom").entries[0].link
    assert link == f"http://testserver/maintenance/windows/{window_id}"


def test_window_entry_shows_start_when_window_starts(app: App) -> None:
    app.post_maintenance(timedelta(hours=1), timedelta(hours=1))
    app.clock.shift(timedelta(hours=1, minutes=5))
    app.refresh()
    titles = [entry.title for entry in parse(app, "/maintenance.atom").entries]
    assert titles == ["Maintenance in progress: Database upgrade (2026-12-04 13:00 JST)"]


def schedule_weekly_then_move(app: App) -> list[int]:
    """Schedule a weekly maintenance, move it an hour later, and return the first window ids."""
    store = app.context.store
    weekly = MaintenanceSpec(
        title="Weekly restart",
        description="",
        timezone="Asia/Tokyo",
        components=("api",),
        schedule="0 3 * * SUN",
        start_time="03:00",
        end_time="03:10",
    )
    later = replace(weekly, schedule="0 4 * * SUN", start_time="04:00", end_time="04:10")
    now = datetime.now(UTC)
    assert app.client.portal is not None
    maintenance_id = app.client.portal.call(
        store.call, maintenance_store.create_maintenance, store.db, weekly, now, "alice"
    )
    windows = app.client.portal.call(
        store.call, maintenance_store.windows_of, store.db, maintenance_id
    )
    app.client.portal.call(
        store.call, maintenance_store.update_maintenance, store.db, maintenance_id, later, now
    )
    app.refresh()
    return [window.id for window in windows]


def test_schedule_edit_cancels_calendar_events(app: App) -> None:
    old_ids = schedule_weekly_then_move(app)
    statuses = {str(event["UID"]): str(event["STATUS"]) for event in events(app)}
    assert statuses[f"maintenance-window-{old_ids[0]}@testserver"] == "CANCELLED"


def test_schedule_edit_publishes_cancelled_entry(app: App) -> None:
    old_ids = schedule_weekly_then_move(app)
    titles = {entry.link: entry.title for entry in parse(app, "/maintenance.atom").entries}
    link = f"http://testserver/maintenance/windows/{old_ids[0]}"
    assert titles[link] == "Maintenance cancelled: Weekly restart (2026-12-06 03:00 JST)"


# Component feeds


def test_component_feed_keeps_affecting_entries(app: App) -> None:
    app.post_incident(components={"api": "major_outage"})
    titles = [entry.title for entry in parse(app, "/components/api/feed.atom").entries]
    assert titles == ["Investigating: API errors"]


def test_component_feed_leaves_out_other_entries(app: App) -> None:
    app.post_incident(components={"api": "major_outage"})
    assert parse(app, "/components/website/feed.atom").entries == []


def test_component_feed_title_names_component(app: App) -> None:
    assert parse(app, "/components/api/feed.rss").feed.title == "PullLog status: API"


@pytest.mark.parametrize("path", ["/components/nope/feed.rss", "/components/nope/feed.atom"])
def test_component_feed_of_unknown_component_is_404(app: App, path: str) -> None:
    assert app.client.get(path).status_code == 404


# Calendar


def test_calendar_lists_scheduled_window(app: App) -> None:
    app.post_maintenance(timedelta(days=2), timedelta(hours=1))
    starts = [event.decoded("dtstart") for event in events(app)]
    assert starts == [datetime(2026, 12, 6, 3, 0, tzinfo=UTC)]


def test_calendar_uid_is_stable_across_downloads(app: App) -> None:
    window_id = app.post_maintenance(timedelta(days=2), timedelta(hours=1))
    first = [str(event["uid"]) for event in events(app)]
    app.post_incident()  # a new snapshot, so the calendar is rendered again
    app.clock.shift(timedelta(hours=3))
    app.refresh()

    second = [str(event["uid"]) for event in events(app)]

    assert first == second == [f"maintenance-window-{window_id}@testserver"]


def test_calendar_bytes_are_stable_without_changes(app: App) -> None:
    app.post_maintenance(timedelta(days=2), timedelta(hours=1))
    first = app.client.get("/maintenance.ics").content
    app.clock.shift(timedelta(minutes=5))
    app.refresh()
    assert app.client.get("/maintenance.ics").content == first


def test_calendar_event_url_is_window_page(tmp_path: Path) -> None:
    with running_app(tmp_path, site=SITE_URL) as app:
        window_id = app.post_maintenance(timedelta(days=2), timedelta(hours=1))
        urls = [str(event["url"]) for event in events(app)]
    assert urls == [f"https://status.example.com/maintenance/windows/{window_id}"]


# Maintenance window page


def test_window_page_shows_window(app: App) -> None:
    window_id = app.post_maintenance(timedelta(days=2), timedelta(hours=1))
    response = app.client.get(f"/maintenance/windows/{window_id}")
    element = find_element(response.text, f"maintenance-window-{window_id}")
    assert element is not None
    assert element.attributes["data-status"] == "scheduled"
    assert "Database upgrade" in element.text
    assert "Upgrading PostgreSQL." in element.text


def test_window_page_of_unknown_window_is_404(app: App) -> None:
    assert app.client.get("/maintenance/windows/999").status_code == 404


def test_window_page_of_huge_id_is_404(app: App) -> None:
    assert app.client.get(f"/maintenance/windows/{2**70}").status_code == 404


def test_every_feed_entry_link_resolves(app: App) -> None:
    app.post_incident()
    app.post_maintenance(timedelta(days=2), timedelta(hours=1))
    links = [entry.link for entry in parse(app, "/feed.atom").entries]
    statuses = [app.client.get(urlsplit(link).path).status_code for link in links]
    assert statuses == [200, 200]


# Discovery


def alternates(html: str) -> set[tuple[str, str]]:
    from html.parser import HTMLParser

    found: set[tuple[str, str]] = set()

    class Links(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            attributes = dict(attrs)
            if tag == "link" and attributes.get("rel") == "alternate":
                found.add((attributes.get("type") or "", attributes.get("href") or ""))

    Links().feed(html)
    return found


def public_pages(app: App) -> list[str]:
    incident_id = app.post_incident()
    window_id = app.post_maintenance(timedelta(days=2), timedelta(hours=1))
    return ["/", "/history", f"/incidents/{incident_id}", f"/maintenance/windows/{window_id}"]


def test_every_public_page_advertises_feeds_and_calendar(app: App) -> None:
    expected = {
        ("application/atom+xml", "/feed.atom"),
        ("application/rss+xml", "/feed.rss"),
        ("text/calendar", "/maintenance.ics"),
    }
    missing = {
        path: expected - alternates(app.client.get(path).text)
        for path in public_pages(app)
        if expected - alternates(app.client.get(path).text)
    }
    assert missing == {}


def test_footer_links_to_feeds_and_calendar(app: App) -> None:
    footer = find_element(app.client.get("/").text, "subscribe")
    links = [] if footer is None else footer.links
    assert links[:3] == ["/feed.atom", "/feed.rss", "/maintenance.ics"]
