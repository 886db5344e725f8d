"""Operator sessions, CSRF protection and API keys for the admin area and the write API.

Interface used by the admin and API route modules:

- `@operator_required` on an admin endpoint: a request without a valid session is
  redirected (303) to /admin/login, with `next` set to the page for GET requests. With a
  session, `request.state.operator` is the operator's name.
- `await verified_form(request)`: parse a submitted form and check its CSRF token. Raises
  HTTPException(403) when the token is missing or wrong, and always in an endpoint that is
  not wrapped in `@operator_required`.
- `csrf_token(request)`: the token to put in a hidden `csrf_token` field of every form.
- `@api_key_required` on a write API endpoint: a request without a valid
  `Authorization: Bearer KEY` gets a 401 JSON error. With a valid key,
  `request.state.operator` is "api key NAME". API requests need no CSRF token, because a
  browser never sends the key on its own.

Sessions: the cookie contains a random token, and the database stores only its SHA-256.
A session ends after 12 hours without a request, 7 days after the login, at logout, or when
the operator's password is changed. Each login creates a new session and ends the one the
browser had.
The cookie is HttpOnly, SameSite=Lax, limited to /admin, and Secure when the request arrived
over HTTPS. Behind a proxy that terminates TLS, uvicorn must trust the proxy's
X-Forwarded-Proto header, or the cookie is sent without Secure. `statuspage serve` keeps
uvicorn's default (0.55): it trusts X-Forwarded-Proto and X-Forwarded-For from 127.0.0.1 and
::1 only. For a proxy on another host, set FORWARDED_ALLOW_IPS to its address. The same
setting decides which client address the login rate limits count.

The login form is protected by a random token in a cookie that the form repeats, because no
session exists yet. Within 15 minutes, an account name may fail 5 logins from one client
address, a client address 20 logins for any accounts, and an account name 100 logins from all
addresses together. The first two limits stop guessing from one address, and they block an
account name only at the addresses that sent the failures, so an attacker with one address
cannot lock the operator out. The third limit stops guessing spread over many addresses.
`statuspage admin unlock NAME` and `statuspage admin set-password NAME` clear an account's
failures. The failures are kept in SQLite, so a restart does not reset them.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import logging
import math
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from starlette.datastructures import FormData, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from statuspage import accounts, passwords
from statuspage.web.api_errors import ApiError
from statuspage.web.context import AppContext

logger = logging.getLogger(__name__)

Endpoint = Callable[[Request], Awaitable[Response]]

ADMIN_PREFIX = "/admin"
LOGIN_PATH = "/admin/login"
HOME_PATH = "/admin/"
SESSION_COOKIE = "statuspage_session"
LOGIN_CSRF_COOKIE = "statuspage_login_csrf"

LOGIN_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS = 5
MAX_FAILURES_PER_ADDRESS = 20
MAX_FAILURES_PER_ACCOUNT = 100
# The login form is the only form that anyone can send. Browsers send Content-Length with a
# form, so a request without one, or with more than this, is rejected before it is read.
MAX_LOGIN_FORM_BYTES = 16 * 1024
# ASCII digits only: str.isdigit() also accepts characters such as "²" that int() rejects.
_CONTENT_LENGTH = re.compile(r"[0-9]+")
# Longer Content-Length values exceed MAX_LOGIN_FORM_BYTES whatever they are, and int()
# rejects strings of more than 4300 digits, so they are rejected before conversion.
_MAX_CONTENT_LENGTH_DIGITS = 9
# Longer names cannot exist (see accounts.OPERATOR_NAME_PATTERN); this bounds rate limit keys
# and log lines.
MAX_LOGIN_NAME_LENGTH = 100

# Sent with every response under /admin: never cached (pages show tokens and unpublished
# text), never framed (clickjacking), no Referer with query strings to other sites.
ADMIN_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


# Guards used by other route modules


def operator_required(endpoint: Endpoint) -> Endpoint:
    """Run the endpoint only for a logged-in operator; redirect anyone else to the login."""

    @functools.wraps(endpoint)
    async def guarded(request: Request) -> Response:
        session = await _current_session(request)
        if session is None:
            return _redirect_to_login(request)
        request.state.operator = session.operator_name
        request.state.csrf_token = session.csrf_token
        return await endpoint(request)

    return guarded


def api_key_required(endpoint: Endpoint) -> Endpoint:
    """Run the endpoint only with a valid API key in `Authorization: Bearer KEY`."""

    @functools.wraps(endpoint)
    async def guarded(request: Request) -> Response:
        key = _bearer_token(request)
        if key is None:
            raise _unauthorized(
                "missing API key: send the header 'Authorization: Bearer KEY' with a key from "
                "`statuspage admin create-key NAME`",
                invalid_key=False,
            )

        context = _context(request)
        api_key = await context.store.call(
            accounts.api_key_by_hash, context.store.db, accounts.token_hash(key)
        )
        now = _now()
        if api_key is None:
            logger.warning(
                "API request %s %s from %s rejected: unknown API key",
                request.method,
                request.url.path,
                _client_address(request),
            )
            raise _unauthorized(
                "invalid API key: check the key, or create one with "
                "`statuspage admin create-key NAME`"
            )
        state = api_key.state(now)
        if state != "active":
            logger.warning(
                "API request %s %s from %s rejected: API key %d (%s) is %s",
                request.method,
                request.url.path,
                _client_address(request),
                api_key.id,
                api_key.name,
                state,
            )
            if state == "revoked":
                assert api_key.revoked_at is not None
                problem = f"was revoked at {api_key.revoked_at.isoformat()}"
            else:
                assert api_key.expires_at is not None
                problem = f"expired at {api_key.expires_at.isoformat()}"
            raise _unauthorized(
                f"API key {api_key.prefix}... {problem}: "
                "create a new one with `statuspage admin create-key NAME`"
            )

        await context.store.call(accounts.mark_api_key_used, context.store.db, api_key.id, now)
        request.state.operator = f"api key {api_key.name}"
        return await endpoint(request)

    return guarded


async def verified_form(request: Request) -> FormData:
    """Parse the submitted form and check its `csrf_token` field, or raise HTTPException(403)."""
    form = await request.form()
    if not _tokens_match(form.get("csrf_token"), getattr(request.state, "csrf_token", None)):
        logger.warning(
            "form %s %s from %s rejected: missing or wrong CSRF token",
            request.method,
            request.url.path,
            _client_address(request),
        )
        raise HTTPException(
            403,
            "The form's security token is missing or expired: reload the page and submit again.",
        )
    return form


def csrf_token(request: Request) -> str:
    """Return the token for the hidden `csrf_token` field of a form."""
    token = getattr(request.state, "csrf_token", None)
    if not isinstance(token, str):
        raise RuntimeError("csrf_token() works only in endpoints wrapped in @operator_required")
    return token


class AdminHeadersMiddleware:
    """Add ADMIN_HEADERS to every response under /admin, error pages and redirects included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_admin_path(scope["path"]):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in ADMIN_HEADERS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


