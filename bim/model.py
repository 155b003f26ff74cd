"""The plain objects that leave ``bim/``: what an IFC model says, in metres, free of ifcopenshell.

Every position is in the model's *world frame*: the project's world coordinate system in metres,
Z up, minus the re-centring offset that :class:`BimGeoref` reports (zero for most models). The
GLB files use the same frame, turned Y-up as glTF requires.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from twin.catalogue import DeviceKind

Point2 = tuple[float, float]
Point3 = tuple[float, float, float]
Properties = dict[str, dict[str, Any]]
"""Property set (or quantity set) name → property name → plain Python value."""


@dataclass(frozen=True, slots=True)
class BimGeoref:
    """Where the world frame sits on Earth, and how sure we are of it."""

    source: str
    """Which record was trusted: ``IfcMapConversion``, ``ePSet_MapConversion``, ``IfcSite``,
    ``given`` or ``none``."""
    latitude: float | None = None
    longitude: float | None = None
    height: float | None = None
    """Latitude, longitude (WGS84 degrees) and height (metres) of the world frame's origin."""
    crs: str | None = None
    eastings: float | None = None
    northings: float | None = None
    orthogonal_height: float | None = None
    """Map coordinates of the world frame's origin, in metres, in ``crs``."""
    rotation_deg: float = 0.0
    """Bearing of the model's +Y axis, clockwise from true north."""
    scale: float = 1.0
    """Map metres per model metre (a surveyor's combined scale factor; 1 for most models)."""
    offset: Point3 = (0.0, 0.0, 0.0)
    """Subtracted from the file's coordinates (metres) so the view has no float32 jitter."""
    other: BimGeoref | None = None
    """The file's second georeference when it disagrees with the trusted one."""
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BimSite:
    """An IfcSite; sites may nest (a partial site inside a complex one)."""

    global_id: str
    name: str
    parent_id: str | None
    position: Point3


@dataclass(frozen=True, slots=True)
class BimBuilding:
    """An IfcBuilding and the site that aggregates it."""

    global_id: str
    name: str
    site_id: str | None
    position: Point3


@dataclass(frozen=True, slots=True)
class BimStorey:
    """An IfcBuildingStorey; ``order`` counts from the lowest storey of its building (0)."""

    global_id: str
    name: str
    building_id: str | None
    elevation: float
    order: int


@dataclass(frozen=True, slots=True)
class BimSpace:
    """An IfcSpace with its footprint: a polygon ring in world metres, not closed."""

    global_id: str
    name: str
    long_name: str
    storey_id: str | None
    area: float | None
    footprint: tuple[Point2, ...]
    elevation: float
    height: float | None
    properties: Properties = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BimZone:
    """An IfcZone: a named group of spaces (a flat, a fire compartment)."""

    global_id: str
    name: str
    space_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BimDevice:
    """A device the twin can watch: a distribution or transport element, or a look-alike proxy."""

    global_id: str
    name: str
    tag: str
    ifc_class: str
    predefined_type: str
    object_type: str
    type_name: str
    kind: DeviceKind
    position: Point3
    storey_id: str | None
    space_id: str | None
    space_by_geometry: bool
    """True when the file did not say which space holds the device and we found it by position."""
    properties: Properties = field(default_factory=dict)
    quantities: Properties = field(default_factory=dict)


WalkKind = Literal["door", "stair", "elevator"]


@dataclass(frozen=True, slots=True)
class WalkEdge:
    """One way between two places (space or storey GlobalIds) through a door, stair or lift."""

    source: str
    target: str
    via: str
    kind: WalkKind
    length: float


@dataclass(frozen=True, slots=True)
class BimModel:
    """Everything ``read_ifc`` learned from one file."""

    path: Path
    schema: str
    project_id: str
    project_name: str
    georef: BimGeoref
    sites: tuple[BimSite, ...]
    buildings: tuple[BimBuilding, ...]
    storeys: tuple[BimStorey, ...]
    spaces: tuple[BimSpace, ...]
    zones: tuple[BimZone, ...]
    devices: tuple[BimDevice, ...]
    walks: tuple[WalkEdge, ...]
    warnings: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Moved:
    """A device or space that kept its GlobalId but moved by ``distance`` metres."""

    global_id: str
    distance: float


@dataclass(frozen=True, slots=True)
class BimDiff:
    """What a re-import changes, by GlobalId; ``changed`` excludes pure moves."""

    added: tuple[str, ...]
    removed: tuple[str, ...]
    moved: tuple[Moved, ...]
    changed: tuple[str, ...]

    @property
    def empty(self) -> bool:
        """Tell whether the new model is the same as the old one."""
        return not (self.added or self.removed or self.moved or self.changed)
