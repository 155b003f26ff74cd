"""Put the devices where a Chinese high-rise community has them, each speaking the protocol it would.

Households: a Zigbee smoke detector on the ceiling, a Tasmota-metered electricity meter, and LoRa
water and gas meters read by the tower's gateway on the roof. Corridors: a fire-alarm smoke
detector and a call point by the stair (the fire panel reports through the gateway), a hydrant
cabinet, sprinklers, an exit sign, an extinguisher, a light. Lobbies: the entrance gate, a camera,
an environment sensor. Two lifts per entrance. The pump room under the garage: fire and domestic
pumps with their pressure sensors, the tank's level, a leak sensor. Devices without a profile
are passive (sprinklers, cabinets, signs): they are in the model, inspected, never heard from.
"""

from __future__ import annotations

from twin.catalogue import DEVICE_KINDS, DeviceKind
from twin.scenes.model import GenerateSpec, SiteSpec
from twin.scenes.plan import (
    SOUTH_D,
    PlanBuilding,
    PlanDevice,
    PlanPoi,
    PlanRoad,
    PlanSpace,
    PlanStorey,
    Point3,
    Rect,
)

K = DeviceKind
ZIGBEE, TASMOTA, LORA = "zigbee2mqtt", "tasmota", "batch_gateway"
BRIDGE = "GW-ZB"
"""The site's zigbee2mqtt bridge: every Zigbee device reaches the broker through it."""
GARAGE_GATEWAY = "GW-G"


def tower_gateway(building: PlanBuilding) -> str:
    """Return the tag of a tower's LoRa gateway."""
    return f"GW-{building.number}"


class _Devices:
    """Collects devices, giving each its name and MQTT identity the way its profile spells ids."""

    def __init__(self) -> None:
        self.items: list[PlanDevice] = []

    def add(
        self,
        tag: str,
        kind: DeviceKind,
        at: Point3,
        building: PlanBuilding,
        storey: PlanStorey,
        space: PlanSpace | None,
        profile: str | None = None,
        gateway: str | None = None,
    ) -> None:
        identity = None
        if tag == BRIDGE:
            identity = "bridge"  # zigbee2mqtt's bridge names itself so in its state topic
        elif profile == TASMOTA:
            identity = tag.lower().replace("-", "_")
        elif profile is not None:
            identity = tag
        self.items.append(
            PlanDevice(
                tag=tag,
                kind=kind,
                name=f"{DEVICE_KINDS[kind].label.zh} {tag}",
                position=(round(at[0], 3), round(at[1], 3), round(at[2], 3)),
                building=building.key,
                storey=storey.key,
                space=space.key if space is not None else None,
                profile=profile,
                identity=identity,
                gateway=gateway,
                level=storey.level,
            )
        )


def equip(
    site: SiteSpec, spec: GenerateSpec, buildings: tuple[PlanBuilding, ...], boundary: Rect, roads: tuple[PlanRoad, ...]
) -> tuple[tuple[PlanDevice, ...], tuple[PlanPoi, ...]]:
    """Return the devices of every building and the outdoor points of interest of the site."""
    devices = _Devices()
    for building in buildings:
        if building.use == "tower":
            _tower(devices, building)
        elif building.use == "garage":
            _garage(devices, building, len([b for b in buildings if b.use == "tower"]))
        else:
            _gatehouse(devices, building)
    return tuple(devices.items), _pois(boundary)


