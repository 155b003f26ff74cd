"""The simulator's messages decode, through the scene's profiles, into bound identities only."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from realtime.decode import Decoder
from realtime.message import ReceiveMessage
from realtime.mqtt import BrokerSettings
from realtime.profiles import load_profiles
from realtime.simulator import SimMessage, Simulation, run_simulation
from realtime.simulator.audit import Audit
from tests.conftest import BrokerInfo
from tests.scenes.listener import Listener
from tests.scenes.test_generate import Small
from twin.scenes import Binding, read_bindings

ROOT = Path(__file__).resolve().parents[2]
PROFILES = load_profiles([ROOT / "scenes" / "profiles"])
NAMESPACES = {p.name: p.namespace for p in PROFILES}


def bound(bindings: list[Binding]) -> set[tuple[str, str]]:
    return {(NAMESPACES[b.profile], b.identity) for b in bindings}


def decode_all(
    messages: list[tuple[str, bytes]], bindings: list[Binding], now: float
) -> tuple[Counter[str], list[object]]:
    """Decode messages; return the quantities read and every reject or unknown identity."""
    decoder, known = Decoder(PROFILES), bound(bindings)
    quantities: Counter[str] = Counter()
    problems: list[object] = []
    for topic, payload in messages:
        result = decoder.decode(ReceiveMessage(topic, payload, 0, False, now))
        problems += [(r.reason, r.detail, r.topic) for r in result.rejects]
        for reading in result.readings:
            quantities[reading.quantity] += 1
            problems += [("unknown", i) for i in (reading.identity, reading.via) if i is not None and i not in known]
        problems += [("unknown", a.identity) for a in result.availability if a.identity not in known]
    return quantities, problems


def run(
    bindings: list[Binding], scenario: str | None, seed: int = 3, hours: float = 3.0
) -> tuple[Simulation, list[SimMessage]]:
    now = time.time()
    speed = 100.0
    sim = Simulation(
        bindings, seed=seed, t0=8 * 3600, epoch0=now - hours * 3600 / speed, speed=speed, scenario=scenario
    )
    return sim, [*sim.start_messages(), *sim.advance(8 * 3600 + hours * 3600), *sim.stop_messages()]


def test_every_message_decodes_to_a_bound_identity(small: Small) -> None:
    scene, _, _ = small
    assert scene.bindings_file is not None
    bindings = read_bindings(scene.bindings_file)
    for scenario in (None, "fire", "elevator", "leak", "gateway_offline"):
        _, messages = run(bindings, scenario)
        quantities, problems = decode_all([(m.topic, m.payload) for m in messages], bindings, time.time())
        assert problems == [], scenario
        if scenario is None:
            assert {"water_total", "gas_total", "energy", "smoke", "floor", "vibration", "pressure", "level"} <= set(
                quantities
            )


def test_the_audit_finds_unknown_devices_rejects_and_silent_ones(small: Small) -> None:
    scene, _, _ = small
    assert scene.bindings_file is not None
    bindings = read_bindings(scene.bindings_file)
    smoke = next(b for b in bindings if b.profile == "zigbee2mqtt" and b.kind.value == "smoke_detector")
    audit = Audit.of(bindings, PROFILES)
    now = time.time()
    audit.add(f"zigbee2mqtt/{smoke.identity}", b'{"smoke": false, "battery": 90}', now)
    assert audit.clean and audit.readings == 2 and smoke.tag in audit.heard and "GW-ZB" in audit.heard
    audit.add("zigbee2mqtt/SD-9-9-999", b'{"smoke": false}', now)
    audit.add(f"zigbee2mqtt/{smoke.identity}", b"not json", now)
    audit.add("tele/em_9_9_999/LWT", b"Online", now)
    assert audit.unknown == {("zigbee2mqtt", "SD-9-9-999"): 1, ("tasmota", "em_9_9_999"): 1}
    assert sum(audit.rejects.values()) == 1 and not audit.clean and len(audit.samples) == 3
    assert audit.silent(bindings) == sorted(b.tag for b in bindings if b.tag not in {smoke.tag, "GW-ZB"})


def test_a_seed_reproduces_the_run(small: Small) -> None:
    scene, _, _ = small
    assert scene.bindings_file is not None
    bindings = read_bindings(scene.bindings_file)
    now = time.time()
    first = Simulation(bindings, seed=5, t0=0.0, epoch0=now).advance(7200)
    again = Simulation(bindings, seed=5, t0=0.0, epoch0=now).advance(7200)
    other = Simulation(bindings, seed=6, t0=0.0, epoch0=now).advance(7200)
    assert first == again and first != other


def test_scenarios_change_what_devices_say(small: Small) -> None:
    scene, _, _ = small
    assert scene.bindings_file is not None
    bindings = read_bindings(scene.bindings_file)
    sim, messages = run(bindings, "fire", hours=0.2)
    alarms = [m for m in messages if b'"smoke":true' in m.payload or m.topic.endswith("/smoke") and m.payload == b"1"]
    assert len(alarms) >= 2 and any("fire pump starts" in what for _, what in sim.log)
    sim, messages = run(bindings, "gateway_offline", hours=1.0)
    gateway = next(b.tag for b in bindings if b.tag in sim.log[0][1])
    cut = sim.log[0][0]
    offline = [m for m in messages if m.topic == f"gw/{gateway}/status" and m.payload == b"offline"]
    assert len(offline) == 1
    behind = {b.tag for b in bindings if b.gateway == gateway}
    index = messages.index(offline[0])
    assert not any(m.source in behind | {gateway} for m in messages[index + 1 :])
    assert cut > 0
    sim, messages = run(bindings, "elevator", hours=2.0)
    lift = sim.log[0][1].split(":")[0]
    shakes = [float(m.payload) for m in messages if m.topic.endswith(f"{lift}/vibration")]
    assert max(shakes[-5:]) > 4.0 > max(shakes[:3])


def test_published_to_a_real_broker_every_message_decodes(small: Small, mqtt_broker: BrokerInfo) -> None:
    scene, _, _ = small
    assert scene.bindings_file is not None
    bindings = read_bindings(scene.bindings_file)
    listener = Listener(
        mqtt_broker, "scene-test-listener", [("zigbee2mqtt/#", 1), ("tele/#", 1), ("stat/#", 1), ("gw/#", 1)]
    )
    try:
        assert listener.wait_subscribed(10)
        report = run_simulation(
            bindings,
            BrokerSettings(mqtt_broker.host, mqtt_broker.port, **mqtt_broker.simulator, client_id="scene-test-sim"),
            seed=2,
            rate=200.0,
            duration=3.0,
        )
        listener.wait_for(report.messages, 10)
    finally:
        listener.close()
    assert report.messages > 100
    messages = listener.messages()
    assert len(messages) >= report.messages
    _, problems = decode_all(messages, bindings, time.time())
    assert problems == []
