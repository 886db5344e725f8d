"""Public routes: the status page and the health endpoint."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from statuspage.web.context import AppContext


async def index(request: Request) -> Response:
    context: AppContext = request.app.state.context
    return HTMLResponse(context.render_page("index.html"))


async def healthz(request: Request) -> Response:
    """200 while the process, its scheduler and its own store work; 503 otherwise."""
    context: AppContext = request.app.state.context
    problems = []
    try:
        await context.store.call(context.store.ping)
    except Exception:
        problems.append("store")
    if context.monitor.recording_failed:
        problems.append("recording")
    if context.scheduler is not None and not context.scheduler.running:
        problems.append("scheduler")
    body = {"status": "error" if problems else "ok", "failing": problems}
    return JSONResponse(body, status_code=503 if problems else 200)


routes = [
    Route("/", index, name="index"),
    Route("/healthz", healthz, name="healthz"),
]