def _tower(devices: _Devices, building: PlanBuilding) -> None:
    b, gw = building.number, tower_gateway(building)
    top = building.storeys[-1]
    for storey in building.storeys:
        z, f = storey.elevation, storey.level
        by_key = {s.key: s for s in storey.spaces}
        for entrance in building.entrances:
            e = entrance.number
            base = f"{storey.key}/E{e}"
            corridor, stair, shaft = by_key[f"{base}/C"], by_key[f"{base}/S"], by_key[f"{base}/L"]
            for space in storey.spaces:
                if space.key.startswith(f"{base}/U"):
                    _unit(devices, building, storey, space, b, e, gw)
            x0, y0, x1, y1 = corridor.rect
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            fl = f"{b}-{e}-F{f}"
            add = devices.add
            add(f"SD-{fl}", K.SMOKE_DETECTOR, (cx, cy, z + 2.8), building, storey, corridor, LORA, gw)
            add(f"MCP-{fl}", K.MANUAL_CALL_POINT, (x0 + 0.3, y1 - 0.6, z + 1.4), building, storey, corridor, LORA, gw)
            add(f"HYD-{fl}", K.HYDRANT, (x0 + 0.4, y0 + 0.8, z + 1.1), building, storey, corridor)
            add(f"EXT-{fl}", K.FIRE_EXTINGUISHER, (x0 + 0.4, y0 + 1.6, z + 0.3), building, storey, corridor)
            add(f"EXIT-{fl}", K.EMERGENCY_EXIT, (x0 + 0.2, cy, z + 2.3), building, storey, corridor)
            add(f"LT-{fl}", K.LIGHT, (cx, y0 + 1.0, z + 2.9), building, storey, corridor)
            for i, x in enumerate((x0 + (x1 - x0) / 3, x0 + 2 * (x1 - x0) / 3), start=1):
                add(f"SPR-{fl}-{i}", K.SPRINKLER, (x, y1 - 1.0, z + 2.9), building, storey, corridor)
            if f == 1:
                add(f"AG-{b}-{e}", K.ACCESS_GATE, (cx, y0 + 0.3, z + 1.2), building, storey, corridor, ZIGBEE, BRIDGE)
                add(f"CAM-{b}-{e}", K.CAMERA, (x1 - 0.3, y0 + 0.3, z + 2.7), building, storey, corridor, LORA, gw)
                add(
                    f"ENV-{b}-{e}",
                    K.ENV_SENSOR,
                    (cx + 0.5, y1 - 0.3, z + 1.8),
                    building,
                    storey,
                    corridor,
                    ZIGBEE,
                    BRIDGE,
                )
                sx0, sy0, sx1, _ = shaft.rect
                for car in (1, 2):
                    x = sx0 + (sx1 - sx0) * (car - 0.5) / 2
                    add(f"EL-{b}-{e}-{car}", K.ELEVATOR, (x, sy0 + 1.5, z), building, storey, shaft, LORA, gw)
            if storey is top:
                add(
                    f"PS-{b}-{e}",
                    K.PRESSURE_SENSOR,
                    (x0 + 0.4, y0 + 0.4, z + 1.0),
                    building,
                    storey,
                    corridor,
                    LORA,
                    gw,
                )
                if e == 1:
                    add(gw, K.GATEWAY, (cx, cy, z + 2.5), building, storey, corridor, LORA)
            if stair is not None and storey is top and e == 1:
                sx0, sy0, _, _ = stair.rect
                add(f"HD-{b}-ROOF", K.HEAT_DETECTOR, (sx0 + 1.5, sy0 + 2.5, z + 2.8), building, storey, stair, LORA, gw)


def _unit(
    devices: _Devices, building: PlanBuilding, storey: PlanStorey, space: PlanSpace, b: str, e: int, gw: str
) -> None:
    x0, y0, x1, y1 = space.rect
    z = storey.elevation
    room = space.name
    south = y0 < building.rect[1] + SOUTH_D
    door_y = y1 - 0.6 if south else y0 + 0.6
    wet_y = y0 + 1.0 if not south else y1 - 2.0
    unit = f"{b}-{e}-{room}"
    add = devices.add
    add(
        f"SD-{unit}", K.SMOKE_DETECTOR, ((x0 + x1) / 2, (y0 + y1) / 2, z + 2.8), building, storey, space, ZIGBEE, BRIDGE
    )
    add(f"EM-{unit}", K.ELECTRICITY_METER, (x0 + 1.5, door_y, z + 1.6), building, storey, space, TASMOTA)
    add(f"WM-{unit}", K.WATER_METER, (x1 - 1.0, wet_y, z + 0.4), building, storey, space, LORA, gw)
    add(f"GM-{unit}", K.GAS_METER, (x1 - 1.6, wet_y, z + 1.4), building, storey, space, LORA, gw)


