"""Chinese unit addresses: 楼栋-单元-房号, in the spellings residents and staff actually type.

"3-2-1801", "3栋2单元1801室", "3#2-1801", "3号楼2单元1801", "3幢2单元1801" all name building 3,
entrance (单元) 2, room 1801 on floor 18. The normal form is ``3-2-1801``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FULLWIDTH = str.maketrans("０１２３４５６７８９－＃　", "0123456789-# ")
_SEPARATORS = r"\s*(?:-|_|/|#|号楼|号|栋|幢|座|楼|单元|门)\s*"
_PATTERN = re.compile(
    rf"^\s*(?P<building>[0-9A-Za-z]+){_SEPARATORS}(?:(?P<entrance>[0-9]+){_SEPARATORS})?"
    r"(?P<room>[0-9]{3,5})\s*(?:室|号|房)?\s*$"
)


@dataclass(frozen=True, slots=True)
class UnitAddress:
    """A household's address: building, entrance (单元, optional) and room number."""

    building: str
    entrance: str | None
    room: str

    @property
    def floor(self) -> int:
        """Return the floor the room number encodes (1801 → 18, 302 → 3)."""
        return int(self.room[:-2])

    @property
    def normal(self) -> str:
        """Return the normal form ``3-2-1801`` (``3-1801`` without an entrance)."""
        parts = [self.building, self.entrance, self.room] if self.entrance else [self.building, self.room]
        return "-".join(parts)

    @property
    def chinese(self) -> str:
        """Return the form printed on letters: 3栋2单元1801室."""
        entrance = f"{self.entrance}单元" if self.entrance else ""
        return f"{self.building}栋{entrance}{self.room}室"


def parse_address(text: str) -> UnitAddress | None:
    """Read a unit address in any common spelling; None when the text is not one."""
    cleaned = text.translate(_FULLWIDTH).strip().upper()
    match = _PATTERN.match(cleaned)
    if match is None:
        return None
    building = match["building"].lstrip("0") or "0"
    entrance = match["entrance"].lstrip("0") if match["entrance"] else None
    return UnitAddress(building, entrance or None, match["room"])
