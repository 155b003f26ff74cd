"""Devices: the filtered list (place, kind, health, polygon, bbox, radius, nearest), one device, its links."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, status
from fastapi.responses import Response
from pydantic import BaseModel, Field

from twin.api.attention import DeviceDetail, attention
from twin.api.deps import GRAPH_WRITES, ReadingDep, SessionDep, read_only
from twin.api.query_model import openapi_parameters, query_model
from twin.errors import ValidationError
from twin.graph import device_list, queries
from twin.graph import devices as uc
from twin.graph.views import devices_public, place_items
from twin.schemas import (
    DeviceCreate,
    DevicePage,
    DevicePublic,
    DeviceUpdate,
    Flag,
    Id,
    PlaceList,
    RelationCreate,
    RelationPublic,
)

router = APIRouter(prefix="/api", tags=["devices"])


def _floats(field: str, text: str | None, count: int) -> tuple[float, ...] | None:
    if text is None:
        return None
    try:
        values = tuple(float(part) for part in text.split(","))
    except ValueError as exc:
        raise ValidationError(field, f"must be {count} comma-separated numbers") from exc
    if len(values) != count:
        raise ValidationError(field, f"must be {count} comma-separated numbers")
    return values


def _polygon(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ValidationError("polygon", "must be a GeoJSON Polygon in the site frame") from exc
    if not isinstance(value, dict):
        raise ValidationError("polygon", "must be a GeoJSON Polygon in the site frame")
    return value


class DeviceFilters(BaseModel):
    """The device list's query parameters, validated as one model (see :mod:`twin.api.query_model`).

    One model is one pydantic validation per request where twelve parameters were twelve.
    """

    under: Id | None = Field(None, description="A site, building, floor or space id: its whole subtree.")
    kind: list[str] | None = None
    health: list[str] | None = None
    polygon: str | None = Field(None, description="GeoJSON Polygon in the site frame (metres).")
    bbox: str | None = Field(None, description="min_x,min_y,max_x,max_y in the site frame.")
    near: str | None = Field(None, description="x,y in the site frame.")
    near_device: Id | None = None
    radius: float | None = Field(None, description="Metres around near or near_device.")
    nearest: int | None = Field(None, description="The N closest to near or near_device.")
    include_retired: Flag = False
    cursor: str | None = None
    limit: int = Field(100, ge=1, le=device_list.MAX_LIMIT)


@router.get("/devices", response_model=DevicePage, openapi_extra=openapi_parameters(DeviceFilters))
async def list_devices(
    reading: ReadingDep, filters: Annotated[DeviceFilters, Depends(query_model(DeviceFilters))]
) -> Response:
    """List devices by place, kind, health and geometry; cursor-paginated (pass ``next`` as ``cursor``).

    Served on the event loop (``ReadingDep``): the view asks it for every floor it shows.
    """
    f = filters
    q = device_list.DeviceQuery(
        under=f.under,
        kinds=f.kind or [],
        health=f.health or [],
        polygon=_polygon(f.polygon),
        bbox=_floats("bbox", f.bbox, 4),  # type: ignore[arg-type]
        near=_floats("near", f.near, 2),  # type: ignore[arg-type]
        near_device=f.near_device,
        radius=f.radius,
        nearest=f.nearest,
        include_retired=f.include_retired,
        cursor=f.cursor,
        limit=f.limit,
    )
    asked = device_list.ask(reading.principal, q)
    page, next_cursor = asked.answer(await reading.one(asked.question))
    if not page.found:
        await reading.check(lambda session: device_list.explain_empty(session, q))
    body = b'{"items":' + page.items + b',"next":' + orjson.dumps(next_cursor) + b"}"
    return Response(body, media_type="application/json")


@router.post("/devices", status_code=status.HTTP_201_CREATED, dependencies=GRAPH_WRITES)
def create_device(session: SessionDep, body: DeviceCreate) -> DevicePublic:
    """Place a new device."""
    return devices_public(session, [uc.create_device(session, body)])[0]


@router.get("/devices/{device_id}")
@read_only
def get_device(session: SessionDep, device_id: Id) -> DeviceDetail:
    """Read a device with its place, its active alarms and its open tickets (what its panel shows)."""
    device = devices_public(session, [uc.get_device(session, device_id)])[0]
    return DeviceDetail(**device.model_dump(), **attention(session, device_id=device.id).model_dump())


@router.patch("/devices/{device_id}", dependencies=GRAPH_WRITES)
def update_device(session: SessionDep, device_id: Id, body: DeviceUpdate) -> DevicePublic:
    """Rename, re-tag or move a device."""
    return devices_public(session, [uc.update_device(session, device_id, body)])[0]


@router.delete("/devices/{device_id}", dependencies=GRAPH_WRITES)
def retire_device(session: SessionDep, device_id: Id) -> DevicePublic:
    """Retire a device; its history, alarms and tickets stay."""
    return devices_public(session, [uc.retire_device(session, device_id)])[0]


@router.get("/devices/{device_id}/relations")
@read_only
def list_relations(session: SessionDep, device_id: Id) -> dict[str, list[RelationPublic]]:
    """List the typed links from and to a device."""
    rows = queries.relations_of(session, device_id)
    return {"items": [RelationPublic.model_validate(row, from_attributes=True) for row in rows]}


@router.get("/devices/{device_id}/households", response_model=PlaceList)
@read_only
def list_households(session: SessionDep, device_id: Id) -> Response:
    """List the household units a device feeds (through the places and devices it feeds)."""
    body = {"items": place_items(session, queries.households_fed_by(session, device_id))}
    return Response(orjson.dumps(body), media_type="application/json")


@router.post("/relations", status_code=status.HTTP_201_CREATED, dependencies=GRAPH_WRITES)
def create_relation(session: SessionDep, body: RelationCreate) -> RelationPublic:
    """Link a device to a place or another device (feeds, serves, monitors, via)."""
    return RelationPublic.model_validate(uc.add_relation(session, body), from_attributes=True)


@router.delete("/relations/{relation_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=GRAPH_WRITES)
def delete_relation(session: SessionDep, relation_id: Id) -> None:
    """Remove a typed link."""
    uc.delete_relation(session, relation_id)
