"""A small community built through the API, shared by the graph tests.

Two towers on a site in Kunming; tower 3 has a basement and floors 1–3, each with a corridor,
a stair, and two units (3-2-x01, 3-2-x02) of 10 m × 8 m; devices in units and corridors; a pump
in the basement feeding floor 2; doors join units to corridors and stairs join floors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient


def rect(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    """Return a GeoJSON rectangle in the site frame."""
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def post(client: TestClient, url: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST and insist on 201."""
    response = client.post(url, json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


@dataclass
class Community:
    """Ids of what was built."""

    site: int = 0
    tower: int = 0
    other_tower: int = 0
    floors: dict[int, int] = field(default_factory=dict)
    corridors: dict[int, int] = field(default_factory=dict)
    stairs: dict[int, int] = field(default_factory=dict)
    units: dict[str, int] = field(default_factory=dict)
    devices: dict[str, int] = field(default_factory=dict)
    positions: dict[int, tuple[float, float, float]] = field(default_factory=dict)


def build(client: TestClient) -> Community:
    """Build the community and return its ids."""
    c = Community()
    c.site = post(client, "/api/sites", {"name": "金色年华", "origin_lat": 25.0725, "origin_lon": 102.7194})["id"]
    c.tower = post(
        client,
        "/api/buildings",
        {"site_id": c.site, "name": "3栋", "code": "3", "footprint_local": rect(0, 0, 30, 20), "height": 12.0},
    )["id"]
    c.other_tower = post(
        client,
        "/api/buildings",
        {"site_id": c.site, "name": "5栋", "code": "5", "footprint_local": rect(60, 0, 90, 20)},
    )["id"]
    for level in (-1, 1, 2, 3):
        c.floors[level] = post(
            client,
            "/api/floors",
            {
                "building_id": c.tower,
                "name": f"{level}F",
                "level": level,
                "elevation": 3.0 * (level - 1),
                "outline_local": rect(0, 0, 30, 20),
            },
        )["id"]
        c.corridors[level] = post(
            client,
            "/api/spaces",
            {
                "floor_id": c.floors[level],
                "name": f"{level}F 走廊",
                "kind": "corridor",
                "polygon_local": rect(0, 8, 30, 12),
            },
        )["id"]
        c.stairs[level] = post(
            client,
            "/api/spaces",
            {
                "floor_id": c.floors[level],
                "name": f"{level}F 楼梯",
                "kind": "stair",
                "polygon_local": rect(26, 12, 30, 20),
            },
        )["id"]
        post(
            client,
            "/api/walk-edges",
            {"from_space_id": c.corridors[level], "to_space_id": c.stairs[level], "kind": "door"},
        )
        if level > 1:
            post(
                client,
                "/api/walk-edges",
                {"from_space_id": c.stairs[level - 1], "to_space_id": c.stairs[level], "kind": "stair", "length": 7.0},
            )
        elif level == 1:
            post(
                client,
                "/api/walk-edges",
                {"from_space_id": c.stairs[-1], "to_space_id": c.stairs[1], "kind": "stair", "length": 7.0},
            )
        if level < 1:
            continue
        for n, x0 in ((1, 0.0), (2, 10.0)):
            address = f"3-2-{level}0{n}"
            c.units[address] = post(
                client,
                "/api/spaces",
                {
                    "floor_id": c.floors[level],
                    "name": f"{level}0{n}室",
                    "kind": "unit",
                    "polygon_local": rect(x0, 0, x0 + 10, 8),
                    "address": f"3栋2单元{level}0{n}室",
                },
            )["id"]
            post(
                client,
                "/api/walk-edges",
                {"from_space_id": c.units[address], "to_space_id": c.corridors[level], "kind": "door"},
            )
            pos = (x0 + 5, 4.0, 3.0 * (level - 1) + 2.6)
            device = post(
                client,
                "/api/devices",
                {
                    "place_id": c.floors[level],
                    "kind": "smoke_detector",
                    "name": f"烟感 {address}",
                    "tag": f"SD-{address}",
                    "position": list(pos),
                    "identifiers": [{"namespace": "mqtt", "value": f"sd-{address}"}],
                },
            )
            c.devices[f"sd-{address}"] = device["id"]
            c.positions[device["id"]] = pos
        hydrant_pos = (15.0, 10.0, 3.0 * (level - 1) + 1.0)
        hydrant = post(
            client,
            "/api/devices",
            {
                "place_id": c.corridors[level],
                "kind": "hydrant",
                "name": f"{level}F 消火栓",
                "position": list(hydrant_pos),
            },
        )
        c.devices[f"hydrant-{level}"] = hydrant["id"]
        c.positions[hydrant["id"]] = hydrant_pos
    pump_pos = (5.0, 10.0, -2.0)
    pump = post(
        client,
        "/api/devices",
        {
            "place_id": c.floors[-1],
            "kind": "water_pump",
            "name": "生活水泵 P2",
            "tag": "P2",
            "position": list(pump_pos),
        },
    )
    c.devices["pump"] = pump["id"]
    c.positions[pump["id"]] = pump_pos
    post(client, "/api/relations", {"kind": "feeds", "source_device_id": pump["id"], "target_place_id": c.floors[2]})
    return c
