"""A scenario beside a running simulator, through a real Mosquitto: one publisher per device, nothing left behind.

The running simulator carries the scenario out (its devices' values win while it runs, and its
end restores normal life); the scenario's process publishes no device, so its stop marks nothing
offline, and the broker retains in the end what one simulator alone leaves.
"""

from __future__ import annotations

import threading
import time

import orjson
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from realtime.message import ReceiveMessage
from realtime.mqtt import BrokerSettings
from realtime.simulator import SimulateReport, Simulation, run_simulation
from realtime.simulator.coexist import LOGS, PLANS, RUNS, Coordinator, plan_message
from realtime.simulator.publish import shard_of
from realtime.simulator.scenarios import scenario_plan
from realtime.simulator.transport import SimTransport
from tests.conftest import BrokerInfo
from tests.scenes.listener import Listener
from tests.scenes.test_generate import Small
from twin.scenes import Binding, read_bindings

RATE = 10.0
"""About 19 times the small scene's natural traffic: the fire's first minutes pass in a few seconds."""
DEVICES = [("zigbee2mqtt/#", 1), ("tele/#", 1), ("stat/#", 1), ("gw/#", 1)]
SCENE = "small"


def settings(broker: BrokerInfo, client_id: str) -> BrokerSettings:
    return BrokerSettings(broker.host, broker.port, **broker.simulator, client_id=client_id)


def retained(broker: BrokerInfo, topics: set[str] | None) -> dict[str, bytes]:
    """Return what the broker retains on the device and ``sim/`` topics (only ``topics`` of the devices' if given)."""
    got: dict[str, bytes] = {}
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"retained-{time.monotonic_ns()}")
    client.username_pw_set(broker.username, broker.password)
    client.on_message = lambda c, u, m: got.__setitem__(m.topic, bytes(m.payload)) if m.retain else None
    client.on_connect = lambda c, *a: c.subscribe([*DEVICES, ("sim/#", 1)])
    client.connect(broker.host, broker.port)
    client.loop_start()
    time.sleep(1.5)
    client.loop_stop()
    client.disconnect()
    return {t: p for t, p in got.items() if t.startswith("sim/") or topics is None or t in topics}


def in_thread(work: list[SimulateReport], *args: object, **kwargs: object) -> threading.Thread:
    thread = threading.Thread(target=lambda: work.append(run_simulation(*args, **kwargs)))  # type: ignore[arg-type]
    thread.start()
    return thread


