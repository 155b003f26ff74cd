"""How each kind of device behaves: values that move the way real ones do, in simulated time.

Meter totals only grow, at a rate that follows the day (a morning and an evening peak, quiet
nights) and adds up to a household's typical day (0.4 m³ of water, 0.5 m³ of gas, 8 kWh);
temperatures follow a daily cycle; lifts make trips between floors and report each trip's
vibration; pumps hold pressure and run when demand is high. Scenarios change the state
(``state["smoke"]``, ``state["vibration_drift"]``…) and the behaviour carries the change into
every later value. All values are in the units the device's profile expects.
"""

from __future__ import annotations

import math

from realtime.simulator.devices import SimDevice
from twin.catalogue import DeviceKind
from twin.scenes.plan import GARAGE_DEPTH_M, STOREY_M

K = DeviceKind
DAY = 86400.0
FIRE_MAIN_HIGH_KPA = 850.0
"""The fire main at the pump room when the stabilising pump stops."""
DOMESTIC_KPA = 450.0
"""The domestic booster's set pressure: GB 50015-2019 §3.4.3's 0.45 MPa ceiling for one zone's static pressure."""
WATER_KPA_PER_M = 9.81
"""A metre of water column, in kPa."""
PUMP_GAUGE_M = 1.2
"""How high above the garage floor the pump room's gauges sit (twin/scenes/equipment.py)."""
Values = dict[str, float | bool | str]


def day_fraction(t: float) -> float:
    """Return the time of day (0…1) of simulated time ``t`` (0 = midnight)."""
    return (t % DAY) / DAY


def demand(t: float) -> float:
    """Return household demand, 0.1 at night to 1 at the 7:30 and 19:30 peaks."""
    hour = day_fraction(t) * 24
    peaks = math.exp(-((hour - 7.5) ** 2) / 2.0) + 1.1 * math.exp(-((hour - 19.5) ** 2) / 4.0)
    return 0.1 + 0.9 * min(1.0, peaks)


def daily(t: float, low: float, high: float) -> float:
    """Return a value cycling between low (at 5:00) and high (at 15:00)."""
    phase = 2 * math.pi * (day_fraction(t) - 15 / 24)
    return low + (high - low) * (1 + math.cos(phase)) / 2


def step(device: SimDevice, t: float) -> Values:
    """Advance a device to simulated time ``t`` and return its current values."""
    s, r = device.state, device.rng
    last = s.get("t", t)
    dt = max(0.0, t - last)
    s["t"] = t
    hours = dt / 3600
    kind = device.kind
    if kind is K.WATER_METER:
        s.setdefault("total", r.uniform(40, 400))
        night = s.get("night_flow", 0.0) if day_fraction(t) * 24 < 5 else 0.0
        s["total"] += hours * (0.05 * demand(t) * r.uniform(0.6, 1.4) + night + s.get("leak_flow", 0.0))
        return {"total": round(s["total"], 3), "bat": _battery(device)}
    if kind is K.GAS_METER:
        s.setdefault("total", r.uniform(20, 300))
        s["total"] += hours * 0.06 * demand(t) * r.uniform(0.5, 1.5)
        return {"gas": round(s["total"], 3), "bat": _battery(device)}
    if kind in (K.ELECTRICITY_METER, K.EV_CHARGER, K.TRANSFORMER, K.FAN):
        return _power(device, t, hours)
    if kind is K.PRESSURE_SENSOR:
        return {"press": round(max(0.0, _pressure(device, t) - s.get("drop", 0.0) + r.uniform(-2.0, 2.0)), 1)}
    if kind is K.LEVEL_SENSOR:
        return {"lvl": round(daily(t + DAY / 2, 240, 340) + r.gauss(0, 1), 1)}
    if kind is K.LEAK_SENSOR:
        return {"leak": 1 if s.get("leak") else 0}
    if kind is K.ENV_SENSOR:
        return {
            "temperature": round(daily(t, 17.5, 26.0) + r.gauss(0, 0.2), 1),
            "humidity": round(daily(t + DAY / 2, 42, 68) + r.gauss(0, 1), 1),
            "co2": round(420 + 400 * demand(t) + r.gauss(0, 15)),
            "pm25": round(max(1.0, 35 + 20 * math.sin(t / 7200) + r.gauss(0, 3)), 1),
        }
    if kind is K.HEAT_DETECTOR:
        return {"temperature": round(s.get("heat", 0.0) + daily(t, 22, 28) + r.gauss(0, 0.2), 1)}
    if kind is K.SMOKE_DETECTOR:
        return {"smoke": bool(s.get("smoke", False)), "battery": _battery(device), "linkquality": r.randint(60, 200)}
    if kind is K.MANUAL_CALL_POINT:
        return {"state": "alarm" if s.get("pressed") else "normal"}
    if kind is K.CAMERA:
        return {"state": "recording"}
    if kind is K.ACCESS_GATE:
        opened = r.random() < 0.15 * demand(t)
        return {"contact": not opened, "battery": _battery(device), "linkquality": r.randint(60, 200)}
    if kind in (K.FIRE_PUMP, K.WATER_PUMP):
        running = s.get("forced", kind is K.WATER_PUMP and demand(t) > 0.5 and device.tag.endswith("1"))
        return {"running": bool(running)}
    if kind is K.ELEVATOR:
        return _lift(device, t)
    return {}


