"""Operators, login sessions, failed logins and API keys in SQLite.

Every function takes the Store's `db` first. Web code calls them through
`await store.call(function, store.db, ...)`, the command line calls them directly.
Session tokens and API keys are stored only as SHA-256 hashes: a copy of the database is not
enough to log in or to call the API.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import sqlite_utils

from statuspage.store import from_text, to_text

# An idle session ends after SESSION_IDLE_TIMEOUT without a request, and every session ends
# SESSION_MAX_AGE after the login, however active.
SESSION_IDLE_TIMEOUT = timedelta(hours=12)
SESSION_MAX_AGE = timedelta(days=7)

API_KEY_PREFIX = "sp_"
# "sp_" and the first 7 random characters: enough to tell keys apart, far too few to guess one.
API_KEY_SHOWN_LENGTH = 10
# The API writes `last_used_at` at most this often per key.
API_KEY_USE_PRECISION = timedelta(minutes=1)

OPERATOR_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
MAX_API_KEY_NAME_LENGTH = 64


class DuplicateOperator(Exception):
    """An operator with this name (compared without case) already exists."""


@dataclass(frozen=True)
class Operator:
    id: int
    name: str
    created_at: datetime
    password_changed_at: datetime


@dataclass(frozen=True)
class Session:
    operator_id: int
    operator_name: str
    csrf_token: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class ApiKey:
    id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    def state(self, now: datetime) -> str:
        """Return "revoked", "expired" or "active", as of `now`."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


@dataclass(frozen=True)
class RateLimit:
    """At most `max_failures` failed logins for `key` within `window`."""

    key: str
    max_failures: int
    window: timedelta


@dataclass(frozen=True)
class LoginAttempt:
    """A login attempt counted against its rate limits, or rejected by one of them."""

    row_ids: list[int]
    retry_at: datetime | None  # set when a limit was reached, and then nothing was recorded


# Tokens


def new_token() -> str:
    """Return 256 random bits in URL-safe base64, for a session token or a CSRF token."""
    return secrets.token_urlsafe(32)


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """Return the SHA-256 of a session token or API key in hex, as stored in the database."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# Operators


def operator_name_problem(name: str) -> str | None:
    """Return why `name` cannot be an operator name, or None when it can."""
    if OPERATOR_NAME_PATTERN.fullmatch(name):
        return None
    return (
        f"invalid operator name {name!r}: use 1 to 64 characters, letters (a-z, A-Z), digits, "
        "'.', '_', '-' or '@', starting with a letter or a digit"
    )


def create_operator(
    db: sqlite_utils.Database, name: str, password_hash: str, now: datetime
) -> Operator:
    """Insert an operator, or raise DuplicateOperator when the name exists in any case."""
    with db.conn:
        db.execute("begin immediate")
        existing = db.execute(
            "select name from operators where name = ? collate nocase", [name]
        ).fetchone()
        if existing is not None:
            raise DuplicateOperator(existing[0])
        try:
            cursor = db.execute(
                "insert into operators (name, password_hash, created_at, password_changed_at) "
                "values (?, ?, ?, ?)",
                [name, password_hash, to_text(now), to_text(now)],
            )
        except sqlite3.IntegrityError:
            raise DuplicateOperator(name) from None
    return Operator(
        id=int(cursor.lastrowid or 0), name=name, created_at=now, password_changed_at=now
    )


def operator_credentials(db: sqlite_utils.Database, name: str) -> tuple[int, str] | None:
    """Return the id and password hash of the operator `name` (any case), or None."""
    row = db.execute(
        "select id, password_hash from operators where name = ? collate nocase", [name]
    ).fetchone()
    return (row[0], row[1]) if row is not None else None


def operator_by_name(db: sqlite_utils.Database, name: str) -> Operator | None:
    row = _first(db.query("select * from operators where name = ? collate nocase", [name]))
    return _operator(row) if row is not None else None


def operators(db: sqlite_utils.Database) -> list[Operator]:
    return [_operator(row) for row in db.query("select * from operators order by name")]


def change_password(
    db: sqlite_utils.Database, operator_id: int, password_hash: str, now: datetime
) -> int:
    """Replace an operator's password, end all their sessions and return how many ended."""
    with db.conn:
        db.execute("begin immediate")
        db.execute(
            "update operators set password_hash = ?, password_changed_at = ? where id = ?",
            [password_hash, to_text(now), operator_id],
        )
        cursor = db.execute("delete from sessions where operator_id = ?", [operator_id])
    return int(cursor.rowcount)


