"""Publish a simulation to a real broker at a chosen rate, from one process or several.

Gateways and the zigbee2mqtt bridge each get their own MQTT connection with a last will, as the
real ones have, so killing the simulator leaves them offline on the broker; the other devices
share one connection and publish their 'Offline' on a clean stop. Simulated time runs at the
speed that makes the scene's normal traffic reach the requested rate; timestamps stay wall-clock.
Several processes split the devices by gateway (a gateway and its devices stay together).
"""

from __future__ import annotations

import multiprocessing
import os
import time
import zlib
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

from realtime.message import ReceiveMessage
from realtime.mqtt import BrokerSettings, PahoTransport
from realtime.simulator.engine import Simulation
from realtime.simulator.styles import LORA, ZIGBEE, SimMessage
from twin.catalogue import DeviceKind
from twin.scenes.model import Binding

TICK_S = 0.02
LOCAL = timezone(timedelta(hours=8))


@dataclass(frozen=True, slots=True)
class SimulateReport:
    """What a run published, how fast, and which scripted events happened."""

    messages: int
    seconds: float
    speed: float
    natural_rate: float
    events: tuple[str, ...]

    @property
    def rate(self) -> float:
        """Return the messages per second achieved."""
        return self.messages / self.seconds if self.seconds > 0 else 0.0


class _WillTransport(PahoTransport):
    """A paho transport that leaves a last will, as a gateway's own connection does."""

    def __init__(self, settings: BrokerSettings, will: SimMessage) -> None:
        super().__init__(settings)
        self._client.will_set(will.topic, will.payload, qos=1, retain=True)


def _ignore(message: ReceiveMessage, token: Hashable | None) -> None:
    """Drop what the broker sends: the simulator only publishes."""


def shard_of(binding: Binding, shards: int) -> int:
    """Return the process a device belongs to: its gateway's (or its own) group, by a stable hash."""
    group = binding.gateway or binding.tag
    return zlib.crc32(group.encode()) % shards


def seconds_of_day(epoch: float) -> float:
    """Return the local (UTC+8) time of day of an instant, in seconds: where daily cycles start."""
    moment = datetime.fromtimestamp(epoch, LOCAL)
    return moment.hour * 3600 + moment.minute * 60 + moment.second + moment.microsecond / 1e6


def publish_shard(
    bindings: list[Binding],
    broker: BrokerSettings,
    *,
    seed: int,
    rate: float | None,
    scenario: str | None,
    duration: float | None,
    shard: int = 0,
    on_event: Callable[[str], None] | None = None,
) -> SimulateReport:
    """Run one process's share of the simulation until ``duration`` seconds or Ctrl-C."""
    epoch0 = time.time()
    t0 = seconds_of_day(epoch0)
    probe = Simulation(bindings, seed=seed, t0=t0, epoch0=epoch0)
    natural = probe.natural_rate()
    speed = rate / natural if rate and natural > 0 else 1.0
    sim = Simulation(bindings, seed=seed, t0=t0, epoch0=epoch0, speed=speed, scenario=scenario)
    transports = _connect(sim, broker, shard)
    for transport in transports.values():
        transport.start(_ignore)
    route = {tag: _route(sim, tag, transports) for tag in sim.devices}
    main = transports[""]
    count = 0
    for message in sim.start_messages():
        route.get(message.source, main).publish(message.topic, message.payload, message.qos, message.retain)
    started = time.monotonic()
    seen_events = 0
    try:
        while duration is None or time.monotonic() - started < duration:
            tick = time.monotonic()
            for message in sim.advance(t0 + (tick - started) * speed):
                route.get(message.source, main).publish(message.topic, message.payload, message.qos, message.retain)
                count += 1
            for _, what in sim.log[seen_events:]:
                if on_event is not None:
                    on_event(what)
            seen_events = len(sim.log)
            time.sleep(max(0.0, TICK_S - (time.monotonic() - tick)))
    except KeyboardInterrupt:
        pass
    seconds = time.monotonic() - started
    for message in sim.stop_messages():
        route.get(message.source, main).publish(message.topic, message.payload, message.qos, message.retain)
    for transport in transports.values():
        transport.wait_published(10.0)
        transport.stop()
    return SimulateReport(count, seconds, speed, natural, tuple(what for _, what in sim.log))


def _connect(sim: Simulation, broker: BrokerSettings, shard: int) -> dict[str, PahoTransport]:
    base = replace(broker, session_expiry_s=0, client_id=f"{broker.client_id}-{os.getpid()}-{shard}")
    transports: dict[str, PahoTransport] = {"": PahoTransport(replace(base, client_id=f"{base.client_id}-main"))}
    for device in sim.devices.values():
        if device.kind is DeviceKind.GATEWAY and device.profile in (LORA, ZIGBEE):
            will = sim.stop_will(device.tag)
            transports[device.tag] = _WillTransport(replace(base, client_id=f"{base.client_id}-{device.tag}"), will)
    return transports


def _route(sim: Simulation, tag: str, transports: dict[str, PahoTransport]) -> PahoTransport:
    device = sim.devices[tag]
    return transports.get(tag) or transports.get(device.gateway or "") or transports[""]


def _shard_run(args: tuple[list[Binding], BrokerSettings, int, float | None, float | None, int]) -> SimulateReport:
    bindings, broker, seed, rate, duration, shard = args
    return publish_shard(bindings, broker, seed=seed, rate=rate, scenario=None, duration=duration, shard=shard)


def run_simulation(
    bindings: list[Binding],
    broker: BrokerSettings,
    *,
    seed: int,
    rate: float | None = None,
    scenario: str | None = None,
    duration: float | None = None,
    processes: int = 1,
    on_event: Callable[[str], None] | None = None,
) -> SimulateReport:
    """Publish the scene's telemetry; several processes split the rate (scenarios need one)."""
    if processes <= 1:
        return publish_shard(
            bindings, broker, seed=seed, rate=rate, scenario=scenario, duration=duration, on_event=on_event
        )
    shards: list[list[Binding]] = [[] for _ in range(processes)]
    for binding in bindings:
        shards[shard_of(binding, processes)].append(binding)
    share = rate / processes if rate else None
    jobs = [(group, broker, seed, share, duration, i) for i, group in enumerate(shards) if group]
    with multiprocessing.get_context("spawn").Pool(len(jobs)) as pool:
        reports = pool.map(_shard_run, jobs)
    return SimulateReport(
        messages=sum(r.messages for r in reports),
        seconds=max(r.seconds for r in reports),
        speed=max(r.speed for r in reports),
        natural_rate=sum(r.natural_rate for r in reports),
        events=(),
    )
