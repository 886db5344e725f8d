"""The maintenance calendar: an iCalendar (RFC 5545) document for calendar subscriptions.

Every scheduled, in-progress and recently completed maintenance window is one VEVENT. A
recurring maintenance gives one event per window, not an RRULE, because each window can be
extended, ended or cancelled on its own. Start and end are written in the maintenance's own
time zone with a VTIMEZONE that icalendar generates from zoneinfo, so subscribers see a
03:00 window at 03:00 local time on both sides of a daylight saving change. A time in the
second occurrence of a repeated hour is written in UTC instead (`calendar_time`).

The document has no METHOD, so DTSTAMP means the last revision of the event (RFC 5545
section 3.8.7.2). It is set to the window's last change, never to the time of the request,
so an unchanged calendar renders to the same bytes and can be cached.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Calendar, Event, Timezone, vDuration

from statuspage.feeds import format_time, window_last_change, window_url
from statuspage.maintenance import Maintenance, MaintenanceUpdate, MaintenanceWindow

__all__ = [
    "CANCELLED_RETENTION",
    "PAST_RETENTION",
    "REFRESH_INTERVAL",
    "CalendarWindow",
    "calendar_time",
    "is_listed",
    "render_calendar",
    "window_sequence",
    "window_uid",
]

logger = logging.getLogger(__name__)

PRODUCT_ID = "-//statuspage//Maintenance calendar//EN"
# Windows stay in the calendar this long after they end, so subscribers keep recent history.
PAST_RETENTION = timedelta(days=30)
# A cancelled window stays this long after its cancellation as STATUS:CANCELLED, so clients
# that merge events rather than replace the whole calendar learn of it.
CANCELLED_RETENTION = timedelta(days=14)
# Sent as REFRESH-INTERVAL (RFC 7986) and X-PUBLISHED-TTL (Outlook). Clients may poll less
# often than requested.
REFRESH_INTERVAL = timedelta(hours=1)

# RFC 5545 TEXT values may not contain control characters other than tab. Line breaks are
# kept because icalendar escapes them as \n.
_CONTROL_CHARACTER = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class CalendarWindow:
    """A window with its maintenance and the updates shown with it (`updates_for_window`)."""

    window: MaintenanceWindow
    maintenance: Maintenance
    updates: tuple[MaintenanceUpdate, ...] = ()


def window_uid(base_url: str, window_id: int) -> str:
    """Return the event UID of a window, such as maintenance-window-7@status.example.com."""
    host = urlsplit(base_url).hostname
    if not host:
        raise ValueError(
            f"base URL {base_url!r} is not absolute: pass the site's public URL, "
            "such as https://status.example.com"
        )
    return f"maintenance-window-{window_id}@{host}"


def window_sequence(item: CalendarWindow) -> int:
    """Return the event's SEQUENCE: seconds from the maintenance's creation to its last change.

    RFC 5545 requires SEQUENCE to grow with every significant revision, such as a new end or
    a cancellation. Every change that maintenance_store saves moves the window's last change
    (`window_last_change`) forward by at least one second, even within the same second as the
    change before. Both times are whole seconds, so the elapsed seconds grow with every
    change. They fit the 32-bit INTEGER for 68 years after a maintenance is created.
    """
    last_change = window_last_change(item.window, item.maintenance, item.updates)
    created = item.maintenance.created_at or last_change
    return max(0, int((last_change - _whole_seconds(created)).total_seconds()))


def is_listed(item: CalendarWindow, now: datetime) -> bool:
    """Tell whether a window belongs in the calendar at `now`.

    Listed are windows that have not ended or ended within `PAST_RETENTION`, and cancelled
    windows for `CANCELLED_RETENTION` after the cancellation. A deleted maintenance is
    hidden from visitors, so only its cancelled windows are listed.
    """
    window = item.window
    if window.cancelled_at is not None:
        return window.cancelled_at > now - CANCELLED_RETENTION
    if item.maintenance.deleted_at is not None:
        return False
    return window.effective_end > now - PAST_RETENTION


def render_calendar(
    site_name: str,
    base_url: str,
    windows: Iterable[CalendarWindow],
    now: datetime,
    component_names: Mapping[str, str] | None = None,
) -> bytes:
    """Render the maintenance calendar of a site, with `now` only selecting windows.

    `base_url` is the site's public URL, or the request's base URL when the site has none.
    It gives each event's URL and the host in its UID. `component_names` maps component ids to
    the names shown in descriptions, and `is_listed` selects the windows.
    """
    listed = sorted(
        (item for item in windows if is_listed(item, now)),
        key=lambda item: (item.window.starts_at, item.window.id),
    )
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar_name = _text(f"{site_name} maintenance")
    calendar.add("name", calendar_name)
    calendar.add("x-wr-calname", calendar_name)
    calendar.add("x-wr-caldesc", _text(f"Planned maintenance windows of {site_name}"))
    calendar.add("refresh-interval", vDuration(REFRESH_INTERVAL), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH_INTERVAL))

    for item in listed:
        calendar.add_component(_event(site_name, base_url, item, component_names))
    # VTIMEZONE components must come before the events that refer to them.
    for index, timezone in enumerate(_timezones(listed, calendar.get_missing_tzids())):
        calendar.subcomponents.insert(index, timezone)
    document: bytes = calendar.to_ical()
    return document


def _event(
    site_name: str,
    base_url: str,
    item: CalendarWindow,
    component_names: Mapping[str, str] | None,
) -> Event:
    window, maintenance = item.window, item.maintenance
    zone = _zone(maintenance)
    last_change = window_last_change(window, maintenance, item.updates)
    summary = f"{site_name}: {window.title}"
    if window.cancelled_at is not None:
        summary = f"[Cancelled] {summary}"

    event = Event()
    event.add("uid", window_uid(base_url, window.id))
    event.add("dtstamp", last_change)
    event.add("last-modified", last_change)
    if maintenance.created_at is not None:
        event.add("created", _whole_seconds(maintenance.created_at))
    event.add("sequence", window_sequence(item))
    # Cancelled windows keep their planned times, so clients can match and strike them.
    event.add("dtstart", calendar_time(window.starts_at, zone))
    event.add("dtend", calendar_time(window.effective_end, zone))
    # A published window is a decision, not a proposal. TENTATIVE would also change with the
    # clock alone, and RFC 5546 counts a STATUS change as a revision.
    event.add("status", "CANCELLED" if window.cancelled_at is not None else "CONFIRMED")
    event.add("summary", _text(summary))
    description = _description(item, zone, base_url, component_names)
    event.add("description", _text(description))
    event.add("url", window_url(base_url, window.id))
    # Maintenance of a service does not make its subscribers busy.
    event.add("transp", "TRANSPARENT")
    event.add("categories", ["Maintenance", *window.components])
    return event


def calendar_time(moment: datetime, zone: ZoneInfo) -> datetime:
    """Return the whole-second time to write for `moment`: local time in `zone`, or UTC.

    A local time with TZID names one instant only when the zone shows that wall time once.
    In the repeated hour of a fall-back, RFC 5545 section 3.3.5 has readers take the first
    occurrence, so an instant in the second occurrence is written in UTC instead. The
    same holds for any local time that does not map back to the same instant.
    """
    instant = _whole_seconds(moment)
    local = instant.astimezone(zone)
    if local.replace(fold=0).astimezone(UTC) != instant:
        return instant
    return local


def _whole_seconds(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(microsecond=0)


def _description(
    item: CalendarWindow,
    zone: ZoneInfo,
    base_url: str,
    component_names: Mapping[str, str] | None,
) -> str:
    """Return the event's plain text: the description and the updates, newest first.

    Operators write Markdown, which reads as plain text. HTML rendered from it would be shown
    as markup by the calendar clients that interpret HTML in DESCRIPTION.
    """
    window, maintenance = item.window, item.maintenance
    sections = []
    if window.cancelled_at is not None:
        sections.append(f"Cancelled at {format_time(window.cancelled_at, zone)}.")
    if window.components:
        names = component_names or {}
        affected = ", ".join(names.get(component, component) for component in window.components)
        sections.append(f"Affected: {affected}")
    if maintenance.description.strip():
        sections.append(maintenance.description.strip())
    for update in sorted(item.updates, key=lambda u: (u.display_at, u.id), reverse=True):
        sections.append(f"{format_time(update.display_at, zone)}\n{update.body.strip()}")
    sections.append(window_url(base_url, window.id))
    return "\n\n".join(sections)


def _text(value: str) -> str:
    return _CONTROL_CHARACTER.sub("", value)


def _zone(maintenance: Maintenance) -> ZoneInfo:
    return _zone_named(maintenance.id, maintenance.timezone)


# Cached so an unknown zone is logged once per maintenance, not on every download.
@functools.lru_cache(maxsize=1024)
def _zone_named(maintenance_id: int, name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        # Names are validated when a maintenance is saved. A later tzdata without the zone
        # should not take the whole calendar down.
        logger.warning(
            "maintenance %d has unknown time zone %r, so its calendar events use UTC",
            maintenance_id,
            name,
        )
        return ZoneInfo("UTC")


def _timezones(items: Sequence[CalendarWindow], tzids: Iterable[str]) -> list[Timezone]:
    """Build a VTIMEZONE for each of `tzids`, covering whole years around its events.

    Whole years keep the component unchanged while windows come and go within a year. The
    zones are sorted by name so the document has one order of components.
    """
    years: dict[str, tuple[int, int]] = {}
    for item in items:
        zone = _zone(item.maintenance)
        first = item.window.starts_at.astimezone(zone).year
        last = item.window.effective_end.astimezone(zone).year
        known = years.get(zone.key)
        if known is not None:
            first, last = min(first, known[0]), max(last, known[1])
        years[zone.key] = (first, last)
    timezones = []
    for tzid in sorted(tzids):
        span = years.get(tzid)
        if span is None:
            # icalendar named the zone differently from its zoneinfo key, so the zone gets
            # icalendar's default range, which is larger but still correct.
            timezones.append(Timezone.from_tzid(tzid))
            continue
        first, last = span
        timezones.append(
            Timezone.from_tzid(tzid, first_date=date(first, 1, 1), last_date=date(last + 1, 1, 1))
        )
    return timezones
