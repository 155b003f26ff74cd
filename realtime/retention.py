"""History upkeep: partitions created ahead, hourly rollups, and retention per device kind.

Raw readings are kept as long as someone looks at them raw (vibration and lifts for 30 days,
meters for 90); hourly rollups much longer (meters for ten years: bills and year-on-year
charts). A chart over a long range reads rollups, so deleting raw rows loses no curve.

The rollup covers whole hours up to a watermark and is recomputed from raw rows, so it is exact
and idempotent. A late reading in an hour already rolled up marks that hour dirty (see
``realtime.history``) and the next run redoes it; a late reading older than the shortest raw
retention is kept raw only, since its neighbours may already be gone.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg

from twin.catalogue import DeviceKind
from twin.store.telemetry import (
    EPOCH,
    PARTITIONED,
    create_partition_sql,
    drop_partition_sql,
    partition_bounds,
    rolled_up_before,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Retention:
    """How long raw readings and hourly rollups of a kind of device are kept."""

    raw_days: int
    hourly_days: int


DEFAULT_RETENTION = Retention(raw_days=90, hourly_days=3 * 365)
_METER = Retention(raw_days=90, hourly_days=10 * 365)
_MACHINE = Retention(raw_days=30, hourly_days=3 * 365)
"""Lifts, pumps, fans and transformers report often (vibration, speed): raw is big and ages fast."""

RETENTION: dict[DeviceKind, Retention] = {
    DeviceKind.ELECTRICITY_METER: _METER,
    DeviceKind.WATER_METER: _METER,
    DeviceKind.GAS_METER: _METER,
    DeviceKind.ELEVATOR: _MACHINE,
    DeviceKind.ESCALATOR: _MACHINE,
    DeviceKind.FIRE_PUMP: Retention(raw_days=90, hourly_days=10 * 365),
    DeviceKind.WATER_PUMP: _MACHINE,
    DeviceKind.FAN: _MACHINE,
    DeviceKind.TRANSFORMER: Retention(raw_days=30, hourly_days=10 * 365),
    DeviceKind.CAMERA: Retention(raw_days=30, hourly_days=365),
    DeviceKind.ACCESS_GATE: Retention(raw_days=30, hourly_days=365),
}
"""Kinds not named here keep ``DEFAULT_RETENTION``; fire-safety kinds keep the default or longer."""

ROLLUP_CHUNK = timedelta(days=1)
"""Hours rolled up per transaction, so a catch-up after downtime never holds one huge transaction."""

_ROLLUP = """
INSERT INTO readings_hourly (device_id, quantity, hour, count, sum, min, max)
SELECT device_id, quantity, date_bin('1 hour', time, %(origin)s) AS hour,
       count(value), sum(value), min(value), max(value)
  FROM readings
 WHERE time >= %(start)s AND time < %(end)s AND value IS NOT NULL
 GROUP BY 1, 2, 3
ON CONFLICT (device_id, quantity, hour) DO UPDATE
   SET count = excluded.count, sum = excluded.sum, min = excluded.min, max = excluded.max
