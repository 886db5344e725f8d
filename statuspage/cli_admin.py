"""`statuspage admin …`: operator accounts and API keys, managed from the command line.

Every subcommand opens the database in `--data-dir` (default: $STATUSPAGE_DATA_DIR or ./data)
and exits 0 on success or 2 on bad input, after a message naming the value and the fix.
"""

from __future__ import annotations

import argparse
import getpass
import os
import re
import sqlite3
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite_utils

# The store, accounts and password modules are imported inside the commands, because every
# `statuspage` command imports this module to build its parser. Importing sqlite-utils alone
# took about 45 ms on a 2-CPU development VM (python -X importtime).

EXIT_OK = 0
EXIT_BAD_INPUT = 2

# SQLite's largest integer, so no key can have a larger id.
MAX_KEY_ID = 2**63 - 1

DURATION_PATTERN = re.compile(r"(\d{1,5})([hdw])")
DURATION_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}

PASSWORD_INPUT_HELP = (
    "The password is read twice from the terminal, without echo. When standard input is not a "
    "terminal, its first line is the password, for scripts: "
    "printf '%%s\\n' \"$PASSWORD\" | statuspage admin %s NAME. "
    "Passwords need at least 12 characters."
)


class InputError(Exception):
    """Bad input from the command line. The message names the value and the fix."""


def add_admin_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    admin = commands.add_parser(
        "admin",
        help="manage operator accounts and API keys",
        description="Manage the operators who log in to /admin and the API keys of /api/v1.",
    )
    subcommands = admin.add_subparsers(dest="admin_command", required=True, metavar="ADMIN_COMMAND")

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data-dir",
        type=Path,
        help="directory of the SQLite database (default: $STATUSPAGE_DATA_DIR or ./data)",
    )

    create_user = subcommands.add_parser(
        "create-user",
        parents=[common],
        help="create an operator account",
        description="Create an operator who can log in to /admin. "
        + PASSWORD_INPUT_HELP % "create-user",
    )
    create_user.add_argument(
        "name",
        metavar="NAME",
        help="login name: 1 to 64 letters, digits, '.', '_', '-' or '@'",
    )

    set_password = subcommands.add_parser(
        "set-password",
        parents=[common],
        help="change a password and end the operator's sessions",
        description="Change an operator's password and log out every browser they use. "
        + PASSWORD_INPUT_HELP % "set-password",
    )
    set_password.add_argument("name", metavar="NAME", help="login name of the operator")

    subcommands.add_parser("list-users", parents=[common], help="list operator accounts")

    unlock = subcommands.add_parser(
        "unlock",
        parents=[common],
        help="clear an operator's failed logins, so they can log in at once",
        description="Clear the failed logins counted for an operator, from every client "
        "address, so a login rate limit no longer blocks them. Failures counted per client "
        "address stay until they are 15 minutes old. set-password clears them too.",
    )
    unlock.add_argument("name", metavar="NAME", help="login name of the operator")

    create_key = subcommands.add_parser(
        "create-key",
        parents=[common],
        help="create an API key and print it once",
        description="Create a key for the write API (header 'Authorization: Bearer KEY'). "
        "The key is printed once on standard output; only its SHA-256 is stored. Several keys "
        "can be valid at once, so a key can be replaced without downtime: create the new one, "
        "deploy it, then revoke the old one.",
    )
    create_key.add_argument("name", metavar="NAME", help="label of the key, such as deploy-bot")
    create_key.add_argument(
        "--expires",
        metavar="DATE|DURATION",
        help="expiry: a date (2027-01-31, meaning 00:00 UTC that day), a date and time with "
        "an offset (2027-01-31T09:00+09:00) or a duration from now in hours, days or weeks "
        "(12h, 90d, 4w); without it the key never expires",
    )

    subcommands.add_parser("list-keys", parents=[common], help="list API keys")

    revoke_key = subcommands.add_parser(
        "revoke-key",
        parents=[common],
        help="revoke an API key at once",
        description="Revoke an API key: requests with it are rejected from now on.",
    )
    revoke_key.add_argument(
        "key_id", metavar="ID", type=key_id, help="id of the key, as shown by list-keys"
    )