def upgrade_password_hash(db: sqlite_utils.Database, operator_id: int, password_hash: str) -> None:
    """Store a hash of the same password made with newer parameters. Sessions stay valid."""
    with db.conn:
        db.execute(
            "update operators set password_hash = ? where id = ?", [password_hash, operator_id]
        )


def _operator(row: dict[str, Any]) -> Operator:
    return Operator(
        id=row["id"],
        name=row["name"],
        created_at=_time(row["created_at"]),
        password_changed_at=_time(row["password_changed_at"]),
    )


# Sessions


def create_session(
    db: sqlite_utils.Database, operator_id: int, session_hash: str, csrf_token: str, now: datetime
) -> None:
    """Store a new session and delete every expired one."""
    expires_at = now + min(SESSION_IDLE_TIMEOUT, SESSION_MAX_AGE)
    with db.conn:
        db.execute("begin immediate")
        db.execute("delete from sessions where expires_at <= ?", [to_text(now)])
        db.execute(
            "insert into sessions "
            "(token_hash, operator_id, csrf_token, created_at, last_seen_at, expires_at) "
            "values (?, ?, ?, ?, ?, ?)",
            [
                session_hash,
                operator_id,
                csrf_token,
                to_text(now),
                to_text(now),
                to_text(expires_at),
            ],
        )


def active_session(db: sqlite_utils.Database, session_hash: str, now: datetime) -> Session | None:
    """Return the unexpired session with this token hash and extend its idle timeout.

    The new expiry is SESSION_IDLE_TIMEOUT from now, but never later than SESSION_MAX_AGE after
    the login.
    """
    row = db.execute(
        "select s.operator_id, o.name, s.csrf_token, s.created_at, s.expires_at "
        "from sessions s join operators o on o.id = s.operator_id "
        "where s.token_hash = ? and s.expires_at > ?",
        [session_hash, to_text(now)],
    ).fetchone()
    if row is None:
        return None
    created_at = _time(row[3])
    expires_at = min(now + SESSION_IDLE_TIMEOUT, created_at + SESSION_MAX_AGE)
    with db.conn:
        db.execute(
            "update sessions set last_seen_at = ?, expires_at = ? where token_hash = ?",
            [to_text(now), to_text(expires_at), session_hash],
        )
    return Session(
        operator_id=row[0],
        operator_name=row[1],
        csrf_token=row[2],
        created_at=created_at,
        expires_at=expires_at,
    )


def delete_session(db: sqlite_utils.Database, session_hash: str) -> bool:
    with db.conn:
        cursor = db.execute("delete from sessions where token_hash = ?", [session_hash])
    return bool(cursor.rowcount)


# Failed logins

# Rate limit keys in login_attempts: "account:NAME", "address:IP" and
# "account:NAME address:IP" for the pair. NAME is lowercased and percent-encoded except for
# letters, digits and "_.-~@", so valid operator names stay readable, and a key never has a
# space inside NAME.


def account_key(name: str) -> str:
    """Return the rate limit key of failed logins for an account name, from any address."""
    return "account:" + quote(name.lower(), safe="@")


def address_key(address: str) -> str:
    """Return the rate limit key of failed logins from a client address, for any account."""
    return f"address:{address}"


def account_address_key(name: str, address: str) -> str:
    """Return the rate limit key of failed logins for one account from one client address."""
    return f"{account_key(name)} address:{address}"


def clear_login_failures(db: sqlite_utils.Database, name: str) -> int:
    """Delete the failed logins counted for an account, from every address; return how many.

    Failures counted per client address stay: they belong to the address, not the account.
    """
    key = account_key(name)
    pair_prefix = f"{key} address:"
    with db.conn:
        cursor = db.execute(
            "delete from login_attempts where key = ? or substr(key, 1, ?) = ?",
            [key, len(pair_prefix), pair_prefix],
        )
    return int(cursor.rowcount)


