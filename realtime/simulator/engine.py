"""The simulation clock: which device speaks when, in simulated seconds, reproducibly.

Every device has its reporting period (a smoke detector's hourly heartbeat, a lift's half-minute
trip updates); its first report falls at a random point of its first period, so a thousand
meters do not all speak in the same second. LoRa devices do not publish: their readings wait in
their gateway's buffer until its next upload. ``advance`` returns, in time order, every message
due up to a simulated instant; the caller decides how fast simulated time runs.
"""

from __future__ import annotations

import heapq
import itertools
from collections import defaultdict
from dataclasses import dataclass

from realtime.simulator import styles
from realtime.simulator.behaviour import step
from realtime.simulator.devices import SimDevice, sim_devices
from realtime.simulator.scenarios import Plan, Step, scenario_plan
from realtime.simulator.styles import BATCHED, LORA, TASMOTA, ZIGBEE, SimMessage
from twin.catalogue import DeviceKind
from twin.scenes.model import Binding

K = DeviceKind
UPLOAD_S = 60.0
"""A LoRa gateway uploads what it collected once a minute."""
PERIOD_S: dict[DeviceKind, float] = {
    K.SMOKE_DETECTOR: 3600.0,
    K.MANUAL_CALL_POINT: 3600.0,
    K.HEAT_DETECTOR: 600.0,
    K.CAMERA: 60.0,
    K.FIRE_PUMP: 60.0,
    K.WATER_PUMP: 60.0,
    K.ELEVATOR: 30.0,
    K.ACCESS_GATE: 60.0,
    K.ENV_SENSOR: 600.0,
    K.ELECTRICITY_METER: 300.0,
    K.EV_CHARGER: 300.0,
    K.FAN: 300.0,
    K.TRANSFORMER: 60.0,
    K.WATER_METER: 900.0,
    K.GAS_METER: 900.0,
    K.PRESSURE_SENSOR: 60.0,
    K.LEVEL_SENSOR: 300.0,
    K.LEAK_SENSOR: 3600.0,
}
"""How often each kind reports: never slower than its kind's expected interval (twin.catalogue),
in which health counts silence."""
FANOUT: dict[DeviceKind, float] = {K.ELEVATOR: 2.0}
"""Messages per report beyond one (a lift's floor every time, vibration and running every other)."""


@dataclass(frozen=True, slots=True)
class _Stream:
    """One scheduled source of messages: a device's reports, or a gateway's uploads."""

    tag: str
    period: float
    upload: bool = False


