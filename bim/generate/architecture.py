# mypy: disable-error-code="no-untyped-call"
"""Walls, slabs, doors, windows and stairs: what makes the generated towers look like buildings.

Walls are extruded rectangles along the plan's lines; a door or window cuts an opening into its
wall (IfcOpeningElement, IfcRelVoidsElement) and fills it (IfcRelFillsElement), so the viewer
sees holes with doors and glass in them. Doors stand on the line between two spaces, which is
how the walking graph finds the rooms a door joins. Doors and windows share one body each
through their types.
"""

from __future__ import annotations

from dataclasses import dataclass

from bim.generate.writer import Entity, IfcWriter, run
from twin.scenes.layout import core_rects, unit_rects
from twin.scenes.plan import SLAB_M, STOREY_M, TOWER_D, PlanBuilding, PlanStorey, Rect

WALL_T = 0.2
WINDOW_W, WINDOW_H, SILL = 1.8, 1.5, 0.9
DOOR_W, DOOR_H = 1.0, 2.1


@dataclass(frozen=True, slots=True)
class Hole:
    """A door or window in a wall: its centre along the wall (metres from the wall's start)."""

    at: float
    kind: str
    """``door`` or ``window``."""


class Architecture:
    """Writes the building elements of storeys, with shared door and window types."""

    def __init__(self, writer: IfcWriter) -> None:
        self.writer = writer
        w = writer
        self.door_type = w.create("IfcDoorType", "type/door", "户门 door", "DOOR")
        self.door_type.OperationType = "SINGLE_SWING_LEFT"
        self.window_type = w.create("IfcWindowType", "type/window", "窗 window", "WINDOW")
        self.window_type.PartitioningType = "SINGLE_PANEL"
        self._body(self.door_type, DOOR_W - 0.05, 0.05, DOOR_H - 0.02)
        self._body(self.window_type, WINDOW_W - 0.05, 0.04, WINDOW_H - 0.02)
        self.doors: list[Entity] = []
        self.windows: list[Entity] = []
        self.storey: Entity | None = None
        self.pending: list[tuple[Entity, float, float, float, Entity | None, bool]] = []

    def _later(self, product: Entity, x: float, y: float, z: float, parent: Entity | None, turn: bool = False) -> None:
        # Relations first, placements after: the API re-places an element it finds placed when it
        # is contained or voided, which would cost a full placement each time.
        self.pending.append((product, x, y, z, parent, turn))

    def place_pending(self) -> None:
        """Place every element written since the last call (walls before their openings)."""
        for product, x, y, z, parent, turn in self.pending:
            self.writer.place(product, x, y, z, parent=parent, turn=turn)
        self.pending.clear()

    def _body(self, element_type: Entity, dx: float, dy: float, dz: float) -> None:
        w = self.writer
        representation = run(
            "geometry.add_profile_representation",
            w.model,
            context=w.body,
            profile=w.profile(dx, dy),
            depth=dz,
            cardinal_point=5,
        )
        run("geometry.assign_representation", w.model, product=element_type, representation=representation)

    def finish(self) -> None:
        """Give every door and window its type's body (in two batched calls)."""
        if self.doors:
            run("type.assign_type", self.writer.model, related_objects=self.doors, relating_type=self.door_type)
        if self.windows:
            run("type.assign_type", self.writer.model, related_objects=self.windows, relating_type=self.window_type)

    def wall(
        self,
        key: str,
        storey: PlanStorey,
        held: list[Entity],
        start: tuple[float, float],
        end: tuple[float, float],
        holes: tuple[Hole, ...] = (),
    ) -> None:
        """Write a wall from ``start`` to ``end`` (along X or Y) with its doors and windows."""
        w = self.writer
        along_y = start[0] == end[0]
        length = abs(end[1] - start[1]) if along_y else abs(end[0] - start[0])
        if length < 0.05:
            return
        x0, y0 = min(start[0], end[0]), min(start[1], end[1])
        z = storey.elevation
        height = storey.height - SLAB_M
        wall = w.create("IfcWall", key, f"墙 {key.rsplit('/', 1)[-1]}", "SOLIDWALL")
        cx, cy = (x0, y0 + length / 2) if along_y else (x0 + length / 2, y0)
        self._later(wall, cx, cy, z, self.storey, along_y)
        w.box(wall, length, WALL_T, height)
        held.append(wall)
        for index, hole in enumerate(holes):
            kind = hole.kind
            width, tall, sill = (DOOR_W, DOOR_H, 0.0) if kind == "door" else (WINDOW_W, WINDOW_H, SILL)
            hx, hy = (x0, y0 + hole.at) if along_y else (x0 + hole.at, y0)
            opening = w.create("IfcOpeningElement", f"{key}/O{index}", "opening", "OPENING")
            self._later(opening, hx, hy, z + sill, wall, along_y)
            w.box(opening, width, WALL_T + 0.1, tall)
            run("feature.add_feature", w.model, feature=opening, element=wall)
            ifc_class = "IfcDoor" if kind == "door" else "IfcWindow"
            filling = w.create(
                ifc_class, f"{key}/{kind[0].upper()}{index}", f"{'门' if kind == 'door' else '窗'} {index + 1}"
            )
            if kind == "door":
                filling.OverallWidth, filling.OverallHeight, filling.PredefinedType = DOOR_W, DOOR_H, "DOOR"
                self.doors.append(filling)
            else:
                filling.OverallWidth, filling.OverallHeight, filling.PredefinedType = WINDOW_W, WINDOW_H, "WINDOW"
                self.windows.append(filling)
            self._later(filling, hx, hy, z + sill, self.storey, along_y)
            run("feature.add_filling", w.model, opening=opening, element=filling)
            held.append(filling)

    def slab(self, key: str, rect: Rect, z: float, held: list[Entity], name: str = "楼板 floor slab") -> None:
        """Write a floor slab whose top is at ``z``."""
        w = self.writer
        slab = w.create("IfcSlab", key, name, "FLOOR")
        x0, y0, x1, y1 = rect
        self._later(slab, (x0 + x1) / 2, (y0 + y1) / 2, z - SLAB_M, self.storey)
        w.box(slab, x1 - x0, y1 - y0, SLAB_M)
        held.append(slab)

    def stair(self, key: str, rect: Rect, storey: PlanStorey, held: list[Entity]) -> None:
        """Write a straight flight up to the next storey: 17 risers of about 176 mm."""
        w = self.writer
        x0, y0, x1, y1 = rect
        stair = w.create("IfcStair", key, "楼梯 stair", "STRAIGHT_RUN_STAIR")
        self._later(stair, x0 + 0.15, y0 + 0.2, storey.elevation, self.storey)
        steps, run_length = 17, (y1 - y0) - 0.4
        rise, going = STOREY_M / steps, run_length / steps
        points = [(0.0, 0.0)]
        for i in range(steps):
            points += [(i * going, (i + 1) * rise), ((i + 1) * going, (i + 1) * rise)]
        points += [(run_length, STOREY_M - 0.15), (0.25, 0.0)]
        w.solid(stair, points, (x1 - x0) - 0.3)
        held.append(stair)

    def tower_storey(
        self, building: PlanBuilding, storey: PlanStorey, entity: Entity, held: list[Entity], top: bool
    ) -> None:
        """Write the walls, doors, windows, slab and stairs of one tower storey."""
        self.storey = entity
        x0, y0, x1, y1 = building.rect
        k = storey.key
        self.slab(f"{k}/SLAB", building.rect, storey.elevation, held)
        if top:
            self.slab(f"{k}/ROOF", building.rect, storey.elevation + storey.height, held, "屋面 roof slab")
        self.wall(f"{k}/W-W", storey, held, (x0, y0), (x0, y1))
        self.wall(f"{k}/W-E", storey, held, (x1, y0), (x1, y1))
        for entrance in building.entrances:
            e = entrance.number
            ex, ew = x0 + entrance.x0, entrance.width
            stair, corridor, _ = core_rects(entrance, x0, y0)
            units = unit_rects(entrance, x0, y0)
            south = [r for _, r in units if r[1] == y0]
            north = [r for _, r in units if r[1] != y0]
            self.wall(f"{k}/E{e}/W-S", storey, held, (ex, y0), (ex + ew, y0), _windows(south, ex))
            self.wall(f"{k}/E{e}/W-N", storey, held, (ex, y0 + TOWER_D), (ex + ew, y0 + TOWER_D), _windows(north, ex))
            cy0, cy1 = corridor[1], corridor[3]
            self.wall(f"{k}/E{e}/W-CS", storey, held, (ex, cy0), (ex + ew, cy0), _doors(south, corridor, ex))
            self.wall(f"{k}/E{e}/W-CN", storey, held, (ex, cy1), (ex + ew, cy1), _doors(north, corridor, ex))
            self.wall(
                f"{k}/E{e}/W-ST", storey, held, (stair[2], cy0), (stair[2], cy1), (Hole((cy1 - cy0) / 2, "door"),)
            )
            lifts = (Hole(1.25, "door"), Hole(3.75, "door"))
            self.wall(f"{k}/E{e}/W-LF", storey, held, (corridor[2], cy0), (corridor[2], cy1), lifts)
            for i, rect in enumerate(south[1:] + north[1:]):
                self.wall(f"{k}/E{e}/W-U{i}", storey, held, (rect[0], rect[1]), (rect[0], rect[3]))
            if e > 1:
                self.wall(f"{k}/E{e}/W-X", storey, held, (ex, y0), (ex, y0 + TOWER_D))
            if not top:
                self.stair(f"{k}/E{e}/STAIR", stair, storey, held)

    def plain_storey(self, building: PlanBuilding, storey: PlanStorey, entity: Entity, held: list[Entity]) -> None:
        """Write a garage or gatehouse storey: outer walls, the walls of its small rooms, a slab, doors."""
        self.storey = entity
        x0, y0, x1, y1 = building.rect
        k = storey.key
        self.slab(f"{k}/SLAB", building.rect, storey.elevation, held)
        if building.use == "gatehouse":
            self.slab(f"{k}/ROOF", building.rect, storey.elevation + storey.height, held, "屋面 roof slab")
        front = (Hole((x1 - x0) / 2, "window"),) if building.use == "gatehouse" else ()
        self.wall(f"{k}/W-S", storey, held, (x0, y0), (x1, y0), front)
        self.wall(f"{k}/W-N", storey, held, (x0, y1), (x1, y1))
        self.wall(f"{k}/W-W", storey, held, (x0, y0), (x0, y1), (Hole((y1 - y0) / 2, "door"),))
        self.wall(f"{k}/W-E", storey, held, (x1, y0), (x1, y1))
        small = [s for s in storey.spaces if s.kind.value == "plant_room"]
        for space in small:
            sx0, sy0, sx1, sy1 = space.rect
            name = space.key.rsplit("/", 1)[-1]
            self.wall(f"{k}/W-{name}-N", storey, held, (sx0, sy1), (sx1, sy1), (Hole((sx1 - sx0) / 2, "door"),))
            self.wall(f"{k}/W-{name}-E", storey, held, (sx1, sy0), (sx1, sy1))
        # The garage's zones are fire compartments (防火分区): a wall with a fire door between each
        # and the hall the plant rooms open onto, so a walk reaches every one of them.
        zones = sorted((s for s in storey.spaces if s.kind.value == "garage"), key=lambda s: s.area)
        for space in zones[:-1]:
            sx0, _, sx1, sy1 = space.rect
            name = space.key.rsplit("/", 1)[-1]
            self.wall(f"{k}/W-{name}-N", storey, held, (sx0, sy1), (sx1, sy1), (Hole((sx1 - sx0) / 2, "door"),))


def _windows(units: list[Rect], ex: float) -> tuple[Hole, ...]:
    """Return two windows in the outer wall of each unit (living room and bedroom)."""
    return tuple(Hole(rect[0] - ex + offset, "window") for rect in units for offset in (2.5, 7.5))


def _doors(units: list[Rect], corridor: Rect, ex: float) -> tuple[Hole, ...]:
    """Return one door per unit, in the middle of the stretch it shares with the corridor."""
    holes = []
    for rect in units:
        low, high = max(rect[0], corridor[0]), min(rect[2], corridor[2])
        if high - low >= DOOR_W:
            holes.append(Hole((low + high) / 2 - ex, "door"))
    return tuple(holes)
