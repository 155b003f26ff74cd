"""Scripted incidents: what the simulator makes happen, second by second, on top of normal life.

Each scenario picks its place with the run's seed (a floor, a lift, a gateway) and returns a
:class:`Plan`: timed steps that change device state, and the steps that end the incident and
restore normal life. Steps are plain data, not code, so that a scenario started beside a running
simulator can hand its plan to that simulator over MQTT (:mod:`realtime.simulator.coexist`) rather
than publish the devices a second time. A step asks the devices it touches to report at once, as a
real detector does on alarm instead of waiting for its heartbeat. ``billing`` publishes nothing:
closing a month is a batch job of the ERP, so it writes the month's bills to the scene's CSV.

How each departs from normal, and which of the demo's alarms that raises, is in docs/scenes.md.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from realtime.simulator.devices import SimDevice
from twin.catalogue import DeviceKind

K = DeviceKind
SCENARIOS = ("fire", "elevator", "leak", "gateway_offline", "billing")
Action = Literal["set", "offline", "online"]
Value = float | bool | str | None
"""A state value a step sets; None removes the key, so the behaviour's normal default returns."""

FIRE_MAIN_DIP_KPA = 180.0
"""How far the fire main falls when a sprinkler opens before the fire pump runs: the stabilising pump
cannot keep up and the roof tank's head is what is left (docs/scenes.md, fire)."""
FIRE_PUMP_BOOST_KPA = 100.0
"""How far above its standby pressure the running fire pump holds the main."""
FIRE_PUMP_LATE_S = 180.0
"""From the sprinkler opening to the fire pump at speed: a minute longer than GB 50974 §11.0.3 allows."""
BURST_DROP_KPA = 230.0
"""How far a burst joint in the pump room pulls the domestic main down, past the booster's reach."""


@dataclass(frozen=True, slots=True)
class Step:
    """A change ``after`` simulated seconds into the incident: set state on devices, or a gateway's link."""

    after: float
    what: str
    tags: tuple[str, ...]
    action: Action = "set"
    values: Mapping[str, Value] = field(default_factory=dict)
    since: str | None = None
    """A state key to stamp with the step's simulated time (where a drift or a sag starts)."""

    def as_json(self) -> dict[str, object]:
        """Return the step as JSON-ready data (what a scenario hands to a running simulator)."""
        return {
            "after": self.after,
            "what": self.what,
            "tags": list(self.tags),
            "action": self.action,
            "values": dict(self.values),
            "since": self.since,
        }

    @classmethod
    def of(cls, data: Mapping[str, object]) -> Step:
        """Read a step back from :meth:`as_json`'s data; a malformed one raises ValueError."""
        try:
            action = str(data["action"])
            if action not in ("set", "offline", "online"):
                raise ValueError(f"unknown step action {action!r}")
            values = data.get("values") or {}
            tags = data["tags"]
            since = data.get("since")
            if not isinstance(values, dict) or not isinstance(tags, list):
                raise ValueError("a step's values are an object and its tags a list")
            return cls(
                float(str(data["after"])),
                str(data["what"]),
                tuple(str(t) for t in tags),
                action,  # type: ignore[arg-type]
                {str(k): v for k, v in values.items()},
                None if since is None else str(since),
            )
        except KeyError as missing:
            raise ValueError(f"a step without {missing}") from None


@dataclass(frozen=True, slots=True)
class Plan:
    """A scenario's steps and what ends it: ``end`` restores normal life on the devices it touched."""

    name: str
    steps: tuple[Step, ...]
    end: tuple[Step, ...]

    @property
    def tags(self) -> frozenset[str]:
        """Return every device the incident touches."""
        return frozenset(tag for step in (*self.steps, *self.end) for tag in step.tags)


def scenario_plan(name: str, devices: Mapping[str, SimDevice], seed: int) -> Plan:
    """Return the plan of a scenario for ``devices`` (by tag); the seed picks its place."""
    rng = random.Random(f"scenario:{seed}:{name}")
    ordered = [devices[tag] for tag in sorted(devices)]
    if name == "fire":
        return _fire(ordered, rng)
    if name == "elevator":
        return _elevator(ordered, rng)
    if name == "leak":
        return _leak(ordered, rng)
    if name == "gateway_offline":
        return _gateway_offline(ordered, rng)
    return Plan(name, (), ())