def run_admin(args: argparse.Namespace) -> int:
    from statuspage.store import DATABASE_FILE, Store

    command: Callable[[sqlite_utils.Database, argparse.Namespace], int] = COMMANDS[
        args.admin_command
    ]
    data_dir = args.data_dir or Path(os.environ.get("STATUSPAGE_DATA_DIR", "data"))
    try:
        store = Store.open(data_dir)
    except (OSError, sqlite3.Error, RuntimeError) as exc:
        print(f"error: cannot open the database {data_dir / DATABASE_FILE}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        return command(store.db, args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    finally:
        store.close()


# Operators


def create_user(db: sqlite_utils.Database, args: argparse.Namespace) -> int:
    from statuspage import accounts, passwords

    name: str = args.name
    problem = accounts.operator_name_problem(name)
    if problem is not None:
        raise InputError(problem)
    existing = accounts.operator_by_name(db, name)
    if existing is not None:
        raise _duplicate_error(existing.name)

    password = read_new_password()
    try:
        operator = accounts.create_operator(db, name, passwords.hash_password(password), _now())
    except accounts.DuplicateOperator as exc:
        raise _duplicate_error(str(exc)) from None
    print(f"Created operator {operator.name!r}. Log in at /admin/login.")
    return EXIT_OK


def set_password(db: sqlite_utils.Database, args: argparse.Namespace) -> int:
    from statuspage import accounts, passwords

    operator = accounts.operator_by_name(db, args.name)
    if operator is None:
        raise InputError(
            f"no operator named {args.name!r}: see `statuspage admin list-users`, "
            "or create one with `statuspage admin create-user NAME`"
        )

    password = read_new_password()
    ended = accounts.change_password(db, operator.id, passwords.hash_password(password), _now())
    cleared = accounts.clear_login_failures(db, operator.name)
    print(
        f"Changed the password of {operator.name!r}, ended {ended} session(s) and cleared "
        f"{cleared} failed login(s)."
    )
    return EXIT_OK


def unlock(db: sqlite_utils.Database, args: argparse.Namespace) -> int:
    from statuspage import accounts

    operator = accounts.operator_by_name(db, args.name)
    if operator is None:
        raise InputError(f"no operator named {args.name!r}: see `statuspage admin list-users`")
    cleared = accounts.clear_login_failures(db, operator.name)
    print(
        f"Cleared {cleared} failed login(s) of {operator.name!r}: they can log in again from "
        "every address that has not reached its own limit."
    )
    return EXIT_OK


def list_users(db: sqlite_utils.Database, args: argparse.Namespace) -> int:
    from statuspage import accounts

    operators = accounts.operators(db)
    if not operators:
        print("No operators yet: create one with `statuspage admin create-user NAME`.")
        return EXIT_OK
    rows = [
        [operator.name, _time(operator.created_at), _time(operator.password_changed_at)]
        for operator in operators
    ]
    print_table(["NAME", "CREATED", "PASSWORD CHANGED"], rows)
    return EXIT_OK


def read_new_password() -> str:
    """Read a new password from the terminal (twice, no echo) or from stdin's first line."""
    from statuspage.passwords import password_problem

    if sys.stdin.isatty():
        try:
            password = getpass.getpass("New password (at least 12 characters): ")
            problem = password_problem(password)
            if problem is not None:
                raise InputError(problem)
            repeated = getpass.getpass("Repeat the password: ")
        except EOFError:
            raise InputError("no password entered: run the command again") from None
        if repeated != password:
            raise InputError("the two passwords differ: run the command again")
        return password

    password = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    problem = password_problem(password)
    if problem is not None:
        raise InputError(f"{problem} (read from the first line of standard input)")
    return password


def _duplicate_error(existing_name: str) -> InputError:
    return InputError(
        f"an operator named {existing_name!r} already exists (names are compared without "
        f"case): choose another name, or change the password with "
        f"`statuspage admin set-password {existing_name}`"
    )


# API keys


def create_key(db: sqlite_utils.Database, args: argparse.Namespace) -> int:
    from statuspage import accounts

    name: str = args.name.strip()
    problem = accounts.api_key_name_problem(name)
    if problem is not None:
        raise InputError(problem)
    now = _now()
    expires_at = parse_expiry(args.expires, now) if args.expires is not None else None

    key = accounts.new_api_key()
    api_key = accounts.create_api_key(db, name, key, now, expires_at)
    expiry = f"expires {_time(expires_at)}" if expires_at is not None else "never expires"
    # Only the key goes to stdout, so that scripts can capture it. The rest goes to stderr.
    print(key)
    print(
        f"Created API key {api_key.id} {api_key.name!r} ({api_key.prefix}...), {expiry}. "
        "Copy the key now: it is not stored and cannot be shown again.",
        file=sys.stderr,
    )
    return EXIT_OK


def list_keys(db: sqlite_utils.Database, args: argparse.Namespace) -> int:
    from statuspage import accounts

    keys = accounts.api_keys(db)
    if not keys:
        print("No API keys yet: create one with `statuspage admin create-key NAME`.")
        return EXIT_OK
    now = _now()
    rows = [
        [
            str(key.id),
            key.name,
            key.prefix + "...",
            _time(key.created_at),
            _time(key.expires_at) if key.expires_at is not None else "never",
            _time(key.last_used_at) if key.last_used_at is not None else "never",
            _time(key.revoked_at) if key.revoked_at is not None else "-",
            key.state(now),
        ]
        for key in keys
    ]
    print_table(
        ["ID", "NAME", "PREFIX", "CREATED", "EXPIRES", "LAST USED", "REVOKED", "STATE"], rows
    )
    return EXIT_OK


def revoke_key(db: sqlite_utils.Database, args: argparse.Namespace) -> int:
    from statuspage import accounts

    api_key = accounts.api_key_by_id(db, args.key_id)
    if api_key is None:
        raise InputError(f"no API key with id {args.key_id}: see `statuspage admin list-keys`")
    if api_key.revoked_at is not None:
        print(
            f"API key {api_key.id} {api_key.name!r} was already revoked at "
            f"{_time(api_key.revoked_at)}."
        )
        return EXIT_OK

    accounts.revoke_api_key(db, api_key.id, _now())
    print(
        f"Revoked API key {api_key.id} {api_key.name!r} ({api_key.prefix}...): "
        "requests with it are rejected from now on."
    )
    return EXIT_OK


def parse_expiry(text: str, now: datetime) -> datetime:
    """Parse --expires: a date (00:00 UTC), a date and time with offset, or 12h, 90d, 4w."""
    text = text.strip()
    duration = DURATION_PATTERN.fullmatch(text)
    if duration is not None:
        expires_at = now + int(duration[1]) * DURATION_UNITS[duration[2]]
    else:
        expires_at = _parse_moment(text)
    if expires_at <= now:
        raise InputError(
            f"--expires {text} is not in the future: give a later date or a duration such as 90d"
        )
    return expires_at


def _parse_moment(text: str) -> datetime:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        pass
    else:
        if len(text) == len("2027-01-31"):
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"invalid --expires {text!r}: use a date (2027-01-31), a date and time with an "
            "offset (2027-01-31T09:00+09:00) or a duration (12h, 90d, 4w)"
        ) from None
    if moment.tzinfo is None:
        raise InputError(
            f"--expires {text!r} has no UTC offset: add one, such as 2027-01-31T09:00+09:00 "
            "or 2027-01-31T00:00Z"
        )
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        # Within a day of year 1 or 9999, the UTC time is outside datetime's range.
        raise InputError(
            f"--expires {text!r} is outside the supported range: give a date before 9999-12-31"
        ) from None


def key_id(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid key id {text!r}: use the number in the ID column of list-keys"
        ) from None
    if not 1 <= value <= MAX_KEY_ID:
        raise argparse.ArgumentTypeError(
            f"invalid key id {text!r}: use the number in the ID column of list-keys"
        )
    return value


# Output


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(row[column]) for row in [headers, *rows]) for column in range(len(headers))]
    for row in [headers, *rows]:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _now() -> datetime:
    return datetime.now(UTC)


COMMANDS: dict[str, Callable[[sqlite_utils.Database, argparse.Namespace], int]] = {
    "create-user": create_user,
    "set-password": set_password,
    "list-users": list_users,
    "unlock": unlock,
    "create-key": create_key,
    "list-keys": list_keys,
    "revoke-key": revoke_key,
}