def _garage(devices: _Devices, building: PlanBuilding, towers: int) -> None:
    storey = building.storeys[0]
    z = storey.elevation
    spaces = {s.key.rsplit("/", 1)[-1]: s for s in storey.spaces}
    pump, power, ramp, hall = spaces["PUMP"], spaces["POWER"], spaces["RAMP"], spaces["HALL"]
    add = devices.add
    px, py = pump.rect[0], pump.rect[1]
    gw = GARAGE_GATEWAY
    for i in (1, 2):
        add(f"FP-{i}", K.FIRE_PUMP, (px + 2.0 + 3.0 * (i - 1), py + 2.5, z + 0.5), building, storey, pump, LORA, gw)
        add(f"DP-{i}", K.WATER_PUMP, (px + 2.0 + 3.0 * (i - 1), py + 6.5, z + 0.5), building, storey, pump, LORA, gw)
    add("PS-FIRE", K.PRESSURE_SENSOR, (px + 8.5, py + 2.5, z + 1.2), building, storey, pump, LORA, gw)
    add("PS-DOM", K.PRESSURE_SENSOR, (px + 8.5, py + 6.5, z + 1.2), building, storey, pump, LORA, gw)
    add("LS-TANK", K.LEVEL_SENSOR, (px + 12.5, py + 5.0, z + 3.5), building, storey, pump, LORA, gw)
    add("LK-PUMP", K.LEAK_SENSOR, (px + 10.5, py + 0.5, z + 0.05), building, storey, pump, LORA, gw)
    add("HD-PUMP", K.HEAT_DETECTOR, (px + 7.5, py + 5.0, z + 4.3), building, storey, pump, LORA, gw)
    add("FAN-PUMP", K.FAN, (px + 14.5, py + 9.0, z + 3.8), building, storey, pump, TASMOTA)
    add("SPR-PUMP", K.SPRINKLER, (px + 7.5, py + 7.5, z + 4.3), building, storey, pump)
    wx, wy = power.rect[0], power.rect[1]
    add("TR-1", K.TRANSFORMER, (wx + 5.0, wy + 5.0, z + 1.0), building, storey, power, TASMOTA)
    add("HD-POWER", K.HEAT_DETECTOR, (wx + 5.0, wy + 3.0, z + 4.3), building, storey, power, LORA, gw)
    add("EXT-POWER", K.FIRE_EXTINGUISHER, (wx + 0.5, wy + 0.5, z + 0.3), building, storey, power)
    hx0, hy0, hx1, hy1 = hall.rect
    add(gw, K.GATEWAY, (hx0 + 2.0, hy0 + 2.0, z + 4.0), building, storey, hall, LORA)
    add("ENV-G-1", K.ENV_SENSOR, (hx0 + 4.0, hy0 + 2.0, z + 2.0), building, storey, hall, LORA, gw)
    for i, x in enumerate((hx0 + 6.0, hx1 - 6.0), start=1):
        add(f"FAN-G-{i}", K.FAN, (x, hy1 - 2.0, z + 3.8), building, storey, hall, TASMOTA)
    _grid(devices, building, storey, hall, "SPR-G", K.SPRINKLER, 12.0, z + 4.3, None)
    _grid(devices, building, storey, hall, "SD-G", K.SMOKE_DETECTOR, 24.0, z + 4.3, gw)
    _grid(devices, building, storey, ramp, "SPR-R", K.SPRINKLER, 12.0, z + 4.3, None)
    for i in range(1, 2 * towers + 1):
        x = hx0 + 3.0 + (i - 1) * 3.0
        if x < hx1 - 3.0:
            add(f"CH-G-{i:02d}", K.EV_CHARGER, (x, hy0 + 0.5, z + 1.2), building, storey, hall, TASMOTA)
    for i, (x, y) in enumerate(
        ((hx0 + 1.0, hy0 + 8.0), (hx1 - 1.0, hy0 + 8.0), (hx0 + 1.0, hy1 - 8.0), (hx1 - 1.0, hy1 - 8.0)), 1
    ):
        add(f"HYD-G-{i}", K.HYDRANT, (x, y, z + 1.1), building, storey, hall)
        add(f"CAM-G-{i}", K.CAMERA, (x, y + 1.5, z + 3.5), building, storey, hall, LORA, gw)
        add(f"EXT-G-{i}", K.FIRE_EXTINGUISHER, (x, y + 0.8, z + 0.3), building, storey, hall)
    add("EXIT-G-1", K.EMERGENCY_EXIT, (hx0 + 0.2, (hy0 + hy1) / 2, z + 2.3), building, storey, hall)
    add("EXIT-G-2", K.EMERGENCY_EXIT, (hx1 - 0.2, (hy0 + hy1) / 2, z + 2.3), building, storey, hall)


