from __future__ import annotations

import calendar
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

import feedparser
import pytest
import time_machine

from statuspage.feeds import (
    EMPTY_FEED_UPDATED,
    FEED_LOOKAHEAD,
    FeedEntry,
    entries_for_component,
    feed_info,
    format_time,
    incident_entry,
    maintenance_entry,
    newest_entries,
    render_atom,
    render_rss,
    updates_for_window,
    window_is_announced,
    window_last_change,
)
from statuspage.incidents import (
    ComponentImpact,
    Impact,
    Incident,
    IncidentStatus,
    IncidentUpdate,
)
from statuspage.maintenance import Maintenance, MaintenanceUpdate, MaintenanceWindow

BASE_URL = "https://status.example.com"
TOKYO = ZoneInfo("Asia/Tokyo")
T0 = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)
ATOM = feed_info("Example", BASE_URL, "/feed.atom")
RSS = feed_info("Example", BASE_URL, "/feed.rss")


def incident_update(
    update_id: int,
    status: IncidentStatus,
    body: str,
    at: datetime,
    incident_id: int = 1,
) -> IncidentUpdate:
    return IncidentUpdate(
        id=update_id,
        incident_id=incident_id,
        status=status,
        body=body,
        display_at=at,
        created_at=at,
        created_by="alice",
    )


def incident(
    incident_id: int = 1,
    title: str = "API errors",
    updates: tuple[IncidentUpdate, ...] | None = None,
    components: dict[str, ComponentImpact] | None = None,
) -> Incident:
    if updates is None:
        updates = (
            incident_update(1, IncidentStatus.INVESTIGATING, "Looking into it.", T0, incident_id),
        )
    last = updates[-1]
    return Incident(
        id=incident_id,
        title=title,
        impact=Impact.MAJOR,
        status=last.status,
        created_at=T0,
        updated_at=last.created_at,
        components={"api": ComponentImpact.MAJOR_OUTAGE} if components is None else components,
        updates=updates,
    )


def with_update(base: Incident, status: IncidentStatus, body: str, at: datetime) -> Incident:
    added = incident_update(len(base.updates) + 1, status, body, at, base.id)
    return replace(base, status=status, updated_at=at, updates=(*base.updates, added))


def maintenance(
    maintenance_id: int = 7,
    schedule: str | None = None,
    created_at: datetime = T0,
    deleted_at: datetime | None = None,
) -> Maintenance:
    return Maintenance(
        id=maintenance_id,
        title="Database upgrade",
        description="Upgrade to **PostgreSQL 17**.",
        timezone="Asia/Tokyo",
        components=("db",),
        schedule=schedule,
        start_time="03:00" if schedule else None,
        end_time="03:10" if schedule else None,
        created_at=created_at,
        updated_at=created_at,
        deleted_at=deleted_at,
    )


def window(
    window_id: int = 70,
    starts_at: datetime = T0 + timedelta(days=3),
    minutes: int = 60,
    cancelled_at: datetime | None = None,
    maintenance_id: int = 7,
) -> MaintenanceWindow:
    return MaintenanceWindow(
        id=window_id,
        maintenance_id=maintenance_id,
        title="Database upgrade",
        components=("db",),
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        cancelled_at=cancelled_at,
    )


def maintenance_update(
    update_id: int, body: str, at: datetime, window_id: int | None = None
) -> MaintenanceUpdate:
    return MaintenanceUpdate(
        id=update_id,
        maintenance_id=7,
        body=body,
        display_at=at,
        created_at=at,
        created_by="alice",
        window_id=window_id,
    )


def parse(document: bytes, **options: Any) -> Any:
    return feedparser.parse(document, **options)


def parsed_time(value: Any) -> datetime:
    """Convert feedparser's UTC struct_time to an aware datetime."""
    return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)


def site_entries() -> list[FeedEntry]:
    now = T0 + timedelta(hours=2)
    return [
        incident_entry(incident(), BASE_URL, TOKYO),
        maintenance_entry(window(), maintenance(), (), BASE_URL, TOKYO, now),
    ]


