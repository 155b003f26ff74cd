"""Speak each vendor's dialect: topics and payloads as zigbee2mqtt, Tasmota and LoRa gateways send them.

The shapes follow the profiles in ``scenes/profiles``: zigbee2mqtt's one JSON object per device
with ``last_seen``, Tasmota's ``tele/<topic>/SENSOR`` with a local time and no zone, a gateway's
``gw/<id>/up`` array of readings, its plain-text values and its lift topics. Whatever is written
here must decode through those profiles into the device's own identity.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache

import orjson

from realtime.simulator.behaviour import Values
from realtime.simulator.devices import SimDevice
from twin.catalogue import DeviceKind

K = DeviceKind
ZIGBEE, TASMOTA, LORA = "zigbee2mqtt", "tasmota", "batch_gateway"
PROFILES = (ZIGBEE, TASMOTA, LORA)
SHANGHAI = timezone(timedelta(hours=8))
"""Tasmota stamps local time without a zone; the profile declares Asia/Shanghai (no DST)."""


@dataclass(frozen=True, slots=True)
class SimMessage:
    """One MQTT message to publish, and the device (tag) it speaks for."""

    topic: str
    payload: bytes
    retain: bool = False
    qos: int = 0
    source: str = ""


def _json(value: object) -> bytes:
    return orjson.dumps(value)


@lru_cache(maxsize=256)
def _local_second(second: int) -> str:
    """Return Tasmota's local time of a whole second: thousands of meters share each second of a run."""
    return datetime.fromtimestamp(second, SHANGHAI).strftime("%Y-%m-%dT%H:%M:%S")


@lru_cache(maxsize=256)
def _utc_second(second: int) -> str:
    """Return the ISO 8601 UTC time of a whole second, without its fraction and zone."""
    return datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _split(epoch: float) -> tuple[int, int]:
    """Return the whole second and the microseconds of an instant, rounded as ``datetime.fromtimestamp`` rounds."""
    fraction, whole = math.modf(epoch)
    micros = round(fraction * 1_000_000)
    return int(whole) + micros // 1_000_000, micros % 1_000_000


def _utc_millis(epoch: float) -> str:
    """Return zigbee2mqtt's ``last_seen``: ISO 8601 UTC with milliseconds and a Z, as ``isoformat`` spells it."""
    second, micros = _split(epoch)
    return f"{_utc_second(second)}.{micros // 1000:03d}Z"


def zigbee(device: SimDevice, values: Values, epoch: float) -> list[SimMessage]:
    """Return the device's zigbee2mqtt state message."""
    keys = {
        K.SMOKE_DETECTOR: ("smoke", "battery", "linkquality"),
        K.ACCESS_GATE: ("contact", "battery", "linkquality"),
        K.ENV_SENSOR: ("temperature", "humidity", "co2", "pm25"),
        K.LEAK_SENSOR: ("water_leak",),
    }.get(device.kind, ())
    body: dict[str, object] = {k: values[k] for k in keys if k in values}
    if device.kind is K.LEAK_SENSOR:
        body["water_leak"] = bool(values.get("leak"))
    if not body:
        return []
    body["last_seen"] = _utc_millis(epoch)
    return [SimMessage(f"zigbee2mqtt/{device.identity}", _json(body), source=device.tag)]


def tasmota(device: SimDevice, values: Values, epoch: float) -> list[SimMessage]:
    """Return the device's Tasmota telemetry, and its relay word when the relay changed."""
    local = _local_second(_split(epoch)[0])
    if device.kind is K.ENV_SENSOR:
        body: dict[str, object] = {
            "Time": local,
            "AM2301": {"Temperature": values["temperature"], "Humidity": values["humidity"]},
            "TempUnit": "C",
            "PMS5003": {"PM2.5": values["pm25"]},
        }
    else:
        energy = {k: values[k] for k in ("Total", "Power", "Voltage", "Current", "Factor")}
        body = {"Time": local, "ENERGY": energy}
    out = [SimMessage(f"tele/{device.identity}/SENSOR", _json(body), source=device.tag)]
    switch = values.get("switch")
    if device.kind in (K.EV_CHARGER, K.FAN) and switch is not None and device.state.get("relay") != switch:
        device.state["relay"] = switch
        out.append(SimMessage(f"stat/{device.identity}/POWER", b"ON" if switch else b"OFF", source=device.tag))
    return out


