"""Partitions of each configured parent: count, size balance, default partition, range coverage.

Every reading comes from the catalogs, statistics and relation sizes, so a role with only
pg_monitor and CONNECT can read them, without SELECT on the tables.
"""

from __future__ import annotations

from dataclasses import dataclass

from statuspage.checks.pgstats.signal import (
    Poll,
    Signal,
    fixed,
    measure,
    not_applicable,
    unknown,
)
from statuspage.config import PartitionedTable
from statuspage.thresholds import DAY, MIB, Level

# Below this total size, fixed per-relation overhead dominates and a few rows in one hash bucket
# would read as a large imbalance. An empty logs partition of the test schema takes 16 KiB on
# PostgreSQL 16 (the B-tree metapages of its primary key and TOAST index), under 2% of 8 MiB
# for 10 partitions.
BALANCE_MINIMUM_BYTES = 8 * MIB

PARENT_QUERY = """
select
    c.oid,
    c.relkind,
    p.partstrat,
    p.partdefid,
    p.partnatts,
    format_type(a.atttypid, a.atttypmod),
    a.atttypid in ('date'::regtype, 'timestamp'::regtype, 'timestamptz'::regtype)
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
left join pg_partitioned_table p on p.partrelid = c.oid
left join pg_attribute a
    on a.attrelid = c.oid and p.partnatts = 1 and a.attnum = p.partattrs[0]
where n.nspname = %s and c.relname = %s
"""

# PostgreSQL 14 added DETACH PARTITION ... CONCURRENTLY. Until it finishes, the partition stays
# in pg_inherits with inhdetachpending set, but new queries no longer see it in the parent.
DETACH_PENDING = "i.inhdetachpending"
NO_DETACH_PENDING = "false"

COUNT_QUERY = """
select count(*) filter (where not {pending}), count(*) filter (where {pending})
from pg_inherits i
where i.inhparent = %s
"""

# Each direct partition with the size of its leaves, because a sub-partitioned partition has
# no storage of its own. pg_total_relation_size takes a short ACCESS SHARE lock on each leaf,
# so an ACCESS EXCLUSIVE lock held or queued on a partition makes this wait for lock_timeout.
SIZES_QUERY = """
select
    n.nspname || '.' || c.relname,
    substring(pg_get_expr(c.relpartbound, c.oid) from 'modulus (\\d+)')::int,
    (
        select coalesce(sum(pg_total_relation_size(t.relid)), 0)
        from pg_partition_tree(c.oid) t
        where t.isleaf
    )
from pg_inherits i
join pg_class c on c.oid = i.inhrelid
join pg_namespace n on n.oid = c.relnamespace
where i.inhparent = %s and c.oid <> %s and not {pending}
"""

# The live-row estimate of each leaf of the default partition, from statistics only. A leaf
# whose statistics show changes, a vacuum or an analyze gives n_live_tup. Otherwise it gives
# pg_class.reltuples, where -1 means never vacuumed or analyzed, or 0 if its heap file is empty.
# A leaf with none of these has no estimate, and the reading is unknown rather than zero.
DEFAULT_ROWS_QUERY = """
select
    n.nspname || '.' || d.relname,
    sum(leaf.estimate),
    coalesce(bool_or(leaf.estimate is null), false)
from pg_class d
join pg_namespace n on n.oid = d.relnamespace
cross join lateral (
    select
        case
            when s.n_live_tup > 0
                or s.n_dead_tup > 0
                or s.n_tup_ins + s.n_tup_upd + s.n_tup_del > 0
                or coalesce(s.last_vacuum, s.last_autovacuum, s.last_analyze, s.last_autoanalyze)
                    is not null
                then s.n_live_tup::float8
            when c.reltuples >= 0 then c.reltuples::float8
            when pg_relation_size(c.oid) = 0 then 0
        end as estimate
    from pg_partition_tree(d.oid) t
    join pg_class c on c.oid = t.relid
    left join pg_stat_all_tables s on s.relid = t.relid
    where t.isleaf
) leaf
where d.oid = %s
group by n.nspname, d.relname
"""

