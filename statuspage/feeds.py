"""RSS 2.0 and Atom 1.0 feeds of incidents and maintenance windows.

Each incident and each maintenance window is one entry, with its timeline of updates in the
content, newest first. Entry ids are tag URIs (RFC 4151) built from the site's host, the
record's creation date and its database id. They stay the same on every render and when the
record changes. A new update moves the entry's `updated` (Atom) and `pubDate` (RSS), so
readers show the entry again. The feed's own `updated` and `lastBuildDate` are the newest
entry's `updated`, never the time of the request, so an unchanged feed renders to the same
bytes and can be cached.

Permalinks are `/incidents/<incident id>` and `/maintenance/windows/<window id>` under the
site's base URL.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from feedgen.feed import FeedGenerator  # type: ignore[import-untyped]
from markupsafe import Markup

from statuspage.incidents import ComponentImpact, Impact, Incident, IncidentStatus
from statuspage.maintenance import (
    Maintenance,
    MaintenanceUpdate,
    MaintenanceWindow,
    WindowStatus,
)
from statuspage.markdown import render_markdown

__all__ = [
    "EMPTY_FEED_UPDATED",
    "FEED_LOOKAHEAD",
    "Category",
    "FeedEntry",
    "FeedInfo",
    "entries_for_component",
    "feed_info",
    "format_time",
    "incident_entry",
    "incident_url",
    "maintenance_entry",
    "newest_entries",
    "render_atom",
    "render_rss",
    "updates_for_window",
    "window_is_announced",
    "window_last_change",
    "window_url",
]

# A recurring maintenance's windows are materialized months ahead. Only those starting within
# this span are announced in feeds, so a weekly window does not flood readers with a dozen
# entries at once.
FEED_LOOKAHEAD = timedelta(days=7)
FEED_SIZE = 50  # entries kept by `newest_entries`
# The `updated` of a feed without entries: a fixed instant, so the empty feed keeps the same
# bytes and cache validators until its first entry appears.
EMPTY_FEED_UPDATED = datetime(1970, 1, 1, tzinfo=UTC)

STATUS_LABELS = {
    IncidentStatus.INVESTIGATING: "Investigating",
    IncidentStatus.IDENTIFIED: "Identified",
    IncidentStatus.MONITORING: "Monitoring",
    IncidentStatus.RESOLVED: "Resolved",
}
IMPACT_LABELS = {
    Impact.NONE: "None",
    Impact.MINOR: "Minor",
    Impact.MAJOR: "Major",
    Impact.CRITICAL: "Critical",
}
COMPONENT_IMPACT_LABELS = {
    ComponentImpact.DEGRADED: "Degraded performance",
    ComponentImpact.PARTIAL_OUTAGE: "Partial outage",
    ComponentImpact.MAJOR_OUTAGE: "Major outage",
}
WINDOW_STATUS_LABELS = {
    WindowStatus.SCHEDULED: "Scheduled",
    WindowStatus.IN_PROGRESS: "In progress",
    WindowStatus.COMPLETED: "Completed",
    WindowStatus.CANCELLED: "Cancelled",
}
WINDOW_TITLE_PREFIXES = {
    WindowStatus.SCHEDULED: "Maintenance scheduled",
    WindowStatus.IN_PROGRESS: "Maintenance in progress",
    WindowStatus.COMPLETED: "Maintenance completed",
    WindowStatus.CANCELLED: "Maintenance cancelled",
}

# Characters that XML 1.0 forbids. lxml rejects a document containing any of them, and an
# operator may paste terminal output with escape codes into an update.
_NOT_XML_CHARACTER = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

# feedgen 1.0 formats RSS dates by switching the process-wide locale to C and back. Two
# threads doing this at once can leave the locale switched, so one thread at a time writes RSS.
# NOTE: the lock does not protect other code that calls setlocale.
_rss_locale_lock = threading.Lock()


@dataclass(frozen=True)
class Category:
    """An entry category: `term` is machine-readable ("impact:major"), `label` is for people."""

    term: str
    label: str


@dataclass(frozen=True)
class FeedEntry:
    """One incident or maintenance window, independent of the feed format."""

    id: str  # tag URI, the same on every render
    title: str
    link: str  # permalink of the incident or window page
    published: datetime  # UTC, when the entry first appeared
    updated: datetime  # UTC, the last change that readers should show as news
    content: Markup  # sanitized HTML
    categories: tuple[Category, ...]
    components: tuple[str, ...]  # ids of the affected components


@dataclass(frozen=True)
class FeedInfo:
    """The feed-level fields shared by the RSS and Atom documents."""

    title: str
    subtitle: str
    author: str  # the site's name, because Atom requires an author for entries without one
    link: str  # the status page the feed belongs to
    self_url: str  # absolute URL the document is served at, also used as the Atom feed id


# Building blocks


def format_time(moment: datetime, zone: ZoneInfo) -> str:
    """Format an instant in `zone` with its UTC offset, e.g. 2026-12-06 03:00 JST (UTC+09:00)."""
    local = moment.astimezone(zone)
    offset = local.strftime("%z")
    offset_text = f"UTC{offset[:3]}:{offset[3:5]}"
    return f"{_format_short(local)} ({offset_text})"


def _format_short(local: datetime) -> str:
    """Format a local time with the zone's abbreviation, if the zone has a real one."""
    abbreviation = local.strftime("%Z")
    # Zones without an abbreviation, such as America/Sao_Paulo, report "-03". The offset
    # shown next to it is the same, so it is left out.
    if not abbreviation or abbreviation[0] in "+-":
        return f"{local:%Y-%m-%d %H:%M}"
    return f"{local:%Y-%m-%d %H:%M} {abbreviation}"