# Well-formed documents


def test_rss_parses_without_errors() -> None:
    parsed = parse(render_rss(RSS, site_entries()))

    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "rss20"


def test_atom_parses_without_errors() -> None:
    parsed = parse(render_atom(ATOM, site_entries()))

    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"


def test_empty_feeds_parse_without_errors() -> None:
    atom = parse(render_atom(ATOM, []))
    rss = parse(render_rss(RSS, []))

    assert not atom.bozo
    assert not rss.bozo
    assert parsed_time(atom.feed.updated_parsed) == EMPTY_FEED_UPDATED


# Required elements


def test_rss_channel_has_required_elements() -> None:
    channel = parse(render_rss(RSS, site_entries())).feed

    assert channel.title == "Example status"
    assert channel.link == f"{BASE_URL}/"
    assert channel.description == "Incidents and maintenance of Example"


def test_rss_channel_has_atom_self_link() -> None:
    channel = parse(render_rss(RSS, site_entries())).feed

    self_links = [link.href for link in channel.links if link.rel == "self"]
    assert self_links == [f"{BASE_URL}/feed.rss"]


def test_rss_item_guid_is_not_permalink() -> None:
    item = parse(render_rss(RSS, [incident_entry(incident(), BASE_URL, TOKYO)])).entries[0]

    assert item.id == "tag:status.example.com,2026-03-01:incident/1"
    assert item.guidislink is False
    assert item.link == f"{BASE_URL}/incidents/1"


def test_rss_document_marks_guid_not_permalink() -> None:
    document = render_rss(RSS, [incident_entry(incident(), BASE_URL, TOKYO)])

    assert b'<guid isPermaLink="false">' in document


def test_atom_feed_has_required_elements() -> None:
    feed = parse(render_atom(ATOM, site_entries())).feed

    assert feed.id == f"{BASE_URL}/feed.atom"
    assert feed.title == "Example status"
    assert feed.author == "Example"
    assert feed.updated_parsed is not None


def test_atom_feed_has_self_and_alternate_links() -> None:
    feed = parse(render_atom(ATOM, site_entries())).feed

    links = {link.rel: link.href for link in feed.links}
    assert links == {"self": f"{BASE_URL}/feed.atom", "alternate": f"{BASE_URL}/"}


def test_atom_entry_has_required_elements() -> None:
    entry = parse(render_atom(ATOM, [incident_entry(incident(), BASE_URL, TOKYO)])).entries[0]

    assert entry.id == "tag:status.example.com,2026-03-01:incident/1"
    assert entry.title == "Investigating: API errors"
    assert parsed_time(entry.updated_parsed) == T0
    assert parsed_time(entry.published_parsed) == T0


def test_atom_entry_links_to_permalink() -> None:
    entry = parse(render_atom(ATOM, [incident_entry(incident(), BASE_URL, TOKYO)])).entries[0]

    # RFC 4287 reads a link without rel as rel="alternate".
    assert [(link.rel, link.href) for link in entry.links] == [
        ("alternate", f"{BASE_URL}/incidents/1")
    ]


def test_atom_times_are_utc_with_offset() -> None:
    document = render_atom(ATOM, [incident_entry(incident(), BASE_URL, TOKYO)])

    assert b"<updated>2026-03-01T01:00:00+00:00</updated>" in document


# Stable ids and updated times


def test_entry_ids_stable_across_renders() -> None:
    before = incident()
    after = with_update(before, IncidentStatus.RESOLVED, "Fixed.", T0 + timedelta(hours=1))

    first = parse(render_atom(ATOM, [incident_entry(before, BASE_URL, TOKYO)])).entries[0]
    second = parse(render_atom(ATOM, [incident_entry(after, BASE_URL, TOKYO)])).entries[0]

    assert first.id == second.id


