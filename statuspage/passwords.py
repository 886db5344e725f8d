"""Operator passwords: argon2id hashes, verification and the minimum length rule.

Hashing uses argon2-cffi's defaults (argon2id, RFC 9106 low-memory profile in argon2-cffi
25.1: 64 MiB, 3 passes, 4 lanes). One hash or verification took about 0.14 s on a 2-CPU
development VM. The hash string records its parameters, so stored hashes keep verifying after
the defaults change. The login rehashes a password when `needs_rehash` reports its hash as
outdated.
"""

from __future__ import annotations

import functools
import secrets
import threading

import argon2

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024

_hasher = argon2.PasswordHasher()

# Each hash or verification allocates 64 MiB, so a burst of login requests could exhaust
# memory. Callers beyond this number wait for a slot instead.
_slots = threading.BoundedSemaphore(2)


def password_problem(password: str) -> str | None:
    """Return why the password cannot be used, or None when it is acceptable."""
    if not password:
        return "the password is empty: enter at least 12 characters"
    if len(password) < MIN_PASSWORD_LENGTH:
        return (
            f"the password is too short: use at least {MIN_PASSWORD_LENGTH} characters, "
            f"not {len(password)}"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        return (
            f"the password is too long: use at most {MAX_PASSWORD_LENGTH} characters, "
            f"not {len(password)}"
        )
    return None


def hash_password(password: str) -> str:
    """Hash a password with argon2id. The result encodes its salt and parameters."""
    with _slots:
        return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Return whether the password matches the stored hash. A malformed hash never matches."""
    with _slots:
        try:
            return _hasher.verify(password_hash, password)
        except argon2.exceptions.VerificationError:
            return False
        except argon2.exceptions.InvalidHashError:
            return False


def verify_dummy_password(password: str) -> None:
    """Spend the time of one verification, for logins naming an account that does not exist.

    Without this, a failed login for an unknown name would return measurably faster than one
    for a real account, and the timing would tell which account names exist.
    """
    verify_password(dummy_hash(), password)


@functools.cache
def dummy_hash() -> str:
    """Return a hash, with the current parameters, of a random password that is discarded.

    Computed once per process. The login page computes it on its first display, so the first
    failed login does not pay for it.
    """
    return hash_password(secrets.token_urlsafe(32))


def needs_rehash(password_hash: str) -> bool:
    """Return whether the hash was made with other parameters than the current defaults."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except argon2.exceptions.InvalidHashError:
        return True
