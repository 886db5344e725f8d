"""The application factory: wires config, store, probes, scheduler and routes."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount

from statuspage.checks.http import create_client
from statuspage.config import Config
from statuspage.monitor import Monitor
from statuspage.scheduler import create_scheduler
from statuspage.store import Store
from statuspage.web import (
    admin,
    api,
    auth,
    badge_routes,
    feeds_routes,
    metrics_route,
    public,
    statuspage_api,
)
from statuspage.web.caching import PublicCacheMiddleware, ResponseCache
from statuspage.web.context import AppContext
from statuspage.web.cors import ReadOnlyCorsMiddleware
from statuspage.web.templating import create_templates

# Feeds and the calendar, by exact path.
FEED_PATHS = (
    "/feed.rss",
    "/feed.atom",
    "/maintenance.rss",
    "/maintenance.atom",
    "/maintenance.ics",
)
# Public GET paths: their responses depend only on the snapshot and the request's URL (see
# web/caching.py). /healthz is left out, because it reports the process, not the snapshot.
PUBLIC_PATHS = frozenset({"/", "/history", *FEED_PATHS})
PUBLIC_PREFIXES = (
    "/incidents/",
    "/maintenance/",
    "/components/",
    "/badges/",
    "/api/v1/",
    "/api/v2/",
)
# Public paths that other sites' pages may read with fetch(): data, not HTML pages.
CROSS_ORIGIN_PATHS = frozenset(FEED_PATHS)
CROSS_ORIGIN_PREFIXES = ("/components/", "/badges/", "/api/v1/", "/api/v2/")
METRICS_PATH = "/metrics"

logger = logging.getLogger(__name__)


def create_app(config: Config, data_dir: Path, run_checks: bool = True) -> Starlette:
    """Build the app; with `run_checks` the lifespan also starts the scheduler."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        store = Store.open(data_dir)
        client = create_client()
        monitor = Monitor(config, store, client)
        context = AppContext(
            config=config,
            store=store,
            monitor=monitor,
            templates=create_templates(config.site.timezone),
        )
        app.state.context = context
        app.state.responses = ResponseCache()
        try:
            await monitor.start()
            if run_checks:
                context.scheduler = create_scheduler(monitor)
                context.scheduler.start()
                logger.info(
                    "monitoring %d checks from %s, database %s",
                    len(monitor.probes),
                    config.path,
                    store.path,
                )
            yield
        finally:
            if context.scheduler is not None:
                context.scheduler.shutdown(wait=False)
            await monitor.close()
            await client.aclose()
            store.close()
            logger.info("stopped")

    routes = [
        *public.routes,
        *feeds_routes.routes,
        *badge_routes.routes,
        *metrics_route.routes(public=config.metrics.public),
        Mount("/admin", routes=admin.routes),
        Mount("/api/v1", routes=api.routes),
        Mount("/api/v2", routes=statuspage_api.routes),
    ]

    def is_public(path: str) -> bool:
        if path == METRICS_PATH:
            return config.metrics.public
        return is_public_path(path)

    return Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[
            Middleware(auth.AdminHeadersMiddleware),
            Middleware(ReadOnlyCorsMiddleware, is_readable=is_cross_origin_path),
            Middleware(PublicCacheMiddleware, is_public=is_public),
        ],
        exception_handlers={HTTPException: http_error},
    )


def is_public_path(path: str) -> bool:
    """Tell whether GET responses of `path` are public and cacheable, /metrics aside."""
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def is_cross_origin_path(path: str) -> bool:
    """Tell whether GET responses of `path` get `Access-Control-Allow-Origin: *`."""
    return path in CROSS_ORIGIN_PATHS or path.startswith(CROSS_ORIGIN_PREFIXES)


async def http_error(request: Request, exc: Exception) -> Response:
    """JSON errors under /api/, plain text elsewhere."""
    assert isinstance(exc, HTTPException)
    if request.url.path.startswith("/api/"):
        return await api.api_error_response(request, exc)
    if exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=exc.headers)
    return PlainTextResponse(str(exc.detail), status_code=exc.status_code, headers=exc.headers)
