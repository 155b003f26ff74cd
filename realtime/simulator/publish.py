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
from multiprocessing.synchronize import Barrier

from realtime.message import ReceiveMessage
from realtime.mqtt import BrokerSettings, Deliver
from realtime.simulator.coexist import RUNS, Coordinator, cleared, hand_over
from realtime.simulator.engine import Simulation
from realtime.simulator.styles import LORA, ZIGBEE, SimMessage
from realtime.simulator.transport import SimTransport
from twin.catalogue import DeviceKind
from twin.scenes.model import Binding

TICK_S = 0.02
HEADROOM = 1.01
"""Simulated time runs this much faster than the rate asks, so that a run delivers no less than asked:
its edges (a first tick with nothing due yet, a last one cut short, the last readings' way through the
broker) cost up to 1% of a 10-second run."""
LOCAL = timezone(timedelta(hours=8))
CONNECT_S = 30.0
"""How long the broker may take to accept the simulator's connections before the run gives up."""
START_S = 300.0
"""How long a shard waits for the others to build their simulation and connect."""
FLUSH_S = 60.0
"""How long a clean stop waits for the broker to acknowledge every retained 'offline'."""


@dataclass(frozen=True, slots=True)
class SimulateReport:
    """What a run published, how fast, and which scripted events happened."""

    messages: int
    seconds: float
    speed: float
    natural_rate: float
    events: tuple[str, ...]
    started_at: float = 0.0
    """The wall-clock instant (epoch seconds) pacing began, the same in every process of a run."""
    unconfirmed: int = 0
    """Messages that may not have reached the broker: published while a connection was down, or
    retained availability messages still unacknowledged when the clean stop disconnected."""
    handed_to: tuple[str, ...] = ()
    """The runs of the simulator that carried out this run's scenario, when one already published the
    scene (this run then published none of its devices: :mod:`realtime.simulator.coexist`)."""

    @property
    def rate(self) -> float:
        """Return the messages per second achieved."""
        return self.messages / self.seconds if self.seconds > 0 else 0.0


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
    scene: str = "",
    on_event: Callable[[str], None] | None = None,
    ready: Callable[[], object] | None = None,
) -> SimulateReport:
    """Run one process's share of the simulation until ``duration`` seconds or Ctrl-C.

    ``ready`` is called once connected and 'online' is queued, just before pacing starts: several
    processes wait there for each other, so their shares of the rate add up over the same seconds.
    While it runs it carries out the scenarios handed to it for ``scene`` (:mod:`.coexist`).
    """
    epoch0 = time.time()
    t0 = seconds_of_day(epoch0)
    sim = Simulation(bindings, seed=seed, t0=t0, epoch0=epoch0, scenario=scenario)
    natural = sim.natural_rate()
    sim.speed = HEADROOM * rate / natural if rate and natural > 0 else 1.0
    run = f"{broker.client_id}-{os.getpid()}-{shard}"
    transports = _transports(sim, broker, run)
    main = transports[""]
    coordinator = Coordinator(sim, run, scene, main)
    _open(transports, broker, coordinator.deliver)
    route = {tag: _route(sim, tag, transports) for tag in sim.devices}
    for message in [*coordinator.start_messages(), *sim.start_messages()]:
        route.get(message.source, main).publish(message.topic, message.payload, message.qos, message.retain)
    if ready is not None:
        ready()
    started_at = sim.epoch0 = time.time()  # readings stamped from now: building and connecting took seconds
    started = time.monotonic()
    count, seen_events = 0, 0
    try:
        while True:
            tick = time.monotonic()
            last = duration is not None and tick - started >= duration
            now = t0 + (tick - started) * sim.speed
            for message in [*coordinator.tick(now), *sim.advance(now)]:
                route.get(message.source, main).publish(message.topic, message.payload, message.qos, message.retain)
                count += 1
            for transport in transports.values():
                transport.pump()
            for _, what in sim.log[seen_events:]:
                if on_event is not None:
                    on_event(what)
            seen_events = len(sim.log)
            if last:
                break
            time.sleep(max(0.0, TICK_S - (time.monotonic() - tick)))
    except KeyboardInterrupt:
        tick = time.monotonic()
    seconds = tick - started
    now = t0 + seconds * sim.speed
    sim.end_plan("", now)  # its own scenario ends as a handed-over one does: normal life reported, then offline
    ending = [*sim.advance(now), *sim.flush_uploads(now)]
    for message in ending:
        route.get(message.source, main).publish(message.topic, message.payload, message.qos, message.retain)
    unconfirmed = _stop(sim, transports, route, coordinator.stop_messages())
    events = tuple(what for _, what in sim.log)
    return SimulateReport(count + len(ending), seconds, sim.speed, natural, events, started_at, unconfirmed)


