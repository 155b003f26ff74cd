# mypy: disable-error-code="no-untyped-call"
"""The walking graph a model implies: doors join spaces, stairs and lifts join storeys.

Edges are undirected (``source`` < ``target``); lengths are metres a person walks, estimated:
centroid to door to centroid for doors, the slope of a 175/280 mm stair for stairs, the rise for
lifts. Doors use ``IfcRelSpaceBoundary`` when the file has it, else the spaces whose footprints
come within :data:`DOOR_REACH_M` of the door's placement on its storey.
"""

from __future__ import annotations

import math
from itertools import combinations, pairwise

import ifcopenshell
import shapely
from shapely.geometry import Polygon

from bim.frame import Entity, Frame, storey_of
from bim.model import BimDevice, BimSpace, BimStorey, Point3, WalkEdge
from twin.catalogue import DeviceKind

DOOR_REACH_M = 0.6
STAIR_RUN_PER_RISE = 280 / 175


def walking_edges(
    model: ifcopenshell.file,
    frame: Frame,
    storeys: tuple[BimStorey, ...],
    spaces: tuple[BimSpace, ...],
    devices: list[BimDevice],
    warnings: list[str],
) -> list[WalkEdge]:
    """Return the door, stair and elevator edges of the model, without duplicates."""
    by_id = {s.global_id: s for s in spaces}
    edges: dict[tuple[str, str, str], WalkEdge] = {}
    bounded = _doors_by_boundary(model)
    for door in model.by_type("IfcDoor"):
        position = frame.position(door)
        joined = bounded.get(door.GlobalId) or _doors_by_adjacency(door, position, spaces)
        for a, b in combinations(sorted(set(joined)), 2):
            if a in by_id and b in by_id:
                length = _dist(_centre(by_id[a]), position) + _dist(position, _centre(by_id[b]))
                edges[(a, b, door.GlobalId)] = WalkEdge(a, b, door.GlobalId, "door", round(length, 3))
    storey_ids = {s.global_id for s in storeys}
    for stair in _stairs(model):
        storey = storey_of(stair)
        above = (
            _next_storey(storeys, storey.GlobalId)
            if storey is not None and storey.GlobalId in storey_ids
            else None
        )
        if storey is None or above is None:
            warnings.append(f"{stair.is_a()} {stair.GlobalId} ({stair.Name}): no storey above it to join")
            continue
        rise = abs(above.elevation - _storey(storeys, storey.GlobalId).elevation)
        length = math.hypot(rise, rise * STAIR_RUN_PER_RISE)
        a, b = sorted((storey.GlobalId, above.global_id))
        edges[(a, b, stair.GlobalId)] = WalkEdge(a, b, stair.GlobalId, "stair", round(length, 3))
    for device in devices:
        if device.kind is not DeviceKind.ELEVATOR or device.storey_id not in storey_ids:
            continue
        building = _storey(storeys, device.storey_id).building_id
        served = [s for s in storeys if s.building_id == building]
        for low, high in pairwise(served):
            a, b = sorted((low.global_id, high.global_id))
            rise = round(abs(high.elevation - low.elevation), 3)
            edges[(a, b, device.global_id)] = WalkEdge(a, b, device.global_id, "elevator", rise)
    return list(edges.values())


def _doors_by_boundary(model: ifcopenshell.file) -> dict[str, list[str]]:
    joined: dict[str, list[str]] = {}
    for rel in model.by_type("IfcRelSpaceBoundary"):
        element, space = rel.RelatedBuildingElement, rel.RelatingSpace
        if element is not None and space is not None and element.is_a("IfcDoor") and space.is_a("IfcSpace"):
            joined.setdefault(element.GlobalId, []).append(space.GlobalId)
    return joined


def _doors_by_adjacency(door: Entity, position: Point3, spaces: tuple[BimSpace, ...]) -> list[str]:
    storey = storey_of(door)
    here = shapely.Point(position[0], position[1])
    near = []
    for space in spaces:
        if len(space.footprint) < 3 or (storey is not None and space.storey_id != storey.GlobalId):
            continue
        distance = Polygon(space.footprint).distance(here)
        if distance <= DOOR_REACH_M:
            near.append((distance, space.global_id))
    return [g for _, g in sorted(near)[:2]]


def _stairs(model: ifcopenshell.file) -> list[Entity]:
    stairs = list(model.by_type("IfcStair"))
    for flight in model.by_type("IfcStairFlight"):
        decomposes = getattr(flight, "Decomposes", ()) or ()
        if not any(rel.RelatingObject.is_a("IfcStair") for rel in decomposes):
            stairs.append(flight)
    return stairs


def _storey(storeys: tuple[BimStorey, ...], global_id: str | None) -> BimStorey:
    return next(s for s in storeys if s.global_id == global_id)


def _next_storey(storeys: tuple[BimStorey, ...], global_id: str) -> BimStorey | None:
    current = _storey(storeys, global_id)
    above = [s for s in storeys if s.building_id == current.building_id and s.order == current.order + 1]
    return above[0] if above else None


def _centre(space: BimSpace) -> Point3:
    if len(space.footprint) >= 3:
        c = Polygon(space.footprint).centroid
        return (c.x, c.y, space.elevation)
    return (0.0, 0.0, space.elevation)


def _dist(a: Point3, b: Point3) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])