def fire_main_kpa(t: float) -> float:
    """Return the fire main's standby pressure at the pump room: the stabilising pump's cycle.

    The pump stops at 0.85 MPa; the main's small losses bring it down to 0.82 MPa in 40 minutes, where
    the pump starts again. 0.82 is 0.07 MPa above the fire pump's start point (0.75 MPa), as GB 50974
    §5.3.3 asks of a stabilising pump. The cycle is the main's, not a device's: every sensor on it agrees.
    """
    return FIRE_MAIN_HIGH_KPA - 30.0 * ((t % 2400.0) / 2400.0)


def riser_head_kpa(floor: int) -> float:
    """Return the static head between the pump room's gauge and a sensor one metre above floor ``floor``."""
    return WATER_KPA_PER_M * ((floor - 1) * STOREY_M + 1.0 + GARAGE_DEPTH_M - PUMP_GAUGE_M)


def _pressure(device: SimDevice, t: float) -> float:
    """Return a pressure sensor's reading before noise and incidents, by where it sits (docs/scenes.md)."""
    if device.tag == "PS-DOM":  # the domestic booster's outlet: it dips while households draw water
        return DOMESTIC_KPA - 40.0 * demand(t)
    if device.tag == "PS-FIRE" or device.floor is None:
        return fire_main_kpa(t)
    return fire_main_kpa(t) - riser_head_kpa(device.floor)  # the top of a tower's riser


def _battery(device: SimDevice) -> float:
    s = device.state
    level = float(s.setdefault("battery", device.rng.uniform(55, 100)))
    level = max(5.0, level - device.rng.random() * 0.002)
    s["battery"] = level
    return round(level)


def _power(device: SimDevice, t: float, hours: float) -> Values:
    s, r, kind = device.state, device.rng, device.kind
    if kind is K.EV_CHARGER:
        charging = s.get("charging", False)
        if r.random() < (0.08 if not charging else 0.05):
            charging = not charging and day_fraction(t) * 24 > 17 or (charging and r.random() < 0.3)
        s["charging"] = charging
        watts = 7000.0 * r.uniform(0.9, 1.0) if charging else 0.0
    elif kind is K.TRANSFORMER:
        watts = 60000.0 + 250000.0 * demand(t) * r.uniform(0.9, 1.1)
    elif kind is K.FAN:
        watts = 750.0 if 6 <= day_fraction(t) * 24 < 23 else 0.0
    else:
        watts = max(20.0, 1250.0 * demand(t) * r.uniform(0.3, 1.3))
    s.setdefault("total", r.uniform(800, 8000) if kind is not K.TRANSFORMER else r.uniform(1e5, 5e5))
    s["total"] += hours * s.get("watts", watts) / 1000
    s["watts"] = watts
    volts = round(r.gauss(225, 2), 1) if kind is not K.TRANSFORMER else round(r.gauss(400, 3), 1)
    return {
        "Total": round(s["total"], 3),
        "Power": round(watts),
        "Voltage": volts,
        "Current": round(watts / volts, 3),
        "Factor": round(r.uniform(0.9, 0.99), 2),
        "switch": watts > 0,
    }


def _lift(device: SimDevice, t: float) -> Values:
    s, r = device.state, device.rng
    top = s.setdefault("top", 18)
    floor = s.setdefault("floor", 1)
    target = s.setdefault("target", 1)
    if floor == target and r.random() < 0.3 + 0.6 * demand(t):
        target = 1 if floor != 1 else r.randint(2, top)
        s["target"] = target
    direction = "idle" if floor == target else ("up" if target > floor else "down")
    if direction != "idle":
        floor += 1 if direction == "up" else -1
        s["floor"] = floor
    moving = direction != "idle"
    if moving or "trip_rms" not in s:
        # A lift monitor reports the RMS vibration velocity of the car's last trip, the machine's
        # condition, not whether it moves now: each lift's own level, a little scatter, and the drift
        # of a wearing guide shoe or bearing (the elevator scenario).
        drift = s.get("vibration_drift", 0.0) * (t - s.get("drift_from", t)) / 3600
        level = s.setdefault("vibration_level", r.uniform(0.5, 0.9))
        s["trip_rms"] = level + r.uniform(-0.05, 0.05) + max(0.0, drift)
    return {"floor": floor, "direction": direction, "vibration": round(s["trip_rms"], 3), "running": moving}