def _grid(
    devices: _Devices,
    building: PlanBuilding,
    storey: PlanStorey,
    space: PlanSpace,
    prefix: str,
    kind: DeviceKind,
    step: float,
    z: float,
    gateway: str | None,
) -> None:
    x0, y0, x1, y1 = space.rect
    columns, rows = max(1, int((x1 - x0) // step)), max(1, int((y1 - y0) // step))
    for row in range(rows):
        for column in range(columns):
            x = x0 + (x1 - x0) * (column + 0.5) / columns
            y = y0 + (y1 - y0) * (row + 0.5) / rows
            tag = f"{prefix}-{row + 1:02d}{column + 1:02d}"
            devices.add(tag, kind, (x, y, z), building, storey, space, LORA if gateway else None, gateway)


def _gatehouse(devices: _Devices, building: PlanBuilding) -> None:
    storey = building.storeys[0]
    room = storey.spaces[0]
    x0, y0, x1, y1 = room.rect
    add = devices.add
    add(BRIDGE, K.GATEWAY, (x0 + 1.0, y1 - 1.0, 2.5), building, storey, room, ZIGBEE)
    add("AG-M-1", K.ACCESS_GATE, (x0 + 0.3, y0 + 0.5, 1.0), building, storey, room, ZIGBEE, BRIDGE)
    add("CAM-M-1", K.CAMERA, (x0 + 0.3, y0 + 0.3, 2.7), building, storey, room, LORA, GARAGE_GATEWAY)
    add("ENV-M-1", K.ENV_SENSOR, (x1 - 0.5, y1 - 0.5, 2.0), building, storey, room, TASMOTA)
    add("AED-M-1", K.AED, (x1 - 0.5, y0 + 1.0, 1.2), building, storey, room)
    add("EXT-M-1", K.FIRE_EXTINGUISHER, (x1 - 0.5, y0 + 2.0, 0.3), building, storey, room)


def _pois(boundary: Rect) -> tuple[PlanPoi, ...]:
    x0, y0, x1, y1 = boundary
    pois: list[PlanPoi] = []
    inset = 12.0 - 5.0
    ring = [(x0 + inset, y0 + inset), (x1 - inset, y0 + inset), (x1 - inset, y1 - inset), (x0 + inset, y1 - inset)]
    number = 0
    for (ax, ay), (bx, by) in zip(ring, [*ring[1:], ring[0]], strict=True):
        length = abs(bx - ax) + abs(by - ay)
        steps = max(1, int(length // 80.0))
        for i in range(steps):
            number += 1
            t = i / steps
            pois.append(
                PlanPoi(
                    f"HYD-O-{number:02d}",
                    "hydrant",
                    f"室外消火栓 HYD-O-{number:02d}",
                    (ax + (bx - ax) * t, ay + (by - ay) * t),
                    K.HYDRANT,
                )
            )
    cx = (x0 + x1) / 2
    for i in range(1, 5):
        tag = f"CH-O-{i}"
        pois.append(
            PlanPoi(
                tag,
                "charger",
                f"地面充电桩 {tag}",
                (cx - 20.0 - 3.0 * i, y0 + 6.0),
                K.EV_CHARGER,
                TASMOTA,
                tag.lower().replace("-", "_"),
            )
        )
    pois.append(PlanPoi("AP-1", "assembly_point", "应急避难场所 assembly point", (cx - 12.0, y0 + 20.0)))
    return tuple(pois)
