"""What a GIS feature is, decided from a declared mapping of attribute columns and values.

Surveys and city GIS say what a feature is in an attribute: OSM uses ``building``, ``highway``,
``amenity``, ``emergency``; property companies a ``type`` column in Chinese or English. The
mapping is data, declared once here and overridable per import, never guessed from geometry.
Points of interest that are devices map to :class:`twin.catalogue.DeviceKind`, so the graph has
one list of device kinds.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from twin.catalogue import DeviceKind

TYPICAL_STOREY_HEIGHT_M = 3.0
"""Used for a footprint's height when only its number of levels is known (Chinese housing: 2.8–3.0 m)."""

ANY = "*"
"""A rule value matching any non-empty value of its column (``building=*``)."""


class FeatureKind(StrEnum):
    """What a feature of a GIS layer becomes in the twin."""

    FOOTPRINT = "footprint"
    ROAD = "road"
    GREEN_AREA = "green_area"
    PARKING = "parking"
    ZONE = "zone"
    PARCEL = "parcel"
    DEVICE = "device"
    """A point of interest that is a device of the graph; its :class:`DeviceKind` says which."""
    ASSEMBLY_POINT = "assembly_point"
    POI = "poi"
    """A point of interest the mapping does not know: kept as a fixed asset."""
    OTHER = "other"


class LayerKind(StrEnum):
    """What a whole layer holds (``twin import-gis --kind``); it narrows the kinds its features take."""

    FOOTPRINTS = "footprints"
    ROADS = "roads"
    ZONES = "zones"
    POIS = "pois"
    PARCELS = "parcels"


LAYER_KINDS: dict[LayerKind, tuple[FeatureKind, frozenset[FeatureKind]]] = {
    LayerKind.FOOTPRINTS: (FeatureKind.FOOTPRINT, frozenset({FeatureKind.FOOTPRINT})),
    LayerKind.ROADS: (FeatureKind.ROAD, frozenset({FeatureKind.ROAD})),
    LayerKind.ZONES: (
        FeatureKind.ZONE,
        frozenset({FeatureKind.ZONE, FeatureKind.GREEN_AREA, FeatureKind.PARKING}),
    ),
    LayerKind.POIS: (
        FeatureKind.POI,
        frozenset({FeatureKind.DEVICE, FeatureKind.ASSEMBLY_POINT, FeatureKind.POI}),
    ),
    LayerKind.PARCELS: (FeatureKind.PARCEL, frozenset({FeatureKind.PARCEL})),
}
"""Per layer kind: the kind a feature takes when no rule matches, and the kinds rules may give."""


@dataclass(frozen=True, slots=True)
class KindRule:
    """``column = value`` (case-insensitive, ``*`` for any) makes a feature this kind."""

    column: str
    value: str
    kind: FeatureKind
    device_kind: DeviceKind | None = None


@dataclass(frozen=True, slots=True)
class KindMapping:
    """The declared columns of a source: rules in priority order, and where ids, heights and levels are."""

    rules: tuple[KindRule, ...]
    id_columns: tuple[str, ...] = ("id", "full_id", "osm_id", "fid", "objectid", "编号")
    name_columns: tuple[str, ...] = ("name", "名称")
    height_columns: tuple[str, ...] = ("height", "building:height", "高度")
    levels_columns: tuple[str, ...] = ("levels", "building:levels", "floors", "层数")

    def classify(
        self, attributes: Mapping[str, object], layer_kind: LayerKind | None = None
    ) -> tuple[FeatureKind, DeviceKind | None]:
        """Return the kind of a feature from its attributes, within what its layer may hold."""
        default, allowed = LAYER_KINDS[layer_kind] if layer_kind else (FeatureKind.OTHER, None)
        lowered = {str(k).lower(): v for k, v in attributes.items()}
        for rule in self.rules:
            if allowed is not None and rule.kind not in allowed:
                continue
            value = lowered.get(rule.column.lower())
            if _matches(value, rule.value):
                return rule.kind, rule.device_kind
        return default, None

    def source_id(self, attributes: Mapping[str, object]) -> str | None:
        """Return the source's own id of a feature, from the first id column it has."""
        value = _first(attributes, self.id_columns)
        return None if value is None else _id_text(value)

    def name(self, attributes: Mapping[str, object]) -> str | None:
        """Return the feature's name, from the first name column that has one."""
        value = _first(attributes, self.name_columns)
        return None if value is None else str(value)

    def height_and_levels(self, attributes: Mapping[str, object]) -> tuple[float | None, float | None]:
        """Return (height in metres, levels), the height from levels × a typical storey when absent."""
        height = parse_number(_first(attributes, self.height_columns))
        levels = parse_number(_first(attributes, self.levels_columns))
        if height is None and levels is not None:
            height = round(levels * TYPICAL_STOREY_HEIGHT_M, 3)
        return height, levels