def incident_url(base_url: str, incident_id: int) -> str:
    return f"{_strip_base(base_url)}/incidents/{incident_id}"


def window_url(base_url: str, window_id: int) -> str:
    return f"{_strip_base(base_url)}/maintenance/windows/{window_id}"


def feed_info(
    site_name: str, base_url: str, self_path: str, component_name: str | None = None
) -> FeedInfo:
    """Return the feed-level fields for the site's feed, or for one component's feed.

    `base_url` is the site's public URL, or the request's base URL when the site has none.
    `self_path` is the path the document is served at, such as "/feed.atom".
    """
    base = _strip_base(base_url)
    if component_name is None:
        title = f"{site_name} status"
        subtitle = f"Incidents and maintenance of {site_name}"
    else:
        title = f"{site_name} status: {component_name}"
        subtitle = f"Incidents and maintenance affecting {component_name} on {site_name}"
    return FeedInfo(
        title=title,
        subtitle=subtitle,
        author=site_name,
        link=f"{base}/",
        self_url=f"{base}{self_path}",
    )


def _strip_base(base_url: str) -> str:
    return base_url.rstrip("/")


def _tag_uri(base_url: str, created: datetime, specific: str) -> str:
    """Return a tag URI (RFC 4151) such as tag:status.example.com,2026-03-01:incident/42."""
    host = urlsplit(base_url).hostname
    if not host:
        raise ValueError(
            f"base URL {base_url!r} is not absolute: pass the site's public URL, "
            "such as https://status.example.com"
        )
    return f"tag:{host},{created.astimezone(UTC):%Y-%m-%d}:{specific}"


def _utc(moment: datetime) -> datetime:
    # Whole seconds: RSS dates carry no fractions, and both formats then show the same time.
    return moment.astimezone(UTC).replace(microsecond=0)


def _component_label(component_id: str, component_names: Mapping[str, str] | None) -> str:
    if component_names is None:
        return component_id
    return component_names.get(component_id, component_id)


# Incidents


