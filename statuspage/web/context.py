"""The live objects a running app shares with its routes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from starlette.templating import Jinja2Templates

from statuspage.config import Config
from statuspage.markdown import render_markdown
from statuspage.monitor import Monitor
from statuspage.snapshot import Snapshot
from statuspage.store import Store

# Pages kept per snapshot. Incident pages are cached by id, so without a bound a client
# requesting every id could grow the cache until the next snapshot.
MAX_CACHED_PAGES = 256


@dataclass(frozen=True)
class CachedPage:
    status_code: int
    body: bytes


@dataclass
class PageCache:
    """Rendered public pages, valid for one snapshot and dropped when a new one arrives."""

    max_entries: int = MAX_CACHED_PAGES
    _snapshot: Snapshot | None = None
    _pages: dict[str, CachedPage] = field(default_factory=dict)

    def get(self, snapshot: Snapshot, key: str) -> CachedPage | None:
        if snapshot is not self._snapshot:
            self._snapshot = snapshot
            self._pages.clear()
            return None
        return self._pages.get(key)

    def put(self, snapshot: Snapshot, key: str, page: CachedPage) -> None:
        """Keep `page` unless a newer snapshot arrived while it was being rendered."""
        if snapshot is not self._snapshot:
            return
        if key in self._pages or len(self._pages) < self.max_entries:
            self._pages[key] = page


def utc_iso(moment: datetime) -> str:
    """Format an instant for a `<time datetime>` attribute: ISO 8601 in UTC."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class AppContext:
    config: Config
    store: Store
    monitor: Monitor
    templates: Jinja2Templates
    scheduler: AsyncIOScheduler | None = None
    # Public pages rendered from the current snapshot. Checks share the event loop with
    # requests, so rendering once per snapshot instead of once per request keeps a crowd of
    # visitors from delaying checks and inflating their measured response times.
    pages: PageCache = field(default_factory=PageCache)

    def render_page(self, template: str) -> bytes:
        """Render a page that needs only the snapshot, once per snapshot."""
        snapshot = self.monitor.snapshot
        cached = self.pages.get(snapshot, template)
        if cached is not None:
            return cached.body
        body = self.render(template, snapshot)
        self.pages.put(snapshot, template, CachedPage(200, body))
        return body

    def render(self, template: str, snapshot: Snapshot, **values: Any) -> bytes:
        """Render a public template with the snapshot and the helpers public templates use."""
        html = self.templates.get_template(template).render(
            snapshot=snapshot,
            site=snapshot.site,
            markdown=render_markdown,
            utc_iso=utc_iso,
            **values,
        )
        return html.encode("utf-8")
