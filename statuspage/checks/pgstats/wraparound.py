"""Transaction ID and multixact ID wraparound age of every database."""

from __future__ import annotations

from statuspage.checks.pgstats.signal import Poll, Signal, measure

# Every database counts, template0 included: autovacuum must freeze it too.
WRAPAROUND_QUERY = """
select
    (select datname from pg_database order by age(datfrozenxid) desc limit 1),
    (select max(age(datfrozenxid)) from pg_database),
    (select datname from pg_database order by mxid_age(datminmxid) desc limit 1),
    (select max(mxid_age(datminmxid)) from pg_database)
"""


async def read_wraparound(poll: Poll) -> list[Signal]:
    cursor = await poll.connection.execute(WRAPAROUND_QUERY)
    row = await cursor.fetchone()
    assert row is not None
    xid_database, xid_age, mxid_database, mxid_age = row
    return [
        measure(
            poll,
            "xid_age",
            float(xid_age),
            f"oldest unfrozen transaction ID is {xid_age:,} transactions old",
            subject=xid_database,
        ),
        measure(
            poll,
            "multixact_age",
            float(mxid_age),
            f"oldest unfrozen multixact ID is {mxid_age:,} multixacts old",
            subject=mxid_database,
        ),
    ]
