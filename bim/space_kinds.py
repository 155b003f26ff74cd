"""What an IfcSpace is used for, from the words its modeller gave it (English, German, Chinese).

IFC has no reliable usage field for spaces (IfcSpaceTypeEnum is INTERNAL/EXTERNAL in most files),
so the name and long name decide; a space no word explains is a room. A household (住户) carries
its unit address in a name (``3-2-1801 住户``), which becomes the unit's address in the graph.
"""

from __future__ import annotations

import re

from twin.catalogue import SpaceKind
from twin.graph.addresses import UnitAddress, parse_address

_WORDS: tuple[tuple[SpaceKind, tuple[str, ...]], ...] = (
    (SpaceKind.STAIR, ("stair", "treppe", "楼梯")),
    (SpaceKind.ELEVATOR_SHAFT, ("elevator", "lift", "aufzug", "电梯")),
    (SpaceKind.CORRIDOR, ("corridor", "hallway", "circulation", "flur", "diele", "走廊", "过道")),
    (SpaceKind.LOBBY, ("lobby", "foyer", "entrance", "vestibule", "eingang", "大堂", "门厅")),
    (SpaceKind.PLANT_ROOM, ("mechanical", "plant room", "electrical", "technik", "heizung", "设备", "机房")),
    (SpaceKind.GARAGE, ("garage", "parking", "车库")),
    (SpaceKind.OUTDOOR, ("terrace", "balcony", "terrasse", "balkon", "阳台")),
    (SpaceKind.UNIT, ("住户", "住宅单元", "apartment", "dwelling", "household", "wohnung")),
)
_UNIT_TOKENS = frozenset({"unit", "flat"})
"""Short words that name a household only standing alone ("unit", not "unitary"; "flat", not "flat roof")."""


def space_kind(name: str, long_name: str) -> SpaceKind:
    """Return the kind of a space from its name and long name."""
    words = f"{name} {long_name}".casefold()
    for kind, hints in _WORDS:
        if any(hint in words for hint in hints):
            return kind
    tokens = re.split(r"[^a-z]+", words)
    if _UNIT_TOKENS.intersection(tokens) and "roof" not in tokens:
        return SpaceKind.UNIT
    return SpaceKind.ROOM


def unit_address(name: str, long_name: str) -> UnitAddress | None:
    """Return the unit address spelled in a space's name or long name (3-2-1801, 3栋2单元1801室), if any."""
    for token in f"{name} {long_name}".split():
        address = parse_address(token)
        if address is not None:
            return address
    return None
