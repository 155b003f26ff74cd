"""A synthetic community of any size for the graph benchmark: towers, floors, units and devices."""

from __future__ import annotations

import random

from shapely.geometry import Point, box
from sqlalchemy import insert
from sqlalchemy.orm import Session

from twin.graph import places
from twin.graph.geometry import LOCAL_SRID, to_db
from twin.schemas import BuildingCreate, FloorCreate, SiteCreate, SpaceCreate
from twin.store.models import DeviceRow

KINDS = [
    "smoke_detector",
    "heat_detector",
    "sprinkler",
    "light",
    "electricity_meter",
    "water_meter",
    "env_sensor",
    "camera",
    "hydrant",
    "manual_call_point",
]


def populate(session: Session, buildings: int, floors: int, devices: int, seed: int = 7) -> dict[str, list[int]]:
    """Create the community; return the ids the benchmark asks about."""
    rng = random.Random(seed)
    site = places.create_site(session, SiteCreate(name="Bench", origin_lat=25.07, origin_lon=102.72))
    floor_rows = []
    unit_addresses = []
    for b in range(buildings):
        x0, y0 = (b % 5) * 60.0, (b // 5) * 50.0
        outline = box(x0, y0, x0 + 40, y0 + 20)
        building = places.create_building(
            session,
            BuildingCreate(
                site_id=site.id, name=f"{b + 1}栋", code=str(b + 1), footprint_local=outline.__geo_interface__
            ),
        )
        for level in range(1, floors + 1):
            floor = places.create_floor(
                session,
                FloorCreate(
                    building_id=building.id,
                    name=f"{level}F",
                    level=level,
                    elevation=3.0 * (level - 1),
                    outline_local=outline.__geo_interface__,
                ),
            )
            spaces = []
            for n in range(4):
                room = f"{level}{n + 1:02d}"
                unit = box(x0 + 10 * n, y0, x0 + 10 * n + 10, y0 + 20)
                spaces.append(
                    places.create_space(
                        session,
                        SpaceCreate(
                            floor_id=floor.id,
                            name=f"{room}室",
                            kind="unit",
                            polygon_local=unit.__geo_interface__,
                            address=f"{b + 1}-1-{room}",
                        ),
                    )
                )
                unit_addresses.append(f"{b + 1}-1-{room}")
            floor_rows.append((floor, spaces, x0, y0))
    rows = []
    for i in range(devices):
        floor, spaces, x0, y0 = floor_rows[i % len(floor_rows)]
        n = rng.randrange(4)
        x, y = x0 + 10 * n + rng.uniform(0.5, 9.5), y0 + rng.uniform(0.5, 19.5)
        space = spaces[n]
        rows.append(
            {
                "site_id": site.id,
                "place_id": space.id,
                "floor_id": floor.id,
                "space_id": space.id,
                "path": space.path,
                "kind": KINDS[(i // len(floor_rows)) % len(KINDS)],
                "name": f"dev {i}",
                "tag": f"D{i:06d}",
                "position_local": to_db(Point(x, y, floor.elevation + 2.5), LOCAL_SRID),
                "properties": {},
                "health": "online",
            }
        )
        if len(rows) == 5000:
            session.execute(insert(DeviceRow), rows)
            rows = []
    if rows:
        session.execute(insert(DeviceRow), rows)
    session.flush()
    return {
        "site": [site.id],
        "floors": [f.id for f, _, _, _ in floor_rows],
        "buildings": sorted({f.building_id for f, _, _, _ in floor_rows}),
        "addresses": unit_addresses,  # type: ignore[dict-item]
    }
