"""Simulators sharing a broker: one publishes the scene, a scenario started beside it hands over its plan.

Two simulators publishing the same devices contradict each other (the running one's hourly
``smoke: false`` cleared the scenario's fire after 41 s) and the second one's clean stop said
'offline' for every gateway and Tasmota the first still ran. So exactly one simulator publishes a
device. A simulator publishing a scene says so with a retained ``sim/run/<run>`` (its last will
clears it). ``twin simulate --scenario`` looks there first: when a simulator of the same scene
runs, it publishes nothing of the scene itself and hands its :class:`~realtime.simulator.scenarios.Plan`
over as a retained ``sim/scenario/<run>``. The running simulator applies the plan's steps to its
own devices, whose state carries on (a meter's total, a lift's floor), and tells what happened on
``sim/log/<run>``; when the scenario process stops, or dies and its last will clears the plan, the
running simulator ends the incident with the plan's end steps, so normal life (and every alarm's
clearing) returns. The scenario process owns only its ``sim/`` topics and leaves nothing retained.
With no simulator running, the scenario publishes the whole scene itself, as before.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace

import orjson

from realtime.message import ReceiveMessage
from realtime.mqtt import BrokerSettings
from realtime.simulator.devices import sim_devices
from realtime.simulator.engine import Simulation
from realtime.simulator.scenarios import Plan, Step, scenario_plan
from realtime.simulator.styles import SimMessage
from realtime.simulator.transport import SimTransport
from twin.scenes.model import Binding

OWN = "sim/"
"""The simulators' own topics: no profile names them, so the ingest never hears them."""
RUNS = OWN + "run/"
"""A running simulator's retained presence: ``sim/run/<run>`` → ``{"scene": name}``."""
PLANS = OWN + "scenario/"
"""A scenario handed over: ``sim/scenario/<run>`` → its plan; empty (or absent) when it ended."""
LOGS = OWN + "log/"
"""What the running simulator did of a handed-over plan: ``sim/log/<run>`` → ``{"what": …, "after": …}``."""
LISTEN_S = 1.0
"""How long a scenario listens, once subscribed, for the retained presence of a running simulator."""
CONNECT_S = 30.0
ENDED_S = 2.0
"""How long a stopping scenario waits for the running simulator to tell that it ended the incident."""


def presence(run: str, scene: str) -> SimMessage:
    """Return the retained message saying that ``run`` publishes ``scene``."""
    return SimMessage(RUNS + run, orjson.dumps({"scene": scene}), True, 1)


def cleared(topic: str) -> SimMessage:
    """Return the empty retained message that deletes what ``topic`` retained (a presence, a plan)."""
    return SimMessage(topic, b"", True, 1)


def plan_message(run: str, scene: str, plan: Plan) -> SimMessage:
    """Return the retained message handing ``plan`` over to the simulator publishing ``scene``."""
    body = {
        "scene": scene,
        "name": plan.name,
        "steps": [s.as_json() for s in plan.steps],
        "end": [s.as_json() for s in plan.end],
    }
    return SimMessage(PLANS + run, orjson.dumps(body), True, 1)


def read_plan(payload: bytes) -> tuple[str, Plan]:
    """Return the scene and plan of a handed-over plan; ValueError when it is not one."""
    try:
        body = orjson.loads(payload)
        steps = tuple(Step.of(s) for s in body["steps"])
        end = tuple(Step.of(s) for s in body["end"])
        return str(body["scene"]), Plan(str(body["name"]), steps, end)
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not a scenario plan: {exc}") from None


@dataclass
class Coordinator:
    """The publishing simulator's side: take the plans handed to it and tell their owners what happened."""

    sim: Simulation
    run: str
    scene: str
    transport: SimTransport
    _inbox: list[tuple[str, bytes]] = field(default_factory=list)
    _told: int = 0
    refused: list[str] = field(default_factory=list)
    """Plans that could not be read, for the log: a simulator keeps running past a bad message."""

    def __post_init__(self) -> None:
        """Listen for plans (the transport subscribes on every connection)."""
        self.transport.subscribe(PLANS + "+")

    def deliver(self, message: ReceiveMessage, token: Hashable | None) -> None:
        """Keep a plan message for the next tick (called by paho inside the transport's pump)."""
        if message.topic.startswith(PLANS):
            self._inbox.append((message.topic.removeprefix(PLANS), message.payload))
        if token is not None:
            self.transport.ack([token])

    def start_messages(self) -> list[SimMessage]:
        """Return the presence to publish once connected."""
        return [presence(self.run, self.scene)]

    def stop_messages(self) -> list[SimMessage]:
        """Return what a clean stop publishes: the presence deleted."""
        return [cleared(RUNS + self.run)]

    def tick(self, t: float) -> list[SimMessage]:
        """Start or end the plans heard since the last tick at simulated time ``t``; return the log to publish."""
        inbox, self._inbox = self._inbox, []
        for owner, payload in inbox:
            if owner == self.run:
                continue
            if not payload:
                self.sim.end_plan(owner, t)
                continue
            try:
                scene, plan = read_plan(payload)
            except ValueError as exc:
                self.refused.append(f"{owner}: {exc}")
                continue
            if scene == self.scene:
                self.sim.start_plan(plan, t, owner)
        told, self._told = self.sim.applied[self._told :], len(self.sim.applied)
        return [
            SimMessage(LOGS + owner, orjson.dumps({"what": step.what, "after": step.after}), False, 1)
            for owner, step in told
            if owner
        ]