_TEXT = {
    K.SMOKE_DETECTOR: "smoke",
    K.MANUAL_CALL_POINT: "state",
    K.CAMERA: "state",
    K.HEAT_DETECTOR: "temperature",
    K.FIRE_PUMP: "running",
    K.WATER_PUMP: "running",
}
BATCHED = frozenset({K.WATER_METER, K.GAS_METER, K.PRESSURE_SENSOR, K.LEVEL_SENSOR, K.LEAK_SENSOR, K.ENV_SENSOR})
"""Kinds whose readings a LoRa gateway collects into its periodic upload."""


def _word(value: object) -> bytes:
    if isinstance(value, bool):
        return b"1" if value else b"0"
    return str(value).encode()


def lora_text(device: SimDevice, values: Values, gateway: str) -> list[SimMessage]:
    """Return a gateway-relayed device's plain-text values (a lift's floor in its topic)."""
    base = f"gw/{gateway}"
    if device.kind is K.ELEVATOR:
        floor, direction = values["floor"], values["direction"]
        out = [SimMessage(f"{base}/lift/{device.identity}/floor/{floor}", str(direction).encode(), source=device.tag)]
        device.state["beat"] = beat = device.state.get("beat", 0) + 1
        if beat % 2 == 0:
            out.append(
                SimMessage(f"{base}/dev/{device.identity}/vibration", _word(values["vibration"]), source=device.tag)
            )
            out.append(SimMessage(f"{base}/dev/{device.identity}/running", _word(values["running"]), source=device.tag))
        return out
    quantity = _TEXT[device.kind]
    return [SimMessage(f"{base}/dev/{device.identity}/{quantity}", _word(values[quantity]), source=device.tag)]


def batch_item(device: SimDevice, values: Values) -> dict[str, object]:
    """Return a device's element of its gateway's upload array."""
    item: dict[str, object] = {"dev": device.identity}
    if device.kind is K.WATER_METER:
        item |= {"total": values["total"], "unit": "m3", "bat": values["bat"]}
    elif device.kind is K.GAS_METER:
        item |= {"gas": values["gas"], "bat": values["bat"]}
    elif device.kind is K.ENV_SENSOR:
        item |= {"t": values["temperature"], "rh": values["humidity"]}
    else:
        item |= {k: values[k] for k in ("press", "lvl", "leak") if k in values}
    return item


def batch_upload(gateway: str, items: list[dict[str, object]], epoch: float) -> SimMessage:
    """Return a gateway's upload of the readings it collected."""
    return SimMessage(f"gw/{gateway}/up", _json({"ts": int(epoch * 1000), "data": items}), source=gateway)


_ZIGBEE_STATE = {up: orjson.dumps({"state": "online" if up else "offline"}) for up in (True, False)}


def online(device: SimDevice, up: bool) -> SimMessage | None:
    """Return the retained availability message of a device (a gateway, the bridge, a Tasmota), if it has one."""
    if device.profile == LORA and device.kind is K.GATEWAY:
        return SimMessage(f"gw/{device.identity}/status", b"online" if up else b"offline", True, 1, device.tag)
    if device.profile == ZIGBEE:
        state = _ZIGBEE_STATE[up]
        if device.identity == "bridge":
            return SimMessage("zigbee2mqtt/bridge/state", state, True, 1, device.tag)
        return SimMessage(f"zigbee2mqtt/{device.identity}/availability", state, True, 1, device.tag)
    if device.profile == TASMOTA:
        return SimMessage(f"tele/{device.identity}/LWT", b"Online" if up else b"Offline", True, 1, device.tag)
    return None
