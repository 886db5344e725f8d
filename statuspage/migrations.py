"""Numbered schema migrations, tracked in SQLite's `user_version`.

Append new steps to MIGRATIONS; never edit a step that has shipped, because databases that
already ran it will not run it again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import sqlite_utils

logger = logging.getLogger(__name__)

# A row that refers to a missing row: its table, its rowid and the table it refers to.
ForeignKeyProblem = tuple[str, int | None, str]


def _create_history_tables(db: sqlite_utils.Database) -> None:
    db.table("results").create(
        {
            "id": int,
            "component_id": str,
            "time": str,  # ISO 8601 in UTC, millisecond precision
            "outcome": str,
            "latency_ms": float,
            "failure": str,
            "reason": str,
        },
        pk="id",
        not_null={"component_id", "time", "outcome", "reason"},
    )
    db.table("results").create_index(["component_id", "time"])
    db.table("results").create_index(["time"])

    db.table("transitions").create(
        {
            "id": int,
            "component_id": str,
            "time": str,
            "from_state": str,
            "to_state": str,
            "reason": str,
        },
        pk="id",
        not_null={"component_id", "time", "from_state", "to_state", "reason"},
    )
    db.table("transitions").create_index(["component_id", "time"])

    db.table("component_status").create(
        {
            "component_id": str,
            "state": str,
            "since": str,
            "failures": int,
            "successes": int,
            "last_checked_at": str,
            "last_outcome": str,
            "last_latency_ms": float,
            "last_reason": str,
        },
        pk="component_id",
        not_null={"state", "failures", "successes", "last_reason"},
    )

    db.execute(
        """
        create table daily_rollups (
            component_id text not null,
            day text not null,  -- local date in the site's time zone, YYYY-MM-DD
            operational_s real not null default 0,
            degraded_s real not null default 0,
            down_s real not null default 0,
            maintenance_s real not null default 0,
            no_data_s real not null default 0,
            runs integer not null default 0,
            failed_runs integer not null default 0,
            latency_count integer not null default 0,
            latency_sum_ms real not null default 0,
            latency_min_ms real,
            latency_max_ms real,
            primary key (component_id, day)
        ) without rowid
        """
    )


def _add_observing_flag(db: sqlite_utils.Database) -> None:
    # 0 after a clean stop: the time until the next run was not observed and must not count.
    db.execute("alter table component_status add column observing integer not null default 1")


def _create_operator_tables(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        create table operators (
            id integer primary key,
            name text not null unique,
            password_hash text not null,  -- argon2id, encoded with its parameters
            created_at text not null,
            password_changed_at text not null
        )
        """
    )
    db.execute(
        """
        create table sessions (
            token_hash text primary key,  -- SHA-256 of the cookie value; the value is not stored
            operator_id integer not null references operators(id) on delete cascade,
            csrf_token text not null,
            created_at text not null,
            last_seen_at text not null,
            expires_at text not null
        )
        """
    )
    db.execute("create index sessions_operator on sessions(operator_id)")
    db.execute(
        """
        create table login_attempts (
            key text not null,  -- "account:NAME" or "address:IP"
            time text not null
        )
        """
    )
    db.execute("create index login_attempts_key_time on login_attempts(key, time)")
    db.execute(
        """
        create table api_keys (
            id integer primary key,
            name text not null,
            prefix text not null,  -- first characters of the key, shown to tell keys apart
            key_hash text not null unique,  -- SHA-256 of the whole key
            created_at text not null,
            expires_at text,
            last_used_at text,
            revoked_at text
        )
        """
    )