def _stop(
    sim: Simulation, transports: dict[str, SimTransport], route: dict[str, SimTransport], last: list[SimMessage]
) -> int:
    """Say 'offline' for every device and publish ``last``, wait for the broker to acknowledge each, then disconnect.

    Disconnecting earlier would drop what paho still holds behind its inflight window; the count
    of messages left unacknowledged is returned (and reported), never silently dropped.
    """
    main = transports[""]
    deadline = time.monotonic() + FLUSH_S
    for transport in transports.values():
        transport.flush(max(0.0, deadline - time.monotonic()))  # the last readings go before 'offline'
    for message in [*sim.stop_messages(), *last]:
        route.get(message.source, main).publish(message.topic, message.payload, message.qos, message.retain)
    for transport in transports.values():
        transport.wait_published(max(0.0, deadline - time.monotonic()))
    unconfirmed = sum(t.pending() + t.unsent for t in transports.values())
    for transport in transports.values():
        transport.stop()
    return unconfirmed


def _transports(sim: Simulation, broker: BrokerSettings, run: str) -> dict[str, SimTransport]:
    """Prepare the shared connection (its will deletes the run's presence) and each gateway's and the bridge's."""
    base = replace(broker, session_expiry_s=0, client_id=run)
    will = cleared(RUNS + run)
    transports: dict[str, SimTransport] = {"": SimTransport(replace(base, client_id=f"{run}-main"), will)}
    for device in sim.devices.values():
        if device.kind is DeviceKind.GATEWAY and device.profile in (LORA, ZIGBEE):
            will = sim.stop_will(device.tag)
            transports[device.tag] = SimTransport(replace(base, client_id=f"{run}-{device.tag}"), will)
    return transports


def _open(transports: dict[str, SimTransport], broker: BrokerSettings, deliver: Deliver) -> None:
    """Connect each connection (the shared one hears what ``deliver`` takes); wait until the broker took them all."""
    for key, transport in transports.items():
        transport.start(deliver if key == "" else _ignore)
    if not all(transport.wait_connected(CONNECT_S) for transport in transports.values()):
        for transport in transports.values():
            transport.stop()
        raise ConnectionError(f"the broker at {broker.host}:{broker.port} took no connection in {CONNECT_S:.0f} s")


def _route(sim: Simulation, tag: str, transports: dict[str, SimTransport]) -> SimTransport:
    device = sim.devices[tag]
    return transports.get(tag) or transports.get(device.gateway or "") or transports[""]


_start_together: Barrier | None = None
"""In a shard's process: where it waits for the other shards before pacing (set by the pool)."""


def _join(barrier: Barrier) -> None:
    """Keep the pool's barrier in the shard's process (a spawned process inherits nothing else)."""
    global _start_together
    _start_together = barrier


def _shard_run(args: tuple[list[Binding], BrokerSettings, int, float | None, float | None, int, str]) -> SimulateReport:
    bindings, broker, seed, rate, duration, shard, scene = args
    barrier = _start_together
    ready = None if barrier is None else lambda: barrier.wait(START_S)
    try:
        return publish_shard(
            bindings, broker, seed=seed, rate=rate, scenario=None, duration=duration, shard=shard, scene=scene,
            ready=ready,
        )  # fmt: skip
    except BaseException:
        if barrier is not None:
            barrier.abort()  # the other shards stop waiting for one that will never come
        raise


def run_simulation(
    bindings: list[Binding],
    broker: BrokerSettings,
    *,
    seed: int,
    rate: float | None = None,
    scenario: str | None = None,
    duration: float | None = None,
    processes: int = 1,
    scene: str = "",
    on_event: Callable[[str], None] | None = None,
) -> SimulateReport:
    """Publish the scene's telemetry; several processes split the rate (scenarios need one).

    A scenario beside a simulator already publishing ``scene`` is handed to it and publishes none of
    the scene's devices itself (:func:`realtime.simulator.coexist.hand_over`).
    """
    if scenario is not None:
        handed = hand_over(
            bindings, broker, scene=scene, seed=seed, scenario=scenario, duration=duration, on_event=on_event
        )
        if handed is not None:
            return SimulateReport(0, handed.seconds, 1.0, 0.0, handed.events, unconfirmed=handed.unconfirmed,
                                  handed_to=handed.to)  # fmt: skip
    if processes <= 1:
        return publish_shard(
            bindings, broker, seed=seed, rate=rate, scenario=scenario, duration=duration, scene=scene, on_event=on_event
        )
    shards: list[list[Binding]] = [[] for _ in range(processes)]
    for binding in bindings:
        shards[shard_of(binding, processes)].append(binding)
    share = rate / processes if rate else None
    jobs = [(group, broker, seed, share, duration, i, scene) for i, group in enumerate(shards) if group]
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(jobs))
    with context.Pool(len(jobs), initializer=_join, initargs=(barrier,)) as pool:
        reports = pool.map(_shard_run, jobs)
    return SimulateReport(
        messages=sum(r.messages for r in reports),
        seconds=max(r.seconds for r in reports),
        speed=max(r.speed for r in reports),
        natural_rate=sum(r.natural_rate for r in reports),
        events=(),
        started_at=min(r.started_at for r in reports),
        unconfirmed=sum(r.unconfirmed for r in reports),
    )
