"""Spaces take their use from their names; a household keeps the unit address its name spells."""

from __future__ import annotations

import pytest

from bim.space_kinds import space_kind, unit_address
from twin.catalogue import SpaceKind


@pytest.mark.parametrize(
    ("name", "long_name", "kind"),
    [
        ("1801", "3-2-1801 住户 unit", SpaceKind.UNIT),
        ("A-12", "Apartment 12", SpaceKind.UNIT),
        ("W3", "Wohnung 3", SpaceKind.UNIT),
        ("5", "Unit 5", SpaceKind.UNIT),
        ("R1", "Flat roof", SpaceKind.ROOM),
        ("HVAC", "Unitary equipment", SpaceKind.ROOM),
        ("S1", "楼梯间", SpaceKind.STAIR),
        ("Diele", "", SpaceKind.CORRIDOR),
        ("Kitchen", "", SpaceKind.ROOM),
    ],
)
def test_space_kind_from_words(name: str, long_name: str, kind: SpaceKind) -> None:
    assert space_kind(name, long_name) is kind


def test_a_household_keeps_the_address_its_name_spells() -> None:
    address = unit_address("1801", "3栋2单元1801室 住户")
    assert address is not None and address.normal == "3-2-1801"
    assert unit_address("Apartment 12", "") is None
