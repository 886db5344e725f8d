"""Helpers of the public read routes: the snapshot's published records and the base URL."""

from __future__ import annotations

from starlette.requests import Request

from statuspage.published import Published, load_published
from statuspage.web.caching import ResponseCache
from statuspage.web.context import AppContext


def app_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


async def published(request: Request) -> Published:
    """Return the incidents and maintenance published with the current snapshot.

    They are read from the store once per snapshot, at the snapshot's build time, so every
    response rendered from one snapshot agrees with the others.
    """
    context = app_context(request)
    cache: ResponseCache = request.app.state.responses
    snapshot = context.monitor.snapshot

    async def load() -> Published:
        return await context.store.call(load_published, context.store.db, snapshot.built_at)

    return await cache.value(snapshot, "published", load)


def public_base_url(request: Request) -> str:
    """Return `site.url` when set, else the base URL the request was sent to, without "/".

    The request's base URL has the Host header that a proxy forwards and the scheme that
    uvicorn takes from X-Forwarded-Proto when it trusts the proxy, so set `site.url` when the
    page is served under another name or path.
    """
    site_url = app_context(request).config.site.url
    if site_url:
        return site_url.rstrip("/")
    return str(request.base_url).rstrip("/")
