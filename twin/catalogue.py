"""The declared vocabularies of the twin: device kinds, place kinds and statuses.

Each is declared once, with its zh-CN and English labels and the colour the 3D view paints,
so that the API, the database, the importers and the legend all read the same list (the
NetBox ``choices`` habit). Adding a kind means adding one line here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Label:
    """A human name in both interface languages, and the colour the view paints it."""

    zh: str
    en: str
    colour: str


class DeviceKind(StrEnum):
    """What a device is; decides its icon, its expected reporting interval and its rules."""

    SMOKE_DETECTOR = "smoke_detector"
    HEAT_DETECTOR = "heat_detector"
    MANUAL_CALL_POINT = "manual_call_point"
    SPRINKLER = "sprinkler"
    HYDRANT = "hydrant"
    FIRE_PUMP = "fire_pump"
    WATER_PUMP = "water_pump"
    PRESSURE_SENSOR = "pressure_sensor"
    LEVEL_SENSOR = "level_sensor"
    LEAK_SENSOR = "leak_sensor"
    ELECTRICITY_METER = "electricity_meter"
    WATER_METER = "water_meter"
    GAS_METER = "gas_meter"
    ELEVATOR = "elevator"
    ESCALATOR = "escalator"
    CAMERA = "camera"
    ACCESS_GATE = "access_gate"
    EV_CHARGER = "ev_charger"
    ENV_SENSOR = "env_sensor"
    LIGHT = "light"
    FAN = "fan"
    GATEWAY = "gateway"
    AED = "aed"
    FIRE_EXTINGUISHER = "fire_extinguisher"
    EMERGENCY_EXIT = "emergency_exit"
    TRANSFORMER = "transformer"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class DeviceKindInfo:
    """What the rest of the system needs to know about a kind of device."""

    label: Label
    fire_safety: bool
    expected_interval_s: int
    """Silence longer than about three intervals makes the device offline; sleepy battery
    sensors report rarely, so their interval is long and they are not called offline early."""


DEVICE_KINDS: dict[DeviceKind, DeviceKindInfo] = {
    DeviceKind.SMOKE_DETECTOR: DeviceKindInfo(Label("感烟探测器", "Smoke detector", "#e4572e"), True, 3600),
    DeviceKind.HEAT_DETECTOR: DeviceKindInfo(Label("感温探测器", "Heat detector", "#f17105"), True, 3600),
    DeviceKind.MANUAL_CALL_POINT: DeviceKindInfo(Label("手动报警按钮", "Manual call point", "#d7263d"), True, 3600),
    DeviceKind.SPRINKLER: DeviceKindInfo(Label("喷淋头", "Sprinkler", "#1b998b"), True, 86400),
    DeviceKind.HYDRANT: DeviceKindInfo(Label("消火栓", "Hydrant", "#c5283d"), True, 3600),
    DeviceKind.FIRE_PUMP: DeviceKindInfo(Label("消防泵", "Fire pump", "#a4243b"), True, 60),
    DeviceKind.WATER_PUMP: DeviceKindInfo(Label("生活水泵", "Domestic water pump", "#2e86ab"), False, 60),
    DeviceKind.PRESSURE_SENSOR: DeviceKindInfo(Label("压力传感器", "Pressure sensor", "#3c91e6"), True, 60),
    DeviceKind.LEVEL_SENSOR: DeviceKindInfo(Label("液位传感器", "Level sensor", "#5bc0eb"), True, 300),
    DeviceKind.LEAK_SENSOR: DeviceKindInfo(Label("水浸传感器", "Leak sensor", "#0077b6"), False, 3600),
    DeviceKind.ELECTRICITY_METER: DeviceKindInfo(Label("电表", "Electricity meter", "#f6ae2d"), False, 900),
    DeviceKind.WATER_METER: DeviceKindInfo(Label("水表", "Water meter", "#33a1fd"), False, 900),
    DeviceKind.GAS_METER: DeviceKindInfo(Label("燃气表", "Gas meter", "#9bc53d"), False, 900),
    DeviceKind.ELEVATOR: DeviceKindInfo(Label("电梯", "Elevator", "#7768ae"), False, 30),
    DeviceKind.ESCALATOR: DeviceKindInfo(Label("扶梯", "Escalator", "#8d6a9f"), False, 30),
    DeviceKind.CAMERA: DeviceKindInfo(Label("摄像机", "Camera", "#6c757d"), False, 60),
    DeviceKind.ACCESS_GATE: DeviceKindInfo(Label("门禁", "Access gate", "#495057"), False, 60),
    DeviceKind.EV_CHARGER: DeviceKindInfo(Label("充电桩", "EV charger", "#43aa8b"), False, 300),
    DeviceKind.ENV_SENSOR: DeviceKindInfo(Label("温湿度传感器", "Environment sensor", "#90be6d"), False, 600),
    DeviceKind.LIGHT: DeviceKindInfo(Label("照明", "Light", "#f9c74f"), False, 3600),
    DeviceKind.FAN: DeviceKindInfo(Label("风机", "Fan", "#577590"), False, 300),
    DeviceKind.GATEWAY: DeviceKindInfo(Label("网关", "Gateway", "#277da1"), False, 60),
    DeviceKind.AED: DeviceKindInfo(Label("除颤仪", "AED cabinet", "#ef476f"), True, 86400),
    DeviceKind.FIRE_EXTINGUISHER: DeviceKindInfo(Label("灭火器", "Fire extinguisher", "#d62828"), True, 86400),
    DeviceKind.EMERGENCY_EXIT: DeviceKindInfo(Label("安全出口", "Emergency exit", "#06d6a0"), True, 86400),
    DeviceKind.TRANSFORMER: DeviceKindInfo(Label("变压器", "Transformer", "#ff9f1c"), False, 300),
    DeviceKind.OTHER: DeviceKindInfo(Label("其他设备", "Other device", "#adb5bd"), False, 3600),
}


class PlaceKind(StrEnum):
    """The levels of the spatial graph, from the community down to a room."""

    SITE = "site"
    BUILDING = "building"
    FLOOR = "floor"
    SPACE = "space"


class SpaceKind(StrEnum):
    """What a space is used for; units are households and carry a Chinese address."""

    UNIT = "unit"
    ROOM = "room"
    CORRIDOR = "corridor"
    LOBBY = "lobby"
    STAIR = "stair"
    ELEVATOR_SHAFT = "elevator_shaft"
    PLANT_ROOM = "plant_room"
    GARAGE = "garage"
    OUTDOOR = "outdoor"
    OTHER = "other"


SPACE_KINDS: dict[SpaceKind, Label] = {
    SpaceKind.UNIT: Label("住户", "Household unit", "#dfe7fd"),
    SpaceKind.ROOM: Label("房间", "Room", "#e2ece9"),
    SpaceKind.CORRIDOR: Label("走廊", "Corridor", "#f0efeb"),
    SpaceKind.LOBBY: Label("大堂", "Lobby", "#fde2e4"),
    SpaceKind.STAIR: Label("楼梯间", "Stair", "#bee1e6"),
    SpaceKind.ELEVATOR_SHAFT: Label("电梯井", "Elevator shaft", "#cddafd"),
    SpaceKind.PLANT_ROOM: Label("设备房", "Plant room", "#fff1e6"),
    SpaceKind.GARAGE: Label("车库", "Garage", "#eae4e9"),
    SpaceKind.OUTDOOR: Label("室外", "Outdoor zone", "#d8f3dc"),
    SpaceKind.OTHER: Label("其他", "Other space", "#f8f9fa"),
}


class DeviceHealth(StrEnum):
    """How alive a device looks, from its last reading and its availability messages."""

    ONLINE = "online"
    STALE = "stale"
    OFFLINE = "offline"
    UNREACHABLE = "unreachable"
    """Its gateway is offline: the device itself may be fine."""
    UNKNOWN = "unknown"
    RETIRED = "retired"


DEVICE_HEALTH: dict[DeviceHealth, Label] = {
    DeviceHealth.ONLINE: Label("在线", "Online", "#2a9d8f"),
    DeviceHealth.STALE: Label("数据陈旧", "Stale", "#e9c46a"),
    DeviceHealth.OFFLINE: Label("离线", "Offline", "#6c757d"),
    DeviceHealth.UNREACHABLE: Label("网关离线", "Unreachable", "#9d8189"),
    DeviceHealth.UNKNOWN: Label("未知", "Unknown", "#ced4da"),
    DeviceHealth.RETIRED: Label("已退役", "Retired", "#495057"),
}


class RelationKind(StrEnum):
    """Typed relations beyond containment, between devices and places."""

    FEEDS = "feeds"
    SERVES = "serves"
    MONITORS = "monitors"
    VIA = "via"


RELATION_KINDS: dict[RelationKind, Label] = {
    RelationKind.FEEDS: Label("供给", "Feeds", "#2e86ab"),
    RelationKind.SERVES: Label("服务", "Serves", "#43aa8b"),
    RelationKind.MONITORS: Label("监测", "Monitors", "#f6ae2d"),
    RelationKind.VIA: Label("经由网关", "Via gateway", "#277da1"),
}