def wait_for(done: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not done():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def availability_topics(bindings: list[Binding]) -> set[str]:
    """Return the retained availability topics of the scene: what its simulator says 'online' on."""
    return {m.topic for m in Simulation(bindings, seed=0).start_messages()}


def test_a_scenario_beside_a_running_simulator_is_carried_out_by_it_and_leaves_the_state_one_leaves(
    small: Small, mqtt_broker: BrokerInfo
) -> None:
    scene, _, _ = small
    assert scene.bindings_file is not None
    bindings = read_bindings(scene.bindings_file)
    availability = availability_topics(bindings)
    alone: list[SimulateReport] = []
    in_thread(
        alone, bindings, settings(mqtt_broker, "coexist-alone"), seed=2, rate=RATE, duration=3.0, scene=SCENE
    ).join()
    one = retained(mqtt_broker, availability)
    assert set(one) == availability and not [t for t in one if t.startswith("sim/")]

    listener = Listener(mqtt_broker, "coexist-listener", [*DEVICES, ("sim/#", 1)])
    base: list[SimulateReport] = []
    try:
        assert listener.wait_subscribed(10)
        thread = in_thread(base, bindings, settings(mqtt_broker, "coexist-base"), seed=2, rate=RATE, duration=16.0,
                           scene=SCENE)  # fmt: skip
        wait_for(lambda: any(t.startswith(RUNS) and p for t, p in listener.messages()), 15, "no simulator said it runs")
        events: list[str] = []
        report = run_simulation(bindings, settings(mqtt_broker, "coexist-fire"), seed=5, scenario="fire", duration=6.0,
                                scene=SCENE, on_event=events.append)  # fmt: skip
        during = retained(mqtt_broker, availability)
        thread.join()
    finally:
        listener.close()
    heard = listener.messages()

    # The scenario was the running simulator's to carry out; its own process published no device.
    [(run, _)] = {(t.removeprefix(RUNS), p) for t, p in heard if t.startswith(RUNS) and p}
    assert report.handed_to == (run,) and report.messages == 0 and report.unconfirmed == 0
    first = next(what for what in report.events if what.startswith("smoke in "))
    detector = first.split()[2]
    assert events[0].startswith("fire: handed to") and first in events

    # The scenario's values win while it runs: from its first alarm its detector never says all clear
    # until the scenario stops, and then it does, while the running simulator goes on.
    stopped = next(i for i, (t, p) in enumerate(heard) if t.startswith(PLANS) and not p)
    said = [(i, orjson.loads(p)["smoke"]) for i, (t, p) in enumerate(heard) if t == f"zigbee2mqtt/{detector}"]
    raised = next(i for i, smoke in said if smoke)
    assert raised < stopped and all(smoke for i, smoke in said if raised <= i < stopped)
    assert [smoke for i, smoke in said if i > stopped][:1] == [False]

    # Nothing went offline while the running simulator ran, and the scenario left nothing retained.
    assert {during[t] for t in availability} <= {b"online", b"Online", b'{"state":"online"}'}
    assert set(during) - availability == {RUNS + run}
    assert retained(mqtt_broker, availability) == one


def test_a_plan_handed_to_a_simulator_split_in_shards_leaves_each_device_as_one_simulator_does(small: Small) -> None:
    scene, _, _ = small
    assert scene.bindings_file is not None
    bindings = read_bindings(scene.bindings_file)
    shards = [[b for b in bindings if shard_of(b, 3) == i] for i in range(3)]
    runs = [Simulation(group, seed=2, t0=0.0, epoch0=time.time()) for group in [bindings, *shards]]
    plan = scenario_plan("fire", runs[0].devices, 2)
    for sim in runs:
        sim.advance(60.0)
        sim.start_plan(plan, 60.0, "other")
        sim.advance(900.0)
        sim.end_plan("other", 900.0)
        sim.advance(1200.0)
    one, parts = runs[0], runs[1:]
    assert plan.tags and len({i for i, group in enumerate(shards) if plan.tags & {b.tag for b in group}}) > 1
    for tag in plan.tags:
        [shard] = [sim for sim in parts if tag in sim.devices]
        assert shard.devices[tag].state == one.devices[tag].state, tag
    assert {step.what for sim in parts for _, step in sim.applied} == {step.what for _, step in one.applied}


def test_the_running_simulator_takes_only_readable_plans_of_its_own_scene(
    small: Small, mqtt_broker: BrokerInfo
) -> None:
    scene, _, _ = small
    assert scene.bindings_file is not None
    sim = Simulation(read_bindings(scene.bindings_file), seed=2, t0=0.0, epoch0=time.time())
    coordinator = Coordinator(sim, "me", SCENE, SimTransport(settings(mqtt_broker, "coexist-unconnected")))
    plan = scenario_plan("elevator", sim.devices, 2)
    for message in (plan_message("a", "another scene", plan), plan_message("b", SCENE, plan)):
        coordinator.deliver(ReceiveMessage(message.topic, message.payload, 1, True, 0.0), None)
    coordinator.deliver(ReceiveMessage(PLANS + "c", b'{"scene": "small", "steps": [{}]}', 1, True, 0.0), None)
    assert coordinator.tick(0.0) == [] and set(sim.plans) == {"b"} and len(coordinator.refused) == 1
    sim.advance(20.0)
    [log] = coordinator.tick(20.0)
    assert log.topic == LOGS + "b" and orjson.loads(log.payload)["what"] == plan.steps[0].what
    coordinator.deliver(ReceiveMessage(PLANS + "b", b"", 1, True, 0.0), None)
    [ended] = coordinator.tick(30.0)
    assert sim.plans == {} and orjson.loads(ended.payload)["what"] == plan.end[0].what


def test_a_gateway_taken_offline_beside_a_running_simulator_is_back_online_when_the_scenario_stops(
    small: Small, mqtt_broker: BrokerInfo
) -> None:
    scene, _, _ = small
    assert scene.bindings_file is not None
    bindings = read_bindings(scene.bindings_file)
    listener = Listener(mqtt_broker, "coexist-gw-listener", [("gw/+/status", 1), ("sim/#", 1)])
    base: list[SimulateReport] = []
    try:
        assert listener.wait_subscribed(10)
        thread = in_thread(base, bindings, settings(mqtt_broker, "coexist-gw-base"), seed=2, rate=RATE, duration=12.0,
                           scene=SCENE)  # fmt: skip
        wait_for(lambda: any(t.startswith(RUNS) and p for t, p in listener.messages()), 15, "no simulator said it runs")
        report = run_simulation(bindings, settings(mqtt_broker, "coexist-gw"), seed=5, scenario="gateway_offline",
                                duration=5.0, scene=SCENE)  # fmt: skip
        during = retained(mqtt_broker, availability_topics(bindings))
        thread.join()
    finally:
        listener.close()
    [down] = [what for what in report.events if "goes offline" in what]
    gateway = down.split()[0]
    heard = listener.messages()
    since = next(i for i, (t, p) in enumerate(heard) if t.startswith(RUNS) and p)  # what earlier runs retained before
    said = [p for t, p in heard[since:] if t == f"gw/{gateway}/status"]
    # The start's 'online' (on the gateway's own connection) may overtake the presence; then the scenario,
    # its end, and the running simulator's clean stop.
    assert said[-3:] == [b"offline", b"online", b"offline"] and said[:-3] in ([], [b"online"])
    assert during[f"gw/{gateway}/status"] == b"online" and any(f"{gateway} is back online" == e for e in report.events)
