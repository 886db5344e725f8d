"""The live objects a running app shares with its routes."""

from __future__ import annotations

from dataclasses import dataclass, field

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from starlette.templating import Jinja2Templates

from statuspage.config import Config
from statuspage.monitor import Monitor
from statuspage.snapshot import Snapshot
from statuspage.store import Store


@dataclass
class AppContext:
    config: Config
    store: Store
    monitor: Monitor
    templates: Jinja2Templates
    scheduler: AsyncIOScheduler | None = None
    # Pages rendered from the current snapshot, by template name. Checks share the event loop
    # with requests, so rendering once per snapshot instead of once per request keeps a crowd
    # of visitors from delaying checks and inflating their measured response times.
    _pages: dict[str, tuple[Snapshot, bytes]] = field(default_factory=dict)

    def render_page(self, template: str) -> bytes:
        snapshot = self.monitor.snapshot
        cached = self._pages.get(template)
        if cached is not None and cached[0] is snapshot:
            return cached[1]
        html = self.templates.get_template(template).render(snapshot=snapshot, site=snapshot.site)
        body = html.encode("utf-8")
        self._pages[template] = (snapshot, body)
        return body