# Pages


@operator_required
async def admin_index(request: Request) -> Response:
    return _context(request).templates.TemplateResponse(request, "admin/index.html", {})


async def login(request: Request) -> Response:
    if request.method == "POST":
        return await _submit_login(request)
    return await _show_login(request)


@operator_required
async def logout(request: Request) -> Response:
    await verified_form(request)
    context = _context(request)
    token = request.cookies.get(SESSION_COOKIE, "")
    await context.store.call(accounts.delete_session, context.store.db, accounts.token_hash(token))
    logger.info("operator %s logged out", request.state.operator)

    response = RedirectResponse(LOGIN_PATH, status_code=303)
    _delete_cookie(request, response, SESSION_COOKIE)
    return response


routes: list[BaseRoute] = [
    Route("/", admin_index, name="admin_index"),
    Route("/login", login, methods=["GET", "POST"], name="admin_login"),
    Route("/logout", logout, methods=["POST"], name="admin_logout"),
]


# Login


async def _show_login(request: Request) -> Response:
    next_path = safe_next_path(request.query_params.get("next"))
    if await _current_session(request) is not None:
        return RedirectResponse(next_path, status_code=303)
    # Computed here, off the event loop, so the first failed login for an unknown name does
    # not take longer than the others.
    await asyncio.to_thread(passwords.dummy_hash)
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or accounts.new_token()
    return _login_page(request, token, next_path=next_path)


