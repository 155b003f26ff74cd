# mypy: disable-error-code="no-untyped-call"
"""Read an IFC file into a :class:`BimModel`: structure, spaces, zones, devices, walks, georeference.

The file is parsed once and checked before anything is built; a problem with the whole file
raises :class:`IfcImportError`, a problem with one element becomes a warning naming its GlobalId.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import ifcopenshell
import ifcopenshell.util.element

from bim.devices import read_devices
from bim.errors import IfcImportError
from bim.frame import Entity, Frame, plain, storey_of
from bim.georef import read_georef
from bim.model import BimBuilding, BimGeoref, BimModel, BimSite, BimSpace, BimStorey, BimZone, Point3
from bim.source import open_ifc
from bim.spaces import space_shapes
from bim.walking import walking_edges

Progress = Callable[[str, int, int], None]
STAGES = ("open", "structure", "spaces", "devices", "walks")
_AREA_QUANTITIES = ("NetFloorArea", "GrossFloorArea", "NetArea", "GrossArea", "Area")


def read_ifc(
    path: Path | str, *, progress: Progress | None = None, georef: BimGeoref | None = None
) -> BimModel:
    """Return what the file at ``path`` says, in metres; ``georef`` overrides the file's own."""
    path = Path(path)
    report = progress or (lambda stage, done, total: None)
    report("open", 0, len(STAGES))
    model = open_ifc(path)
    return read_model(model, path, progress=report, georef=georef)


def read_model(
    model: ifcopenshell.file, path: Path, *, progress: Progress | None = None, georef: BimGeoref | None = None
) -> BimModel:
    """Return the BimModel of an already opened file (the geometry writer shares the parse)."""
    report = progress or (lambda stage, done, total: None)
    check_model(model, path)
    report("structure", 1, len(STAGES))
    warnings: list[str] = []
    frame = Frame(model)
    located = locate(model, frame, georef)
    frame.offset = located.offset
    project = model.by_type("IfcProject")[0]
    sites = tuple(_site(s, frame) for s in model.by_type("IfcSite"))
    buildings = tuple(_building(b, frame) for b in model.by_type("IfcBuilding"))
    storeys = _storeys(model, frame)
    report("spaces", 2, len(STAGES))
    spaces = _spaces(model, frame, warnings)
    zones = tuple(_zone(z) for z in model.by_type("IfcZone"))
    report("devices", 3, len(STAGES))
    devices = read_devices(model, frame, list(spaces), warnings)
    report("walks", 4, len(STAGES))
    walks = walking_edges(model, frame, storeys, spaces, devices, warnings)
    report("walks", 5, len(STAGES))
    return BimModel(
        path=path,
        schema=model.schema,
        project_id=project.GlobalId,
        project_name=str(project.Name or project.LongName or ""),
        georef=located,
        sites=sites,
        buildings=buildings,
        storeys=storeys,
        spaces=spaces,
        zones=zones,
        devices=tuple(devices),
        walks=tuple(walks),
        warnings=(*located.warnings, *warnings),
    )


def locate(model: ifcopenshell.file, frame: Frame, georef: BimGeoref | None = None) -> BimGeoref:
    """Return the model's georeference, its re-centring judged on sites, buildings and spaces."""
    return read_georef(model, unit_scale=frame.scale, positions=anchor_positions(model, frame), given=georef)


def anchor_positions(model: ifcopenshell.file, frame: Frame) -> list[Point3]:
    """Return where the sites, buildings and spaces stand: the model's re-centring is judged on them alone."""
    anchors = [*model.by_type("IfcSite"), *model.by_type("IfcBuilding"), *model.by_type("IfcSpace")]
    return [frame.raw_position(p) for p in anchors]


def check_model(model: ifcopenshell.file, path: Path) -> None:
    """Raise IfcImportError when the file lacks what a twin needs or names two things alike."""
    if not model.by_type("IfcProject"):
        raise IfcImportError(path, "the model has no IfcProject", entity="IfcProject")
    if not model.by_type("IfcSite"):
        raise IfcImportError(
            path, "the model has no IfcSite: a twin needs to know where it stands", entity="IfcSite"
        )
    if not model.by_type("IfcBuildingStorey"):
        raise IfcImportError(path, "the model has no IfcBuildingStorey", entity="IfcBuildingStorey")
    counts = Counter(root.GlobalId for root in model.by_type("IfcRoot"))
    duplicates = sorted(g for g, n in counts.items() if n > 1)
    if duplicates:
        first = [f"#{e.id()}={e.is_a()}" for e in model.by_type("IfcRoot") if e.GlobalId == duplicates[0]]
        raise IfcImportError(
            path,
            f"GlobalId used by {len(first)} entities ({', '.join(first)}); {len(duplicates)} duplicated",
            entity=f"GlobalId {duplicates[0]}",
        )


