"""What an IfcSpace is used for, from the words its modeller gave it (English, German, Chinese).

IFC has no reliable usage field for spaces (IfcSpaceTypeEnum is INTERNAL/EXTERNAL in most files),
so the name and long name decide; a space no word explains is a room.
"""

from __future__ import annotations

from twin.catalogue import SpaceKind

_WORDS: tuple[tuple[SpaceKind, tuple[str, ...]], ...] = (
    (SpaceKind.STAIR, ("stair", "treppe", "楼梯")),
    (SpaceKind.ELEVATOR_SHAFT, ("elevator", "lift", "aufzug", "电梯")),
    (SpaceKind.CORRIDOR, ("corridor", "hallway", "circulation", "flur", "diele", "走廊", "过道")),
    (SpaceKind.LOBBY, ("lobby", "foyer", "entrance", "vestibule", "eingang", "大堂", "门厅")),
    (SpaceKind.PLANT_ROOM, ("mechanical", "plant room", "electrical", "technik", "heizung", "设备", "机房")),
    (SpaceKind.GARAGE, ("garage", "parking", "车库")),
    (SpaceKind.OUTDOOR, ("terrace", "balcony", "terrasse", "balkon", "阳台")),
)


def space_kind(name: str, long_name: str) -> SpaceKind:
    """Return the kind of a space from its name and long name."""
    words = f"{name} {long_name}".casefold()
    for kind, hints in _WORDS:
        if any(hint in words for hint in hints):
            return kind
    return SpaceKind.ROOM
