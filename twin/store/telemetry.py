"""Telemetry tables: latest state per device and quantity, raw history, hourly rollups, discoveries.

History is the only table that grows without bound, so it is partitioned by time (a month per
partition for raw readings, a year per partition for hourly rollups): retention drops a whole
partition instead of deleting rows, and a chart's query touches only the partitions of its range.
Partitions are created ahead by the ingest's maintenance (and on demand by the writer), never by
a migration, because which months exist depends on the clock.

Raw history has no foreign key to ``devices``: checking one per row would halve the COPY rate,
and history outlives the devices it describes (device ids are never reused).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from twin.store.base import Base

EPOCH = datetime(2000, 1, 3, tzinfo=UTC)
"""The origin of every time bucket (a Monday, so that weekly buckets start on Mondays)."""

ROLLUP_GRACE = timedelta(minutes=5)
"""How long after an hour ends its readings may still arrive before the hour is rolled up."""


class DeviceStateRow(Base):
    """The latest value of one quantity of one device, as the ingest last saw it."""

    __tablename__ = "device_state"
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True)
    quantity: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[float | None] = mapped_column(Float)
    flag: Mapped[bool | None] = mapped_column(Boolean)
    text: Mapped[str | None] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(String(16))
    time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    __table_args__ = (CheckConstraint("num_nonnulls(value, flag, text) = 1", name="one_value"),)


class ReadingRow(Base):
    """One raw reading; booleans are stored as 0/1 so that an average is the fraction of time true."""

    __tablename__ = "readings"
    device_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    quantity: Mapped[str] = mapped_column(String(64), primary_key=True)
    time: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    value: Mapped[float | None] = mapped_column(Float)
    text: Mapped[str | None] = mapped_column(Text)
    __table_args__ = {"postgresql_partition_by": "RANGE (time)"}


class HourlyRow(Base):
    """One hour of one quantity of one device: enough to merge with raw rows exactly (sum and count)."""

    __tablename__ = "readings_hourly"
    device_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    quantity: Mapped[str] = mapped_column(String(64), primary_key=True)
    hour: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    sum: Mapped[float] = mapped_column(Float)
    min: Mapped[float] = mapped_column(Float)
    max: Mapped[float] = mapped_column(Float)
    __table_args__ = {"postgresql_partition_by": "RANGE (hour)"}


class TelemetryJobRow(Base):
    """Where the rollup stands: hours before ``done_until`` are in ``readings_hourly``.

    ``dirty_from`` is set by a writer that stored a late reading before ``done_until``, so that
    the next rollup recomputes from there instead of leaving that hour stale.
    """

    __tablename__ = "telemetry_jobs"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    done_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    dirty_from: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DiscoveredRow(Base):
    """An identity that sent data but names no device yet: what the operator binds with one call."""

    __tablename__ = "discovered_identities"
    namespace: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), primary_key=True)
    profile: Mapped[str] = mapped_column(String(64))
    topic: Mapped[str] = mapped_column(Text)
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    messages: Mapped[int] = mapped_column(BigInteger)
    latest: Mapped[dict[str, Any]] = mapped_column(JSONB)
    """The last value of each quantity it sent, so the operator can tell a meter from a sensor."""
    hint: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    """The unit address its id spells (building, entrance, floor, room, label), if any."""
    __table_args__ = (Index("ix_discovered_last_seen", "last_seen"),)


Interval = Literal["month", "year"]

PARTITIONED: dict[str, Interval] = {"readings": "month", "readings_hourly": "year"}
"""Each partitioned table and the span of one of its partitions."""


def partition_bounds(at: datetime, interval: Interval) -> tuple[datetime, datetime]:
    """Return the start and end of the partition that holds ``at`` (UTC month or year)."""
    at = at.astimezone(UTC)
    if interval == "year":
        return datetime(at.year, 1, 1, tzinfo=UTC), datetime(at.year + 1, 1, 1, tzinfo=UTC)
    start = datetime(at.year, at.month, 1, tzinfo=UTC)
    end = datetime(at.year + (at.month == 12), at.month % 12 + 1, 1, tzinfo=UTC)
    return start, end


def partition_name(table: str, start: datetime, interval: Interval) -> str:
    """Name a partition after its table and period: ``readings_2026_05``, ``readings_hourly_2026``."""
    return f"{table}_{start:%Y}" if interval == "year" else f"{table}_{start:%Y_%m}"


def create_partition_sql(table: str, at: datetime) -> tuple[str, str]:
    """Return the name and the idempotent statement that creates the partition of ``table`` holding ``at``.

    The statement calls the owner's ``twin_create_partition`` (migration 0008d): the server's role
    owns no table, so it may not attach a partition itself.
    """
    interval = PARTITIONED[table]
    start, end = partition_bounds(at, interval)
    name = partition_name(table, start, interval)
    call = f"SELECT twin_create_partition('{table}', '{name}', '{start.isoformat()}', '{end.isoformat()}')"
    return name, call


def drop_partition_sql(table: str, name: str) -> str:
    """Return the statement that drops one partition of ``table`` through the owner's ``twin_drop_partition``."""
    if table not in PARTITIONED or not name.replace("_", "").isalnum():
        raise ValueError(f"not a history partition: {name!r} of {table!r}")
    return f"SELECT twin_drop_partition('{table}', '{name}')"


def rolled_up_before(now: datetime) -> datetime:
    """Return the end of the hours a rollup at ``now`` may have covered: a row before it is late."""
    cutoff = now.astimezone(UTC) - ROLLUP_GRACE
    return cutoff.replace(minute=0, second=0, microsecond=0)


def value_columns(value: float | bool | str) -> tuple[float | None, bool | None, str | None]:
    """Split a reading's value into the (number, flag, text) columns of ``device_state``."""
    if isinstance(value, bool):
        return None, value, None
    if isinstance(value, str):
        return None, None, value
    return float(value), None, None


def stored_value(value: float | None, flag: bool | None, text: str | None) -> float | bool | str | None:
    """Join the (number, flag, text) columns back into one value."""
    if flag is not None:
        return flag
    if text is not None:
        return text
    return value
