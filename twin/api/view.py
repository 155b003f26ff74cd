"""What the 3D view loads: a site's scene (buildings, floors, ground layers) and a floor's plan.

Everything is in the site's local frame (x east, y north, z up, metres), so the view never
projects coordinates itself; each answer is one or two queries whatever the size of the site.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Response
from sqlalchemy import func, select

from twin.alarms.queries import alarm_counts
from twin.alarms.severity import AlarmSeverity
from twin.api.deps import SessionDep
from twin.api.view_schemas import FloorPlan, Scene
from twin.auth.scope import device_condition, place_condition
from twin.graph.frame import local_frame_proj
from twin.graph.places import get_place
from twin.schemas import Id
from twin.store.gis_layers import GisFeatureRow
from twin.store.models import BuildingRow, DeviceRow, FloorRow, SiteRow, SpaceRow

router = APIRouter(prefix="/api", tags=["view"])

GROUND_KINDS = {
    "road": "roads",
    "green_area": "green",
    "parking": "parking",
    "water": "water",
    "zone": "zones",
    "parcel": "parcels",
}


def _ring(geojson: str | None) -> list[list[float]] | None:
    if geojson is None:
        return None
    geometry = orjson.loads(geojson)
    coordinates = geometry["coordinates"]
    return [[round(x, 3), round(y, 3)] for x, y, *_ in coordinates[0]]


def _counters() -> dict[str, Any]:
    return {"devices": 0, "offline": 0, "alarms": 0, "worst_severity": None}


def _json(body: dict[str, Any]) -> Response:
    return Response(orjson.dumps(body), media_type="application/json")


@router.get("/sites/{site_id}/scene", response_model=Scene)
def site_scene(session: SessionDep, site_id: Id) -> Response:
    """Return a site's buildings with their floors, its ground layers and per-building device and alarm counts."""
    site = get_place(session, SiteRow, site_id, "site")
    buildings = session.execute(
        select(
            BuildingRow.id,
            BuildingRow.name,
            BuildingRow.code,
            BuildingRow.height,
            func.ST_AsGeoJSON(BuildingRow.footprint_local).label("footprint"),
        )
        .where(
            BuildingRow.site_id == site.id, BuildingRow.retired_at.is_(None), place_condition(session, BuildingRow.path)
        )
        .order_by(BuildingRow.id)
    ).all()
    floors: dict[int, list[dict[str, Any]]] = {}
    for row in session.execute(
        select(FloorRow.id, FloorRow.building_id, FloorRow.name, FloorRow.level, FloorRow.elevation, FloorRow.height)
        .where(FloorRow.site_id == site.id, FloorRow.retired_at.is_(None), place_condition(session, FloorRow.path))
        .order_by(FloorRow.building_id, FloorRow.level)
    ):
        floors.setdefault(row.building_id, []).append(
            {"id": row.id, "name": row.name, "level": row.level, "elevation": row.elevation, "height": row.height}
        )
    counts: dict[int, dict[str, Any]] = {}
    building_of = func.subpath(DeviceRow.path, 1, 1)
    for row in session.execute(
        select(func.ltree2text(building_of).label("building"), DeviceRow.health, func.count().label("n"))
        .where(
            DeviceRow.site_id == site.id,
            DeviceRow.retired_at.is_(None),
            func.nlevel(DeviceRow.path) >= 2,
            device_condition(session, DeviceRow.path, DeviceRow.kind),
        )
        .group_by(building_of, DeviceRow.health)
    ):
        entry = counts.setdefault(int(row.building), _counters())
        entry["devices"] += int(row.n)
        if row.health in ("offline", "unreachable"):
            entry["offline"] += int(row.n)
    for count in alarm_counts(session, site.id):
        if count.level == "building":
            entry = counts.setdefault(count.place_id, _counters())
            entry["alarms"] = sum(count.counts.values())
            entry["worst_severity"] = max(count.counts, key=lambda s: AlarmSeverity(s).rank)
    layers: dict[str, list[Any]] = {name: [] for name in GROUND_KINDS.values()}
    proj = local_frame_proj(site.origin_lat, site.origin_lon, site.origin_height)
    for row in session.execute(
        select(GisFeatureRow.kind, func.ST_AsGeoJSON(func.ST_Transform(GisFeatureRow.geom, proj), 3).label("g")).where(
            GisFeatureRow.site_id == site.id, GisFeatureRow.kind.in_(GROUND_KINDS)
        )
    ):
        layers[GROUND_KINDS[row.kind]].append(orjson.loads(row.g))
    boundary = session.scalar(
        select(func.ST_AsGeoJSON(func.ST_Transform(SiteRow.boundary, proj), 3)).where(SiteRow.id == site.id)
    )
    example = session.scalar(
        select(SpaceRow.address)
        .where(
            SpaceRow.site_id == site.id,
            SpaceRow.address.is_not(None),
            SpaceRow.retired_at.is_(None),
            place_condition(session, SpaceRow.path),
        )
        .order_by(SpaceRow.id)
        .limit(1)
    )
    return _json(
        {
            "site": {
                "id": site.id,
                "name": site.name,
                "origin": {"lat": site.origin_lat, "lon": site.origin_lon, "height": site.origin_height},
                "example_address": example,
            },
            "buildings": [
                {
                    "id": b.id,
                    "name": b.name,
                    "code": b.code,
                    "height": b.height,
                    "footprint": _ring(b.footprint),
                    "floors": floors.get(b.id, []),
                    "models_url": f"/api/sites/{site.id}/models",
                }
                for b in buildings
            ],
            "layers": layers | {"boundary": orjson.loads(boundary) if boundary else None},
            "counters": {str(k): v for k, v in counts.items()},
        }
    )


