# mypy: disable-error-code="no-untyped-call"
"""Write a generated community as a real IFC4 model through ifcopenshell.api.

The plan (``twin.scenes.plan``) says what stands where; this package says it in IFC: a project, a
georeferenced site, the towers, garage and gatehouse with their storeys and spaces (IfcSpace with
footprints), walls, slabs, doors, windows and stairs, and every device as its proper class and
predefined type, tagged with the tag its MQTT binding names. GlobalIds come from the plan's keys,
so writing the same plan twice gives the same ids.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bim.generate.architecture import Architecture
from bim.generate.devices import IFC_CLASS, write_devices
from bim.generate.georef import georeference
from bim.generate.writer import Entity, IfcWriter
from twin.scenes.plan import SLAB_M, Community, PlanBuilding

__all__ = ["IFC_CLASS", "IfcSummary", "write_ifc"]


@dataclass(frozen=True, slots=True)
class IfcSummary:
    """What was written: element counts by IFC class, and the file."""

    path: Path
    counts: dict[str, int]


def write_ifc(community: Community, path: Path) -> IfcSummary:
    """Write the community's IFC4 model to ``path`` (replacing it only once it is complete)."""
    writer = IfcWriter(community, community.site.name)
    site = writer.create("IfcSite", "site", community.site.name, None)
    writer.aggregate([site], writer.project)
    writer.place(site, 0.0, 0.0, 0.0)
    georeference(writer, site)
    architecture = Architecture(writer)
    containers: dict[str, Entity] = {}
    for building in community.buildings:
        _building(writer, architecture, site, building, containers)
    architecture.finish()
    write_devices(writer, community.devices, containers)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    writer.model.write(str(partial))
    partial.replace(path)
    counts = Counter(e.is_a() for e in writer.model.by_type("IfcProduct"))
    return IfcSummary(path, dict(sorted(counts.items())))


def _building(
    writer: IfcWriter, architecture: Architecture, site: Entity, plan: PlanBuilding, containers: dict[str, Entity]
) -> None:
    building = writer.create("IfcBuilding", plan.key, plan.name, None)
    building.LongName = {"tower": "高层住宅 high-rise residential", "garage": "地下车库 basement garage"}.get(
        plan.use, "门卫室 gatehouse"
    )
    writer.aggregate([building], site)
    x0, y0 = plan.rect[0], plan.rect[1]
    writer.place(building, x0, y0, 0.0, parent=site)
    storeys = []
    for storey_plan in plan.storeys:
        storey = writer.create("IfcBuildingStorey", storey_plan.key, storey_plan.name, None)
        storey.Elevation = storey_plan.elevation
        storeys.append(storey)
        containers[storey_plan.key] = storey
    writer.aggregate(storeys, building)
    top = plan.storeys[-1]
    for storey, storey_plan in zip(storeys, plan.storeys, strict=True):
        writer.place(storey, x0, y0, storey_plan.elevation, parent=building)
        spaces = []
        for space_plan in storey_plan.spaces:
            space = writer.create("IfcSpace", space_plan.key, space_plan.name, "INTERNAL")
            space.LongName = space_plan.long_name
            writer.box(
                space,
                space_plan.rect[2] - space_plan.rect[0],
                space_plan.rect[3] - space_plan.rect[1],
                storey_plan.height - SLAB_M,
            )
            spaces.append(space)
            containers[space_plan.key] = space
        writer.aggregate(spaces, storey)
        for space, space_plan in zip(spaces, storey_plan.spaces, strict=True):
            sx0, sy0, sx1, sy1 = space_plan.rect
            writer.place(space, (sx0 + sx1) / 2, (sy0 + sy1) / 2, storey_plan.elevation, parent=storey)
        held: list[Entity] = []
        if plan.use == "tower":
            architecture.tower_storey(plan, storey_plan, storey, held, storey_plan is top)
        else:
            architecture.plain_storey(plan, storey_plan, storey, held)
        writer.contain(held, storey)
        architecture.place_pending()
