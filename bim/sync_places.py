"""Buildings, storeys and spaces of a model into the graph, created or updated by GlobalId.

Levels follow Chinese and most European usage: the storey nearest ground level is 1, those above
count up, basements count down from -1 (a storey more than :data:`BASEMENT_BELOW_M` under the
model's zero is a basement). Two models of one building (architecture and MEP) meet on the same
floors: a storey whose level already has a floor in the building names that floor too.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from shapely.geometry import Polygon, mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select

from bim.batch import create_spaces
from bim.model import BimBuilding, BimStorey
from bim.outlines import footprint_of, outline_of, polygon_of
from bim.placement import ModelPlacement
from bim.space_kinds import space_kind, unit_address
from bim.sync import SyncState, clipped, ifc_identity, points_of
from twin.audit import snapshot
from twin.catalogue import SpaceKind
from twin.graph.geometry import from_db, to_db
from twin.graph.places import create_building, create_floor, update_place
from twin.imports import ImportInputError
from twin.imports.changes import announce, derive_footprint, keep_others, revive, same_geometry
from twin.schemas import BuildingCreate, FloorCreate, PlaceUpdate, SpaceCreate
from twin.store.models import BuildingRow, DeviceRow, FloorRow, PlaceRow, SpaceRow

BASEMENT_BELOW_M = -0.5
DEFAULT_STOREY_M = 3.0


@dataclass(frozen=True, slots=True)
class StoreyPlan:
    """A storey with the level and height it gets in the graph."""

    storey: BimStorey
    level: int
    height: float


def plan_storeys(state: SyncState) -> dict[str, list[StoreyPlan]]:
    """Return each building's storeys, lowest first, with their levels and heights."""
    tops: dict[str, float] = defaultdict(float)
    for space in state.model.spaces:
        if space.storey_id and space.height:
            tops[space.storey_id] = max(tops[space.storey_id], space.height)
    grouped: dict[str, list[BimStorey]] = defaultdict(list)
    for storey in state.model.storeys:
        grouped[state.storey_building[storey.global_id]].append(storey)
    plans: dict[str, list[StoreyPlan]] = {}
    for building, storeys in grouped.items():
        ordered = sorted(storeys, key=lambda s: (s.elevation, s.order, s.global_id))
        above = [s for s in ordered if s.elevation >= BASEMENT_BELOW_M]
        below = [s for s in ordered if s.elevation < BASEMENT_BELOW_M]
        levels = {s.global_id: i + 1 for i, s in enumerate(above)}
        levels |= {s.global_id: -(i + 1) for i, s in enumerate(reversed(below))}
        plans[building] = []
        for index, storey in enumerate(ordered):
            rise = ordered[index + 1].elevation - storey.elevation if index + 1 < len(ordered) else 0.0
            height = rise if rise > 0.1 else (tops.get(storey.global_id) or DEFAULT_STOREY_M)
            plans[building].append(StoreyPlan(storey, levels[storey.global_id], round(min(height, 100.0), 4)))
    return plans


def write_buildings(state: SyncState, building_name: str | None) -> dict[str, list[StoreyPlan]]:
    """Create or update the model's buildings; return the storey plans of each."""
    model = state.model
    buildings = model.buildings or (BimBuilding(model.project_id, model.project_name, None, (0.0, 0.0, 0.0)),)
    if building_name and len(buildings) > 1:
        raise ImportInputError(
            f"{model.path.name} holds {len(buildings)} buildings; a building name applies to one",
            "import it without --building",
        )
    known = {b.global_id for b in buildings}
    for storey in model.storeys:
        holder = storey.building_id if storey.building_id in known else buildings[0].global_id
        state.storey_building[storey.global_id] = holder
    plans = plan_storeys(state)
    for building in buildings:
        _write_building(state, building, building_name, plans.get(building.global_id, []))
    return plans


