"""Lay out a 小区: rows of south-facing towers, a garage beneath them, a gatehouse, roads and greens.

Towers face south, as Chinese housing does, in rows spaced for winter sun (a little under their
height apart); each tower is one or more entrances (单元) of up to four units per floor around a
core of a stair, a corridor and two lifts. The garage lies under the tower block with its pump
and power rooms in the south-west corner; the gatehouse stands at the south gate on the ring road.
"""

from __future__ import annotations

import math

from twin.catalogue import SpaceKind
from twin.scenes.equipment import equip
from twin.scenes.model import GenerateSpec, SiteSpec
from twin.scenes.plan import (
    CORE_D,
    GARAGE_DEPTH_M,
    NORTH_D,
    SHAFT_W,
    SOUTH_D,
    STAIR_W,
    STOREY_M,
    TOWER_D,
    UNIT_W,
    UNITS_PER_ENTRANCE,
    Community,
    Entrance,
    PlanBuilding,
    PlanRoad,
    PlanSpace,
    PlanStorey,
    Rect,
)

TOWER_GAP_M = 25.0
MARGIN_M = 32.0
"""From the tower block to the site boundary: room for the ring road, hydrants and greens."""
RING_INSET_M = 12.0
"""From the site boundary to the ring road's centre line."""
WALK_OFFSET_M = 3.0
WALK_W = 2.0
"""The footway along a row of towers: this far north of their north walls (the greens start at
6 m), and this wide."""


def plan_community(site: SiteSpec, spec: GenerateSpec) -> Community:
    """Return the plan of a community of ``spec.buildings`` towers, the same for the same spec."""
    entrances = _entrances(spec.units_per_floor)
    width = sum(e.width for e in entrances)
    columns = math.ceil(math.sqrt(spec.buildings))
    rows = math.ceil(spec.buildings / columns)
    row_gap = max(30.0, 0.8 * spec.floors * STOREY_M)
    block_w = columns * width + (columns - 1) * TOWER_GAP_M
    block_d = rows * TOWER_D + (rows - 1) * row_gap
    left, bottom = -block_w / 2, -block_d / 2
    towers = []
    for index in range(spec.buildings):
        row, column = divmod(index, columns)
        x0 = left + column * (width + TOWER_GAP_M)
        # Building 1 is in the front (south) row on the west, as addresses are usually counted.
        y0 = bottom + row * (TOWER_D + row_gap)
        towers.append(_tower(index + 1, x0, y0, entrances, spec.floors))
    block = (left, bottom, left + block_w, bottom + block_d)
    boundary = (block[0] - MARGIN_M, block[1] - MARGIN_M - 10.0, block[2] + MARGIN_M, block[3] + MARGIN_M)
    gatehouse = _gatehouse(boundary)
    garage = _garage(block)
    buildings = (*towers, garage, gatehouse)
    roads = (*_roads(boundary), *_footways(towers, gatehouse, boundary))
    greens = _greens(block, boundary, towers)
    devices, pois = equip(site, spec, buildings, boundary, roads)
    return Community(site, spec.seed, boundary, buildings, devices, pois, roads, greens)


def _entrances(units: int) -> tuple[Entrance, ...]:
    out = []
    x = 0.0
    for number in range(1, math.ceil(units / UNITS_PER_ENTRANCE) + 1):
        here = min(UNITS_PER_ENTRANCE, units - (number - 1) * UNITS_PER_ENTRANCE)
        width = UNIT_W * max(1, math.ceil(here / 2))
        out.append(Entrance(number, x, width, here))
        x += width
    return tuple(out)


def unit_rects(entrance: Entrance, x0: float, y0: float) -> list[tuple[int, Rect]]:
    """Return the units of an entrance on one floor: door number (1…4) and rectangle.

    The south row is numbered first (01, 02 west to east: the better flats), then the north row.
    """
    south = math.ceil(entrance.units / 2)
    out = []
    for i in range(entrance.units):
        column = i if i < south else i - south
        ux = x0 + entrance.x0 + column * UNIT_W
        uy = y0 if i < south else y0 + SOUTH_D + CORE_D
        out.append((i + 1, (ux, uy, ux + UNIT_W, uy + (SOUTH_D if i < south else NORTH_D))))
    return out


def core_rects(entrance: Entrance, x0: float, y0: float) -> tuple[Rect, Rect, Rect]:
    """Return the stair, corridor and lift-shaft rectangles of an entrance's core strip."""
    ex, cy = x0 + entrance.x0, y0 + SOUTH_D
    stair = (ex, cy, ex + STAIR_W, cy + CORE_D)
    corridor = (ex + STAIR_W, cy, ex + entrance.width - SHAFT_W, cy + CORE_D)
    shaft = (ex + entrance.width - SHAFT_W, cy, ex + entrance.width, cy + CORE_D)
    return stair, corridor, shaft