# The upper bound of each range partition, parsed from its text form such as
# FOR VALUES FROM ('2024-01-01 00:00:00+00') TO ('2024-02-01 00:00:00+00'). The text and the
# cast both use this session's DateStyle and TimeZone, so the value survives the round trip.
# A date or timestamp bound is read in the session's TimeZone, as PostgreSQL compares a
# timestamp with now(). 'infinity' is unlimited like MAXVALUE.
RANGE_QUERY = """
with bounds as (
    select pg_get_expr(c.relpartbound, c.oid) as bound
    from pg_inherits i
    join pg_class c on c.oid = i.inhrelid
    where i.inhparent = %s and not {pending}
),
uppers as (
    select
        bound = 'DEFAULT' as is_default,
        bound ~ 'TO \\(MAXVALUE\\)$' as unlimited,
        substring(bound from 'TO \\(''([^'']*)''\\)$')::timestamptz as upper_bound
    from bounds
)
select
    count(*) filter (where not is_default),
    coalesce(bool_or(unlimited or upper_bound = 'infinity'), false),
    extract(epoch from max(upper_bound) filter (where upper_bound <> 'infinity') - now())
from uppers
"""

STRATEGIES = {"h": "hash", "l": "list", "r": "range"}


@dataclass(frozen=True)
class Parent:
    """A configured parent that exists and is partitioned."""

    table: PartitionedTable
    oid: int
    strategy: str  # "hash", "list" or "range"
    default_oid: int  # 0 when the parent has no default partition
    key_columns: int
    key_type: str | None  # None when the key is an expression or has several columns
    time_key: bool  # a single date, timestamp or timestamptz column


async def read_partitions(poll: Poll) -> list[Signal]:
    signals: list[Signal] = []
    for table in poll.settings.partitioned_tables:
        signals.extend(await _read_parent(poll, table))
    return signals


async def _read_parent(poll: Poll, table: PartitionedTable) -> list[Signal]:
    subject = table.name
    cursor = await poll.connection.execute(PARENT_QUERY, (table.schema, table.table))
    row = await cursor.fetchone()

    if row is None or row[1] != "p" or row[2] is None:
        summary = f"{subject} not found" if row is None else f"{subject} is not a partitioned table"
        why = f"n/a: {summary}"
        return [
            fixed("partitions", Level.CRITICAL, None, summary, subject),
            not_applicable("partition_balance", why, subject),
            not_applicable("default_partition_rows", why, subject),
            not_applicable("partitions_ahead", why, subject),
        ]

    oid, _, strategy, default_oid, key_columns, key_type, time_key = row
    parent = Parent(
        table=table,
        oid=oid,
        strategy=STRATEGIES.get(strategy, str(strategy)),
        default_oid=default_oid,
        key_columns=key_columns,
        key_type=key_type,
        time_key=bool(time_key),
    )
    pending = DETACH_PENDING if poll.server_version_num >= 140000 else NO_DETACH_PENDING
    return [
        await _partitions(poll, parent, pending),
        await _balance(poll, parent, pending),
        await _default_rows(poll, parent),
        await _ahead(poll, parent, pending),
    ]


async def _partitions(poll: Poll, parent: Parent, pending: str) -> Signal:
    subject = parent.table.name
    cursor = await poll.connection.execute(COUNT_QUERY.format(pending=pending), (parent.oid,))
    row = await cursor.fetchone()
    assert row is not None
    attached, detaching = row
    detaching_note = f" ({detaching} being detached)" if detaching else ""

    expected = parent.table.partitions
    if expected is None:
        summary = f"{attached} partitions attached{detaching_note}"
        return fixed("partitions", Level.OK, attached, summary, subject)
    if attached < expected:
        level = Level.CRITICAL
        summary = f"{attached} of {expected} partitions attached{detaching_note}"
    elif attached > expected:
        level = Level.WARNING
        summary = f"{attached} partitions attached, {expected} expected{detaching_note}"
    else:
        level = Level.OK
        summary = f"{attached} of {expected} partitions attached{detaching_note}"
    return fixed("partitions", level, attached, summary, subject)


