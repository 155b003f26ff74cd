"""Devices and walking edges of a model into the graph, and the retirement of what the model dropped.

A device goes into its space when its position is in (or on the wall of) that space, else onto
its storey's floor (where the graph finds the space it stands in), else onto its building: the
file's containment is preferred, the geometry decides when the file is wrong. Stairs and lifts
join storeys; in the graph they join a space of each storey: its stair or lift space, else its
corridor or lobby, else the one nearest the lift, else the largest.
"""

from __future__ import annotations

import math
from typing import Any

from shapely.geometry import Point
from sqlalchemy import select

from bim.batch import add_walk_edges, create_devices
from bim.model import BimDevice, BimSpace, WalkEdge
from bim.sync import SyncState, clipped, ifc_identity
from twin.audit import snapshot
from twin.graph.devices import retire_device, update_device
from twin.graph.geometry import from_db
from twin.graph.walking import PATH_EDGE
from twin.imports import ImportInputError
from twin.imports.changes import (
    MOVE_TOLERANCE_M,
    announce,
    delete_walk_edge,
    edges_touching,
    keep_others,
    owned_by,
    retire_place,
    revive,
)
from twin.schemas import DeviceCreate, DeviceUpdate
from twin.store.models import BuildingRow, DeviceRow, FloorRow, PlaceRow, SpaceRow, WalkEdgeRow

WALL_M = 0.4
"""A device this close to its space's polygon is in it (wall- and ceiling-mounted devices)."""
_HUB_KINDS = {"stair": ("stair",), "elevator": ("elevator_shaft",), "door": ()}
_RETIRE_ORDER = {"space": 0, "floor": 1, "building": 2}


def write_devices(state: SyncState) -> None:
    """Create or update the model's devices in their places; the new ones together (:mod:`bim.batch`)."""
    new: dict[str, DeviceCreate] = {}
    for device in state.model.devices:
        position = state.placement_of_storey(device.storey_id).point(device.position)
        place = _place_for(state, device, position)
        values: dict[str, Any] = {
            "kind": device.kind.value,
            "name": clipped(device.name or device.type_name or device.ifc_class, 200, device.global_id),
            "tag": clipped(device.tag, 64, "") or None,
            "properties": _properties(state, device),
        }
        row = state.existing.get(device.global_id)
        if row is None:
            new[device.global_id] = DeviceCreate(
                place_id=place.id, position=position, identifiers=ifc_identity(device.global_id), **values
            )
            state.changes.added.append(device.global_id)
            continue
        if not isinstance(row, DeviceRow):
            raise ImportInputError(f"GlobalId {device.global_id} of {device.ifc_class} names a place here")
        state.devices[device.global_id] = row
        if row.retired_at is not None:
            revive(state.session, row)
            state.changes.added.append(device.global_id)
        if state.owns(row):
            _update(state, row, device.global_id, place, position, values)
    state.devices |= zip(new, create_devices(state.session, list(new.values())), strict=True)


def _properties(state: SyncState, device: BimDevice) -> dict[str, Any]:
    marker = state.marker(
        device.global_id,
        device.ifc_class,
        predefined_type=device.predefined_type,
        object_type=device.object_type,
        type_name=device.type_name,
        space_by_geometry=device.space_by_geometry,
    )
    return {"ifc": marker, "psets": device.properties, "qtos": device.quantities}


def _place_for(state: SyncState, device: BimDevice, position: tuple[float, float, float]) -> PlaceRow:
    space = state.places.get(device.space_id or "")
    polygon = state.polygons.get(device.space_id or "")
    if isinstance(space, SpaceRow) and polygon is not None and polygon.distance(Point(position[:2])) <= WALL_M:
        return space
    floor = state.places.get(device.storey_id or "")
    if floor is None and isinstance(space, SpaceRow):
        floor = state.session.get(FloorRow, space.floor_id)
    if floor is not None:
        return floor
    building = state.places.get(state.storey_building.get(device.storey_id or "", ""))
    if building is None:
        building = next((r for r in state.places.values() if isinstance(r, BuildingRow)), None)
    return building or state.site


