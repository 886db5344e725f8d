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
from statuspage.web import admin, api, auth, public
from statuspage.web.context import AppContext
from statuspage.web.templating import create_templates

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
        Mount("/admin", routes=admin.routes),
        Mount("/api/v1", routes=api.routes),
    ]
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(auth.AdminHeadersMiddleware)],
        exception_handlers={HTTPException: http_error},
    )


async def http_error(request: Request, exc: Exception) -> Response:
    """JSON errors under /api/, plain text elsewhere."""
    assert isinstance(exc, HTTPException)
    if request.url.path.startswith("/api/"):
        return await api.api_error_response(request, exc)
    if exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=exc.headers)
    return PlainTextResponse(str(exc.detail), status_code=exc.status_code, headers=exc.headers)