def _create_incident_tables(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        create table incidents (
            id integer primary key,
            title text not null,
            impact text not null,  -- none, minor, major, critical
            status text not null,  -- investigating, identified, monitoring, resolved
            created_at text not null,
            updated_at text not null,
            resolved_at text,
            postmortem text,  -- Markdown source
            deleted_at text  -- set by a delete; the incident can be restored
        )
        """
    )
    db.execute(
        """
        create table incident_components (
            incident_id integer not null references incidents(id) on delete cascade,
            component_id text not null,
            state text not null,  -- degraded, partial_outage, major_outage
            primary key (incident_id, component_id)
        )
        """
    )
    db.execute(
        """
        create table incident_updates (
            id integer primary key,
            incident_id integer not null references incidents(id) on delete cascade,
            status text not null,
            body text not null,  -- Markdown source; rendered and sanitized on display
            display_at text not null,  -- UTC; may be backdated by the operator
            created_at text not null,
            created_by text not null  -- operator name or "api key NAME"
        )
        """
    )
    db.execute(
        "create index incident_updates_incident on incident_updates(incident_id, display_at)"
    )


def _create_maintenance_tables(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        create table maintenances (
            id integer primary key,
            title text not null,
            description text not null default '',  -- Markdown source
            timezone text not null,  -- IANA name the schedule and local times refer to
            schedule text,  -- cron expression of start times for a recurring maintenance
            start_time text,  -- local HH:MM, recurring only
            end_time text,  -- local HH:MM, recurring only; not after start_time: the next day
            created_at text not null,
            updated_at text not null,
            deleted_at text
        )
        """
    )
    db.execute(
        """
        create table maintenance_components (
            maintenance_id integer not null references maintenances(id) on delete cascade,
            component_id text not null,
            primary key (maintenance_id, component_id)
        )
        """
    )
    db.execute(
        """
        create table maintenance_windows (
            id integer primary key,
            maintenance_id integer not null references maintenances(id) on delete cascade,
            starts_at text not null,  -- UTC
            ends_at text not null,  -- UTC; moved later when the operator extends the window
            ended_at text,  -- UTC; set when the operator ends the window early
            cancelled_at text,
            unique (maintenance_id, starts_at)
        )
        """
    )
    db.execute("create index maintenance_windows_time on maintenance_windows(starts_at, ends_at)")
    db.execute(
        """
        create table maintenance_updates (
            id integer primary key,
            maintenance_id integer not null references maintenances(id) on delete cascade,
            window_id integer references maintenance_windows(id) on delete cascade,
            body text not null,
            display_at text not null,
            created_at text not null,
            created_by text not null
        )
        """
    )


def _create_hourly_rollups(db: sqlite_utils.Database) -> None:
    # The same seconds as daily_rollups, by UTC hour, for the uptime of the last 24 hours.
    # Rows are deleted with the raw results, after 14 days.
    db.execute(
        """
        create table hourly_rollups (
            component_id text not null,
            hour text not null,  -- start of the UTC hour, stored like every other time
            operational_s real not null default 0,
            degraded_s real not null default 0,
            down_s real not null default 0,
            maintenance_s real not null default 0,
            no_data_s real not null default 0,
            primary key (component_id, hour)
        ) without rowid
        """
    )
    db.execute("create index hourly_rollups_hour on hourly_rollups(hour)")


