"""History as a chart asks for it: a series of buckets (average, minimum, maximum, count) over a range.

Buckets are ``date_bin`` bins from a fixed origin (midnight of a Monday in the requested time
zone), so the same step always yields the same bucket edges and a chart can cache them. A step of
whole hours reads the hourly rollups for the hours already rolled up and raw rows after them,
merged exactly through their sums and counts; that is what makes a year of a meter one quick
query, and what keeps the curve when raw rows have gone past their retention.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from twin.errors import ValidationError
from twin.store.telemetry import EPOCH, DeviceStateRow, TelemetryJobRow, stored_value

MAX_POINTS = 5000
NICE_STEPS = [timedelta(seconds=s) for s in (60, 300, 900, 3600, 3 * 3600, 6 * 3600, 86400, 7 * 86400)]
_STEP = re.compile(r"^\s*(\d+)\s*([smhdw]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}

_RAW = text(
    """
    SELECT date_bin(:step, time, :origin) AS bucket, avg(value) AS avg, min(value) AS min, max(value) AS max,
           count(*) AS count, (array_agg(text ORDER BY time DESC) FILTER (WHERE text IS NOT NULL))[1] AS last_text
      FROM readings
     WHERE device_id = :device AND quantity = :quantity AND time >= :start AND time < :end
     GROUP BY 1 ORDER BY 1
    """
)
_MERGED = text(
    """
    WITH parts AS (
        SELECT hour AS t, count AS n, sum AS s, min AS lo, max AS hi FROM readings_hourly
         WHERE device_id = :device AND quantity = :quantity AND hour >= :start AND hour < LEAST(:end, :mark)
        UNION ALL
        SELECT time, 1, value, value, value FROM readings
         WHERE device_id = :device AND quantity = :quantity AND value IS NOT NULL
           AND time >= GREATEST(:start, :mark) AND time < :end
    )
    SELECT date_bin(:step, t, :origin) AS bucket, sum(s) / sum(n) AS avg, min(lo) AS min, max(hi) AS max,
           sum(n) AS count, NULL AS last_text
      FROM parts GROUP BY 1 ORDER BY 1
    """
)


def parse_step(value: str) -> timedelta:
    """Read a step such as ``90s``, ``5m``, ``1h``, ``1d``, ``1w`` or a number of seconds."""
    match = _STEP.match(value)
    if match is None or int(match[1]) <= 0:
        raise ValidationError("step", f"{value!r} is not a step such as 30s, 5m, 1h or 1d")
    return timedelta(seconds=int(match[1]) * _UNITS[match[2]])


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def zone(name: str) -> ZoneInfo:
    """Return an IANA time zone, naming the parameter when it is not one."""
    if name not in _zones():
        raise ValidationError("tz", f"{name[:40]!r} is not an IANA time zone such as Asia/Shanghai")
    return ZoneInfo(name)


@dataclass(frozen=True)
class SeriesRequest:
    """A validated history question."""

    device_id: int
    quantity: str
    start: datetime
    end: datetime
    step: timedelta
    origin: datetime

    @classmethod
    def build(
        cls,
        device_id: int,
        quantity: str,
        start: datetime | None,
        end: datetime | None,
        step: str | None,
        tz: str,
        now: datetime,
    ) -> SeriesRequest:
        """Fill defaults (the last 24 hours, a step giving at most 500 points) and check the rest."""
        end = _aware(end, "to") if end is not None else now
        start = _aware(start, "from") if start is not None else end - timedelta(days=1)
        if start >= end:
            raise ValidationError("from", "must be before to")
        span = end - start
        if step is None:
            chosen = next((s for s in NICE_STEPS if span / s <= 500), NICE_STEPS[-1])
        else:
            chosen = parse_step(step)
        if span / chosen > MAX_POINTS:
            raise ValidationError("step", f"{span} in steps of {chosen} is more than {MAX_POINTS} points")
        origin = EPOCH.replace(tzinfo=None).replace(tzinfo=zone(tz))
        return cls(device_id, quantity, _floor(start, chosen, origin), end, chosen, origin)

    @property
    def hourly(self) -> bool:
        """Tell whether whole-hour rollups can answer (whole-hour steps on whole-hour bucket edges)."""
        offset = self.origin.utcoffset() or timedelta()
        hour = timedelta(hours=1)
        return self.step % hour == timedelta() and offset % hour == timedelta()


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(name, "must carry a time zone, e.g. 2026-05-09T10:00:00+08:00")
    if not 1970 <= value.year <= 2200:
        raise ValidationError(name, "must be between the years 1970 and 2200")
    return value


def _floor(at: datetime, step: timedelta, origin: datetime) -> datetime:
    return at - (at - origin) % step


def series(session: Session, request: SeriesRequest) -> tuple[str, list[dict[str, Any]]]:
    """Return the source used (``raw`` or ``hourly+raw``) and the buckets of a history question."""
    params: dict[str, Any] = {
        "device": request.device_id,
        "quantity": request.quantity,
        "start": request.start,
        "end": request.end,
        "step": request.step,
        "origin": request.origin,
    }
    source, statement = "raw", _RAW
    if request.hourly:
        job = session.get(TelemetryJobRow, "hourly")
        if job is not None and job.done_until > request.start:
            mark = min(job.done_until, job.dirty_from) if job.dirty_from is not None else job.done_until
            source, statement = "hourly+raw", _MERGED
            params["mark"] = mark
    points = []
    for row in session.execute(statement, params):
        point: dict[str, Any] = {"t": row.bucket, "count": int(row._mapping["count"])}
        if row.avg is not None:
            point.update(avg=float(row.avg), min=float(row.min), max=float(row.max))
        if row.last_text is not None:
            point["last"] = row.last_text
        points.append(point)
    return source, points


def stored_state(session: Session, device_id: int) -> dict[str, dict[str, Any]]:
    """Return a device's latest values as last flushed to the table, by quantity."""
    rows = session.scalars(select(DeviceStateRow).where(DeviceStateRow.device_id == device_id))
    return {
        row.quantity: {"value": stored_value(row.value, row.flag, row.text), "unit": row.unit, "time": row.time}
        for row in rows
    }
