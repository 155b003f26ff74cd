"""The declared kind mapping: POIs become catalogue devices, layer kinds narrow, heights parse."""

from __future__ import annotations

import pytest

import gis
from gis import DEFAULT_MAPPING, FeatureKind, KindMapping, KindRule, LayerKind
from gis.kinds import parse_number
from twin.catalogue import DeviceKind


@pytest.mark.parametrize(
    ("attributes", "kind", "device"),
    [
        ({"type": "Hydrant"}, FeatureKind.DEVICE, DeviceKind.HYDRANT),
        ({"type": "消火栓"}, FeatureKind.DEVICE, DeviceKind.HYDRANT),
        ({"emergency": "fire_hydrant"}, FeatureKind.DEVICE, DeviceKind.HYDRANT),
        ({"emergency": "defibrillator"}, FeatureKind.DEVICE, DeviceKind.AED),
        ({"amenity": "charging_station"}, FeatureKind.DEVICE, DeviceKind.EV_CHARGER),
        ({"type": "门禁"}, FeatureKind.DEVICE, DeviceKind.ACCESS_GATE),
        ({"emergency": "assembly_point"}, FeatureKind.ASSEMBLY_POINT, None),
        ({"building": "apartments"}, FeatureKind.FOOTPRINT, None),
        ({"building": "no", "highway": "service"}, FeatureKind.ROAD, None),
        ({"leisure": "park"}, FeatureKind.GREEN_AREA, None),
        ({"amenity": "parking"}, FeatureKind.PARKING, None),
        ({"community": "金色年华"}, FeatureKind.OTHER, None),
    ],
)
def test_default_mapping(attributes: dict[str, object], kind: FeatureKind, device: DeviceKind | None) -> None:
    """OSM tags and a type column in English or Chinese say what a feature is."""
    assert DEFAULT_MAPPING.classify(attributes) == (kind, device)


def test_layer_kind_narrows_and_falls_back() -> None:
    """In a POI layer a building tag is ignored; an unknown POI is kept as a fixed asset."""
    assert DEFAULT_MAPPING.classify({"building": "yes"}, LayerKind.POIS) == (FeatureKind.POI, None)
    assert DEFAULT_MAPPING.classify({"amenity": "parking"}, LayerKind.FOOTPRINTS) == (
        FeatureKind.FOOTPRINT,
        None,
    )


def test_a_declared_mapping_replaces_the_default() -> None:
    """A property company's own column and values, declared for one import."""
    mapping = KindMapping(
        rules=(KindRule("设施类型", "灭火器", FeatureKind.DEVICE, DeviceKind.FIRE_EXTINGUISHER),)
    )
    assert mapping.classify({"设施类型": "灭火器"}) == (FeatureKind.DEVICE, DeviceKind.FIRE_EXTINGUISHER)
    assert mapping.classify({"type": "hydrant"}) == (FeatureKind.OTHER, None)


def test_heights_and_levels() -> None:
    """Height from its column, else levels × 3 m; text with units parses, nonsense does not."""
    assert DEFAULT_MAPPING.height_and_levels({"height": "31.5 m", "levels": 11}) == (31.5, 11.0)
    assert DEFAULT_MAPPING.height_and_levels({"building:levels": "6"}) == (18.0, 6.0)
    assert DEFAULT_MAPPING.height_and_levels({"层数": "18层"}) == (54.0, 18.0)
    assert DEFAULT_MAPPING.height_and_levels({"height": "tall"}) == (None, None)
    assert [parse_number(v) for v in (0, -3, float("nan"), True, "12米")] == [None, None, None, None, 12.0]


def test_public_surface_is_sorted_and_importable() -> None:
    """The package exports what it says, in order (the httpx habit)."""
    assert gis.__all__ == sorted(gis.__all__, key=lambda n: (not n.isupper(), n[0].islower(), n))
    assert all(hasattr(gis, name) for name in gis.__all__)