async def _balance(poll: Poll, parent: Parent, pending: str) -> Signal:
    subject = parent.table.name
    if parent.strategy not in ("hash", "list"):
        return not_applicable(
            "partition_balance",
            f"n/a: {parent.strategy} partitions are expected to differ in size",
            subject,
        )

    cursor = await poll.connection.execute(
        SIZES_QUERY.format(pending=pending), (parent.oid, parent.default_oid)
    )
    rows = await cursor.fetchall()
    if not rows:
        return not_applicable("partition_balance", "n/a: no partitions attached", subject)

    total = sum(float(size) for _, _, size in rows)
    if total < BALANCE_MINIMUM_BYTES:
        return not_applicable(
            "partition_balance",
            f"n/a: too small to judge balance ({_mib(total)} in all partitions, "
            f"below {_mib(BALANCE_MINIMUM_BYTES)})",
            subject,
        )

    # A hash partition with modulus m is meant to hold 1/m of the rows, so a parent that mixes
    # moduli (after a partition was split) compares each size with its own share. The mean
    # is then the size one partition of weight 1 would have under an even spread.
    weights = [1.0 / modulus if modulus else 1.0 for _, modulus, _ in rows]
    mean = total / sum(weights)
    loads = [
        (float(size) / weight, name, float(size))
        for (name, _, size), weight in zip(rows, weights, strict=True)
    ]
    load, name, size = max(loads)
    ratio = load / mean
    weighted = ", weighted by hash modulus" if len({modulus for _, modulus, _ in rows}) > 1 else ""
    return measure(
        poll,
        "partition_balance",
        ratio,
        f"largest partition {name} ({_mib(size)}) is {ratio:.1f} times the mean partition "
        f"size ({len(rows)} partitions, {_mib(total)} in all{weighted})",
        subject,
    )


async def _default_rows(poll: Poll, parent: Parent) -> Signal:
    subject = parent.table.name
    if not parent.default_oid:
        return not_applicable("default_partition_rows", "n/a: no default partition", subject)

    cursor = await poll.connection.execute(DEFAULT_ROWS_QUERY, (parent.default_oid,))
    row = await cursor.fetchone()
    if row is None:
        # The default partition was dropped between the two queries.
        return not_applicable("default_partition_rows", "n/a: no default partition", subject)
    name, rows, missing_estimate = row
    if rows is None or missing_estimate:
        return unknown(
            "default_partition_rows",
            f"default partition {name} has data but no statistics yet; run ANALYZE {name}",
            subject,
        )
    estimate = float(rows)
    return measure(
        poll,
        "default_partition_rows",
        estimate,
        f"default partition {name} holds about {estimate:,.0f} rows (estimate from statistics)",
        subject,
    )


async def _ahead(poll: Poll, parent: Parent, pending: str) -> Signal:
    subject = parent.table.name
    if parent.strategy != "range":
        return not_applicable(
            "partitions_ahead", f"n/a: {parent.strategy} partitioning has no time range", subject
        )
    if parent.key_columns != 1 or parent.key_type is None:
        return not_applicable(
            "partitions_ahead",
            "n/a: the range key is not a single date or timestamp column",
            subject,
        )
    if not parent.time_key:
        return not_applicable(
            "partitions_ahead", f"n/a: the range key is of type {parent.key_type}", subject
        )

    cursor = await poll.connection.execute(RANGE_QUERY.format(pending=pending), (parent.oid,))
    row = await cursor.fetchone()
    assert row is not None
    ranges, unlimited, seconds = row
    if ranges == 0:
        where = "the default partition" if parent.default_oid else "no partition and fail"
        return fixed(
            "partitions_ahead",
            Level.CRITICAL,
            None,
            f"no range partitions attached, so new rows go to {where}",
            subject,
        )
    if unlimited:
        return fixed(
            "partitions_ahead",
            Level.OK,
            None,
            "the last partition has no upper bound (MAXVALUE or infinity)",
            subject,
        )

    seconds = float(seconds)
    if seconds >= 0:
        summary = f"partitions reach {seconds / DAY:.1f} days past now"
    else:
        where = "the default partition" if parent.default_oid else "no partition and fail"
        summary = (
            f"the last partition ended {-seconds / DAY:.1f} days ago, so new rows go to {where}"
        )
    return measure(poll, "partitions_ahead", seconds, summary, subject)


def _mib(size: float) -> str:
    return f"{size / MIB:.1f} MiB"
