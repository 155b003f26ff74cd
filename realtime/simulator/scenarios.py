"""Scripted incidents: what the simulator makes happen, second by second, on top of normal life.

Each scenario picks its place with the run's seed (a floor, a lift, a unit, a gateway) and returns
timed events; an event changes device state and asks the affected devices to report at once, as a
real detector does on alarm instead of waiting for its heartbeat. ``billing`` publishes nothing:
closing a month is a batch job of the ERP, so it writes the month's bills to the scene's CSV.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from twin.catalogue import DeviceKind

if TYPE_CHECKING:
    from realtime.simulator.engine import Simulation

K = DeviceKind
SCENARIOS = ("fire", "elevator", "leak", "gateway_offline", "billing")
Action = Callable[["Simulation", float], None]


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happens ``after`` seconds into the run."""

    after: float
    what: str
    action: Action


def scenario_events(name: str, sim: Simulation, seed: int) -> list[Event]:
    """Return the timed events of a scenario for the devices of ``sim``."""
    rng = random.Random(f"scenario:{seed}:{name}")
    if name == "fire":
        return _fire(sim, rng)
    if name == "elevator":
        return _elevator(sim, rng)
    if name == "leak":
        return _leak(sim, rng)
    if name == "gateway_offline":
        return _gateway_offline(sim, rng)
    return []


def _set(tags: list[str], **state: object) -> Action:
    def act(sim: Simulation, t: float) -> None:
        for tag in tags:
            device = sim.devices.get(tag)
            if device is not None:
                device.state.update(state)
                sim.report_now(tag, t)

    return act


def _fire(sim: Simulation, rng: random.Random) -> list[Event]:
    towers = sorted({d.building for d in sim.devices.values() if d.building and d.building.startswith("T")})
    if not towers:
        return []
    building = rng.choice(towers)
    floors = sorted({d.floor for d in sim.devices.values() if d.building == building and d.floor and d.floor > 1})
    floor = rng.choice(floors) if floors else 1
    here = [d for d in sim.devices.values() if d.building == building and d.floor == floor]
    units = [d.tag for d in here if d.kind is K.SMOKE_DETECTOR and d.profile == "zigbee2mqtt"]
    corridor = [d.tag for d in here if d.kind is K.SMOKE_DETECTOR and d.profile != "zigbee2mqtt"]
    call_points = [d.tag for d in here if d.kind is K.MANUAL_CALL_POINT]
    events = [
        Event(30.0, f"smoke in {units[0] if units else '?'} ({building} floor {floor})", _set(units[:1], smoke=True))
    ]
    events.append(Event(60.0, "smoke reaches the corridor", _set(corridor, smoke=True)))
    for i, tag in enumerate(units[1:], start=1):
        events.append(Event(60.0 + 30.0 * i, f"smoke in {tag}", _set([tag], smoke=True)))
    events.append(Event(150.0, "a resident presses the call point", _set(call_points[:1], pressed=True)))
    pumps = [d.tag for d in sim.devices.values() if d.kind is K.FIRE_PUMP][:1]
    events.append(Event(180.0, "the fire pump starts", _set(pumps, forced=True)))
    mains = [d.tag for d in sim.devices.values() if d.kind is K.PRESSURE_SENSOR and d.tag != "PS-DOM"]
    events.append(Event(185.0, "sprinklers open: fire main pressure drops", _set(mains, drop=250.0)))
    return events


def _elevator(sim: Simulation, rng: random.Random) -> list[Event]:
    lifts = sorted(d.tag for d in sim.devices.values() if d.kind is K.ELEVATOR)
    if not lifts:
        return []
    lift = rng.choice(lifts)

    def drift(sim: Simulation, t: float) -> None:
        sim.devices[lift].state.update(vibration_drift=3.0, drift_from=t)

    return [Event(10.0, f"{lift}: vibration starts drifting towards failure (+3 mm/s an hour)", drift)]


def _leak(sim: Simulation, rng: random.Random) -> list[Event]:
    meters = sorted(d.tag for d in sim.devices.values() if d.kind is K.WATER_METER)
    events = []
    if "PS-DOM" in sim.devices:

        def sag(sim: Simulation, t: float) -> None:
            sim.devices["PS-DOM"].state.update(sag_per_h=25.0, sag_from=t)

        events.append(Event(10.0, "PS-DOM: domestic pressure starts sagging (25 kPa an hour)", sag))
    if meters:
        meter = rng.choice(meters)
        events.append(
            Event(
                10.0,
                f"{meter}: a slow leak behind the meter (night flow)",
                _set([meter], night_flow=0.03, leak_flow=0.004),
            )
        )
    return events


def _gateway_offline(sim: Simulation, rng: random.Random) -> list[Event]:
    gateways = sorted(d.tag for d in sim.devices.values() if d.kind is K.GATEWAY and d.profile == "batch_gateway")
    if not gateways:
        return []
    gateway = rng.choice(gateways)

    def down(sim: Simulation, t: float) -> None:
        sim.take_offline(gateway)

    count = sum(1 for d in sim.devices.values() if d.gateway == gateway)
    return [Event(60.0, f"{gateway} goes offline with its {count} devices", down)]