def _matches(value: object, wanted: str) -> bool:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    text = str(value).strip().lower()
    if not text or text == "no":
        return False
    return wanted == ANY or text == wanted.lower()


def _first(attributes: Mapping[str, object], columns: tuple[str, ...]) -> object | None:
    lowered = {str(k).lower(): v for k, v in attributes.items()}
    for column in columns:
        value = lowered.get(column.lower())
        if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
            continue
        return value
    return None


def _id_text(value: object) -> str:
    # A float id read from a dBase column (322667424.0) names the same feature as the integer.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


_NUMBER = re.compile(r"^\s*([-+]?\d+(?:\.\d+)?)\s*(m|米|层|f)?\s*$", re.IGNORECASE)


def parse_number(value: object) -> float | None:
    """Return a positive number from ``12``, ``"12.5"``, ``"30 m"``, ``"18层"``; None when it is not one."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    else:
        match = _NUMBER.match(str(value))
        if match is None:
            return None
        number = float(match.group(1))
    return number if math.isfinite(number) and number > 0 else None


def _device(column: str, value: str, device_kind: DeviceKind) -> KindRule:
    return KindRule(column, value, FeatureKind.DEVICE, device_kind)


DEFAULT_MAPPING = KindMapping(
    rules=(
        # A property company's own "type" column first: it is the most specific statement.
        _device("type", "hydrant", DeviceKind.HYDRANT),
        _device("type", "消火栓", DeviceKind.HYDRANT),
        _device("type", "gate", DeviceKind.ACCESS_GATE),
        _device("type", "门禁", DeviceKind.ACCESS_GATE),
        _device("type", "charger", DeviceKind.EV_CHARGER),
        _device("type", "充电桩", DeviceKind.EV_CHARGER),
        _device("type", "aed", DeviceKind.AED),
        _device("type", "除颤仪", DeviceKind.AED),
        KindRule("type", "assembly_point", FeatureKind.ASSEMBLY_POINT),
        KindRule("type", "应急避难场所", FeatureKind.ASSEMBLY_POINT),
        KindRule("type", "footprint", FeatureKind.FOOTPRINT),
        KindRule("type", "road", FeatureKind.ROAD),
        KindRule("type", "green", FeatureKind.GREEN_AREA),
        KindRule("type", "绿地", FeatureKind.GREEN_AREA),
        KindRule("type", "parking", FeatureKind.PARKING),
        KindRule("type", "停车场", FeatureKind.PARKING),
        # OpenStreetMap tagging.
        _device("emergency", "fire_hydrant", DeviceKind.HYDRANT),
        _device("emergency", "defibrillator", DeviceKind.AED),
        _device("emergency", "fire_extinguisher", DeviceKind.FIRE_EXTINGUISHER),
        KindRule("emergency", "assembly_point", FeatureKind.ASSEMBLY_POINT),
        _device("amenity", "charging_station", DeviceKind.EV_CHARGER),
        _device("barrier", "gate", DeviceKind.ACCESS_GATE),
        _device("barrier", "lift_gate", DeviceKind.ACCESS_GATE),
        KindRule("amenity", "parking", FeatureKind.PARKING),
        KindRule("building", ANY, FeatureKind.FOOTPRINT),
        KindRule("highway", ANY, FeatureKind.ROAD),
        KindRule("leisure", "park", FeatureKind.GREEN_AREA),
        KindRule("leisure", "garden", FeatureKind.GREEN_AREA),
        KindRule("landuse", "grass", FeatureKind.GREEN_AREA),
        KindRule("landuse", "residential", FeatureKind.ZONE),
    )
)
"""The mapping used when an import declares none: OSM tags and a ``type`` column in en/zh."""
