"""Unit-address hints read from device ids."""

from __future__ import annotations

import pytest

from realtime.identity import UnitAddress, parse_unit_address


@pytest.mark.parametrize(
    ("identity", "expected"),
    [
        ("3-2-1801", UnitAddress("3", "2", 18, "1801")),
        ("b3_f18_u01", UnitAddress("3", None, 18, "1801")),
        ("B12-F3-U2", UnitAddress("12", None, 3, "302")),
        ("bldg3_e2_f18_u01", UnitAddress("3", "2", 18, "1801")),
        ("3栋2单元1801", UnitAddress("3", "2", 18, "1801")),
        ("3号楼2单元1801室", UnitAddress("3", "2", 18, "1801")),
        ("12幢1单元302", UnitAddress("12", "1", 3, "302")),
        ("5栋12层", UnitAddress("5", None, 12, None)),
        ("3#2-1801", UnitAddress("3", "2", 18, "1801")),
        ("3#1801", UnitAddress("3", None, 18, "1801")),
        ("3-2-18-01", UnitAddress("3", "2", 18, "1801")),
        ("wm-3-2-1801", UnitAddress("3", "2", 18, "1801")),
        ("3-2-1801-smoke", UnitAddress("3", "2", 18, "1801")),
        ("03-02-0601", UnitAddress("3", "2", 6, "601")),
    ],
)
def test_addresses(identity: str, expected: UnitAddress) -> None:
    assert parse_unit_address(identity) == expected


@pytest.mark.parametrize(
    "identity",
    ["hall_sensor", "GW-3", "0x00158d0001a2b3c4", "2026-05-09", "10栋", "plug1", "tasmota_5F2A1C", ""],
)
def test_ids_that_spell_no_address(identity: str) -> None:
    assert parse_unit_address(identity) is None


def test_label_in_chinese() -> None:
    assert UnitAddress("3", "2", 18, "1801").label_zh == "3栋2单元1801室"
    assert UnitAddress("5", None, 12, None).label_zh == "5栋12层"