def _site(site: Entity, frame: Frame) -> BimSite:
    parent = ifcopenshell.util.element.get_aggregate(site)
    parent_id = parent.GlobalId if parent is not None and parent.is_a("IfcSite") else None
    return BimSite(site.GlobalId, str(site.Name or ""), parent_id, frame.position(site))


def _building(building: Entity, frame: Frame) -> BimBuilding:
    parent = ifcopenshell.util.element.get_aggregate(building)
    while parent is not None and not parent.is_a("IfcSite"):
        parent = ifcopenshell.util.element.get_aggregate(parent)
    site_id = parent.GlobalId if parent is not None else None
    return BimBuilding(building.GlobalId, str(building.Name or ""), site_id, frame.position(building))


def _storeys(model: ifcopenshell.file, frame: Frame) -> tuple[BimStorey, ...]:
    rows = []
    for storey in model.by_type("IfcBuildingStorey"):
        building = ifcopenshell.util.element.get_aggregate(storey)
        while building is not None and not building.is_a("IfcBuilding"):
            building = ifcopenshell.util.element.get_aggregate(building)
        placed = frame.position(storey)[2]
        # Elevation is relative to the building's base in the file's units; the placement is the
        # geometry's truth, so it wins unless the storey has no placement at all.
        elevation = (
            placed if storey.ObjectPlacement is not None else float(storey.Elevation or 0.0) * frame.scale
        )
        rows.append((building.GlobalId if building is not None else None, elevation, storey))
    ordered: list[BimStorey] = []
    for building_id in sorted({r[0] for r in rows}, key=lambda b: b or ""):
        mine = sorted((r for r in rows if r[0] == building_id), key=lambda r: (r[1], r[2].GlobalId))
        for order, (_, elevation, storey) in enumerate(mine):
            ordered.append(
                BimStorey(storey.GlobalId, str(storey.Name or ""), building_id, round(elevation, 6), order)
            )
    return tuple(ordered)


def _spaces(model: ifcopenshell.file, frame: Frame, warnings: list[str]) -> tuple[BimSpace, ...]:
    entities = list(model.by_type("IfcSpace"))
    shapes, problems = space_shapes(model, entities, frame.offset)
    warnings.extend(problems)
    spaces = []
    for space in entities:
        storey = storey_of(space)
        shape = shapes.get(space.GlobalId)
        qtos = ifcopenshell.util.element.get_psets(space, qtos_only=True)
        area = _quantity_area(qtos, frame.area_scale)
        if area is None and shape is not None:
            area = round(shape.area, 4)
        elevation = shape.bottom if shape is not None else frame.position(space)[2]
        spaces.append(
            BimSpace(
                global_id=space.GlobalId,
                name=str(space.Name or ""),
                long_name=str(space.LongName or ""),
                storey_id=storey.GlobalId if storey is not None else None,
                area=area,
                footprint=shape.footprint if shape is not None else (),
                elevation=round(elevation, 6),
                height=round(shape.top - shape.bottom, 6) if shape is not None else None,
                properties=plain(ifcopenshell.util.element.get_psets(space, psets_only=True)),
            )
        )
    return tuple(spaces)


def _quantity_area(qtos: dict[str, dict[str, object]], area_scale: float) -> float | None:
    for name in _AREA_QUANTITIES:
        for values in qtos.values():
            value = values.get(name)
            if isinstance(value, int | float) and value > 0:
                return round(float(value) * area_scale, 4)
    return None


def _zone(zone: Entity) -> BimZone:
    members: list[str] = []
    for rel in getattr(zone, "IsGroupedBy", ()) or ():
        members.extend(o.GlobalId for o in rel.RelatedObjects if o.is_a("IfcSpace") or o.is_a("IfcZone"))
    return BimZone(zone.GlobalId, str(zone.Name or ""), tuple(members))