def incident_entry(
    incident: Incident,
    base_url: str,
    zone: ZoneInfo,
    component_names: Mapping[str, str] | None = None,
) -> FeedEntry:
    """Build the entry of one incident, with its updates shown newest first in `zone`.

    `component_names` maps component ids to the names shown in the content, and ids without
    a name are shown as they are. The caller leaves out deleted incidents.
    """
    status_label = STATUS_LABELS[incident.status]
    categories = [
        Category("type:incident", "Incident"),
        Category(f"impact:{incident.impact.value}", f"Impact: {IMPACT_LABELS[incident.impact]}"),
        Category(f"status:{incident.status.value}", f"Status: {status_label}"),
    ]
    categories += [
        Category(f"component:{component_id}", _component_label(component_id, component_names))
        for component_id in incident.components
    ]
    # The update's creation time, not its display time: a backdated update is still news.
    changes = [incident.created_at, incident.updated_at]
    changes += [update.created_at for update in incident.updates]
    return FeedEntry(
        id=_tag_uri(base_url, incident.created_at, f"incident/{incident.id}"),
        title=f"{status_label}: {incident.title}",
        link=incident_url(base_url, incident.id),
        published=_utc(incident.created_at),
        updated=_utc(max(changes)),
        content=_incident_content(incident, zone, component_names),
        categories=tuple(categories),
        components=tuple(incident.components),
    )


def _incident_content(
    incident: Incident, zone: ZoneInfo, component_names: Mapping[str, str] | None
) -> Markup:
    facts = [
        Markup("<strong>Impact:</strong> {}").format(IMPACT_LABELS[incident.impact]),
        Markup("<strong>Status:</strong> {}").format(STATUS_LABELS[incident.status]),
    ]
    if incident.components:
        affected = ", ".join(
            f"{_component_label(component_id, component_names)} ({COMPONENT_IMPACT_LABELS[impact]})"
            for component_id, impact in incident.components.items()
        )
        facts.append(Markup("<strong>Affected:</strong> {}").format(affected))
    parts = [Markup("<p>{}</p>").format(Markup("<br>").join(facts))]

    if incident.postmortem:
        parts.append(Markup("<h3>Postmortem</h3>\n{}").format(render_markdown(incident.postmortem)))
    for update in sorted(incident.updates, key=lambda u: (u.display_at, u.id), reverse=True):
        parts.append(
            _update_section(STATUS_LABELS[update.status], update.display_at, update.body, zone)
        )
    return Markup("\n").join(parts)


def _update_section(label: str, moment: datetime, body: str, zone: ZoneInfo) -> Markup:
    return Markup("<h3>{} \N{MIDDLE DOT} {}</h3>\n{}").format(
        label, format_time(moment, zone), render_markdown(body)
    )


# Maintenance windows


def window_is_announced(window: MaintenanceWindow, maintenance: Maintenance, now: datetime) -> bool:
    """Tell whether a window belongs in the feeds at `now`.

    A one-off window is announced from the moment it is scheduled. A recurring window is
    announced `FEED_LOOKAHEAD` before its start. Windows of a deleted maintenance are hidden
    from visitors, except cancelled ones, which stay so readers learn of the cancellation.
    """
    if maintenance.deleted_at is not None and window.cancelled_at is None:
        return False
    if maintenance.recurring:
        return window.starts_at <= now + FEED_LOOKAHEAD
    return True


def updates_for_window(
    window: MaintenanceWindow,
    windows: Iterable[MaintenanceWindow],
    updates: Iterable[MaintenanceUpdate],
) -> tuple[MaintenanceUpdate, ...]:
    """Select the updates shown with one window, oldest first.

    `windows` are all windows of the window's maintenance and `updates` all its updates. An
    update posted about a window belongs to that window. An update about the whole
    maintenance belongs to the earliest window that was not over when the update was shown,
    or to the last window when all were over. A note on a recurring maintenance therefore
    appears once, on the occurrence that was current or next.
    """
    siblings = sorted(
        (w for w in windows if w.maintenance_id == window.maintenance_id),
        key=lambda w: (w.starts_at, w.id),
    )
    selected = []
    for update in updates:
        if update.maintenance_id != window.maintenance_id:
            continue
        if update.window_id is not None:
            owner_id: int | None = update.window_id
        else:
            owner_id = _window_current_at(siblings, update.display_at)
        if owner_id == window.id:
            selected.append(update)
    return tuple(sorted(selected, key=lambda u: (u.display_at, u.id)))


def _window_current_at(windows: Sequence[MaintenanceWindow], moment: datetime) -> int | None:
    for window in windows:
        over_at = window.cancelled_at or window.effective_end
        if over_at > moment:
            return window.id
    return windows[-1].id if windows else None