def start_login_attempt(
    db: sqlite_utils.Database, limits: list[RateLimit], now: datetime
) -> LoginAttempt:
    """Count a login attempt against each limit, or reject it when a limit is reached.

    An accepted attempt is recorded as a failure before the password is checked, and
    `forget_login_attempt` removes it when the password was right. Counting first means that
    concurrent requests cannot all pass the check before any of them is recorded. Rows older
    than the longest window are deleted on the way.
    """
    longest = max(limit.window for limit in limits)
    with db.conn:
        db.execute("begin immediate")
        db.execute("delete from login_attempts where time <= ?", [to_text(now - longest)])

        retry_at: datetime | None = None
        for limit in limits:
            times = [
                _time(row[0])
                for row in db.execute(
                    "select time from login_attempts where key = ? and time > ? order by time",
                    [limit.key, to_text(now - limit.window)],
                ).fetchall()
            ]
            if len(times) < limit.max_failures:
                continue
            # The limit lets a new attempt through once enough of these failures fall out of
            # the window.
            free_at = times[len(times) - limit.max_failures] + limit.window
            retry_at = free_at if retry_at is None else max(retry_at, free_at)
        if retry_at is not None:
            return LoginAttempt(row_ids=[], retry_at=retry_at)

        row_ids = []
        for limit in limits:
            cursor = db.execute(
                "insert into login_attempts (key, time) values (?, ?)", [limit.key, to_text(now)]
            )
            row_ids.append(int(cursor.lastrowid or 0))
    return LoginAttempt(row_ids=row_ids, retry_at=None)


def forget_login_attempt(db: sqlite_utils.Database, attempt: LoginAttempt) -> None:
    """Remove a successful attempt's rows, so it does not count as a failure."""
    with db.conn:
        for row_id in attempt.row_ids:
            db.execute("delete from login_attempts where rowid = ?", [row_id])


# API keys


def api_key_name_problem(name: str) -> str | None:
    """Return why `name` cannot label an API key, or None when it can."""
    if not name.strip():
        return "the API key name is empty: give a label such as 'deploy-bot'"
    if len(name) > MAX_API_KEY_NAME_LENGTH:
        return (
            f"the API key name is too long ({len(name)} characters): "
            f"use at most {MAX_API_KEY_NAME_LENGTH}"
        )
    if not name.isprintable():
        return f"invalid API key name {name!r}: remove the control characters"
    return None


def create_api_key(
    db: sqlite_utils.Database, name: str, key: str, now: datetime, expires_at: datetime | None
) -> ApiKey:
    """Store a key's SHA-256 and its first characters. The key itself is not stored."""
    prefix = key[:API_KEY_SHOWN_LENGTH]
    with db.conn:
        cursor = db.execute(
            "insert into api_keys (name, prefix, key_hash, created_at, expires_at) "
            "values (?, ?, ?, ?, ?)",
            [name, prefix, token_hash(key), to_text(now), _text(expires_at)],
        )
    return ApiKey(
        id=int(cursor.lastrowid or 0),
        name=name,
        prefix=prefix,
        created_at=now,
        expires_at=expires_at,
        last_used_at=None,
        revoked_at=None,
    )


def api_keys(db: sqlite_utils.Database) -> list[ApiKey]:
    return [_api_key(row) for row in db.query("select * from api_keys order by id")]


def api_key_by_id(db: sqlite_utils.Database, key_id: int) -> ApiKey | None:
    row = _first(db.query("select * from api_keys where id = ?", [key_id]))
    return _api_key(row) if row is not None else None


def api_key_by_hash(db: sqlite_utils.Database, key_hash: str) -> ApiKey | None:
    row = _first(db.query("select * from api_keys where key_hash = ?", [key_hash]))
    return _api_key(row) if row is not None else None


def revoke_api_key(db: sqlite_utils.Database, key_id: int, now: datetime) -> ApiKey | None:
    """Revoke a key and return it. A key revoked before keeps its first revocation time."""
    with db.conn:
        db.execute(
            "update api_keys set revoked_at = ? where id = ? and revoked_at is null",
            [to_text(now), key_id],
        )
    return api_key_by_id(db, key_id)


def mark_api_key_used(db: sqlite_utils.Database, key_id: int, now: datetime) -> None:
    """Set `last_used_at`, unless it was set less than API_KEY_USE_PRECISION ago."""
    with db.conn:
        db.execute(
            "update api_keys set last_used_at = ? "
            "where id = ? and (last_used_at is null or last_used_at <= ?)",
            [to_text(now), key_id, to_text(now - API_KEY_USE_PRECISION)],
        )


def _api_key(row: dict[str, Any]) -> ApiKey:
    return ApiKey(
        id=row["id"],
        name=row["name"],
        prefix=row["prefix"],
        created_at=_time(row["created_at"]),
        expires_at=from_text(row["expires_at"]),
        last_used_at=from_text(row["last_used_at"]),
        revoked_at=from_text(row["revoked_at"]),
    )


def _first(rows: Iterable[dict[str, Any]]) -> dict[str, Any] | None:
    # Read to the end, so that SQLite finishes the statement now instead of at garbage collection.
    found = list(rows)
    return found[0] if found else None


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _text(moment: datetime | None) -> str | None:
    return to_text(moment) if moment is not None else None