def _rebuild_maintenance_windows(db: sqlite_utils.Database) -> None:
    """Give maintenance windows ids that are never reused, and components of their own.

    SQLite adds AUTOINCREMENT only when a table is created, so the table is rebuilt as its
    documentation describes: create the new table, copy the rows, drop the old table, rename
    the new one and recreate the indexes. `migrate` turns foreign keys off around the step,
    because dropping the old table would otherwise delete every update about a window.
    """
    db.execute(
        """
        create table maintenance_windows_new (
            -- AUTOINCREMENT: a deleted window's id is never given to another window, because
            -- feeds, calendars and links identify windows by id.
            id integer primary key autoincrement,
            maintenance_id integer not null references maintenances(id) on delete cascade,
            starts_at text not null,  -- UTC
            ends_at text not null,  -- UTC; moved later when the operator extends the window
            ended_at text,  -- UTC; set when the operator ends the window early
            cancelled_at text,
            -- 1 when an edit of the maintenance's schedule cancelled the window, so a later
            -- edit that plans the same start again restores it; 0 for an operator's cancel.
            cancelled_by_edit integer not null default 0,
            -- UTC, whole seconds: the last stored change to the window, or to its maintenance
            -- while the window was not over. Each change moves it at least one second past the
            -- one before, so calendar SEQUENCE and DTSTAMP move even within one second.
            revised_at text,
            unique (maintenance_id, starts_at)
        )
        """
    )
    db.execute(
        """
        insert into maintenance_windows_new
            (id, maintenance_id, starts_at, ends_at, ended_at, cancelled_at)
        select id, maintenance_id, starts_at, ends_at, ended_at, cancelled_at
        from maintenance_windows
        """
    )
    db.execute("drop table maintenance_windows")
    db.execute("alter table maintenance_windows_new rename to maintenance_windows")
    db.execute("create index maintenance_windows_time on maintenance_windows(starts_at, ends_at)")

    # Components per window, so an edit can change the windows that have not started and
    # leave the history of the others alone.
    db.execute(
        """
        create table maintenance_window_components (
            window_id integer not null references maintenance_windows(id) on delete cascade,
            component_id text not null,
            primary key (window_id, component_id)
        )
        """
    )
    db.execute(
        """
        insert into maintenance_window_components (window_id, component_id)
        select w.id, c.component_id
        from maintenance_windows w join maintenance_components c
            on c.maintenance_id = w.maintenance_id
        order by w.id, c.rowid
        """
    )


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _create_history_tables,
    _add_observing_flag,
    _create_operator_tables,
    _create_incident_tables,
    _create_maintenance_tables,
    _create_hourly_rollups,
    _rebuild_maintenance_windows,
]


def migrate(db: sqlite_utils.Database) -> None:
    """Run every migration newer than the database's `user_version`, each in a transaction.

    Foreign keys are off while the steps run, so a step may rebuild a table that other tables
    refer to. A step commits only when it leaves no new row that refers to a missing row, as
    `PRAGMA foreign_key_check` reports them.
    """
    current = db.execute("pragma user_version").fetchone()[0]
    if current > len(MIGRATIONS):
        raise RuntimeError(
            f"database schema version {current} is newer than this statuspage "
            f"({len(MIGRATIONS)}); upgrade statuspage or use a backup of the database"
        )
    if current == len(MIGRATIONS):
        return
    foreign_keys = db.execute("pragma foreign_keys").fetchone()[0]
    # SQLite ignores this pragma inside a transaction, so it is set before the first one.
    db.execute("pragma foreign_keys = off")
    try:
        for version, step in enumerate(MIGRATIONS[current:], start=current + 1):
            with db.conn:
                db.execute("begin immediate")
                before = _foreign_key_problems(db)
                step(db)
                _check_no_new_problems(before, _foreign_key_problems(db), version)
                db.execute(f"pragma user_version = {version}")
            logger.info("database migrated to schema version %d", version)
    finally:
        db.execute(f"pragma foreign_keys = {'on' if foreign_keys else 'off'}")


def _foreign_key_problems(db: sqlite_utils.Database) -> set[ForeignKeyProblem]:
    """Return (table, rowid, parent table) of each row that refers to a missing row."""
    return {(row[0], row[1], row[2]) for row in db.execute("pragma foreign_key_check")}


def _check_no_new_problems(
    before: set[ForeignKeyProblem], after: set[ForeignKeyProblem], version: int
) -> None:
    """Raise RuntimeError, which rolls the step back, when the step broke a reference.

    Rows that referred to missing rows before the step are left alone: the step did not
    cause them, and refusing to start over them would lock the operator out of an upgrade.
    """
    new = sorted(after - before, key=repr)
    if new:
        table, rowid, parent = new[0]
        raise RuntimeError(
            f"schema migration {version} would leave {len(new)} rows that refer to missing "
            f"rows, the first in table {table} (rowid {rowid}, parent table {parent}), so it "
            "was rolled back; report this as a bug in statuspage"
        )