def _write_building(state: SyncState, bim: BimBuilding, name: str | None, plans: list[StoreyPlan]) -> None:
    row = state.existing.get(bim.global_id)
    if row is not None and not isinstance(row, BuildingRow):
        raise ImportInputError(f"GlobalId {bim.global_id} of IfcBuilding names a {type(row).__name__} here")
    if row is None and name:
        row = state.session.scalar(
            select(BuildingRow).where(
                BuildingRow.site_id == state.site.id, BuildingRow.name == name, BuildingRow.retired_at.is_(None)
            )
        )
        if row is not None:
            state.bind(row, bim.global_id)
    placement = _placement(state, row)
    state.placements[bim.global_id] = placement
    storeys = {p.storey.global_id for p in plans}
    spaces = [s for s in state.model.spaces if s.storey_id in storeys]
    footprint = footprint_of(p for s in spaces if (p := polygon_of(placement.ring(s.footprint))) is not None)
    above = [p for p in plans if p.level > 0]
    base = above[0].storey.elevation if above else (plans[0].storey.elevation if plans else 0.0)
    top = max((p.storey.elevation + p.height for p in plans), default=0.0)
    values: dict[str, Any] = {
        "name": clipped(name or bim.name or state.model.project_name, 200, f"Building {bim.global_id}"),
        "height": round(top - base, 3) if 0 < top - base <= 1000 else None,
        "floors_above": min(len(above), 300),
        "floors_below": min(len(plans) - len(above), 20),
        "properties": _building_properties(state, bim, row, placement),
    }
    if row is None:
        created = create_building(
            state.session,
            BuildingCreate(
                site_id=state.site.id,
                footprint_local=mapping(footprint) if footprint is not None else None,
                identifiers=ifc_identity(bim.global_id),
                **values,
            ),
        )
        state.changes.added.append(bim.global_id)
        state.places[bim.global_id] = created
        state.new_buildings.add(created.id)
        return
    _revived(state, row, bim.global_id)
    state.places[bim.global_id] = row
    if state.owns(row):
        _update(state, row, bim.global_id, values, geometry={"footprint_local": footprint})


def _placement(state: SyncState, row: BuildingRow | None) -> ModelPlacement:
    """Return where a building's model coordinates go: its own georeference, or the building's placement."""
    if row is None:
        return state.default
    bim = (row.properties or {}).get("bim") or {}
    if state.owns(row):
        alignment = bim.get("alignment")
        return state.default.then(alignment) if alignment else state.default
    stored = bim.get("model_to_site")
    return ModelPlacement.from_array(stored) if stored else state.default


def _building_properties(
    state: SyncState, bim: BimBuilding, row: BuildingRow | None, placement: ModelPlacement
) -> dict[str, Any]:
    model = state.model
    previous = ((row.properties or {}).get("bim") or {}) if row is not None else {}
    return {
        "ifc": state.marker(bim.global_id, "IfcBuilding", project=model.project_id, schema=model.schema),
        "bim": {
            "georef": model.georef.source,
            "placement": state.default.as_list(),
            "alignment": previous.get("alignment"),
            "model_to_site": placement.as_list(),
        },
    }


def write_floors(state: SyncState, plans: dict[str, list[StoreyPlan]]) -> None:
    """Create or update a floor per storey, its outline the hull of what it holds."""
    for building_id, storeys in plans.items():
        building = state.places[building_id]
        placement = state.placements.get(building_id, state.default)
        for plan in storeys:
            _write_floor(state, building, placement, plan)


def _write_floor(state: SyncState, building: PlaceRow, placement: ModelPlacement, plan: StoreyPlan) -> None:
    storey = plan.storey
    polygons = [
        p
        for s in state.model.spaces
        if s.storey_id == storey.global_id
        if (p := polygon_of(placement.ring(s.footprint))) is not None
    ]
    points = points_of(placement.point(d.position) for d in state.model.devices if d.storey_id == storey.global_id)
    row = state.existing.get(storey.global_id)
    if row is None:
        row = _floor_at(state, building.id, plan.level)
        if row is not None:
            state.bind(row, storey.global_id)
    if row is not None and not isinstance(row, FloorRow):
        raise ImportInputError(f"GlobalId {storey.global_id} of IfcBuildingStorey names a {type(row).__name__} here")
    held = _device_points(state, row.id) if row is not None else []
    outline = outline_of(polygons, points + held)
    values: dict[str, Any] = {
        "name": clipped(storey.name, 200, f"{plan.level}F"),
        "level": plan.level,
        "elevation": round(placement.height(storey.elevation), 6),
        "height": plan.height,
        "properties": {"ifc": state.marker(storey.global_id, "IfcBuildingStorey")},
    }
    if row is None:
        created = create_floor(
            state.session,
            FloorCreate(
                building_id=building.id,
                outline_local=mapping(outline) if outline is not None else None,
                identifiers=ifc_identity(storey.global_id),
                **values,
            ),
        )
        state.changes.added.append(storey.global_id)
        state.places[storey.global_id] = created
        return
    _revived(state, row, storey.global_id)
    state.places[storey.global_id] = row
    if state.owns(row):
        if values["level"] != row.level and _floor_at(state, building.id, values["level"]) is not None:
            state.warnings.append(f"IfcBuildingStorey {storey.global_id}: level {values['level']} is taken; kept")
            values["level"] = row.level
        _update(state, row, storey.global_id, values, geometry={"outline_local": outline})
    else:
        existing = from_db(row.outline_local)
        grown = outline_of([existing] if isinstance(existing, Polygon) else [], points + held)
        _update(state, row, storey.global_id, {}, geometry={"outline_local": grown})