def _fire(devices: list[SimDevice], rng: random.Random) -> Plan:
    towers = sorted({d.building for d in devices if d.building and d.building.startswith("T")})
    if not towers:
        return Plan("fire", (), ())
    building = rng.choice(towers)
    floors = sorted({d.floor for d in devices if d.building == building and d.floor and d.floor > 1})
    floor = rng.choice(floors) if floors else 1
    here = [d for d in devices if d.building == building and d.floor == floor]
    units = [d.tag for d in here if d.kind is K.SMOKE_DETECTOR and d.profile == "zigbee2mqtt"]
    corridor = [d.tag for d in here if d.kind is K.SMOKE_DETECTOR and d.profile != "zigbee2mqtt"]
    call_points = [d.tag for d in here if d.kind is K.MANUAL_CALL_POINT][:1]
    pumps = [d.tag for d in devices if d.kind is K.FIRE_PUMP][:1]
    main = tuple(d.tag for d in devices if d.kind is K.PRESSURE_SENSOR and d.tag != "PS-DOM")
    place = f"{building} floor {floor}"
    steps = [Step(30.0, f"smoke in {units[0] if units else '?'} ({place})", tuple(units[:1]), values={"smoke": True})]
    steps.append(Step(60.0, "smoke reaches the corridor", tuple(corridor), values={"smoke": True}))
    steps += [
        Step(60.0 + 30.0 * i, f"smoke in {tag}", (tag,), values={"smoke": True}) for i, tag in enumerate(units[1:], 1)
    ]
    steps.append(Step(150.0, "a resident presses the call point", tuple(call_points), values={"pressed": True}))
    steps.append(
        Step(160.0, "the corridor sprinkler opens: the fire main falls to the roof tank's head", main,
             values={"drop": FIRE_MAIN_DIP_KPA})
    )  # fmt: skip
    steps.append(
        Step(160.0 + FIRE_PUMP_LATE_S, "the fire pump starts and holds the main", tuple(pumps), values={"forced": True})
    )
    steps.append(
        Step(
            160.0 + FIRE_PUMP_LATE_S, "the fire main is back above standby", main, values={"drop": -FIRE_PUMP_BOOST_KPA}
        )
    )
    detectors = tuple(units + corridor)
    end = (
        Step(0.0, f"the fire on {place} is out: the detectors clear", detectors, values={"smoke": False}),
        Step(0.0, "the call point is reset", tuple(call_points), values={"pressed": None}),
        Step(0.0, "the fire pump stops, the sprinkler is closed: standby pressure", (*pumps, *main),
             values={"forced": None, "drop": None}),
    )  # fmt: skip
    return Plan("fire", tuple(steps), end)


def _elevator(devices: list[SimDevice], rng: random.Random) -> Plan:
    lifts = [d.tag for d in devices if d.kind is K.ELEVATOR]
    if not lifts:
        return Plan("elevator", (), ())
    lift = rng.choice(lifts)
    drift = Step(
        10.0, f"{lift}: vibration starts drifting towards failure (+3 mm/s an hour)", (lift,),
        values={"vibration_drift": 3.0}, since="drift_from",
    )  # fmt: skip
    end = Step(
        0.0, f"{lift}: the guide shoes are replaced, vibration is normal", (lift,), values={"vibration_drift": None}
    )
    return Plan("elevator", (drift,), (end,))


def _leak(devices: list[SimDevice], rng: random.Random) -> Plan:
    tags = {d.tag for d in devices}
    steps, end = [], []
    if "PS-DOM" in tags:
        steps.append(Step(20.0, "PS-DOM: a joint on the domestic main bursts, its pressure falls", ("PS-DOM",),
                          values={"drop": BURST_DROP_KPA}))  # fmt: skip
        end.append(Step(0.0, "PS-DOM: the joint is repaired, pressure is back", ("PS-DOM",), values={"drop": None}))
    if "LK-PUMP" in tags:
        steps.append(Step(30.0, "LK-PUMP: water on the pump room floor", ("LK-PUMP",), values={"leak": True}))
        end.append(Step(0.0, "LK-PUMP: the floor is dry", ("LK-PUMP",), values={"leak": None}))
    meters = [d.tag for d in devices if d.kind is K.WATER_METER]
    if meters:
        meter = rng.choice(meters)
        steps.append(Step(10.0, f"{meter}: a slow leak behind the meter (night flow)", (meter,),
                          values={"night_flow": 0.03, "leak_flow": 0.004}))  # fmt: skip
        end.append(Step(0.0, f"{meter}: the leak is fixed", (meter,), values={"night_flow": None, "leak_flow": None}))
    return Plan("leak", tuple(steps), tuple(end))


def _gateway_offline(devices: list[SimDevice], rng: random.Random) -> Plan:
    gateways = [d.tag for d in devices if d.kind is K.GATEWAY and d.profile == "batch_gateway"]
    if not gateways:
        return Plan("gateway_offline", (), ())
    gateway = rng.choice(gateways)
    count = sum(1 for d in devices if d.gateway == gateway)
    down = Step(60.0, f"{gateway} goes offline with its {count} devices", (gateway,), action="offline")
    up = Step(0.0, f"{gateway} is back online", (gateway,), action="online")
    return Plan("gateway_offline", (down,), (up,))