class Simulation:
    """The devices of a scene (or a shard of them) and their schedule."""

    def __init__(
        self,
        bindings: list[Binding],
        *,
        seed: int,
        t0: float = 0.0,
        epoch0: float = 0.0,
        speed: float = 1.0,
        scenario: str | None = None,
    ) -> None:
        """Schedule every device from simulated time ``t0`` (seconds after a midnight).

        ``epoch0`` is the wall-clock time of ``t0``; payload timestamps are ``epoch0`` plus the
        simulated time elapsed divided by ``speed``, so they stay real at any speed.
        """
        self.seed, self.t0, self.epoch0, self.speed = seed, t0, epoch0, speed
        self.devices: dict[str, SimDevice] = {d.tag: d for d in sim_devices(bindings, seed)}
        self.buffers: dict[str, list[dict[str, object]]] = defaultdict(list)
        self._pending: list[SimMessage] = []
        self._heap: list[tuple[float, int, _Stream]] = []
        self._order = itertools.count()
        self.streams: list[_Stream] = []
        tops: dict[str, int] = defaultdict(int)
        for device in self.devices.values():
            if device.building and device.floor:
                tops[device.building] = max(tops[device.building], device.floor)
        for device in self.devices.values():
            if device.kind is K.ELEVATOR:
                device.state["top"] = max(2, tops.get(device.building or "", 2))
            if device.kind is K.GATEWAY:
                if device.profile == LORA:
                    self._schedule(_Stream(device.tag, UPLOAD_S, upload=True), device)
                continue
            self._schedule(_Stream(device.tag, PERIOD_S.get(device.kind, 600.0)), device)
        self.events: list[tuple[float, int, str, Step]] = []
        """Steps due, each with the run (``owner``) whose plan it is: "" for this simulation's own."""
        self.log: list[tuple[float, str]] = []
        self.applied: list[tuple[str, Step]] = []
        """Every step applied that touched a device of this simulation, with its owner, in order."""
        self.plans: dict[str, Plan] = {}
        """The incidents under way, by owner: what :meth:`end_plan` restores."""
        if scenario is not None:
            self.start_plan(scenario_plan(scenario, self.devices, seed), t0)

    def _schedule(self, stream: _Stream, device: SimDevice) -> None:
        self.streams.append(stream)
        first = self.t0 + device.rng.uniform(0.0, stream.period)
        heapq.heappush(self._heap, (first, next(self._order), stream))

    def natural_rate(self) -> float:
        """Return the messages per simulated second this scene produces in normal life."""
        rate = 0.0
        for stream in self.streams:
            device = self.devices[stream.tag]
            if stream.upload or not (device.profile == LORA and device.kind in BATCHED):
                rate += FANOUT.get(device.kind, 1.0) / stream.period
        return rate

    def stamp(self, t: float) -> float:
        """Return the wall-clock time of simulated time ``t``."""
        return self.epoch0 + (t - self.t0) / self.speed

    def report_now(self, tag: str, t: float) -> None:
        """Make a device report at ``t`` besides its schedule (an alarm does not wait)."""
        device = self.devices[tag]
        if device.profile == LORA and device.kind in BATCHED and device.gateway in self.devices:
            # A batched reading is due now; its gateway uploads it with the next minute's batch.
            self._emit(_Stream(tag, 0.0), t)
            return
        heapq.heappush(self._heap, (t, next(self._order), _Stream(tag, 0.0)))

    def start_plan(self, plan: Plan, t: float, owner: str = "") -> None:
        """Schedule an incident's steps from simulated time ``t``; one owner has one incident at a time."""
        self.drop_plan(owner)
        self.plans[owner] = plan
        for item in plan.steps:
            heapq.heappush(self.events, (t + item.after, next(self._order), owner, item))

    def drop_plan(self, owner: str) -> Plan | None:
        """Forget an owner's incident and its steps not yet due; return it."""
        self.events = [e for e in self.events if e[2] != owner]
        heapq.heapify(self.events)
        return self.plans.pop(owner, None)

    def end_plan(self, owner: str, t: float) -> None:
        """End an owner's incident at ``t``: its later steps never come, its end steps restore normal life."""
        plan = self.drop_plan(owner)
        for item in plan.end if plan is not None else ():
            self.apply(item, t, owner)

    def apply(self, item: Step, t: float, owner: str = "") -> None:
        """Carry out one step on the devices of this simulation it names (a shard holds only some)."""
        here = [tag for tag in item.tags if tag in self.devices]
        if not here:
            return
        self.log.append((t, item.what))
        self.applied.append((owner, item))
        for tag in here:
            if item.action == "offline":
                self.take_offline(tag)
            elif item.action == "online":
                self.bring_online(tag, t)
            else:
                state = self.devices[tag].state
                for key, value in item.values.items():
                    if value is None:
                        state.pop(key, None)
                    else:
                        state[key] = value
                if item.since is not None:
                    state[item.since] = t
                self.report_now(tag, t)

    def take_offline(self, gateway: str) -> None:
        """Silence a gateway and every device behind it; its availability says offline."""
        for device in self.devices.values():
            if device.tag == gateway or device.gateway == gateway:
                device.silent = True
        self.buffers.pop(gateway, None)
        self._pending.append(self._availability(gateway, up=False))

    def bring_online(self, gateway: str, t: float) -> None:
        """Let a silenced gateway and its devices speak again, each at once; its availability says online."""
        if not self.devices[gateway].silent:
            return
        self._pending.append(self._availability(gateway, up=True))
        for device in self.devices.values():
            if device.tag == gateway or device.gateway == gateway:
                device.silent = False
                if device.kind is not K.GATEWAY:
                    self.report_now(device.tag, t)

    def _availability(self, tag: str, *, up: bool) -> SimMessage:
        message = styles.online(self.devices[tag], up)
        assert message is not None
        return message

    def stop_will(self, tag: str) -> SimMessage:
        """Return the last will of a gateway's or the bridge's own connection: it says offline."""
        return self._availability(tag, up=False)

    def start_messages(self) -> list[SimMessage]:
        """Return the retained 'online' messages that gateways, the bridge and Tasmotas send on connecting."""
        return [m for d in self.devices.values() if (m := styles.online(d, True)) is not None]

    def stop_messages(self) -> list[SimMessage]:
        """Return the 'offline' messages of a clean stop (what their last wills would say)."""
        return [m for d in self.devices.values() if not d.silent and (m := styles.online(d, False)) is not None]

    def advance(self, until: float) -> list[SimMessage]:
        """Return every message due up to simulated time ``until`` (and what steps applied since queued), in order."""
        heap = self._heap
        while heap and heap[0][0] <= until:
            t, _, stream = heapq.heappop(heap)
            self._due(t)
            if stream.period > 0:
                heapq.heappush(heap, (t + stream.period, next(self._order), stream))
            self._emit(stream, t)
        self._due(until)
        return self._take()

    def flush_uploads(self, t: float) -> list[SimMessage]:
        """Return every gateway's collected readings now (a clean stop should not lose the last minute)."""
        for tag in sorted(self.buffers):
            self._emit(_Stream(tag, 0.0, upload=True), t)
        return self._take()

    def _take(self) -> list[SimMessage]:
        pending, self._pending = self._pending, []
        return pending

    def _due(self, t: float) -> None:
        events = self.events
        while events and events[0][0] <= t:
            when, _, owner, item = heapq.heappop(events)
            self.apply(item, when, owner)

    def _emit(self, stream: _Stream, t: float) -> None:
        device = self.devices[stream.tag]
        if device.silent:
            return
        epoch = self.stamp(t)
        if stream.upload:
            items = self.buffers.pop(device.tag, None)
            if items:
                self._pending.append(styles.batch_upload(device.identity, items, epoch))
            return
        values = step(device, t)
        if device.profile == ZIGBEE:
            self._pending.extend(styles.zigbee(device, values, epoch))
        elif device.profile == TASMOTA:
            self._pending.extend(styles.tasmota(device, values, epoch))
        elif device.kind in BATCHED:
            if device.gateway is not None:
                self.buffers[device.gateway].append(styles.batch_item(device, values))
        elif device.gateway is not None:
            gateway = self.devices.get(device.gateway)
            self._pending.extend(styles.lora_text(device, values, gateway.identity if gateway else device.gateway))