def test_window_entry_id_stable_across_status_changes() -> None:
    scheduled = maintenance_entry(window(), maintenance(), (), BASE_URL, TOKYO, T0)
    completed = maintenance_entry(
        window(), maintenance(), (), BASE_URL, TOKYO, T0 + timedelta(days=10)
    )

    assert scheduled.id == completed.id
    assert scheduled.id == "tag:status.example.com,2026-03-01:maintenance-window/70"


def test_feed_entry_updates_on_new_update() -> None:
    before = incident()
    later = T0 + timedelta(hours=1)
    after = with_update(before, IncidentStatus.IDENTIFIED, "Found the cause.", later)

    old = parse(render_atom(ATOM, [incident_entry(before, BASE_URL, TOKYO)])).entries[0]
    new = parse(render_atom(ATOM, [incident_entry(after, BASE_URL, TOKYO)])).entries[0]

    assert parsed_time(old.updated_parsed) == T0
    assert parsed_time(new.updated_parsed) == later


def test_rss_pub_date_moves_on_new_update() -> None:
    later = T0 + timedelta(hours=1)
    after = with_update(incident(), IncidentStatus.IDENTIFIED, "Found the cause.", later)

    item = parse(render_rss(RSS, [incident_entry(after, BASE_URL, TOKYO)])).entries[0]

    assert parsed_time(item.published_parsed) == later


def test_backdated_update_still_moves_updated() -> None:
    base = incident()
    posted = T0 + timedelta(hours=3)
    backdated = IncidentUpdate(
        id=2,
        incident_id=1,
        status=IncidentStatus.IDENTIFIED,
        body="Started earlier than we said.",
        display_at=T0 - timedelta(hours=1),
        created_at=posted,
        created_by="alice",
    )
    after = replace(base, updates=(backdated, *base.updates))

    assert incident_entry(after, BASE_URL, TOKYO).updated == posted


def test_feed_updated_is_newest_entry() -> None:
    entries = site_entries()
    newest = max(entry.updated for entry in entries)

    atom = parse(render_atom(ATOM, entries)).feed
    rss = parse(render_rss(RSS, entries)).feed

    assert parsed_time(atom.updated_parsed) == newest
    assert parsed_time(rss.updated_parsed) == newest


def test_render_is_byte_identical() -> None:
    first_atom = render_atom(ATOM, site_entries())
    first_rss = render_rss(RSS, site_entries())
    with time_machine.travel(datetime(2031, 6, 1, tzinfo=UTC), tick=False):
        second_atom = render_atom(ATOM, site_entries())
        second_rss = render_rss(RSS, site_entries())

    assert first_atom == second_atom
    assert first_rss == second_rss


def test_render_order_ignores_input_order() -> None:
    entries = site_entries()

    assert render_atom(ATOM, entries) == render_atom(ATOM, entries[::-1])


def test_entries_newest_first() -> None:
    older = incident_entry(incident(1), BASE_URL, TOKYO)
    newer = incident_entry(
        with_update(incident(2), IncidentStatus.RESOLVED, "Done.", T0 + timedelta(days=1)),
        BASE_URL,
        TOKYO,
    )

    parsed = parse(render_atom(ATOM, [older, newer]))

    assert [entry.id for entry in parsed.entries] == [newer.id, older.id]


# Content


def test_content_lists_updates_newest_first() -> None:
    entry = incident_entry(
        with_update(incident(), IncidentStatus.RESOLVED, "Second note.", T0 + timedelta(hours=1)),
        BASE_URL,
        TOKYO,
    )

    content = str(entry.content)

    assert content.index("Second note.") < content.index("Looking into it.")


def test_content_shows_times_in_site_zone_with_offset() -> None:
    content = str(incident_entry(incident(), BASE_URL, TOKYO).content)

    assert "2026-03-01 10:00 JST (UTC+09:00)" in content


def test_content_renders_markdown() -> None:
    body = "Restarted **all** workers."
    entry = incident_entry(
        incident(updates=(incident_update(1, IncidentStatus.MONITORING, body, T0),)),
        BASE_URL,
        TOKYO,
    )

    assert "<strong>all</strong>" in str(entry.content)


