"""`GET /metrics` in the Prometheus text format.

By default a scraper needs an API key, like the write API. With `[metrics] public = true` in
checks.toml the endpoint is open and cached like the public pages (see `app.is_public_path`).
The body is rendered once per snapshot either way.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from statuspage import metrics
from statuspage.snapshot import Snapshot
from statuspage.web.auth import api_key_required
from statuspage.web.caching import NO_STORE, ResponseCache
from statuspage.web.public_data import app_context


def component_metrics(snapshot: Snapshot) -> list[metrics.ComponentMetrics]:
    return [
        metrics.ComponentMetrics(
            id=view.id,
            name=view.name,
            state=view.effective_state.value,
            last_checked_at=view.last_checked_at,
            latency_seconds=view.latency_ms / 1000 if view.latency_ms is not None else None,
            uptime=dict(view.uptime_periods),
        )
        for view in snapshot.components
    ]


async def _render(request: Request) -> bytes:
    snapshot = app_context(request).monitor.snapshot
    cache: ResponseCache = request.app.state.responses

    async def render() -> bytes:
        return metrics.render_metrics(component_metrics(snapshot), snapshot.built_at)

    return await cache.value(snapshot, "metrics", render)


async def public_metrics(request: Request) -> Response:
    return Response(await _render(request), media_type=metrics.CONTENT_TYPE)


@api_key_required
async def protected_metrics(request: Request) -> Response:
    return Response(
        await _render(request),
        media_type=metrics.CONTENT_TYPE,
        headers={"Cache-Control": NO_STORE},
    )


def routes(public: bool) -> list[BaseRoute]:
    endpoint = public_metrics if public else protected_metrics
    return [Route("/metrics", endpoint, name="metrics")]
