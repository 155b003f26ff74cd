"""The plain typed objects that leave ``gis/``: a layer of features, its issues, in EPSG:4326.

GeoDataFrames never leave the package; the store, the API and the linker see these frozen
records, whose geometries are shapely objects in WGS84 longitude/latitude, 2D.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from shapely.geometry.base import BaseGeometry

from gis.kinds import FeatureKind
from twin.catalogue import DeviceKind

JsonValue = str | int | float | bool | None | list["JsonValue"] | dict[str, "JsonValue"]


class Severity(StrEnum):
    """How much an issue matters: info is kept quietly, warning is shown, error stops the import."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class IssueCode(StrEnum):
    """What validation found; one code per kind of finding, so callers can count and filter."""

    REPAIRED = "repaired"
    REJECTED = "rejected"
    DROPPED_Z = "dropped_z"
    MIXED_TYPES = "mixed_types"
    FAR_FROM_SITE = "far_from_site"
    SWAPPED_AXES = "swapped_axes"
    GCJ02_CONVERTED = "gcj02_converted"
    NOTE = "note"


@dataclass(frozen=True, slots=True)
class Issue:
    """One finding of validation, with the feature it concerns (its index in the file) when any."""

    code: IssueCode
    severity: Severity
    message: str
    feature_index: int | None = None


@dataclass(frozen=True, slots=True)
class GisFeature:
    """One feature of a layer, in EPSG:4326, with what the twin needs to place it."""

    index: int
    """Position in the file (0-based), the number every message about it uses."""
    source_id: str
    """The id the source gives it (an id column or the file's FID), stable across re-imports."""
    kind: FeatureKind
    geometry: BaseGeometry
    attributes: Mapping[str, JsonValue] = field(default_factory=dict)
    device_kind: DeviceKind | None = None
    """Set when the feature is a point of interest that becomes a device of the graph."""
    height_m: float | None = None
    levels: float | None = None


@dataclass(frozen=True, slots=True)
class GisLayer:
    """A whole layer read from one file: every usable feature and every finding about the rest."""

    source: str
    """The file name (no directory), as messages and the import log show it."""
    name: str
    source_crs: str
    """The CRS the file was in, as ``AUTHORITY:CODE`` when it has one, else its name."""
    source_srid: int | None
    features: tuple[GisFeature, ...]
    issues: tuple[Issue, ...] = ()

    @property
    def bounds(self) -> tuple[float, float, float, float] | None:
        """Return (west, south, east, north) of all features, or None for an empty layer."""
        if not self.features:
            return None
        boxes = [f.geometry.bounds for f in self.features]
        return (
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        )

    def issues_of(self, code: IssueCode) -> tuple[Issue, ...]:
        """Return the issues of one code, in file order."""
        return tuple(i for i in self.issues if i.code is code)

    def of_kind(self, kind: FeatureKind) -> tuple[GisFeature, ...]:
        """Return the features of one kind, in file order."""
        return tuple(f for f in self.features if f.kind is kind)