@router.get("/floors/{floor_id}/plan", response_model=FloorPlan)
def floor_plan(session: SessionDep, floor_id: Id) -> Response:
    """Return a floor with its spaces (polygons) and devices (positions, health): the 2D plan and the pins."""
    floor = get_place(session, FloorRow, floor_id, "floor")
    spaces = session.execute(
        select(
            SpaceRow.id,
            SpaceRow.space_kind,
            SpaceRow.name,
            SpaceRow.address,
            SpaceRow.area,
            func.ST_AsGeoJSON(SpaceRow.polygon_local, 3).label("polygon"),
        )
        .where(SpaceRow.floor_id == floor.id, SpaceRow.retired_at.is_(None), place_condition(session, SpaceRow.path))
        .order_by(SpaceRow.id)
    ).all()
    devices = session.execute(
        select(
            DeviceRow.id,
            DeviceRow.kind,
            DeviceRow.name,
            DeviceRow.tag,
            DeviceRow.health,
            DeviceRow.last_seen,
            DeviceRow.space_id,
            func.ST_X(DeviceRow.position_local).label("x"),
            func.ST_Y(DeviceRow.position_local).label("y"),
            func.ST_Z(DeviceRow.position_local).label("z"),
        )
        .where(
            DeviceRow.floor_id == floor.id,
            DeviceRow.retired_at.is_(None),
            device_condition(session, DeviceRow.path, DeviceRow.kind),
        )
        .order_by(DeviceRow.id)
    ).all()
    return _json(
        {
            "floor": {
                "id": floor.id,
                "name": floor.name,
                "level": floor.level,
                "elevation": floor.elevation,
                "height": floor.height,
                "building_id": floor.building_id,
                "outline": None,
            },
            "spaces": [
                {
                    "id": s.id,
                    "kind": s.space_kind,
                    "name": s.name,
                    "address": s.address,
                    "area": s.area,
                    "polygon": _ring(s.polygon),
                }
                for s in spaces
            ],
            "devices": [
                {
                    "id": d.id,
                    "kind": d.kind,
                    "name": d.name,
                    "tag": d.tag,
                    "health": d.health,
                    "last_seen": d.last_seen,
                    "space_id": d.space_id,
                    "position": None if d.x is None else [round(d.x, 3), round(d.y, 3), round(d.z or 0.0, 3)],
                }
                for d in devices
            ],
        }
    )
