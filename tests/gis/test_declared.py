"""A column mapping declared with an import comes before the default one; a wrong rule is named."""

from __future__ import annotations

import pytest

from gis.declared import declared_mapping
from gis.errors import GisError
from gis.kinds import DEFAULT_MAPPING, FeatureKind, LayerKind
from twin.catalogue import DeviceKind


def test_declared_rules_win_over_the_defaults_and_name_their_columns() -> None:
    mapping = declared_mapping(
        "设施类型=消防栓:hydrant; 设施类型=集合点:assembly_point\ntype=gate:road; id=设施编号,编号"
    )
    assert mapping.classify({"设施类型": "消防栓"}) == (FeatureKind.DEVICE, DeviceKind.HYDRANT)
    assert mapping.classify({"设施类型": "集合点"}, LayerKind.POIS) == (FeatureKind.ASSEMBLY_POINT, None)
    assert mapping.classify({"type": "gate"}) == (FeatureKind.ROAD, None), "a declared rule comes first"
    assert mapping.classify({"amenity": "charging_station"}) == (FeatureKind.DEVICE, DeviceKind.EV_CHARGER)
    assert mapping.source_id({"设施编号": 17, "id": 3}) == "17"
    assert declared_mapping(None) is DEFAULT_MAPPING and declared_mapping("  ") is DEFAULT_MAPPING


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("设施类型消防栓", "rule 1"),
        ("a=b:road; type=x:teleporter", "rule 2 'type=x:teleporter': unknown kind 'teleporter'"),
        ("type=:hydrant", "needs a kind"),
        ("type=hydrant", "needs a kind"),
    ],
)
def test_a_wrong_rule_is_named(text: str, words: str) -> None:
    with pytest.raises(GisError) as caught:
        declared_mapping(text)
    assert words in str(caught.value)