def _tower(number: int, x0: float, y0: float, entrances: tuple[Entrance, ...], floors: int) -> PlanBuilding:
    key = f"T{number}"
    storeys = []
    for level in range(1, floors + 1):
        skey = f"{key}/F{level}"
        spaces: list[PlanSpace] = []
        for entrance in entrances:
            e = entrance.number
            stair, corridor, shaft = core_rects(entrance, x0, y0)
            hall = "大堂 lobby" if level == 1 else "走廊 corridor"
            spaces += [
                PlanSpace(
                    f"{skey}/E{e}/S", f"{level}F-{e} 楼梯间", f"{number}号楼{e}单元 stair", SpaceKind.STAIR, stair
                ),
                PlanSpace(
                    f"{skey}/E{e}/C",
                    f"{level}F-{e} {hall}",
                    f"{number}号楼{e}单元 {hall}",
                    SpaceKind.LOBBY if level == 1 else SpaceKind.CORRIDOR,
                    corridor,
                ),
                PlanSpace(
                    f"{skey}/E{e}/L",
                    f"{level}F-{e} 电梯井",
                    f"{number}号楼{e}单元 elevator",
                    SpaceKind.ELEVATOR_SHAFT,
                    shaft,
                ),
            ]
            for door, rect in unit_rects(entrance, x0, y0):
                room = f"{level}{door:02d}"
                address = f"{number}-{e}-{room}"
                spaces.append(
                    PlanSpace(f"{skey}/E{e}/U{room}", room, f"{address} 住户 unit", SpaceKind.UNIT, rect, address)
                )
        storeys.append(PlanStorey(skey, f"{level}F", level, (level - 1) * STOREY_M, STOREY_M, tuple(spaces)))
    width = sum(e.width for e in entrances)
    return PlanBuilding(
        key, str(number), f"{number}号楼", "tower", (x0, y0, x0 + width, y0 + TOWER_D), tuple(storeys), entrances
    )


def _garage(block: Rect) -> PlanBuilding:
    x0, y0, x1, y1 = block
    key = "G"
    pump = (x0, y0, x0 + 15.0, y0 + 10.0)
    power = (x0 + 15.0, y0, x0 + 25.0, y0 + 10.0)
    ramp = (x0 + 25.0, y0, x1, y0 + 10.0)
    hall = (x0, y0 + 10.0, x1, y1)
    spaces = (
        PlanSpace(
            f"{key}/B1/PUMP", "B1 泵房", "消防及生活水泵房 pump room (设备 plant room)", SpaceKind.PLANT_ROOM, pump
        ),
        PlanSpace(
            f"{key}/B1/POWER", "B1 配电房", "配电房 electrical room (设备 plant room)", SpaceKind.PLANT_ROOM, power
        ),
        PlanSpace(f"{key}/B1/RAMP", "B1 车库A区", "地下车库 garage A", SpaceKind.GARAGE, ramp),
        PlanSpace(f"{key}/B1/HALL", "B1 车库B区", "地下车库 garage B", SpaceKind.GARAGE, hall),
    )
    storey = PlanStorey(f"{key}/B1", "B1", -1, -GARAGE_DEPTH_M, GARAGE_DEPTH_M, spaces)
    return PlanBuilding(key, "G", "地下车库", "garage", block, (storey,))


def _gatehouse(boundary: Rect) -> PlanBuilding:
    cx, y = (boundary[0] + boundary[2]) / 2, boundary[1] + 3.0
    rect = (cx + 5.0, y, cx + 13.0, y + 6.0)
    key = "M"
    space = PlanSpace(f"{key}/F1/GUARD", "门卫室", "门卫室 guard room (门厅 entrance)", SpaceKind.LOBBY, rect)
    storey = PlanStorey(f"{key}/F1", "1F", 1, 0.0, STOREY_M, (space,))
    return PlanBuilding(key, "M", "门卫室", "gatehouse", rect, (storey,))


def _roads(boundary: Rect) -> tuple[PlanRoad, ...]:
    x0, y0, x1, y1 = boundary
    inset = RING_INSET_M
    ring = ((x0 + inset, y0 + inset), (x1 - inset, y0 + inset), (x1 - inset, y1 - inset), (x0 + inset, y1 - inset))
    cx = (x0 + x1) / 2
    return (
        PlanRoad("环路 ring road", (*ring, ring[0]), 6.0),
        PlanRoad("主入口 main entrance", ((cx, y0 - 5.0), (cx, y0 + inset)), 8.0),
    )


def _footways(towers: list[PlanBuilding], gatehouse: PlanBuilding, boundary: Rect) -> tuple[PlanRoad, ...]:
    """Return the footways to the doors, which the routes between buildings take.

    One runs along the north side of each row of towers, ring road to ring road, with a spur from
    it to each entrance (单元门, on the north as Chinese towers have it); one leads from the gate's
    drive to the gatehouse door.
    """
    west, east = boundary[0] + RING_INSET_M, boundary[2] - RING_INSET_M
    out = []
    for row, north in enumerate(sorted({t.rect[3] for t in towers}), start=1):
        walk = north + WALK_OFFSET_M
        out.append(PlanRoad(f"{row}排步道 row {row} walk", ((west, walk), (east, walk)), WALK_W, "footway"))
        for tower in (t for t in towers if t.rect[3] == north):
            for entrance in tower.entrances:
                _, corridor, _ = core_rects(entrance, tower.rect[0], tower.rect[1])
                x = round((corridor[0] + corridor[2]) / 2, 3)
                name = f"{tower.name}{entrance.number}单元入口 entrance"
                out.append(PlanRoad(name, ((x, north), (x, walk)), WALK_W, "footway"))
    x0, y0, _, y1 = gatehouse.rect
    drive = (boundary[0] + boundary[2]) / 2
    out.append(PlanRoad("门卫室入口 gatehouse door", ((drive, (y0 + y1) / 2), (x0, (y0 + y1) / 2)), WALK_W, "footway"))
    return tuple(out)


def _greens(block: Rect, boundary: Rect, towers: list[PlanBuilding]) -> tuple[Rect, ...]:
    rows = sorted({t.rect[1] for t in towers})
    greens: list[Rect] = []
    for low, high in zip(rows, rows[1:], strict=False):
        greens.append((block[0], low + TOWER_D + 6.0, block[2], high - 6.0))
    inset = 17.0
    greens.append((boundary[0] + inset, block[1], block[0] - 5.0, block[3]))
    greens.append((block[2] + 5.0, block[1], boundary[2] - inset, block[3]))
    return tuple(g for g in greens if g[2] - g[0] > 2 and g[3] - g[1] > 2)
