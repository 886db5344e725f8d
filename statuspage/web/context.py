"""The live objects a running app shares with its routes."""

from __future__ import annotations

from dataclasses import dataclass

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from starlette.templating import Jinja2Templates

from statuspage.config import Config
from statuspage.monitor import Monitor
from statuspage.store import Store


@dataclass
class AppContext:
    config: Config
    store: Store
    monitor: Monitor
    templates: Jinja2Templates
    scheduler: AsyncIOScheduler | None = None
