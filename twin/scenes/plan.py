"""The plan of a generated community: what stands where, before any file format is involved.

One plan feeds every writer — the IFC (``bim.generate``), the GIS layers (``gis.generate``), the
bindings, residents and bills (``twin.scenes``) — so the towers of the IFC are the footprints of
the map and every bound tag names a device of the model. Coordinates are the site's local frame:
metres east and north of the scene's origin, up from ground level; +Y is true north.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from twin.catalogue import DeviceKind, SpaceKind
from twin.scenes.ids import ifc_guid
from twin.scenes.model import SiteSpec

Rect = tuple[float, float, float, float]
"""x0, y0, x1, y1 in site metres, x0 < x1 and y0 < y1."""
Point3 = tuple[float, float, float]

STOREY_M = 3.0
SLAB_M = 0.2
UNIT_W = 10.0
"""Width of a household unit along the tower (east–west)."""
SOUTH_D, CORE_D, NORTH_D = 10.0, 5.0, 10.0
"""Depths (north–south) of the south units, the core strip (stair, corridor, lifts) and the north units."""
TOWER_D = SOUTH_D + CORE_D + NORTH_D
STAIR_W, SHAFT_W = 3.0, 5.0
UNITS_PER_ENTRANCE = 4
GARAGE_DEPTH_M = 4.5


@dataclass(frozen=True, slots=True)
class PlanSpace:
    """A room of a storey: a household unit, a corridor, a stair, a plant room."""

    key: str
    name: str
    long_name: str
    kind: SpaceKind
    rect: Rect
    address: str | None = None
    """The unit's address, 楼栋-单元-房号 (3-1-1801), for households only."""

    @property
    def area(self) -> float:
        """Return the floor area in square metres."""
        x0, y0, x1, y1 = self.rect
        return (x1 - x0) * (y1 - y0)


@dataclass(frozen=True, slots=True)
class PlanStorey:
    """A storey of a building: its level (1 at ground, −1 below), elevation and rooms."""

    key: str
    name: str
    level: int
    elevation: float
    height: float
    spaces: tuple[PlanSpace, ...]


@dataclass(frozen=True, slots=True)
class Entrance:
    """One 单元 of a tower: a stair and elevator core serving up to four units per floor."""

    number: int
    x0: float
    width: float
    units: int


Use = Literal["tower", "garage", "gatehouse"]


@dataclass(frozen=True, slots=True)
class PlanBuilding:
    """A building: a high-rise tower, the basement garage or the gatehouse."""

    key: str
    number: str
    name: str
    use: Use
    rect: Rect
    storeys: tuple[PlanStorey, ...]
    entrances: tuple[Entrance, ...] = ()

    @property
    def height(self) -> float:
        """Return the height above ground of its roof."""
        return max((s.elevation + s.height for s in self.storeys), default=0.0)


@dataclass(frozen=True, slots=True)
class PlanDevice:
    """A device of the community, where it is and how it speaks MQTT (if it does)."""

    tag: str
    kind: DeviceKind
    name: str
    position: Point3
    building: str
    storey: str
    space: str | None
    profile: str | None = None
    identity: str | None = None
    gateway: str | None = None
    """The tag of the gateway its messages come through."""
    level: int | None = None


@dataclass(frozen=True, slots=True)
class PlanPoi:
    """An outdoor point of interest of the map: a hydrant, a charger, an assembly point."""

    tag: str
    type: str
    """The GIS ``type`` word (hydrant, charger, assembly_point) the GIS reader classifies."""
    name: str
    position: tuple[float, float]
    kind: DeviceKind | None = None
    profile: str | None = None
    identity: str | None = None


@dataclass(frozen=True, slots=True)
class PlanRoad:
    """A road's or footway's centre line, width and OSM ``highway`` class."""

    name: str
    line: tuple[tuple[float, float], ...]
    width: float
    highway: str = "service"
    """``service`` for the ring road and the gate's drive, ``footway`` for the paths to the entrances."""


@dataclass(frozen=True, slots=True)
class Community:
    """A whole generated community."""

    site: SiteSpec
    seed: int
    boundary: Rect
    buildings: tuple[PlanBuilding, ...]
    devices: tuple[PlanDevice, ...]
    pois: tuple[PlanPoi, ...]
    roads: tuple[PlanRoad, ...]
    greens: tuple[Rect, ...]

    def guid(self, key: str) -> str:
        """Return the IFC GlobalId of a planned thing."""
        return ifc_guid(self.seed, key)

    def units(self) -> Iterator[tuple[PlanBuilding, PlanStorey, PlanSpace]]:
        """Yield every household unit with its building and storey, tower by tower, floor by floor."""
        for building in self.buildings:
            for storey in building.storeys:
                for space in storey.spaces:
                    if space.kind is SpaceKind.UNIT:
                        yield building, storey, space

    def bound(self) -> Iterator[PlanDevice | PlanPoi]:
        """Yield every device and point of interest that speaks MQTT."""
        yield from (d for d in self.devices if d.profile is not None)
        yield from (p for p in self.pois if p.profile is not None)