@dataclass
class _Listener:
    """The scenario process's side: who runs, and what the running simulator did of its plan."""

    run: str
    scene: str
    transport: SimTransport
    runs: dict[str, str] = field(default_factory=dict)
    told: list[str] = field(default_factory=list)
    _seen: set[tuple[str, float]] = field(default_factory=set)

    def deliver(self, message: ReceiveMessage, token: Hashable | None) -> None:
        """Note a presence (or its deletion) and the log of what was done (shards may tell a step twice)."""
        topic, payload = message.topic, message.payload
        if topic.startswith(RUNS):
            run = topic.removeprefix(RUNS)
            scene = _scene_of(payload)
            if scene is None:
                self.runs.pop(run, None)
            else:
                self.runs[run] = scene
        elif topic == LOGS + self.run:
            body = orjson.loads(payload)
            key = (str(body["what"]), float(body["after"]))
            if key not in self._seen:
                self._seen.add(key)
                self.told.append(key[0])
        if token is not None:
            self.transport.ack([token])

    def publishing(self) -> list[str]:
        """Return the runs publishing this scene, other than this one."""
        return sorted(run for run, scene in self.runs.items() if scene == self.scene and run != self.run)


def _scene_of(payload: bytes) -> str | None:
    if not payload:
        return None
    try:
        return str(orjson.loads(payload)["scene"])
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None


@dataclass(frozen=True, slots=True)
class HandOver:
    """What a scenario handed to a running simulator did: to whom, for how long, and what happened."""

    to: tuple[str, ...]
    seconds: float
    events: tuple[str, ...]
    unconfirmed: int


def hand_over(
    bindings: list[Binding],
    broker: BrokerSettings,
    *,
    scene: str,
    seed: int,
    scenario: str,
    duration: float | None,
    on_event: Callable[[str], None] | None = None,
) -> HandOver | None:
    """Run a scenario through the simulator already publishing ``scene``; None when no simulator does.

    Until ``duration`` seconds or Ctrl-C: the plan stays retained and what the running simulator did
    is told through ``on_event``. On stop the plan is deleted (by its last will if this process dies).
    """
    run = f"{broker.client_id}-{os.getpid()}-scenario"
    settings = replace(broker, session_expiry_s=0, client_id=run)
    transport = SimTransport(settings, will=cleared(PLANS + run))
    listener = _Listener(run, scene, transport)
    transport.subscribe(RUNS + "+")
    transport.subscribe(LOGS + run)
    transport.start(listener.deliver)
    try:
        if not transport.wait_connected(CONNECT_S):
            raise ConnectionError(f"the broker at {broker.host}:{broker.port} took no connection in {CONNECT_S:.0f} s")
        _pump_until(transport, lambda: transport.subscribed >= 2, CONNECT_S)
        _pump_until(transport, lambda: False, LISTEN_S)
        runs = listener.publishing()
        if not runs:
            return None
        plan = scenario_plan(scenario, {d.tag: d for d in sim_devices(bindings, seed)}, seed)
        message = plan_message(run, scene, plan)
        transport.publish(message.topic, message.payload, message.qos, message.retain)
        if on_event is not None:
            on_event(f"{scenario}: handed to the simulator already publishing {scene} ({', '.join(runs)})")
        started, shown = time.monotonic(), 0
        try:
            while duration is None or time.monotonic() - started < duration:
                transport.pump()
                for what in listener.told[shown:]:
                    if on_event is not None:
                        on_event(what)
                shown = len(listener.told)
                time.sleep(0.02)
        except KeyboardInterrupt:
            pass
        seconds = time.monotonic() - started
        end = cleared(PLANS + run)
        transport.publish(end.topic, end.payload, end.qos, end.retain)
        ended = len(listener.told) + sum(1 for step in plan.end if step.tags)
        _pump_until(transport, lambda: len(listener.told) >= ended, ENDED_S)
        for what in listener.told[shown:]:
            if on_event is not None:
                on_event(what)
        transport.wait_published(CONNECT_S)
        unconfirmed = transport.pending() + transport.unsent
        return HandOver(tuple(runs), seconds, tuple(listener.told), unconfirmed)
    finally:
        transport.stop()


def _pump_until(transport: SimTransport, done: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        transport.pump()
        time.sleep(0.005)