async def _submit_login(request: Request) -> Response:
    context = _context(request)
    address = _client_address(request)
    cookie_token = request.cookies.get(LOGIN_CSRF_COOKIE)
    _check_login_form_size(request)
    form = await request.form()
    next_path = safe_next_path(_text(form.get("next")))
    name = _text(form.get("name")).strip()[:MAX_LOGIN_NAME_LENGTH]
    password = _text(form.get("password"))

    if not _tokens_match(form.get("csrf_token"), cookie_token):
        logger.warning("login form from %s rejected: missing or wrong CSRF token", address)
        return _login_page(
            request,
            accounts.new_token(),
            next_path=next_path,
            name=name,
            error="form_expired",
            status_code=403,
        )

    now = _now()
    limits = [
        accounts.RateLimit(
            accounts.account_address_key(name, address),
            MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS,
            LOGIN_WINDOW,
        ),
        accounts.RateLimit(accounts.address_key(address), MAX_FAILURES_PER_ADDRESS, LOGIN_WINDOW),
        accounts.RateLimit(accounts.account_key(name), MAX_FAILURES_PER_ACCOUNT, LOGIN_WINDOW),
    ]
    attempt = await context.store.call(accounts.start_login_attempt, context.store.db, limits, now)
    if attempt.retry_at is not None:
        # Not a warning: the failures that reached the limit were logged already.
        logger.info("login for account %r from %s rejected: too many failed logins", name, address)
        wait = max(1, math.ceil((attempt.retry_at - now).total_seconds()))
        response = _login_page(
            request,
            cookie_token or accounts.new_token(),
            next_path=next_path,
            name=name,
            error="rate_limited",
            retry_at=attempt.retry_at,
            status_code=429,
        )
        response.headers["Retry-After"] = str(wait)
        return response

    operator_id = await _check_password(context, name, password)
    if operator_id is None:
        logger.warning("failed login for account %r from %s", name, address)
        return _login_page(
            request,
            cookie_token or accounts.new_token(),
            next_path=next_path,
            name=name,
            error="invalid",
        )

    await context.store.call(accounts.forget_login_attempt, context.store.db, attempt)
    response = RedirectResponse(next_path, status_code=303)
    await _start_session(request, response, operator_id, now)
    _delete_cookie(request, response, LOGIN_CSRF_COOKIE)
    logger.info("operator %s logged in from %s", name, address)
    return response


def _check_login_form_size(request: Request) -> None:
    length = request.headers.get("content-length", "")
    if not _CONTENT_LENGTH.fullmatch(length):
        raise HTTPException(411, "The login form must be sent with a Content-Length header.")
    if len(length) > _MAX_CONTENT_LENGTH_DIGITS or int(length) > MAX_LOGIN_FORM_BYTES:
        raise HTTPException(
            413, f"The login form is larger than {MAX_LOGIN_FORM_BYTES} bytes: send a shorter name."
        )


async def _check_password(context: AppContext, name: str, password: str) -> int | None:
    """Return the operator's id when the password is right, or None.

    Takes one argon2 verification whether the account exists or not.
    """
    credentials = None
    if accounts.operator_name_problem(name) is None:
        credentials = await context.store.call(
            accounts.operator_credentials, context.store.db, name
        )
    if credentials is None:
        await asyncio.to_thread(passwords.verify_dummy_password, password)
        return None

    operator_id, password_hash = credentials
    if not await asyncio.to_thread(passwords.verify_password, password_hash, password):
        return None
    if passwords.needs_rehash(password_hash):
        new_hash = await asyncio.to_thread(passwords.hash_password, password)
        await context.store.call(
            accounts.upgrade_password_hash, context.store.db, operator_id, new_hash
        )
    return operator_id