def _floor_at(state: SyncState, building_id: int, level: int) -> FloorRow | None:
    """Return another model's floor at this level of the building (a federated model's storey)."""
    if building_id in state.new_buildings:
        return None
    written = {r.id for r in state.places.values()}
    row = state.session.scalar(
        select(FloorRow).where(
            FloorRow.building_id == building_id, FloorRow.level == level, FloorRow.retired_at.is_(None)
        )
    )
    return row if row is not None and row.id not in written else None


def _device_points(state: SyncState, floor_id: int) -> list[tuple[float, float]]:
    stmt = select(DeviceRow.position_local).where(
        DeviceRow.floor_id == floor_id, DeviceRow.retired_at.is_(None), DeviceRow.position_local.is_not(None)
    )
    points = [from_db(p) for p in state.session.scalars(stmt)]
    return [(p.x, p.y) for p in points if p is not None]


def write_spaces(state: SyncState) -> None:
    """Create or update the model's spaces on their floors, with the IfcZones (flats, compartments) they are in.

    The new ones are created together at the end (:func:`bim.batch.create_spaces`), in the model's order.
    """
    zones: dict[str, list[dict[str, str]]] = defaultdict(list)
    for zone in state.model.zones:
        for member in zone.space_ids:
            zones[member].append({"global_id": zone.global_id, "name": zone.name})
    new: dict[str, SpaceCreate] = {}
    for space in state.model.spaces:
        floor = state.places.get(space.storey_id or "")
        if floor is None:
            state.warnings.append(f"IfcSpace {space.global_id} ({space.name}): in no storey, left out")
            continue
        polygon = polygon_of(state.placement_of_storey(space.storey_id).ring(space.footprint))
        if polygon is not None:
            state.polygons[space.global_id] = polygon
        label = " ".join(dict.fromkeys(t for t in (space.name, space.long_name) if t))
        kind = space_kind(space.name, space.long_name)
        values: dict[str, Any] = {
            "name": clipped(label, 200, f"Space {space.global_id}"),
            "space_kind": kind.value,
            "area": space.area,
            "properties": {
                "ifc": state.marker(
                    space.global_id, "IfcSpace", long_name=space.long_name, zones=zones.get(space.global_id, [])
                ),
                "psets": space.properties,
            },
        }
        address = unit_address(space.name, space.long_name) if kind is SpaceKind.UNIT else None
        row = state.existing.get(space.global_id)
        if row is None:
            values.pop("space_kind")
            new[space.global_id] = SpaceCreate(
                floor_id=floor.id,
                kind=kind,
                address=address.normal if address is not None else None,
                polygon_local=mapping(polygon) if polygon is not None else None,
                identifiers=ifc_identity(space.global_id),
                **values,
            )
            state.changes.added.append(space.global_id)
            continue
        if not isinstance(row, SpaceRow):
            raise ImportInputError(f"GlobalId {space.global_id} of IfcSpace names a {type(row).__name__} here")
        _revived(state, row, space.global_id)
        state.places[space.global_id] = row
        if not state.owns(row):
            continue
        if row.floor_id != floor.id:
            update_place(state.session, row.id, PlaceUpdate(parent_id=floor.id))
            state.changes.moved.append(space.global_id)
        if address is not None:
            values |= {"address": address.normal, "building_no": address.building}
            values |= {"entrance_no": address.entrance, "room_no": address.room}
        _update(state, row, space.global_id, values, geometry={"polygon_local": polygon}, moves=True)
    state.places |= zip(new, create_spaces(state.session, list(new.values())), strict=True)


def _revived(state: SyncState, row: PlaceRow, global_id: str) -> None:
    if row.retired_at is not None:
        revive(state.session, row)
        state.changes.added.append(global_id)


def _update(
    state: SyncState,
    row: PlaceRow,
    global_id: str,
    values: dict[str, Any],
    geometry: dict[str, BaseGeometry | None],
    moves: bool = False,
) -> None:
    """Set what differs; count element changes (derived outlines are updated without being counted)."""
    if "properties" in values:
        values["properties"] = keep_others(row, values["properties"])
    before = snapshot(row)
    changed = {key for key, value in values.items() if getattr(row, key) != value}
    reshaped = {key for key, value in geometry.items() if not same_geometry(getattr(row, key), value)}
    if not changed and not reshaped:
        if values:
            state.changes.unchanged += 1
        return
    for key in changed:
        setattr(row, key, values[key])
    for key in reshaped:
        setattr(row, key, to_db(geometry[key], 0))
    if "footprint_local" in reshaped and isinstance(row, BuildingRow):
        derive_footprint(state.session, row, state.site)
    announce(state.session, "update", row, before)
    moved = (moves and bool(reshaped)) or bool(changed & {"elevation", "level"})
    if moved and global_id not in state.changes.moved:
        state.changes.moved.append(global_id)
    elif changed - {"elevation", "level"}:
        state.changes.changed.append(global_id)
    elif values and not moved:
        state.changes.unchanged += 1
