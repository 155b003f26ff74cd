"""Unit conversions into each quantity's canonical unit."""

from __future__ import annotations

import pytest

from realtime.quantities import QUANTITIES, UnitError, ValueKind


@pytest.mark.parametrize(
    ("quantity", "value", "unit", "expected"),
    [
        ("pressure", 350, "kPa", 0.35),
        ("pressure", 3.5, "bar", 0.35),
        ("pressure", 50.7632, "psi", 0.35),
        ("pressure", 0.35, "MPa", 0.35),
        ("temperature", 212, "°F", 100),
        ("temperature", 32, "F", 0),
        ("temperature", 293.15, "K", 20),
        ("temperature", 21, "℃", 21),
        ("temperature", 21, "degC", 21),
        ("energy", 1500, "Wh", 1.5),
        ("energy", 1.5, "kwh", 1.5),
        ("power", 2500, "W", 2.5),
        ("water_total", 1500, "L", 1.5),
        ("water_total", 1.5, "m³", 1.5),
        ("water_flow", 10, "L/min", 0.6),
        ("level", 180, "cm", 1.8),
        ("pm25", 35, "ug/m3", 35),
        ("pm25", 0.035, "mg/m3", 35),
        ("vibration", 0.0045, "m/s", 4.5),
    ],
)
def test_conversions(quantity: str, value: float, unit: str, expected: float) -> None:
    assert QUANTITIES[quantity].to_canonical(value, unit) == pytest.approx(expected, rel=1e-6)


def test_unknown_unit_names_the_accepted_ones() -> None:
    with pytest.raises(UnitError, match="kPa"):
        QUANTITIES["pressure"].to_canonical(1, "atm-ish")
    assert not QUANTITIES["temperature"].accepts("bar")


def test_catalogue_is_complete_and_consistent() -> None:
    required = {
        "temperature",
        "humidity",
        "pressure",
        "smoke",
        "water_flow",
        "water_total",
        "energy",
        "power",
        "voltage",
        "vibration",
        "level",
        "battery",
        "door_open",
        "co2",
        "pm25",
        "gas_total",
        "speed",
        "floor",
        "running",
    }
    assert required <= set(QUANTITIES)
    for name, quantity in QUANTITIES.items():
        assert quantity.name == name and quantity.zh and quantity.en
        assert quantity.low < quantity.high
        if quantity.kind is not ValueKind.NUMBER:
            assert not quantity.conversions