def window_last_change(
    window: MaintenanceWindow, maintenance: Maintenance, updates: Iterable[MaintenanceUpdate]
) -> datetime:
    """Return, in UTC whole seconds, when the window or what is shown with it last changed.

    The store records each change of a window in `revised_at`, at least one second after the
    one before, so a change within the same second as the one before still moves the result.
    After a burst of changes the result can lie a few seconds after the last real change.
    Windows stored before `revised_at` existed have none. For them, an extension shows only
    in the maintenance's `updated_at`, which also moves when another window of the same
    maintenance changes. That time therefore counts only while the window was not over, so
    later changes to a recurring maintenance leave its past windows alone.
    """
    changes = [
        moment
        for moment in (window.cancelled_at, window.ended_at, window.revised_at)
        if moment is not None
    ]
    changes += [update.created_at for update in updates]
    if maintenance.created_at is not None:
        changes.append(maintenance.created_at)
    over_at = window.cancelled_at or window.effective_end
    if maintenance.updated_at is not None and maintenance.updated_at <= over_at:
        changes.append(maintenance.updated_at)
    # NOTE: only hand-built objects lack every time above. The window's start keeps the
    # result deterministic for them.
    return _utc(max(changes, default=window.starts_at))


def _window_published(window: MaintenanceWindow, maintenance: Maintenance) -> datetime:
    created = maintenance.created_at or window.starts_at
    if maintenance.recurring:
        # The moment the window entered the lookahead, which is when `window_is_announced`
        # first put it in the feed.
        return _utc(max(created, window.starts_at - FEED_LOOKAHEAD))
    return _utc(created)


def maintenance_entry(
    window: MaintenanceWindow,
    maintenance: Maintenance,
    updates: Iterable[MaintenanceUpdate],
    base_url: str,
    zone: ZoneInfo,
    now: datetime,
    component_names: Mapping[str, str] | None = None,
) -> FeedEntry:
    """Build the entry of one maintenance window, with times shown in `zone`.

    `updates` are the window's updates (see `updates_for_window`). The status in the title
    depends on `now`, and so does `updated`, because the start and the completion are news
    for readers at the moment they happen.
    """
    shown_updates = tuple(updates)
    status = window.status(now)
    published = _window_published(window, maintenance)
    changes = [published, window_last_change(window, maintenance, shown_updates)]
    # A cancelled window stops at its cancellation: it neither starts nor completes after it.
    horizon = min(now, window.cancelled_at) if window.cancelled_at is not None else now
    changes += [moment for moment in (window.starts_at, window.effective_end) if moment <= horizon]

    categories = [
        Category("type:maintenance", "Maintenance"),
        Category(f"status:{status.value}", f"Status: {WINDOW_STATUS_LABELS[status]}"),
    ]
    categories += [
        Category(f"component:{component_id}", _component_label(component_id, component_names))
        for component_id in window.components
    ]
    created = maintenance.created_at or window.starts_at
    title_time = _format_short(window.starts_at.astimezone(zone))
    return FeedEntry(
        id=_tag_uri(base_url, created, f"maintenance-window/{window.id}"),
        title=f"{WINDOW_TITLE_PREFIXES[status]}: {window.title} ({title_time})",
        link=window_url(base_url, window.id),
        published=published,
        updated=_utc(max(changes)),
        content=_window_content(window, maintenance, shown_updates, status, zone, component_names),
        categories=tuple(categories),
        components=tuple(window.components),
    )


