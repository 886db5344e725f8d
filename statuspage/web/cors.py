"""CORS for the public read endpoints, so a web page on any site can read the status.

GET and HEAD responses of the selected paths get `Access-Control-Allow-Origin: *`, and a
preflight (OPTIONS with `Access-Control-Request-Method`) for GET or HEAD gets 204.
Writes are left out on purpose: a preflight for another method falls through to the routes,
which respond to OPTIONS without CORS headers (`api.options_routes`), so a browser never sends
an API key cross-origin. The admin area is not
selected either. `*` is safe here because these responses never depend on cookies or other
credentials.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

READ_METHODS = ("GET", "HEAD")
# Request headers a cross-origin reader may send: the cache validators.
ALLOWED_HEADERS = "If-None-Match, If-Modified-Since"
# Response headers a cross-origin reader may see besides the CORS-safelisted ones.
EXPOSED_HEADERS = "ETag"
PREFLIGHT_MAX_AGE = 86400  # seconds a browser may reuse a preflight response


class ReadOnlyCorsMiddleware:
    """Add CORS headers to GET and HEAD responses of the paths `is_readable` selects."""

    def __init__(self, app: ASGIApp, is_readable: Callable[[str], bool]) -> None:
        self.app = app
        self.is_readable = is_readable

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.is_readable(scope["path"]):
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        if method == "OPTIONS":
            requested = Headers(scope=scope).get("access-control-request-method")
            if requested in READ_METHODS:
                await _preflight(send)
                return
        if method not in READ_METHODS:
            await self.app(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Access-Control-Allow-Origin"] = "*"
                headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_cors)


async def _preflight(send: Send) -> None:
    headers = [
        (b"access-control-allow-origin", b"*"),
        (b"access-control-allow-methods", ", ".join(READ_METHODS).encode("latin-1")),
        (b"access-control-allow-headers", ALLOWED_HEADERS.encode("latin-1")),
        (b"access-control-max-age", str(PREFLIGHT_MAX_AGE).encode("latin-1")),
        (b"vary", b"Access-Control-Request-Method"),
    ]
    await send({"type": "http.response.start", "status": 204, "headers": headers})
    await send({"type": "http.response.body", "body": b""})
