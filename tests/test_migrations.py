"""Schema migrations: the maintenance window rebuild keeps every row and reference."""

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlite_utils

from statuspage import maintenance_store as ms
from statuspage.migrations import MIGRATIONS
from statuspage.store import DATABASE_FILE, Store

# The schema version before maintenance windows got AUTOINCREMENT and their own components.
BEFORE_WINDOW_REBUILD = 6
CREATED = "2026-12-01T03:00:00.000+00:00"


def old_database(path: Path) -> None:
    """Create a database at BEFORE_WINDOW_REBUILD with one maintenance, two windows, updates."""
    connection = sqlite3.connect(path, isolation_level=None)
    db = sqlite_utils.Database(connection)
    for step in MIGRATIONS[:BEFORE_WINDOW_REBUILD]:
        step(db)
    db.execute(f"pragma user_version = {BEFORE_WINDOW_REBUILD}")
    db.execute(
        "insert into maintenances (id, title, timezone, created_at, updated_at) "
        "values (1, 'Upgrade', 'Asia/Tokyo', ?, ?)",
        [CREATED, CREATED],
    )
    for component_id in ("database", "api"):
        db.execute(
            "insert into maintenance_components (maintenance_id, component_id) values (1, ?)",
            [component_id],
        )
    db.execute(
        "insert into maintenance_windows (id, maintenance_id, starts_at, ends_at) values "
        "(3, 1, '2026-12-05T18:00:00.000+00:00', '2026-12-05T18:10:00.000+00:00'), "
        "(7, 1, '2026-12-12T18:00:00.000+00:00', '2026-12-12T18:10:00.000+00:00')"
    )
    db.execute(
        "insert into maintenance_updates "
        "(maintenance_id, window_id, body, display_at, created_at, created_by) values "
        "(1, 7, 'About the second window', ?, ?, 'alice'), "
        "(1, null, 'About the maintenance', ?, ?, 'alice')",
        [CREATED, CREATED, CREATED, CREATED],
    )
    connection.close()


@pytest.fixture
def migrated(tmp_path: Path) -> Iterator[Store]:
    old_database(tmp_path / DATABASE_FILE)
    store = Store.open(tmp_path)
    yield store
    store.close()


def test_migration_keeps_window_ids(migrated: Store) -> None:
    assert [w.id for w in ms.windows_of(migrated.db, 1)] == [3, 7]


def test_migration_keeps_window_updates(migrated: Store) -> None:
    assert [u.window_id for u in ms.updates_of(migrated.db, 1)] == [7, None]


def test_migration_leaves_no_broken_reference(migrated: Store) -> None:
    assert migrated.db.execute("pragma foreign_key_check").fetchall() == []


def test_migration_gives_windows_maintenance_components(migrated: Store) -> None:
    components = [w.components for w in ms.windows_of(migrated.db, 1)]
    assert components == [("database", "api"), ("database", "api")]


def test_migration_turns_foreign_keys_back_on(migrated: Store) -> None:
    assert migrated.db.execute("pragma foreign_keys").fetchone()[0] == 1


def test_migrated_windows_use_autoincrement(migrated: Store) -> None:
    schema = migrated.db.execute(
        "select sql from sqlite_master where name = 'maintenance_windows'"
    ).fetchone()[0]
    assert "autoincrement" in schema


def test_migrated_window_index_is_recreated(migrated: Store) -> None:
    indexes = [index.name for index in migrated.db.table("maintenance_windows").indexes]
    assert "maintenance_windows_time" in indexes


def test_deleting_migrated_window_deletes_its_updates(migrated: Store) -> None:
    migrated.db.execute("delete from maintenance_windows where id = 7")
    assert [u.body for u in ms.updates_of(migrated.db, 1)] == ["About the maintenance"]


def test_new_window_after_migration_gets_next_id(migrated: Store) -> None:
    migrated.db.execute("delete from maintenance_windows where id = 7")
    migrated.db.execute(
        "insert into maintenance_windows (maintenance_id, starts_at, ends_at) "
        "values (1, '2026-12-19T18:00:00.000+00:00', '2026-12-19T18:10:00.000+00:00')"
    )
    assert [w.id for w in ms.windows_of(migrated.db, 1)] == [3, 8]


def test_failed_migration_rolls_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old_database(tmp_path / DATABASE_FILE)

    def break_reference(db: sqlite_utils.Database) -> None:
        db.execute("drop table maintenance_windows")

    monkeypatch.setattr(
        "statuspage.migrations.MIGRATIONS", [*MIGRATIONS[:BEFORE_WINDOW_REBUILD], break_reference]
    )
    with pytest.raises(RuntimeError, match="rows that refer to missing rows"):
        Store.open(tmp_path)
    connection = sqlite3.connect(tmp_path / DATABASE_FILE)
    assert connection.execute("pragma user_version").fetchone()[0] == BEFORE_WINDOW_REBUILD
    connection.close()
