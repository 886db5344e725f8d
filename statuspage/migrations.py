"""Numbered schema migrations, tracked in SQLite's `user_version`.

Append new steps to MIGRATIONS; never edit a step that has shipped, because databases that
already ran it will not run it again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import sqlite_utils

logger = logging.getLogger(__name__)


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


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _create_history_tables,
    _add_observing_flag,
]


def migrate(db: sqlite_utils.Database) -> None:
    """Run every migration newer than the database's `user_version`, each in a transaction."""
    current = db.execute("pragma user_version").fetchone()[0]
    if current > len(MIGRATIONS):
        raise RuntimeError(
            f"database schema version {current} is newer than this statuspage "
            f"({len(MIGRATIONS)}); upgrade statuspage or use a backup of the database"
        )
    for version, step in enumerate(MIGRATIONS[current:], start=current + 1):
        with db.conn:
            db.execute("begin immediate")
            step(db)
            db.execute(f"pragma user_version = {version}")
        logger.info("database migrated to schema version %d", version)
