"""Suggest a place from a device id that spells a Chinese residential address.

Installers name meters and sensors after the flat they serve: ``3-2-1801`` (building 3,
entrance 2, room 1801), ``3栋2单元1801``, ``3#2-1801``, ``b3_f18_u01``. For the list of
devices nobody has bound yet, such an id is a strong hint of where the device is; this parser
reads the hint and never decides anything itself — an operator confirms the binding.
Room numbers follow the national habit: the last two digits are the door, the rest the floor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class UnitAddress:
    """A suggested place: building, unit entrance (单元), floor and room, as far as spelled."""

    building: str
    entrance: str | None
    floor: int | None
    room: str | None

    @property
    def label_zh(self) -> str:
        """Return the address as a property manager writes it, e.g. 3栋2单元1801室."""
        parts = [f"{self.building}栋"]
        if self.entrance:
            parts.append(f"{self.entrance}单元")
        if self.room:
            parts.append(f"{self.room}室")
        elif self.floor is not None:
            parts.append(f"{self.floor}层")
        return "".join(parts)


_EDGE_L = r"(?<![0-9A-Za-z])"
_EDGE_R = r"(?![0-9])"
_CHINESE = re.compile(
    r"(\d{1,3})\s*(?:号楼|栋|幢|座|号)\s*(?:(\d{1,2})\s*单元)?\s*[-—]?\s*(?:(\d{1,3})\s*(?:层|楼))?\s*(\d{3,4})?\s*(?:室|号|户)?"
)
_HASH = re.compile(rf"{_EDGE_L}(\d{{1,3}})#(?:(\d{{1,2}})[-_])?(\d{{3,4}}){_EDGE_R}")
_DASHED = re.compile(rf"{_EDGE_L}(\d{{1,3}})[-_](\d{{1,2}})[-_](\d{{3,4}}){_EDGE_R}")
_DASHED_FLOOR = re.compile(rf"{_EDGE_L}(\d{{1,3}})[-_](\d{{1,2}})[-_](\d{{1,2}})[-_](\d{{2}}){_EDGE_R}")
_CODED = re.compile(
    r"(?<![A-Za-z])b(?:ldg)?[-_]?(\d{1,3})[-_]?(?:e[-_]?(\d{1,2})[-_]?)?f[-_]?(-?\d{1,2})[-_]?(?:u|r|rm)?[-_]?(\d{1,2})?(?![0-9])",
    re.IGNORECASE,
)


def _room(number: str) -> tuple[int | None, str]:
    value = int(number)
    floor = value // 100
    return (floor if floor > 0 else None), str(value)


def _clean(number: str | None) -> str | None:
    return str(int(number)) if number else None


def parse_unit_address(identity: str) -> UnitAddress | None:
    """Return the address an identity spells, or None when it spells none."""
    text = identity.strip()
    if match := _CHINESE.search(text):
        building, entrance, floor, room = match.groups()
        if entrance or floor or room:
            floor_number = int(floor) if floor else None
            room_text = None
            if room:
                floor_number, room_text = _room(room)
            return UnitAddress(str(int(building)), _clean(entrance), floor_number, room_text)
    if match := _CODED.search(text):
        building, entrance, floor, door = match.groups()
        floor_number = int(floor)
        room = f"{floor_number}{int(door):02d}" if door and floor_number > 0 else None
        return UnitAddress(str(int(building)), _clean(entrance), floor_number, room)
    if match := _HASH.search(text):
        building, entrance, room = match.groups()
        floor_number, room_text = _room(room)
        return UnitAddress(str(int(building)), _clean(entrance), floor_number, room_text)
    if match := _DASHED_FLOOR.search(text):
        building, entrance, floor, door = match.groups()
        return UnitAddress(str(int(building)), _clean(entrance), int(floor), f"{int(floor)}{door}")
    if match := _DASHED.search(text):
        building, entrance, room = match.groups()
        floor_number, room_text = _room(room)
        return UnitAddress(str(int(building)), _clean(entrance), floor_number, room_text)
    return None
