"""Warning and critical thresholds, and the defaults for PostgreSQL health signals."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass


class Level(enum.StrEnum):
    """Grade of a signal against its thresholds."""

    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"
    # The signal could not be read, and the summary gives the reason. Never counted as healthy.
    UNKNOWN = "unknown"
    # There is nothing to measure this time, such as a ratio over zero transactions.
    NOT_APPLICABLE = "n/a"


@dataclass(frozen=True)
class Threshold:
    """Limits for one signal; `lower_is_worse` for figures like the cache hit ratio."""

    warning: float | None = None
    critical: float | None = None
    lower_is_worse: bool = False

    def level(self, value: float) -> Level:
        if self._crosses(value, self.critical):
            return Level.CRITICAL
        if self._crosses(value, self.warning):
            return Level.WARNING
        return Level.OK

    def _crosses(self, value: float, limit: float | None) -> bool:
        if limit is None:
            return False
        return value <= limit if self.lower_is_worse else value >= limit


class Unit(enum.StrEnum):
    SECONDS = "seconds"
    RATIO = "ratio"  # 0 to 1
    COUNT = "count"
    BYTES = "bytes"
    TRANSACTIONS = "transactions"  # transaction or multixact IDs
    PER_MINUTE = "per_minute"
    BYTES_PER_MINUTE = "bytes_per_minute"
    BYTES_PER_HOUR = "bytes_per_hour"


@dataclass(frozen=True)
class SignalSpec:
    """A PostgreSQL signal's unit, default thresholds and one-line meaning."""

    unit: Unit
    default: Threshold
    meaning: str


MINUTE = 60.0
HOUR = 3600.0
DAY = 86400.0
MIB = 1024.0**2

# Transaction IDs wrap around after 2^31; PostgreSQL stops accepting writes about 3 million
# before that, and autovacuum_freeze_max_age defaults to 200 million.
_WRAPAROUND = Threshold(warning=1_000_000_000, critical=1_500_000_000)

POSTGRES_SIGNALS: dict[str, SignalSpec] = {
    "latency": SignalSpec(
        Unit.SECONDS, Threshold(1.0, 5.0), "connect (when needed) plus `select 1`"
    ),
    "connections": SignalSpec(
        Unit.RATIO,
        Threshold(0.8, 0.95),
        "client backends over max_connections minus reserved slots",
    ),
    "xid_age": SignalSpec(
        Unit.TRANSACTIONS, _WRAPAROUND, "oldest datfrozenxid age over all databases"
    ),
    "multixact_age": SignalSpec(
        Unit.TRANSACTIONS, _WRAPAROUND, "oldest datminmxid age over all databases"
    ),
    "table_xid_age": SignalSpec(
        Unit.TRANSACTIONS,
        _WRAPAROUND,
        "oldest relfrozenxid age of a table in this database (partitioned parents excluded)",
    ),
    "longest_query": SignalSpec(
        Unit.SECONDS, Threshold(5 * MINUTE, 30 * MINUTE), "longest running active query"
    ),
    "idle_in_transaction": SignalSpec(
        Unit.SECONDS,
        Threshold(1 * MINUTE, 10 * MINUTE),
        "longest time a session has been idle inside an open transaction",
    ),
    "lock_waits": SignalSpec(
        Unit.SECONDS,
        Threshold(30.0, 5 * MINUTE),
        "longest time a session has waited for a lock",
    ),
    "deadlocks": SignalSpec(
        Unit.PER_MINUTE, Threshold(1.0, 10.0), "deadlocks per minute between two polls"
    ),
    "rollback_ratio": SignalSpec(
        Unit.RATIO, Threshold(0.2, 0.5), "rolled back over all transactions between two polls"
    ),
    "cache_hit_ratio": SignalSpec(
        Unit.RATIO,
        Threshold(0.95, 0.8, lower_is_worse=True),
        "blocks found in shared buffers over blocks requested, between two polls",
    ),
    "temp_bytes": SignalSpec(
        Unit.BYTES_PER_MINUTE,
        Threshold(256 * MIB, 2048 * MIB),
        "bytes written to temporary files per minute between two polls",
    ),
    "checkpoints_requested": SignalSpec(
        Unit.RATIO,
        Threshold(0.5, None),
        "requested checkpoints over all checkpoints between two polls",
    ),
    "replication_lag": SignalSpec(
        Unit.SECONDS,
        Threshold(30.0, 5 * MINUTE),
        "replay lag of the worst replica (primary) or of this server (standby)",
    ),
    "replicas": SignalSpec(
        Unit.COUNT,
        Threshold(),
        "connected replicas on a primary; fewer than expected_replicas is critical",
    ),
    "wal_receiver": SignalSpec(
        Unit.COUNT, Threshold(), "on a standby: 1 while the WAL receiver is streaming"
    ),
    "database_size": SignalSpec(Unit.BYTES, Threshold(), "size of this database"),
    "database_growth": SignalSpec(
        Unit.BYTES_PER_HOUR, Threshold(), "growth of this database between two size readings"
    ),
    "dead_tuples": SignalSpec(
        Unit.RATIO,
        Threshold(0.2, 0.5),
        "worst dead-tuple share among the largest tables",
    ),
    "vacuum_age": SignalSpec(
        Unit.SECONDS,
        Threshold(3 * DAY, 14 * DAY),
        "longest time since the last vacuum among the largest tables that have dead tuples",
    ),
    "partitions": SignalSpec(
        Unit.COUNT,
        Threshold(),
        "attached partitions of each configured parent; a missing one is critical",
    ),
    "partition_balance": SignalSpec(
        Unit.RATIO,
        Threshold(2.0, 4.0),
        "largest partition over the mean partition size, for each configured parent",
    ),
    "default_partition_rows": SignalSpec(
        Unit.COUNT,
        Threshold(1, None),
        "estimated rows in the default partition of each configured parent",
    ),
    "partitions_ahead": SignalSpec(
        Unit.SECONDS,
        Threshold(7 * DAY, 1 * DAY, lower_is_worse=True),
        "for range-partitioned parents, how far past now the last partition reaches",
    ),
}

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|kB|KiB|MB|MiB|GB|GiB|TB|TiB)?\s*$")
_SIZE_FACTORS = {
    None: 1,
    "B": 1,
    "kB": 1000,
    "KiB": 1024,
    "MB": 1000**2,
    "MiB": 1024**2,
    "GB": 1000**3,
    "GiB": 1024**3,
    "TB": 1000**4,
    "TiB": 1024**4,
}


def parse_size(text: str) -> float:
    """Parse "512 MiB", "2GB" or "1000"; raise ValueError otherwise."""
    match = _SIZE.match(text)
    if match is None:
        raise ValueError(text)
    return float(match.group(1)) * _SIZE_FACTORS[match.group(2)]
