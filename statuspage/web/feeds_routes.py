"""Feeds and the maintenance calendar, and the page of one maintenance window.

- `/feed.rss`, `/feed.atom`: incidents and maintenance windows.
- `/maintenance.rss`, `/maintenance.atom`: maintenance windows only. A one-off window appears
  as soon as it is scheduled, a recurring one a week before it starts (`feeds.FEED_LOOKAHEAD`).
- `/components/{id}/feed.rss`, `.atom`: the entries that affect one component.
- `/maintenance.ics`: the maintenance calendar (iCalendar).
- `/maintenance/windows/{id}`: the page that feed entries and calendar events link to.

Every document is rendered from the snapshot and the records published with it, with the
snapshot's build time as "now", so it changes only when the snapshot does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from statuspage import feeds, ical, maintenance_store
from statuspage.feeds import FeedEntry, FeedInfo
from statuspage.published import Published
from statuspage.snapshot import Snapshot
from statuspage.web.public_data import app_context, public_base_url, published

RSS_TYPE = "application/rss+xml; charset=utf-8"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
CALENDAR_TYPE = "text/calendar; charset=utf-8"
MAX_SQLITE_INTEGER = 2**63 - 1

Renderer = Callable[[FeedInfo, Iterable[FeedEntry]], bytes]
FORMATS: dict[str, tuple[Renderer, str]] = {
    "rss": (feeds.render_rss, RSS_TYPE),
    "atom": (feeds.render_atom, ATOM_TYPE),
}


def incident_entries(data: Published, snapshot: Snapshot, base_url: str) -> list[FeedEntry]:
    zone = snapshot.site.timezone
    names = snapshot.component_names
    return [feeds.incident_entry(incident, base_url, zone, names) for incident in data.incidents]


def maintenance_entries(data: Published, snapshot: Snapshot, base_url: str) -> list[FeedEntry]:
    """Return an entry for each announced window, with the updates shown with it."""
    zone = snapshot.site.timezone
    now = snapshot.built_at
    entries = []
    for window in data.windows:
        maintenance = data.maintenances[window.maintenance_id]
        if not feeds.window_is_announced(window, maintenance, now):
            continue
        updates = feeds.updates_for_window(
            window, data.windows_of(window.maintenance_id), data.updates[maintenance.id]
        )
        entries.append(
            feeds.maintenance_entry(
                window, maintenance, updates, base_url, zone, now, snapshot.component_names
            )
        )
    return entries


def _format(request: Request) -> tuple[Renderer, str]:
    """Return the renderer and media type for the path's extension, ".rss" or ".atom"."""
    return FORMATS[request.url.path.rsplit(".", 1)[1]]


async def site_feed(request: Request) -> Response:
    render, media_type = _format(request)
    snapshot = app_context(request).monitor.snapshot
    data = await published(request)
    base_url = public_base_url(request)
    entries = incident_entries(data, snapshot, base_url)
    entries += maintenance_entries(data, snapshot, base_url)
    info = feeds.feed_info(snapshot.site.name, base_url, request.url.path)
    return Response(render(info, feeds.newest_entries(entries)), media_type=media_type)


async def maintenance_feed(request: Request) -> Response:
    render, media_type = _format(request)
    snapshot = app_context(request).monitor.snapshot
    data = await published(request)
    base_url = public_base_url(request)
    entries = maintenance_entries(data, snapshot, base_url)
    info = feeds.feed_info(snapshot.site.name, base_url, request.url.path)
    return Response(render(info, feeds.newest_entries(entries)), media_type=media_type)


async def component_feed(request: Request) -> Response:
    render, media_type = _format(request)
    snapshot = app_context(request).monitor.snapshot
    component_id: str = request.path_params["component_id"]
    name = snapshot.component_names.get(component_id)
    if name is None:
        raise HTTPException(404, f"Component {component_id!r} not found.")
    data = await published(request)
    base_url = public_base_url(request)
    entries = incident_entries(data, snapshot, base_url)
    entries += maintenance_entries(data, snapshot, base_url)
    selected = feeds.entries_for_component(entries, component_id)
    info = feeds.feed_info(snapshot.site.name, base_url, request.url.path, name)
    return Response(render(info, feeds.newest_entries(selected)), media_type=media_type)


async def calendar(request: Request) -> Response:
    snapshot = app_context(request).monitor.snapshot
    data = await published(request)
    items = []
    for window in data.windows:
        maintenance = data.maintenances[window.maintenance_id]
        updates = feeds.updates_for_window(
            window, data.windows_of(window.maintenance_id), data.updates[maintenance.id]
        )
        items.append(ical.CalendarWindow(window, maintenance, updates))
    body = ical.render_calendar(
        snapshot.site.name,
        public_base_url(request),
        items,
        snapshot.built_at,
        snapshot.component_names,
    )
    return Response(body, media_type=CALENDAR_TYPE)


async def maintenance_window(request: Request) -> Response:
    """Render one window with its maintenance's description and the updates shown with it."""
    context = app_context(request)
    window_id: int = request.path_params["window_id"]
    snapshot = context.monitor.snapshot
    window = None
    if window_id <= MAX_SQLITE_INTEGER:
        window = await context.store.call(maintenance_store.get_window, context.store.db, window_id)
    # NOTE: feeds keep the cancelled windows of a deleted maintenance for a while, but
    # get_window leaves out deleted maintenances, so their links lead here to a 404.
    if window is None:
        raise HTTPException(404, f"Maintenance window {window_id} not found.")
    db = context.store.db
    maintenance = await context.store.call(
        maintenance_store.get_maintenance, db, window.maintenance_id
    )
    if maintenance is None:
        raise HTTPException(404, f"Maintenance window {window_id} not found.")
    siblings = await context.store.call(maintenance_store.windows_of, db, maintenance.id)
    all_updates = await context.store.call(maintenance_store.updates_of, db, maintenance.id)
    body = context.render(
        "maintenance_window.html",
        snapshot,
        window=window,
        maintenance=maintenance,
        status=window.status(snapshot.built_at),
        updates=list(reversed(feeds.updates_for_window(window, siblings, all_updates))),
    )
    return HTMLResponse(body)


routes: list[BaseRoute] = [
    *(Route(f"/feed.{extension}", site_feed, name=f"feed_{extension}") for extension in FORMATS),
    *(
        Route(f"/maintenance.{extension}", maintenance_feed, name=f"maintenance_{extension}")
        for extension in FORMATS
    ),
    *(
        Route(
            f"/components/{{component_id}}/feed.{extension}",
            component_feed,
            name=f"component_feed_{extension}",
        )
        for extension in FORMATS
    ),
    Route("/maintenance.ics", calendar, name="maintenance_calendar"),
    Route("/maintenance/windows/{window_id:int}", maintenance_window, name="maintenance_window"),
]
