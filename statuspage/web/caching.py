"""HTTP caching of public responses: one render per snapshot, validators and 304 responses.

`PublicCacheMiddleware` serves GET and HEAD requests for public paths. The first request for
a path after a new snapshot runs the route, and a 200 response is kept in memory until the
next snapshot. Every later request for that path is served from memory without running the
route, so a crowd of visitors costs one render per page per snapshot. Each kept response has
a strong ETag (a hash of the body) and a Last-Modified time, and a request whose
`If-None-Match` or `If-Modified-Since` matches gets 304 without a body.

A response is a function of the snapshot, the path, the query parameters in
`QUERY_PARAMETERS` and, when `site.url` is not set, the host the request was sent to. Every
write to incidents and maintenance builds a new snapshot, so routes may read the store too.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from statuspage.snapshot import Snapshot

T = TypeVar("T")

# Sent with every public response. Shared caches and browsers may reuse a response for 30
# seconds and serve it stale for 60 more while they fetch a new one. While this server fails,
# they may serve it for a day, so the page stays readable during an outage of the server.
PUBLIC_CACHE_CONTROL = "public, max-age=30, stale-while-revalidate=60, stale-if-error=86400"
NO_STORE = "no-store"

# Query parameters that change a public response: history's `month`, the uptime badge's
# `period` and the component history's `days`. Others are left out of the cache key, so
# requests with made-up parameters share one entry instead of filling the cache. A public
# route that reads another query parameter must add it here.
QUERY_PARAMETERS = frozenset({"month", "period", "days"})

# Bounds of the responses kept for one snapshot. When either is reached, further responses
# of that snapshot are rendered per request instead of kept.
MAX_ENTRIES = 1024
MAX_BYTES = 32 * 1024 * 1024
# ETags and times of the last response of each path, kept across snapshots.
MAX_VALIDATORS = 4096
# Last-Modified has whole seconds, so a new body gets at least this much more than the last.
LAST_MODIFIED_STEP = timedelta(seconds=1)

# Headers of the route's response that the middleware replaces or recomputes.
_REPLACED_HEADERS = frozenset(
    {b"content-length", b"etag", b"last-modified", b"cache-control", b"date", b"server"}
)


@dataclass(frozen=True)
class _Validators:
    """The validators of the last response kept for a key, and the newest Last-Modified sent.

    `newest` is later than `last_modified` when a response rendered while a newer snapshot
    arrived was sent with a different body, which is served but not kept.
    """

    etag: str | None  # None when no response of the key was kept yet
    last_modified: datetime
    newest: datetime


@dataclass(frozen=True)
class CachedResponse:
    """A 200 response kept for one snapshot, with its validators."""

    headers: tuple[tuple[bytes, bytes], ...]  # the route's headers without _REPLACED_HEADERS
    body: bytes
    etag: str  # quoted, strong
    last_modified: datetime  # UTC, whole seconds


class ResponseCache:
    """Responses and computed values that are valid for one snapshot.

    Not thread-safe: it is used from the event loop only.
    """

    def __init__(
        self,
        max_entries: int = MAX_ENTRIES,
        max_bytes: int = MAX_BYTES,
        max_validators: int = MAX_VALIDATORS,
    ) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.max_validators = max_validators
        self._snapshot: Snapshot | None = None
        self._responses: dict[str, CachedResponse] = {}
        self._bytes = 0
        self._values: dict[str, Any] = {}
        self._validators: OrderedDict[str, _Validators] = OrderedDict()

    def _switch_to(self, snapshot: Snapshot) -> None:
        if snapshot is not self._snapshot:
            self._snapshot = snapshot
            self._responses.clear()
            self._values.clear()
            self._bytes = 0

    def get(self, snapshot: Snapshot, key: str) -> CachedResponse | None:
        """Return the response kept for `key` in this snapshot, or None."""
        self._switch_to(snapshot)
        return self._responses.get(key)

    def put(
        self, snapshot: Snapshot, key: str, headers: tuple[tuple[bytes, bytes], ...], body: bytes
    ) -> CachedResponse:
        """Add validators to a rendered body and keep it while there is room.

        Last-Modified moves only when the body changes, as the ETag does. A new body gets the
        snapshot's build time in whole seconds, or LAST_MODIFIED_STEP after the newest
        Last-Modified sent for the key when that is later. A client that sends only
        If-Modified-Since thus gets every new body, even one built within the same second as
        the body it has. After a burst of changes, Last-Modified may lie a few seconds ahead of
        the clock. A key whose validators were dropped at MAX_VALIDATORS starts again from the
        build time.
        """
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        built_at = snapshot.built_at.astimezone(UTC).replace(microsecond=0)
        previous = self._validators.get(key)
        if previous is None:
            last_modified = built_at
        elif previous.etag == etag and previous.last_modified == previous.newest:
            last_modified = previous.last_modified
        else:
            last_modified = max(built_at, previous.newest + LAST_MODIFIED_STEP)
        response = CachedResponse(headers, body, etag, last_modified)
        # A response rendered while a newer snapshot arrived is served once, but neither kept
        # nor remembered as the key's body, because its body may come from either snapshot.
        # Its Last-Modified is remembered, so the next body gets a later one.
        if snapshot is not self._snapshot:
            if previous is None:
                self._remember(key, _Validators(None, last_modified, last_modified))
            else:
                newest = max(previous.newest, last_modified)
                self._remember(key, _Validators(previous.etag, previous.last_modified, newest))
            return response

        self._remember(key, _Validators(etag, last_modified, last_modified))
        if self._has_room(key, len(body)):
            self._bytes += len(body)
            self._responses[key] = response
        return response

    def _remember(self, key: str, validators: _Validators) -> None:
        self._validators[key] = validators
        self._validators.move_to_end(key)
        while len(self._validators) > self.max_validators:
            self._validators.popitem(last=False)

    def _has_room(self, key: str, size: int) -> bool:
        if key in self._responses:
            return False
        return len(self._responses) < self.max_entries and self._bytes + size <= self.max_bytes

    async def value(self, snapshot: Snapshot, key: str, compute: Callable[[], Awaitable[T]]) -> T:
        """Return a value computed once per snapshot, such as data read from the store."""
        self._switch_to(snapshot)
        if key in self._values:
            found: T = self._values[key]
            return found
        computed = await compute()
        if snapshot is self._snapshot:
            self._values[key] = computed
        return computed


class PublicCacheMiddleware:
    """Serve public GET and HEAD responses from a `ResponseCache`, with validators.

    `is_public(path)` selects the paths whose responses depend only on what the module
    docstring lists. Requests other than GET, HEAD and OPTIONS under /api/ get
    `Cache-Control: no-store`, because their responses show data right after a write.
    """

    def __init__(self, app: ASGIApp, is_public: Callable[[str], bool]) -> None:
        self.app = app
        self.is_public = is_public

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        path = scope["path"]
        if method not in ("GET", "HEAD") or not self.is_public(path):
            if method != "OPTIONS" and path.startswith("/api/"):
                send = _with_no_store(send)
            await self.app(scope, receive, send)
            return

        state = scope["app"].state
        cache: ResponseCache = state.responses
        snapshot: Snapshot = state.context.monitor.snapshot
        key = cache_key(scope, include_host=state.context.config.site.url is None)
        cached = cache.get(snapshot, key)
        if cached is None:
            # A HEAD request runs the route as GET, so the kept response has its body.
            status, headers, body = await _run(self.app, {**scope, "method": "GET"}, receive)
            if status != 200:
                await _send(send, status, headers, b"" if method == "HEAD" else body)
                return
            kept = tuple((name, value) for name, value in headers if name not in _REPLACED_HEADERS)
            cached = cache.put(snapshot, key, kept, body)

        if not_modified(Headers(scope=scope), cached):
            await _send(send, 304, _validator_headers(cached), b"")
            return
        headers = [
            *cached.headers,
            *_validator_headers(cached),
            (b"content-length", str(len(cached.body)).encode("latin-1")),
        ]
        await _send(send, 200, headers, b"" if method == "HEAD" else cached.body)


def cache_key(scope: Scope, include_host: bool) -> str:
    """Return the key of a request: path, relevant query parameters and maybe the host.

    Every value of a repeated parameter is part of the key, in the order sent, because
    routes read the last one. The sort by name is stable, so it keeps that order.
    """
    query = scope.get("query_string", b"").decode("latin-1")
    parameters = sorted(
        (
            (name, value)
            for name, value in parse_qsl(query, keep_blank_values=True)
            if name in QUERY_PARAMETERS
        ),
        key=lambda parameter: parameter[0],
    )
    key: str = scope["path"]
    if parameters:
        key += "?" + urlencode(parameters)
    if include_host:
        host = Headers(scope=scope).get("host", "")
        key = f"{scope.get('scheme', 'http')}://{host}{key}"
    return key


def not_modified(request_headers: Headers, cached: CachedResponse) -> bool:
    """Evaluate If-None-Match, or else If-Modified-Since, as RFC 9110 section 13.2.2 orders.

    If-None-Match uses the weak comparison, so a `W/` prefix that a proxy added still matches.
    """
    if_none_match = request_headers.get("if-none-match")
    if if_none_match is not None:
        tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return "*" in tags or cached.etag in tags
    if_modified_since = request_headers.get("if-modified-since")
    if if_modified_since is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        return False
    # Last-Modified grows with every new body (`ResponseCache.put`), so an earlier date
    # means the client has an older body.
    return cached.last_modified <= since


def _validator_headers(cached: CachedResponse) -> list[tuple[bytes, bytes]]:
    return [
        (b"etag", cached.etag.encode("latin-1")),
        (b"last-modified", format_datetime(cached.last_modified, usegmt=True).encode("latin-1")),
        (b"cache-control", PUBLIC_CACHE_CONTROL.encode("latin-1")),
    ]


async def _run(
    app: ASGIApp, scope: Scope, receive: Receive
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Run the app and collect its whole response."""
    start: Message = {}
    chunks: list[bytes] = []

    async def collect(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            start = message
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, collect)
    return start["status"], list(start.get("headers", [])), b"".join(chunks)


async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _with_no_store(send: Send) -> Send:
    async def send_no_store(message: Message) -> None:
        if message["type"] == "http.response.start":
            MutableHeaders(scope=message)["Cache-Control"] = NO_STORE
        await send(message)

    return send_no_store