def _window_content(
    window: MaintenanceWindow,
    maintenance: Maintenance,
    updates: Sequence[MaintenanceUpdate],
    status: WindowStatus,
    zone: ZoneInfo,
    component_names: Mapping[str, str] | None,
) -> Markup:
    facts = [
        Markup("<strong>Status:</strong> {}").format(WINDOW_STATUS_LABELS[status]),
        Markup("<strong>Starts:</strong> {}").format(format_time(window.starts_at, zone)),
    ]
    if window.ended_at is not None and window.ended_at < window.ends_at:
        facts.append(
            Markup("<strong>Ended early:</strong> {}").format(format_time(window.ended_at, zone))
        )
    else:
        facts.append(Markup("<strong>Ends:</strong> {}").format(format_time(window.ends_at, zone)))
    if window.cancelled_at is not None:
        facts.append(
            Markup("<strong>Cancelled:</strong> {}").format(format_time(window.cancelled_at, zone))
        )
    if window.components:
        affected = ", ".join(_component_label(c, component_names) for c in window.components)
        facts.append(Markup("<strong>Affected:</strong> {}").format(affected))
    parts = [Markup("<p>{}</p>").format(Markup("<br>").join(facts))]

    if maintenance.description.strip():
        parts.append(render_markdown(maintenance.description))
    for update in sorted(updates, key=lambda u: (u.display_at, u.id), reverse=True):
        parts.append(_update_section("Update", update.display_at, update.body, zone))
    return Markup("\n").join(parts)


# Selection


def entries_for_component(entries: Iterable[FeedEntry], component_id: str) -> list[FeedEntry]:
    """Keep the entries that affect one component, for that component's own feed."""
    return [entry for entry in entries if component_id in entry.components]


def newest_entries(entries: Iterable[FeedEntry], limit: int = FEED_SIZE) -> list[FeedEntry]:
    """Return at most `limit` entries, most recently updated first."""
    return _ordered(entries)[:limit]


def _ordered(entries: Iterable[FeedEntry]) -> list[FeedEntry]:
    # The id breaks ties so equal times still give one order, and so the same bytes.
    by_id = sorted(entries, key=lambda entry: entry.id)
    return sorted(by_id, key=lambda entry: entry.updated, reverse=True)


def _feed_updated(entries: Sequence[FeedEntry]) -> datetime:
    return max((entry.updated for entry in entries), default=EMPTY_FEED_UPDATED)


# Rendering


def _xml_text(text: str) -> str:
    return _NOT_XML_CHARACTER.sub("", text)


def _generator(feed: FeedInfo) -> FeedGenerator:
    generator = FeedGenerator()
    generator.title(_xml_text(feed.title))
    generator.subtitle(_xml_text(feed.subtitle))
    generator.author({"name": _xml_text(feed.author)})
    generator.generator("statuspage")
    # feedgen takes the RSS channel link from the last link added, so the page comes last.
    generator.link(href=feed.self_url, rel="self")
    generator.link(href=feed.link, rel="alternate")
    return generator


def render_atom(feed: FeedInfo, entries: Iterable[FeedEntry]) -> bytes:
    """Render an Atom 1.0 document (RFC 4287), most recently updated entries first."""
    ordered = _ordered(entries)
    generator = _generator(feed)
    generator.id(feed.self_url)
    generator.updated(_feed_updated(ordered))
    for entry in ordered:
        item = generator.add_entry(order="append")
        item.id(entry.id)
        item.title(_xml_text(entry.title))
        item.link(href=entry.link, rel="alternate", type="text/html")
        item.published(entry.published)
        item.updated(entry.updated)
        item.content(_xml_text(str(entry.content)), type="html")
        for category in entry.categories:
            item.category(term=_xml_text(category.term), label=_xml_text(category.label))
    document: bytes = generator.atom_str(pretty=True)
    return document


def render_rss(feed: FeedInfo, entries: Iterable[FeedEntry]) -> bytes:
    """Render an RSS 2.0 document, most recently updated items first.

    An item's `pubDate` is its entry's `updated`, so readers that only look at `pubDate`
    show an item again when an update is posted. `guid` is the tag URI with
    isPermaLink="false", and `link` is the permalink.
    """
    ordered = _ordered(entries)
    generator = _generator(feed)
    generator.description(_xml_text(feed.subtitle))
    generator.lastBuildDate(_feed_updated(ordered))
    for entry in ordered:
        item = generator.add_entry(order="append")
        item.guid(entry.id, permalink=False)
        item.title(_xml_text(entry.title))
        item.link(href=entry.link, rel="alternate")
        item.pubDate(entry.updated)
        item.description(_xml_text(str(entry.content)))
        for category in entry.categories:
            item.category(term=_xml_text(category.term), label=_xml_text(category.label))
    with _rss_locale_lock:
        document: bytes = generator.rss_str(pretty=True)
    return document
