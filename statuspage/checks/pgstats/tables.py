"""Vacuum and freeze state of the tables in the monitored database."""

from __future__ import annotations

from dataclasses import dataclass

from statuspage.checks.pgstats.signal import Poll, Signal, fixed, measure, not_applicable
from statuspage.thresholds import DAY, HOUR, MINUTE, Level

# A table with fewer dead tuples is too small for its dead share to matter, because scanning a
# few thousand rows is cheap however bloated the table is. Autovacuum by default waits for 50
# dead tuples plus 20% of the table (autovacuum_vacuum_threshold, autovacuum_vacuum_scale_factor).
MIN_DEAD_TUPLES = 1000

# The `largest_tables` largest tables and materialized views, partitions included. Partitioned
# parents (relkind 'p') hold no rows, and temporary tables cannot be vacuumed by autovacuum and
# are dropped with their session. pg_total_relation_size counts TOAST and indexes. It takes a
# short ACCESS SHARE lock on each table, so an ACCESS EXCLUSIVE lock held or queued on one makes
# this wait up to lock_timeout.
#
# A table never vacuumed has its age counted from server start, or from the last reset of this
# database's statistics if later. Statistics survive a clean restart but not a crash, so for a
# table that existed at server start this is a lower bound of the time without a vacuum.
# NOTE: a table created after server start and never vacuumed is credited with the whole time
# since server start, because PostgreSQL records no creation time.
LARGEST_TABLES_QUERY = """
with largest as (
    select c.oid, n.nspname, c.relname, c.reltuples, pg_total_relation_size(c.oid) as size
    from pg_class c
    join pg_namespace n on n.oid = c.relnamespace
    where c.relkind in ('r', 'm')
        and c.relpersistence <> 't'
        and n.nspname not in ('pg_catalog', 'information_schema')
        and n.nspname !~ '^pg_toast'
    order by size desc nulls last, c.oid
    limit %s
)
select
    l.nspname || '.' || l.relname,
    coalesce(s.n_live_tup, 0),
    coalesce(s.n_dead_tup, 0),
    greatest(s.last_vacuum, s.last_autovacuum) is not null,
    extract(epoch from now() - coalesce(
        greatest(s.last_vacuum, s.last_autovacuum),
        greatest(
            pg_postmaster_start_time(),
            (select stats_reset from pg_stat_database where datname = current_database())
        )
    )),
    current_setting('autovacuum_vacuum_threshold')::float8
        + current_setting('autovacuum_vacuum_scale_factor')::float8 * greatest(l.reltuples, 0)
from largest l
left join pg_stat_all_tables s on s.relid = l.oid
"""

# Every table, materialized view and TOAST table counts, system catalogs and other sessions'
# temporary tables included, because any of them holds back this database's datfrozenxid. A
# TOAST table is reported as its owner. Partitioned parents, views and sequences have
# relfrozenxid 0, which age() reports as 2^31 - 1, so they must stay out. Table access methods
# that do not use transaction IDs also leave it 0.
TABLE_XID_AGE_QUERY = """
select n.nspname || '.' || o.relname, age(c.relfrozenxid)
from pg_class c
left join pg_class owner on c.relkind = 't' and owner.reltoastrelid = c.oid
join pg_class o on o.oid = coalesce(owner.oid, c.oid)
join pg_namespace n on n.oid = o.relnamespace
where c.relkind in ('r', 'm', 't') and c.relfrozenxid <> '0'
order by age(c.relfrozenxid) desc
limit 1
"""


@dataclass(frozen=True)
class TableStats:
    name: str  # schema.table
    live: int
    dead: int
    vacuumed: bool  # False when the statistics record no vacuum
    vacuum_age: float  # seconds since the last vacuum, or since statistics began
    # Dead tuples at which autovacuum's default settings start a vacuum of this table.
    # NOTE: per-table autovacuum settings (reloptions) are not read, so a table tuned to be
    # vacuumed later may be reported before autovacuum would touch it.
    autovacuum_trigger: float

    @property
    def dead_share(self) -> float:
        return self.dead / (self.live + self.dead)


async def read_tables(poll: Poll) -> list[Signal]:
    limit = poll.settings.largest_tables
    cursor = await poll.connection.execute(LARGEST_TABLES_QUERY, (limit,))
    tables = [
        TableStats(name, live, dead, vacuumed, float(age), float(trigger))
        for name, live, dead, vacuumed, age, trigger in await cursor.fetchall()
    ]
    busy = [table for table in tables if table.dead >= MIN_DEAD_TUPLES]

    signals = [_dead_tuples(poll, tables, busy), _vacuum_age(poll, tables, busy)]

    cursor = await poll.connection.execute(TABLE_XID_AGE_QUERY)
    oldest = await cursor.fetchone()
    if oldest is None:
        signals.append(not_applicable("table_xid_age", "n/a: no tables in this database"))
    else:
        name, age = oldest
        signals.append(
            measure(
                poll,
                "table_xid_age",
                float(age),
                f"oldest unfrozen transaction ID in {name} is {age:,} transactions old",
                subject=name,
            )
        )
    return signals


def _dead_tuples(poll: Poll, tables: list[TableStats], busy: list[TableStats]) -> Signal:
    if not tables:
        return not_applicable("dead_tuples", "n/a: no tables in this database")
    if not busy:
        return fixed("dead_tuples", Level.OK, None, _none_busy(len(tables)))

    # Every busy table has at least MIN_DEAD_TUPLES dead tuples, so no share divides by zero.
    worst = max(busy, key=lambda table: table.dead_share)
    share = worst.dead_share
    return measure(
        poll,
        "dead_tuples",
        share,
        f"{worst.name} has {worst.dead:,} dead tuples, {share:.0%} of {worst.live + worst.dead:,}",
        subject=worst.name,
    )


def _vacuum_age(poll: Poll, tables: list[TableStats], busy: list[TableStats]) -> Signal:
    if not tables:
        return not_applicable("vacuum_age", "n/a: no tables in this database")
    # Only tables past autovacuum's trigger are due for a vacuum. A large table with a small
    # dead share may rightly go weeks without one, and must not raise an alarm for that.
    due = [table for table in busy if table.dead > table.autovacuum_trigger]
    if not due:
        summary = f"no table among the {len(tables)} largest is past autovacuum's trigger"
        return fixed("vacuum_age", Level.OK, None, summary)

    oldest = max(due, key=lambda table: table.vacuum_age)
    seconds = oldest.vacuum_age
    if oldest.vacuumed:
        summary = (
            f"{oldest.name} ({oldest.dead:,} dead tuples) was last vacuumed "
            f"{_duration(seconds)} ago"
        )
    else:
        summary = (
            f"{oldest.name} ({oldest.dead:,} dead tuples) has no vacuum on record for at least "
            f"{_duration(seconds)}, counted from server start or the last statistics reset"
        )
    return measure(poll, "vacuum_age", seconds, summary, subject=oldest.name)


def _none_busy(count: int) -> str:
    return f"none of the {count} largest tables has {MIN_DEAD_TUPLES:,} or more dead tuples"


def _duration(seconds: float) -> str:
    if seconds >= DAY:
        return f"{seconds / DAY:.1f} days"
    if seconds >= HOUR:
        return f"{seconds / HOUR:.1f} hours"
    if seconds >= MINUTE:
        return f"{seconds / MINUTE:.0f} minutes"
    return f"{seconds:.0f} s"
