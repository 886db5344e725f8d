"""HTTP probe: one request per run, redirects followed by hand, body read up to a limit.

Every `Result.reason` built here is safe for a public page. It never contains a host name, URL,
IP address, header value, response body or raw exception message. Operator-only figures go to
`Result.details`.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import logging
import socket
import ssl
import time
import zlib
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from statuspage.conditions import check_conditions
from statuspage.config import DEFAULT_USER_AGENT, HttpCheck
from statuspage.result import Failure, Outcome, Result

__all__ = ["HttpProbe", "create_client"]

logger = logging.getLogger(__name__)

# Only the encodings that `_BodyDecoder` can decode with a bounded output size.
ACCEPT_ENCODING = "gzip, deflate"

# Headers that must not follow a redirect to another origin (scheme, host and port).
_CROSS_ORIGIN_DROPPED = frozenset({"authorization", "proxy-authorization", "cookie", "host"})

# OpenSSL X509_V_ERR_* codes, from openssl/x509_vfy.h.
_VERIFY_REASONS = {
    2: "TLS certificate issued by an unknown authority",  # UNABLE_TO_GET_ISSUER_CERT
    9: "TLS certificate not yet valid",  # CERT_NOT_YET_VALID
    10: "TLS certificate expired",  # CERT_HAS_EXPIRED
    18: "TLS certificate is self-signed",  # DEPTH_ZERO_SELF_SIGNED_CERT
    19: "TLS certificate is self-signed",  # SELF_SIGNED_CERT_IN_CHAIN
    20: "TLS certificate issued by an unknown authority",  # UNABLE_TO_GET_ISSUER_CERT_LOCALLY
    21: "TLS certificate issued by an unknown authority",  # UNABLE_TO_VERIFY_LEAF_SIGNATURE
    62: "TLS certificate does not match the host",  # HOSTNAME_MISMATCH
    64: "TLS certificate does not match the host",  # IP_ADDRESS_MISMATCH
}

# Bounds the walk over `__cause__`, `__context__` and exception groups.
_MAX_CHAINED_EXCEPTIONS = 64


def create_client(*, verify: ssl.SSLContext | bool = True) -> httpx.AsyncClient:
    """Create the HTTP client that all HTTP checks share.

    The client never stores or sends cookies, adds no credentials and ignores proxy and .netrc
    settings from the environment, so a check sends only what its own settings contain.
    Redirects are left to `HttpProbe`, which applies each check's own limit. `verify` is
    httpx's TLS verification setting. By default httpx trusts the certifi CA bundle.
    """
    # A policy that allows no domain makes the jar reject every Set-Cookie.
    cookie_jar = http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    return httpx.AsyncClient(
        auth=None,
        verify=verify,
        cookies=cookie_jar,
        # Fallbacks only: config puts a User-Agent into every check's headers.
        headers={"User-Agent": DEFAULT_USER_AGENT, "Accept-Encoding": ACCEPT_ENCODING},
        trust_env=False,
        follow_redirects=False,
        # Each request passes its check's own timeout.
        timeout=httpx.Timeout(10.0),
        # Idle connections expire after 5 s, so runs at ordinary intervals open a fresh
        # connection and see DNS, connect and TLS failures like a new visitor would.
        limits=httpx.Limits(
            max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0
        ),
    )


class _CheckFailed(Exception):
    """A failure found while following redirects or reading the body."""

    def __init__(self, failure: Failure, reason: str) -> None:
        super().__init__(reason)
        self.failure = failure
        self.reason = reason


@dataclass
class _Progress:
    """Figures for `Result.details` that stay valid when a run ends with an exception."""

    redirects: int = 0
    status_code: int | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def as_details(self) -> dict[str, Any]:
        details: dict[str, Any] = {"redirects": self.redirects}
        if self.status_code is not None:
            details["status_code"] = self.status_code
        details.update(self.details)
        return details


class HttpProbe:
    """Probe for one HTTP check: a request plus redirects, judged by status, body and latency."""

    def __init__(self, component_id: str, settings: HttpCheck, client: httpx.AsyncClient) -> None:
        self.component_id = component_id
        self.settings = settings
        self.client = client
        self._timeout = httpx.Timeout(settings.timeout)

    async def close(self) -> None:
        """Do nothing, because the client is shared and its owner closes it."""

    async def run(self) -> Result:
        """Run the check once and return its result.

        Every `Exception` becomes a failed result, so only cancellation and other
        `BaseException`s propagate.
        """
        started_at = datetime.now(UTC)
        start = time.perf_counter()
        progress = _Progress()
        try:
            # httpx limits each read, but only this deadline stops a server that sends a
            # few bytes just before every read timeout.
            async with asyncio.timeout(self.settings.timeout):
                return await self._exchange(started_at, start, progress)
        except _CheckFailed as exc:
            return self._failed(started_at, exc.failure, exc.reason, progress)
        except (TimeoutError, httpx.TimeoutException) as exc:
            return self._failed_by_exception(started_at, exc, progress)
        except httpx.TransportError as exc:
            if isinstance(exc, httpx.UnsupportedProtocol | httpx.LocalProtocolError):
                return self._invalid_settings(started_at, exc, progress)
            return self._failed_by_exception(started_at, exc, progress)
        except httpx.InvalidURL as exc:
            return self._invalid_settings(started_at, exc, progress)
        except Exception as exc:
            logger.exception("HTTP check %s failed with an unexpected error", self.component_id)
            progress.details["error"] = type(exc).__name__
            return self._failed(
                started_at, Failure.INTERNAL, "internal error in the check", progress
            )

    async def _exchange(self, started_at: datetime, start: float, progress: _Progress) -> Result:
        settings = self.settings
        first_url = httpx.URL(settings.url)
        url = first_url
        method = settings.method
        seen = {_without_fragment(url)}

        while True:
            headers = _headers_for(url, first_url, settings.headers)
            request = self.client.build_request(method, url, headers=headers, timeout=self._timeout)
            response = await self.client.send(request, stream=True)
            try:
                progress.status_code = response.status_code
                if not (settings.follow_redirects and response.has_redirect_location):
                    return await self._judge(response, started_at, start, progress)

                url = _redirect_url(url, response)
                key = _without_fragment(url)
                if key in seen:
                    raise _CheckFailed(Failure.REDIRECT, "redirect loop")
                if progress.redirects >= settings.max_redirects:
                    raise _CheckFailed(
                        Failure.REDIRECT, f"too many redirects (more than {settings.max_redirects})"
                    )
                seen.add(key)
                progress.redirects += 1
                method = _redirect_method(method, response.status_code)
            finally:
                await response.aclose()

    async def _judge(
        self, response: httpx.Response, started_at: datetime, start: float, progress: _Progress
    ) -> Result:
        settings = self.settings
        status = response.status_code
        if status not in settings.expected_status:
            # The body is not read, because it cannot change the verdict and may be slow or large.
            return Result(
                component_id=self.component_id,
                time=started_at,
                outcome=Outcome.FAILED,
                latency=time.perf_counter() - start,
                failure=Failure.STATUS,
                reason=f"HTTP {status}",
                details=progress.as_details(),
            )

        body, body_bytes, too_large = await self._read_body(response)
        latency = time.perf_counter() - start
        progress.details["body_bytes"] = body_bytes

        message: str | None = None
        if settings.conditions:
            if too_large:
                message = f"response body larger than {_format_size(settings.max_body_bytes)}"
            else:
                message = check_conditions(settings.conditions, body)
        if message is not None:
            return Result(
                component_id=self.component_id,
                time=started_at,
                outcome=Outcome.FAILED,
                latency=latency,
                failure=Failure.CONDITION,
                reason=message,
                details=progress.as_details(),
            )

        threshold = settings.degraded_response_time
        if threshold is not None and latency > threshold:
            return Result(
                component_id=self.component_id,
                time=started_at,
                outcome=Outcome.DEGRADED,
                latency=latency,
                reason=f"slow response ({latency:.1f} s, threshold {threshold:g} s)",
                details=progress.as_details(),
            )
        return Result(
            component_id=self.component_id,
            time=started_at,
            outcome=Outcome.OK,
            latency=latency,
            details=progress.as_details(),
        )

    async def _read_body(self, response: httpx.Response) -> tuple[bytes, int, bool]:
        """Read at most `max_body_bytes` of the body.

        Returns the decoded body, the number of bytes read and whether the body is larger than
        the limit. Without conditions nothing looks at the body, so it is counted in raw bytes,
        not kept, and reading stops at the limit without marking the body as too large.
        """
        limit = self.settings.max_body_bytes
        chunks = response.aiter_raw()
        try:
            if not self.settings.conditions:
                return b"", await _count_bytes(chunks, limit), False
            decoder = _BodyDecoder(response.headers.get("Content-Encoding", ""))
            return await _collect_body(chunks, decoder, limit)
        finally:
            # httpx declares an AsyncIterator but returns an async generator. Closing it here
            # ends its stream context now instead of whenever it is garbage-collected.
            if isinstance(chunks, AsyncGenerator):
                await chunks.aclose()

    def _failed(
        self, started_at: datetime, failure: Failure, reason: str, progress: _Progress
    ) -> Result:
        logger.debug("HTTP check %s failed: %s (%s)", self.component_id, failure, reason)
        return Result(
            component_id=self.component_id,
            time=started_at,
            outcome=Outcome.FAILED,
            failure=failure,
            reason=reason,
            details=progress.as_details(),
        )

    def _failed_by_exception(
        self, started_at: datetime, exc: Exception, progress: _Progress
    ) -> Result:
        failure, reason, cause = _classify_error(exc, self.settings.timeout)
        progress.details["error"] = type(exc).__name__
        if cause is not exc:
            progress.details["cause"] = type(cause).__name__
        return self._failed(started_at, failure, reason, progress)

    def _invalid_settings(
        self, started_at: datetime, exc: Exception, progress: _Progress
    ) -> Result:
        # The exception message may quote the URL, which can contain credentials.
        logger.error(
            "HTTP check %s cannot send its request (%s): check its url and headers",
            self.component_id,
            type(exc).__name__,
        )
        progress.details["error"] = type(exc).__name__
        return self._failed(started_at, Failure.INTERNAL, "invalid check settings", progress)


class _BodyDecoder:
    """Incremental Content-Encoding decoder whose output per call has a maximum size.

    httpx decodes each network read in full, so a small compressed response can expand to
    far more memory than the body limit. zlib's `max_length` keeps the output bounded.
    """

    def __init__(self, content_encoding: str) -> None:
        coding = content_encoding.strip().lower()
        self._zlib: Any = None
        self._deflate_first_attempt = False
        if coding in ("", "identity"):
            return
        if coding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif coding == "deflate":
            # "deflate" should carry a zlib header, but some servers send raw deflate data.
            self._zlib = zlib.decompressobj()
            self._deflate_first_attempt = True
        else:
            raise _CheckFailed(
                Failure.CONDITION, "response body uses an unsupported content encoding"
            )

    def decode(self, data: bytes, max_length: int) -> bytes:
        """Decode `data` into at most `max_length` bytes (at least 1).

        Output shorter than `max_length` means all of `data` was consumed.
        """
        if self._zlib is None:
            return data[:max_length]
        try:
            output: bytes = self._zlib.decompress(data, max_length)
        except zlib.error:
            if not self._deflate_first_attempt:
                raise _CheckFailed(
                    Failure.CONDITION, "response body has invalid compressed data"
                ) from None
            self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
            self._deflate_first_attempt = False
            return self.decode(data, max_length)
        self._deflate_first_attempt = False
        return output

    def flush(self) -> bytes:
        if self._zlib is None:
            return b""
        try:
            output: bytes = self._zlib.flush()
        except zlib.error:
            raise _CheckFailed(
                Failure.CONDITION, "response body has invalid compressed data"
            ) from None
        return output


async def _count_bytes(chunks: AsyncIterator[bytes], limit: int) -> int:
    """Return how many bytes arrived, reading no further once `limit` is reached."""
    received = 0
    async for chunk in chunks:
        received += len(chunk)
        if received >= limit:
            return limit
    return received


async def _collect_body(
    chunks: AsyncIterator[bytes], decoder: _BodyDecoder, limit: int
) -> tuple[bytes, int, bool]:
    """Return the decoded body, its size and whether it is larger than `limit`."""
    body = bytearray()
    async for chunk in chunks:
        # One byte more than the limit is enough to know that the body is too large.
        body += decoder.decode(chunk, limit + 1 - len(body))
        if len(body) > limit:
            return b"", limit, True
    body += decoder.flush()
    if len(body) > limit:
        return b"", limit, True
    return bytes(body), len(body), False


def _headers_for(
    url: httpx.URL, first_url: httpx.URL, headers: tuple[tuple[str, str], ...]
) -> list[tuple[str, str]]:
    """Return the configured headers, without credentials once a redirect leaves the origin."""
    if _origin(url) == _origin(first_url):
        return list(headers)
    return [(name, value) for name, value in headers if name.lower() not in _CROSS_ORIGIN_DROPPED]


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    default_port = {"http": 80, "https": 443}.get(url.scheme)
    return (url.scheme, url.host, url.port or default_port)


def _without_fragment(url: httpx.URL) -> str:
    return str(url.copy_with(fragment=None))


def _redirect_url(current: httpx.URL, response: httpx.Response) -> httpx.URL:
    try:
        url = current.join(response.headers["Location"])
    except httpx.InvalidURL:
        raise _CheckFailed(Failure.REDIRECT, "invalid redirect location") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise _CheckFailed(Failure.REDIRECT, "redirect to an unsupported URL")
    return url


def _redirect_method(method: str, status_code: int) -> str:
    """Return the method for the next request.

    Like browsers, switch to GET after a 303 (except for HEAD) and after a 301 or 302 to a POST.
    """
    if status_code == httpx.codes.SEE_OTHER and method != "HEAD":
        return "GET"
    if status_code in (httpx.codes.FOUND, httpx.codes.MOVED_PERMANENTLY) and method == "POST":
        return "GET"
    return method


def _format_size(size: int) -> str:
    for unit, factor in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} bytes"


def _exception_chain(exc: BaseException) -> Iterator[BaseException]:
    """Yield `exc`, the exceptions it was raised from and the members of exception groups."""
    pending: list[BaseException] = [exc]
    seen: set[int] = set()
    while pending and len(seen) < _MAX_CHAINED_EXCEPTIONS:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                pending.append(linked)


def _classify_error(exc: Exception, timeout: float) -> tuple[Failure, str, BaseException]:
    """Return the failure class, a public reason and the exception that decided both.

    Several causes can appear in one chain (a TLS error wrapped in a reset, say), so each
    class is searched over the whole chain in order of how specific it is.
    """
    chain = list(_exception_chain(exc))

    def find(kind: type[BaseException] | tuple[type[BaseException], ...]) -> BaseException | None:
        return next((item for item in chain if isinstance(item, kind)), None)

    if (found := find((TimeoutError, httpx.TimeoutException))) is not None:
        return Failure.TIMEOUT, f"timed out after {timeout:g} s", found
    if (found := find(socket.gaierror)) is not None:
        return Failure.DNS, "DNS lookup failed", found
    if (found := find(ssl.SSLCertVerificationError)) is not None:
        assert isinstance(found, ssl.SSLCertVerificationError)
        reason = _VERIFY_REASONS.get(found.verify_code, "TLS certificate verification failed")
        return Failure.TLS, reason, found
    if (found := find(ssl.SSLError)) is not None:
        return Failure.TLS, "TLS handshake failed", found
    if (found := find(ConnectionRefusedError)) is not None:
        return Failure.REFUSED, "connection refused", found
    if (found := find(ConnectionResetError)) is not None:
        return Failure.CONNECTION, "connection reset", found
    if (found := find(httpx.RemoteProtocolError)) is not None:
        return Failure.CONNECTION, "invalid or incomplete HTTP response", found
    return Failure.CONNECTION, "connection failed", exc
