"""Per-room figures the live hub does not carry: a floor's energy use, for the view's energy layer.

Electricity meters report a cumulative total (``energy``, kWh); what a room used over a period is
the rise of each of its meters' totals, summed per room. Raw readings and hourly rollups are read
together (min and max of both), so the figure holds after raw history has been downsampled.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import func, select, union_all

from twin.api.deps import SessionDep, read_only
from twin.api.view_schemas import FloorLayers, SpaceEnergy
from twin.auth.scope import device_condition
from twin.graph.places import get_place
from twin.schemas import Id
from twin.store.base import utcnow
from twin.store.models import DeviceRow, FloorRow
from twin.store.telemetry import HourlyRow, ReadingRow

router = APIRouter(prefix="/api", tags=["view"])

ENERGY = "energy"


@router.get("/floors/{floor_id}/layers")
@read_only
def floor_layers(
    session: SessionDep, floor_id: Id, days: Annotated[int, Query(ge=1, le=366)] = 30
) -> FloorLayers:
    """Return each room's energy use (kWh) over the last ``days``, from the meters the caller may see."""
    floor = get_place(session, FloorRow, floor_id, "floor")
    since = utcnow() - timedelta(days=days)
    meters = (
        select(DeviceRow.id, DeviceRow.space_id)
        .where(
            DeviceRow.floor_id == floor.id,
            DeviceRow.space_id.is_not(None),
            DeviceRow.retired_at.is_(None),
            device_condition(session, DeviceRow.path, DeviceRow.kind),
        )
        .subquery()
    )
    raw = select(ReadingRow.device_id, ReadingRow.value.label("lo"), ReadingRow.value.label("hi")).where(
        ReadingRow.quantity == ENERGY, ReadingRow.time >= since, ReadingRow.value.is_not(None)
    )
    hourly = select(HourlyRow.device_id, HourlyRow.min.label("lo"), HourlyRow.max.label("hi")).where(
        HourlyRow.quantity == ENERGY, HourlyRow.hour >= since
    )
    values = union_all(raw, hourly).subquery()
    rise = (
        select(values.c.device_id, (func.max(values.c.hi) - func.min(values.c.lo)).label("kwh"))
        .where(values.c.device_id.in_(select(meters.c.id)))
        .group_by(values.c.device_id)
        .subquery()
    )
    rows = session.execute(
        select(meters.c.space_id, func.sum(rise.c.kwh))
        .join(rise, rise.c.device_id == meters.c.id)
        .group_by(meters.c.space_id)
    ).all()
    spaces = {str(space_id): SpaceEnergy(energy_kwh=round(float(kwh), 3)) for space_id, kwh in rows}
    return FloorLayers(floor_id=floor.id, since=since, days=days, spaces=spaces)