def _update(
    state: SyncState,
    row: DeviceRow,
    global_id: str,
    place: PlaceRow,
    position: tuple[float, float, float],
    values: dict[str, Any],
) -> None:
    values["properties"] = keep_others(row, values["properties"])
    floor_id = place.id if isinstance(place, FloorRow) else getattr(place, "floor_id", None)
    space_id = place.id if isinstance(place, SpaceRow) else None
    old = from_db(row.position_local)
    distance = math.dist((old.x, old.y, old.z if old.has_z else 0.0), position) if old is not None else math.inf
    moved = (
        distance > MOVE_TOLERANCE_M or row.floor_id != floor_id or (space_id is not None and row.space_id != space_id)
    )
    changed = {key for key, value in values.items() if getattr(row, key) != value}
    if moved:
        row.kind, row.tag = values["kind"], values["tag"]
        update_device(
            state.session,
            row.id,
            DeviceUpdate(place_id=place.id, position=position, name=values["name"], properties=values["properties"]),
        )
        state.changes.moved.append(global_id)
    elif changed:
        before = snapshot(row)
        for key in changed:
            setattr(row, key, values[key])
        announce(state.session, "update", row, before)
        state.changes.changed.append(global_id)
    else:
        state.changes.unchanged += 1


def write_walks(state: SyncState) -> int:
    """Add the model's walking edges the graph lacks, drop those whose element is gone; return the count."""
    existing = set() if state.new_site else _site_edges(state)
    wanted: set[tuple[int, int, str]] = set()
    new: list[tuple[SpaceRow, SpaceRow, str, float, str | None]] = []
    unplaced = 0
    for edge in state.model.walks:
        a, b = _space_of(state, edge.source, edge), _space_of(state, edge.target, edge)
        if a is None or b is None or a.id == b.id:
            unplaced += 1
            continue
        key: tuple[int, int, str] = (min(a.id, b.id), max(a.id, b.id), edge.kind)
        wanted.add(key)
        if key not in existing:
            low, high = (a, b) if a.id < b.id else (b, a)
            new.append((low, high, edge.kind, edge.length, edge.via))
            existing.add(key)
    add_walk_edges(state.session, new)
    if unplaced:
        state.warnings.append(f"{unplaced} walking edge(s) joined no two spaces of the graph (storeys without spaces)")
    owned = [r.id for r in state.places.values() if isinstance(r, SpaceRow) and state.owns(r)]
    for stale in edges_touching(state.session, owned) if not state.new_site else ():
        key = (min(stale.from_space_id, stale.to_space_id), max(stale.from_space_id, stale.to_space_id), stale.kind)
        # Outdoor paths join the model's entrances but are the map's (twin.graph.outdoors remakes them).
        if stale.via is not None and stale.kind != PATH_EDGE and key not in wanted:
            delete_walk_edge(state.session, stale)
    return len(wanted)


def _site_edges(state: SyncState) -> set[tuple[int, int, str]]:
    site_edges = state.session.scalars(select(WalkEdgeRow).where(WalkEdgeRow.site_id == state.site.id))
    return {(min(e.from_space_id, e.to_space_id), max(e.from_space_id, e.to_space_id), e.kind) for e in site_edges}


def _space_of(state: SyncState, global_id: str, edge: WalkEdge) -> SpaceRow | None:
    row = state.places.get(global_id)
    if isinstance(row, SpaceRow):
        return row
    if not isinstance(row, FloorRow):
        return None
    candidates: list[tuple[BimSpace, SpaceRow]] = [
        (s, r)
        for s in state.model.spaces
        if s.storey_id == global_id and isinstance(r := state.places.get(s.global_id), SpaceRow)
    ]
    for kind in (*_HUB_KINDS[edge.kind], "corridor", "lobby"):
        of_kind = [(s, r) for s, r in candidates if r.space_kind == kind]
        if of_kind:
            candidates = of_kind
            break
    if not candidates:
        return None
    lift = state.devices.get(edge.via)
    near = from_db(lift.position_local) if lift is not None else None
    if near is not None:
        polygons = state.polygons
        placed = [(polygons[s.global_id].distance(near), r.id, r) for s, r in candidates if s.global_id in polygons]
        if placed:
            return min(placed, key=lambda t: (t[0], t[1]))[2]
    return max(candidates, key=lambda c: (c[0].area or 0.0, -c[1].id))[1]


def retire_missing(state: SyncState) -> None:
    """Retire the rows this model created whose elements its new version no longer has.

    A site this import created holds only the rows it just wrote: none is left to retire.
    """
    if state.new_site:
        return
    place_ids, device_ids = state.written_ids()
    places, devices = owned_by(state.session, state.site.id, "ifc", state.key)
    for device in devices:
        if device.id not in device_ids and device.retired_at is None:
            retire_device(state.session, device.id)
            state.changes.retired.append(_global_id(device))
    for place in sorted(places, key=lambda p: _RETIRE_ORDER.get(p.kind, 3)):
        if place.id not in place_ids and place.retired_at is None:
            retire_place(state.session, place)
            state.changes.retired.append(_global_id(place))


def _global_id(row: PlaceRow | DeviceRow) -> str:
    return str(((row.properties or {}).get("ifc") or {}).get("global_id", row.id))
