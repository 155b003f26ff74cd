"""The catalogue of physical quantities that readings may carry, with units and sane ranges.

Vendors report the same quantity in many units (a Shenzhen pressure gauge in kPa, an imported
one in psi, a meter in Wh); the twin stores one canonical unit per quantity so that history,
rules and charts never convert. The physical range is wide enough for any real building and
narrow enough to reject a sensor's sentinel values (-273, 65535, 9999) as nonsense.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum


class ValueKind(StrEnum):
    """How a quantity's value is typed once decoded."""

    NUMBER = "number"
    BOOL = "bool"
    TEXT = "text"


Conversion = Callable[[float], float]


def _scale(factor: float) -> Conversion:
    return lambda v: v * factor


def _identity(v: float) -> float:
    return v


@dataclass(frozen=True, slots=True)
class Quantity:
    """One measurable thing: its canonical unit, the units converted into it, and its labels."""

    name: str
    zh: str
    en: str
    kind: ValueKind
    unit: str
    low: float = float("-inf")
    high: float = float("inf")
    conversions: dict[str, Conversion] = field(default_factory=dict)
    _table: dict[str, Conversion] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Fold the unit spellings once, since every reading looks its unit up."""
        table = {_normalise(u): c for u, c in self.conversions.items()}
        table[_normalise(self.unit)] = _identity
        object.__setattr__(self, "_table", table)

    def accepts(self, unit: str) -> bool:
        """Tell whether a value in ``unit`` can be converted to the canonical unit."""
        return _normalise(unit) in self._table

    def to_canonical(self, value: float, unit: str) -> float:
        """Convert ``value`` from ``unit`` to the canonical unit; raise UnitError if it cannot."""
        conversion = self._table.get(_normalise(unit))
        if conversion is None:
            accepted = ", ".join(sorted({self.unit, *self.conversions}))
            raise UnitError(f"unit {unit!r} is not one of {self.name}'s units ({accepted})")
        return conversion(value)


class UnitError(ValueError):
    """A unit that the quantity cannot be converted from."""


def _normalise(unit: str) -> str:
    # Vendors spell units loosely: "°c", "degC", "m³", "ug/m3"; compare a folded form.
    folded = unit.strip().replace("³", "3").replace("μ", "u").replace("µ", "u").replace(" ", "")
    return folded.casefold()


_NO_UNIT = ""

QUANTITIES: dict[str, Quantity] = {
    q.name: q
    for q in (
        Quantity(
            "temperature",
            "温度",
            "Temperature",
            ValueKind.NUMBER,
            "°C",
            -60,
            200,
            {
                "C": _identity,
                "degC": _identity,
                "℃": _identity,
                "celsius": _identity,
                "°F": lambda v: (v - 32) * 5 / 9,
                "F": lambda v: (v - 32) * 5 / 9,
                "degF": lambda v: (v - 32) * 5 / 9,
                "K": lambda v: v - 273.15,
            },
        ),
        Quantity(
            "humidity",
            "湿度",
            "Relative humidity",
            ValueKind.NUMBER,
            "%",
            0,
            100,
            {"%RH": _identity, "RH": _identity},
        ),
        Quantity(
            "pressure",
            "压力",
            "Pressure",
            ValueKind.NUMBER,
            "MPa",
            -0.1,
            10,
            {
                "kPa": _scale(1e-3),
                "Pa": _scale(1e-6),
                "bar": _scale(0.1),
                "mbar": _scale(1e-4),
                "hPa": _scale(1e-4),
                "psi": _scale(0.00689475729),
                "kgf/cm2": _scale(0.0980665),
            },
        ),
        Quantity(
            "atmospheric_pressure",
            "气压",
            "Atmospheric pressure",
            ValueKind.NUMBER,
            "hPa",
            300,
            1100,
            {
                "mbar": _identity,
                "Pa": _scale(0.01),
                "kPa": _scale(10),
            },
        ),
        Quantity("smoke", "烟雾", "Smoke detected", ValueKind.BOOL, _NO_UNIT),
        Quantity("water_leak", "漏水", "Water leak", ValueKind.BOOL, _NO_UNIT),
        Quantity(
            "water_flow",
            "水流量",
            "Water flow",
            ValueKind.NUMBER,
            "m3/h",
            0,
            10000,
            {
                "L/min": _scale(0.06),
                "L/s": _scale(3.6),
                "L/h": _scale(1e-3),
            },
        ),
        Quantity(
            "water_total",
            "累计用水量",
            "Water meter total",
            ValueKind.NUMBER,
            "m3",
            0,
            1e9,
            {"L": _scale(1e-3)},
        ),
        Quantity(
            "gas_total", "累计用气量", "Gas meter total", ValueKind.NUMBER, "m3", 0, 1e9, {"L": _scale(1e-3)}
        ),
        Quantity(
            "energy",
            "累计电量",
            "Energy",
            ValueKind.NUMBER,
            "kWh",
            0,
            1e10,
            {"Wh": _scale(1e-3), "MWh": _scale(1e3)},
        ),
        Quantity(
            "power",
            "功率",
            "Active power",
            ValueKind.NUMBER,
            "kW",
            -1e5,
            1e5,
            {"W": _scale(1e-3), "MW": _scale(1e3)},
        ),
        Quantity(
            "voltage",
            "电压",
            "Voltage",
            ValueKind.NUMBER,
            "V",
            0,
            50000,
            {"kV": _scale(1e3), "mV": _scale(1e-3)},
        ),
        Quantity("current", "电流", "Current", ValueKind.NUMBER, "A", -1e5, 1e5, {"mA": _scale(1e-3)}),
        Quantity("power_factor", "功率因数", "Power factor", ValueKind.NUMBER, _NO_UNIT, -1, 1),
        Quantity(
            "vibration",
            "振动速度",
            "Vibration velocity",
            ValueKind.NUMBER,
            "mm/s",
            0,
            1000,
            {"m/s": _scale(1e3)},
        ),
        Quantity(
            "level",
            "液位",
            "Level",
            ValueKind.NUMBER,
            "m",
            -10,
            500,
            {"cm": _scale(0.01), "mm": _scale(1e-3)},
        ),
        Quantity("battery", "电池电量", "Battery", ValueKind.NUMBER, "%", 0, 100),
        Quantity(
            "battery_voltage",
            "电池电压",
            "Battery voltage",
            ValueKind.NUMBER,
            "V",
            0,
            60,
            {"mV": _scale(1e-3)},
        ),
        Quantity("door_open", "门开启", "Door open", ValueKind.BOOL, _NO_UNIT),
        Quantity("occupancy", "有人", "Occupancy", ValueKind.BOOL, _NO_UNIT),
        Quantity("co2", "二氧化碳", "CO₂", ValueKind.NUMBER, "ppm", 0, 50000),
        Quantity(
            "pm25",
            "PM2.5",
            "PM2.5",
            ValueKind.NUMBER,
            "µg/m3",
            0,
            5000,
            {"ug/m3": _identity, "mg/m3": _scale(1e3)},
        ),
        Quantity("illuminance", "照度", "Illuminance", ValueKind.NUMBER, "lx", 0, 200000, {"lux": _identity}),
        Quantity("speed", "速度", "Speed", ValueKind.NUMBER, "m/s", -20, 20, {"m/min": _scale(1 / 60)}),
        Quantity("floor", "所在楼层", "Elevator floor", ValueKind.NUMBER, _NO_UNIT, -20, 300),
        Quantity("running", "运行", "Running", ValueKind.BOOL, _NO_UNIT),
        Quantity("switch", "开关", "Switched on", ValueKind.BOOL, _NO_UNIT),
        Quantity("fault", "故障", "Fault", ValueKind.BOOL, _NO_UNIT),
        Quantity("link_quality", "信号质量", "Link quality", ValueKind.NUMBER, _NO_UNIT, 0, 255),
        Quantity("rssi", "信号强度", "Signal strength", ValueKind.NUMBER, "dBm", -150, 20),
        Quantity("state", "状态", "State", ValueKind.TEXT, _NO_UNIT),
    )
}
"""Every quantity by name; profiles refer to these names and nothing else."""

TEXT_LIMIT = 128
"""A text value longer than this is not a state word but a payload gone wrong."""