def test_content_names_affected_components() -> None:
    entry = incident_entry(incident(), BASE_URL, TOKYO, component_names={"api": "Public API"})

    assert "Public API (Major outage)" in str(entry.content)


def test_content_includes_postmortem() -> None:
    entry = incident_entry(replace(incident(), postmortem="A disk filled up."), BASE_URL, TOKYO)

    assert "A disk filled up." in str(entry.content)


class _TagCollector(HTMLParser):
    """Collect every tag and attribute of an HTML fragment."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [(name, value or "") for name, value in attrs]


XSS_BODY = "\n\n".join(
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)">x</a>',
        "[click](javascript:alert(1))",
        "![image](javascript:alert(1))",
        "<svg onload=alert(1)>",
    ]
)


@pytest.mark.parametrize("render", [render_atom, render_rss], ids=["atom", "rss"])
def test_xss_payloads_arrive_sanitized(render: Any) -> None:
    info = ATOM if render is render_atom else RSS
    entry = incident_entry(
        incident(updates=(incident_update(1, IncidentStatus.INVESTIGATING, XSS_BODY, T0),)),
        BASE_URL,
        TOKYO,
    )

    # feedparser's own sanitizer is switched off, so this checks the feed's bytes.
    item = parse(render(info, [entry]), sanitize_html=False).entries[0]
    html = item.content[0].value if render is render_atom else item.description
    collector = _TagCollector()
    collector.feed(html)

    assert "script" not in collector.tags
    assert "svg" not in collector.tags
    assert not [name for name, _ in collector.attributes if name.startswith("on")]
    assert not [value for _, value in collector.attributes if "javascript" in value.lower()]


def test_html_in_title_arrives_as_text() -> None:
    entry = incident_entry(incident(title="<b>API</b> errors"), BASE_URL, TOKYO)

    item = parse(render_atom(ATOM, [entry]), sanitize_html=False).entries[0]

    assert item.title == "Investigating: <b>API</b> errors"
    assert item.title_detail.type == "text/plain"


def test_control_characters_are_dropped() -> None:
    body = "Log: \x1b[31mERROR\x1b[0m\x0b done"
    entry = incident_entry(
        incident(
            title="API\x07 errors",
            updates=(incident_update(1, IncidentStatus.INVESTIGATING, body, T0),),
        ),
        BASE_URL,
        TOKYO,
    )

    atom = parse(render_atom(ATOM, [entry]))
    rss = parse(render_rss(RSS, [entry]))

    assert not atom.bozo
    assert not rss.bozo
    assert atom.entries[0].title == "Investigating: API errors"


def test_japanese_text_round_trips() -> None:
    title = "決済APIの障害"
    body = "原因を調査しています。ご迷惑をおかけしております。"
    entry = incident_entry(
        incident(
            title=title,
            updates=(incident_update(1, IncidentStatus.INVESTIGATING, body, T0),),
        ),
        BASE_URL,
        TOKYO,
    )

    atom = parse(render_atom(ATOM, [entry])).entries[0]
    rss = parse(render_rss(RSS, [entry])).entries[0]

    assert atom.title == f"Investigating: {title}"
    assert body in atom.content[0].value
    assert rss.title == f"Investigating: {title}"
    assert body in rss.description


def test_documents_are_utf8() -> None:
    entry = incident_entry(incident(title="決済APIの障害"), BASE_URL, TOKYO)

    document = render_atom(ATOM, [entry])

    assert document.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert "決済APIの障害".encode() in document


def test_categories_carry_impact_status_and_components() -> None:
    entry = parse(render_atom(ATOM, [incident_entry(incident(), BASE_URL, TOKYO)])).entries[0]

    terms = [tag.term for tag in entry.tags]

    assert terms == ["type:incident", "impact:major", "status:investigating", "component:api"]


# Component feeds


def test_component_filter_keeps_matching_entries() -> None:
    api = incident_entry(incident(1), BASE_URL, TOKYO)
    web = incident_entry(incident(2, components={"web": ComponentImpact.DEGRADED}), BASE_URL, TOKYO)
    database = maintenance_entry(window(), maintenance(), (), BASE_URL, TOKYO, T0)

    assert entries_for_component([api, web, database], "web") == [web]
    assert entries_for_component([api, web, database], "db") == [database]


def test_component_feed_info_names_component() -> None:
    info = feed_info("Example", f"{BASE_URL}/", "/components/api/feed.atom", "Public API")

    assert info.title == "Example status: Public API"
    assert info.self_url == f"{BASE_URL}/components/api/feed.atom"
    assert info.link == f"{BASE_URL}/"


def test_newest_entries_keeps_limit() -> None:
    entries = [
        incident_entry(
            with_update(incident(n), IncidentStatus.RESOLVED, "Done.", T0 + timedelta(hours=n)),
            BASE_URL,
            TOKYO,
        )
        for n in range(1, 6)
    ]

    kept = newest_entries(entries, limit=2)

    assert [entry.id for entry in kept] == [entries[4].id, entries[3].id]


def test_relative_base_url_rejected() -> None:
    with pytest.raises(ValueError, match="not absolute"):
        incident_entry(incident(), "/status", TOKYO)


# Maintenance windows


def test_scheduled_window_is_entry_before_start() -> None:
    entry = maintenance_entry(window(), maintenance(), (), BASE_URL, TOKYO, T0)

    assert entry.title == "Maintenance scheduled: Database upgrade (2026-03-04 10:00 JST)"
    assert entry.link == f"{BASE_URL}/maintenance/windows/70"
    assert [c.term for c in entry.categories][:2] == ["type:maintenance", "status:scheduled"]


def test_window_content_shows_times_and_description() -> None:
    entry = maintenance_entry(window(), maintenance(), (), BASE_URL, TOKYO, T0)

    content = str(entry.content)

    assert "2026-03-04 10:00 JST (UTC+09:00)" in content
    assert "2026-03-04 11:00 JST (UTC+09:00)" in content
    assert "<strong>PostgreSQL 17</strong>" in content


def test_window_entry_updated_when_started() -> None:
    planned = window()
    before = maintenance_entry(planned, maintenance(), (), BASE_URL, TOKYO, T0)
    during = maintenance_entry(
        planned, maintenance(), (), BASE_URL, TOKYO, planned.starts_at + timedelta(minutes=5)
    )

    assert before.updated == T0
    assert during.updated == planned.starts_at
    assert during.title.startswith("Maintenance in progress:")


def test_window_entry_updated_when_completed() -> None:
    planned = window()
    after = maintenance_entry(
        planned, maintenance(), (), BASE_URL, TOKYO, planned.ends_at + timedelta(days=1)
    )

    assert after.updated == planned.ends_at
    assert after.title.startswith("Maintenance completed:")


def test_window_entry_updated_on_new_update() -> None:
    planned = window()
    note = maintenance_update(1, "Starting on time.", T0 + timedelta(hours=5), planned.id)

    entry = maintenance_entry(
        planned, maintenance(), (note,), BASE_URL, TOKYO, T0 + timedelta(hours=6)
    )

    assert entry.updated == note.created_at
    assert "Starting on time." in str(entry.content)


def test_cancelled_window_stops_at_cancellation() -> None:
    cancelled_at = T0 + timedelta(days=1)
    planned = window(cancelled_at=cancelled_at)

    entry = maintenance_entry(
        planned, maintenance(), (), BASE_URL, TOKYO, planned.ends_at + timedelta(days=1)
    )

    assert entry.updated == cancelled_at
    assert entry.title.startswith("Maintenance cancelled:")


def test_recurring_window_announced_within_lookahead() -> None:
    weekly = maintenance(schedule="0 3 * * SUN")
    far = window(starts_at=T0 + FEED_LOOKAHEAD + timedelta(days=1))

    assert not window_is_announced(far, weekly, T0)
    assert window_is_announced(far, weekly, T0 + timedelta(days=1))


def test_recurring_window_published_when_announced() -> None:
    weekly = maintenance(schedule="0 3 * * SUN")
    starts_at = T0 + timedelta(days=30)

    entry = maintenance_entry(
        window(starts_at=starts_at), weekly, (), BASE_URL, TOKYO, starts_at - timedelta(days=1)
    )

    assert entry.published == starts_at - FEED_LOOKAHEAD


def test_one_off_window_announced_when_scheduled() -> None:
    assert window_is_announced(window(starts_at=T0 + timedelta(days=60)), maintenance(), T0)


def test_deleted_maintenance_announces_only_cancelled_windows() -> None:
    deleted = maintenance(deleted_at=T0 + timedelta(hours=1))

    assert not window_is_announced(window(), deleted, T0 + timedelta(hours=2))
    assert window_is_announced(
        window(cancelled_at=T0 + timedelta(hours=1)), deleted, T0 + timedelta(hours=2)
    )


def test_window_update_stays_on_window() -> None:
    first = window(70, starts_at=T0 + timedelta(days=1))
    second = window(71, starts_at=T0 + timedelta(days=8))
    note = maintenance_update(1, "About the second.", T0, window_id=71)

    assert updates_for_window(first, [first, second], [note]) == ()
    assert updates_for_window(second, [first, second], [note]) == (note,)


def test_general_update_goes_to_next_window() -> None:
    first = window(70, starts_at=T0 + timedelta(days=1))
    second = window(71, starts_at=T0 + timedelta(days=8))
    note = maintenance_update(1, "New contact.", T0 + timedelta(days=2))

    assert updates_for_window(first, [first, second], [note]) == ()
    assert updates_for_window(second, [first, second], [note]) == (note,)


def test_late_general_update_goes_to_last_window() -> None:
    only = window(70, starts_at=T0 + timedelta(days=1))
    note = maintenance_update(1, "Report published.", T0 + timedelta(days=5))

    assert updates_for_window(only, [only], [note]) == (note,)


def test_window_last_change_ignores_later_maintenance_edits() -> None:
    past = window(starts_at=T0 + timedelta(days=1))
    edited = replace(maintenance(), updated_at=T0 + timedelta(days=20))

    assert window_last_change(past, edited, ()) == T0


def test_window_last_change_counts_extension() -> None:
    extended_at = T0 + timedelta(days=3, minutes=30)
    planned = window()
    extended = replace(planned, ends_at=planned.ends_at + timedelta(hours=1))
    touched = replace(maintenance(), updated_at=extended_at)

    assert window_last_change(extended, touched, ()) == extended_at


def test_window_last_change_counts_revised_at() -> None:
    created = T0 + timedelta(milliseconds=100)
    owner = replace(maintenance(), created_at=created, updated_at=created)
    touched = replace(owner, updated_at=created + timedelta(milliseconds=200))
    revised = replace(window(), revised_at=T0 + timedelta(seconds=1))

    assert window_last_change(revised, touched, ()) == T0 + timedelta(seconds=1)


def test_window_entry_updated_moves_within_creation_second() -> None:
    created = T0 + timedelta(milliseconds=700)
    owner = replace(maintenance(), created_at=created, updated_at=created)
    touched = replace(owner, updated_at=created + timedelta(milliseconds=200))
    planned = window()
    cancelled = replace(
        planned, cancelled_at=touched.updated_at, revised_at=T0 + timedelta(seconds=1)
    )

    before = maintenance_entry(planned, owner, (), BASE_URL, TOKYO, created)
    after = maintenance_entry(cancelled, touched, (), BASE_URL, TOKYO, touched.updated_at)

    assert after.updated > before.updated


def test_format_time_without_abbreviation_shows_offset_only() -> None:
    moment = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    assert format_time(moment, ZoneInfo("America/Sao_Paulo")) == "2026-03-01 09:00 (UTC-03:00)"