async def _start_session(
    request: Request, response: Response, operator_id: int, now: datetime
) -> None:
    """Create a new session and set its cookie; end the session the browser had, if any."""
    context = _context(request)
    previous = request.cookies.get(SESSION_COOKIE)
    if previous:
        await context.store.call(
            accounts.delete_session, context.store.db, accounts.token_hash(previous)
        )

    token = accounts.new_token()
    await context.store.call(
        accounts.create_session,
        context.store.db,
        operator_id,
        accounts.token_hash(token),
        accounts.new_token(),
        now,
    )
    # No Max-Age: the browser deletes the cookie when it closes, and the server ends the
    # session after its idle timeout or maximum age either way.
    response.set_cookie(
        SESSION_COOKIE,
        token,
        path=ADMIN_PREFIX,
        secure=_is_https(request),
        httponly=True,
        samesite="lax",
    )


def _login_page(
    request: Request,
    token: str,
    *,
    next_path: str,
    name: str = "",
    error: str | None = None,
    retry_at: datetime | None = None,
    status_code: int = 200,
) -> Response:
    """Render the login form and set the cookie its CSRF token is checked against."""
    request.state.csrf_token = token
    response = _context(request).templates.TemplateResponse(
        request,
        "admin/login.html",
        {"name": name, "next_path": next_path, "error": error, "retry_at": retry_at},
        status_code=status_code,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        path=ADMIN_PREFIX,
        secure=_is_https(request),
        httponly=True,
        samesite="lax",
    )
    return response


def safe_next_path(value: str | None) -> str:
    """Return `value` when it is a local path under /admin, otherwise the admin home.

    Only such paths may follow a login, so a link to the login page cannot send the operator to
    another site (an open redirect) or back to the login itself.
    """
    if not value or not value.isprintable() or "\\" in value or value.startswith("//"):
        return HOME_PATH
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return HOME_PATH
    if parts.path != ADMIN_PREFIX and not parts.path.startswith(ADMIN_PREFIX + "/"):
        return HOME_PATH
    if ".." in parts.path.split("/") or parts.path.startswith(LOGIN_PATH):
        return HOME_PATH
    return value


# Helpers


async def _current_session(request: Request) -> accounts.Session | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    context = _context(request)
    return await context.store.call(
        accounts.active_session, context.store.db, accounts.token_hash(token), _now()
    )


def _redirect_to_login(request: Request) -> Response:
    location = LOGIN_PATH
    if request.method in ("GET", "HEAD"):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        location += "?" + urlencode({"next": target})
    response = RedirectResponse(location, status_code=303)
    if SESSION_COOKIE in request.cookies:
        _delete_cookie(request, response, SESSION_COOKIE)
    return response


def _bearer_token(request: Request) -> str | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    credentials = credentials.strip()
    if scheme.lower() != "bearer" or not credentials:
        return None
    return credentials


def _unauthorized(message: str, invalid_key: bool = True) -> HTTPException:
    """Build an ApiError(401) with the WWW-Authenticate challenge of RFC 6750."""
    challenge = 'Bearer realm="statuspage"'
    if invalid_key:
        challenge += ', error="invalid_token"'
    error = ApiError(401, message)
    error.headers = {"WWW-Authenticate": challenge}
    return error


def _tokens_match(submitted: Any, expected: str | None) -> bool:
    if not isinstance(submitted, str) or not isinstance(expected, str) or not expected:
        return False
    return hmac.compare_digest(submitted.encode("utf-8"), expected.encode("utf-8"))


def _delete_cookie(request: Request, response: Response, name: str) -> None:
    response.delete_cookie(
        name, path=ADMIN_PREFIX, secure=_is_https(request), httponly=True, samesite="lax"
    )


def _is_admin_path(path: str) -> bool:
    return path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")


def _is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def _client_address(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def _context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


def _text(value: Any) -> str:
    """Return a form field's text. An uploaded file or a missing field counts as empty."""
    return value if isinstance(value, str) else ""


def _now() -> datetime:
    return datetime.now(UTC)