"""


def retention_of(kind: str) -> Retention:
    """Return the retention of a kind of device (the default for unknown kinds)."""
    try:
        return RETENTION.get(DeviceKind(kind), DEFAULT_RETENTION)
    except ValueError:
        return DEFAULT_RETENTION


def _all_retentions() -> list[Retention]:
    return [*RETENTION.values(), DEFAULT_RETENTION]


def ensure_ahead(conn: psycopg.Connection[tuple[object, ...]], now: datetime, months: int = 2) -> list[str]:
    """Create this month's raw partition and the next ``months``, and the rollups' years; return new names."""
    created = []
    at = now.astimezone(UTC)
    points = []
    for _ in range(months + 1):
        points.append(("readings", at))
        points.append(("readings_hourly", at))
        at = partition_bounds(at, "month")[1]
    existing = {
        str(r[0])
        for r in conn.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = ANY(%s)",
            (list(PARTITIONED),),
        )
    }
    for table, point in points:
        name, ddl = create_partition_sql(table, point)
        if name not in existing:
            try:
                conn.execute(ddl)
            except psycopg.errors.DuplicateTable:
                continue
            existing.add(name)
            created.append(name)
    return created


def rollup(conn: psycopg.Connection[tuple[object, ...]], now: datetime) -> int:
    """Roll raw readings up into whole hours, redoing dirty ones first; return the hours rolled."""
    end = rolled_up_before(now)
    floor = rolled_up_before(now - timedelta(days=min(r.raw_days for r in _all_retentions())))
    rolled = 0
    while True:
        with conn.transaction():
            row = conn.execute(
                "SELECT done_until, dirty_from FROM telemetry_jobs WHERE name = 'hourly' FOR UPDATE"
            ).fetchone()
            if row is None:
                conn.execute("INSERT INTO telemetry_jobs (name, done_until) VALUES ('hourly', %s)", (end,))
                return rolled
            done_until, dirty_from = row
            assert isinstance(done_until, datetime)
            dirty = dirty_from if isinstance(dirty_from, datetime) and dirty_from < done_until else None
            start = max(min(done_until, dirty) if dirty else done_until, floor)
            if start >= end:
                if dirty is not None:  # what stayed dirty is older than any raw row we may trust
                    conn.execute("UPDATE telemetry_jobs SET dirty_from = NULL WHERE name = 'hourly'")
                return rolled
            stop = min(end, start + ROLLUP_CHUNK)
            conn.execute(_ROLLUP, {"origin": EPOCH, "start": start, "end": stop})
            still_dirty = stop if dirty is not None and stop < done_until else None
            conn.execute(
                "UPDATE telemetry_jobs SET done_until = %s, dirty_from = %s WHERE name = 'hourly'",
                (max(done_until, stop), still_dirty),
            )
            rolled += int((stop - start).total_seconds() // 3600)


def expire(conn: psycopg.Connection[tuple[object, ...]], now: datetime) -> dict[str, int]:
    """Delete raw rows and rollups past their kind's retention; drop partitions past every kind's."""
    done = conn.execute("SELECT done_until FROM telemetry_jobs WHERE name = 'hourly'").fetchone()
    rolled = done[0] if done and isinstance(done[0], datetime) else now
    kinds: dict[Retention, list[str]] = defaultdict(list)
    for row in conn.execute("SELECT DISTINCT kind FROM devices"):
        kinds[retention_of(str(row[0]))].append(str(row[0]))
    longest = max(_all_retentions(), key=lambda r: r.raw_days)
    longest_hourly = max(r.hourly_days for r in _all_retentions())
    counts = {"raw": 0, "hourly": 0, "partitions": 0}
    for retention, names in kinds.items():
        # Raw rows go only once their hour is rolled up, so no curve loses a point.
        raw_cut = min(now - timedelta(days=retention.raw_days), rolled)
        if retention.raw_days < longest.raw_days:
            counts["raw"] += conn.execute(
                "DELETE FROM readings WHERE time < %s AND device_id IN (SELECT id FROM devices WHERE kind = ANY(%s))",
                (raw_cut, names),
            ).rowcount
        if retention.hourly_days < longest_hourly:
            counts["hourly"] += conn.execute(
                "DELETE FROM readings_hourly WHERE hour < %s "
                "AND device_id IN (SELECT id FROM devices WHERE kind = ANY(%s))",
                (now - timedelta(days=retention.hourly_days), names),
            ).rowcount
    cutoffs = {
        "readings": min(now - timedelta(days=longest.raw_days), rolled),
        "readings_hourly": now - timedelta(days=longest_hourly),
    }
    for table, cutoff in cutoffs.items():
        counts["partitions"] += _drop_before(conn, table, cutoff)
    return counts


def _drop_before(conn: psycopg.Connection[tuple[object, ...]], table: str, cutoff: datetime) -> int:
    """Drop the partitions of ``table`` that end before ``cutoff``."""
    interval = PARTITIONED[table]
    dropped = 0
    rows = conn.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s",
        (table,),
    ).fetchall()
    for (name,) in rows:
        start = _start_of(str(name), table, interval)
        if start is not None and partition_bounds(start, interval)[1] <= cutoff:
            conn.execute(drop_partition_sql(table, str(name)))
            log.info("dropped history partition %s (past retention)", name)
            dropped += 1
    return dropped


def _start_of(name: str, table: str, interval: str) -> datetime | None:
    suffix = name.removeprefix(f"{table}_")
    try:
        if interval == "year":
            return datetime(int(suffix), 1, 1, tzinfo=UTC)
        year, month = suffix.split("_")
        return datetime(int(year), int(month), 1, tzinfo=UTC)
    except ValueError:
        return None
