"""The demo's gateways as the simulator speaks for them, through the demo's profiles into the bindings of a loaded
scene: their own availability and everything relayed through them name the gateway device, and normal traffic
keeps every one of them online.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from realtime.bindings import BindingTable, load_bindings
from realtime.decode import Decoder, DecodeResult
from realtime.health import HealthTracker
from realtime.message import ReceiveMessage
from realtime.profiles import load_profiles
from realtime.simulator.engine import Simulation
from realtime.simulator.styles import LORA, ZIGBEE, SimMessage
from realtime.specs import Profile
from tests.alarms.scenes import write_scene
from tests.ingest.helpers import query
from tests.scenes.conftest import ROOT, load_into
from twin.catalogue import DeviceHealth, DeviceKind
from twin.scenes import Scene, read_bindings
from twin.store.engine import make_engine


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Scene:
    folder = tmp_path_factory.mktemp("gateways") / "gateways"
    folder.mkdir()
    return write_scene(folder)


@dataclass
class Loaded:
    """The small scene loaded as ``twin scene load`` does, the demo's profiles and the ingest's bindings."""

    scene: Scene
    profiles: list[Profile]
    decoder: Decoder
    table: BindingTable

    def decoded(self, message: SimMessage, received_at: float) -> DecodeResult:
        result = self.decoder.decode(ReceiveMessage(message.topic, message.payload, 1, True, received_at))
        assert not result.rejects, result.rejects
        return result


@pytest.fixture
def loaded(scene: Scene, db_url: str, tmp_path: Path) -> Loaded:
    load_into(scene, db_url, tmp_path)
    profiles = load_profiles([ROOT / "scenes" / "profiles"])
    engine = make_engine(db_url)
    try:
        table = load_bindings(engine, {p.namespace for p in profiles})
    finally:
        engine.dispose()
    return Loaded(scene, profiles, Decoder(profiles), table)


def test_the_demo_profiles_map_a_gateways_own_availability_and_what_it_relays_to_the_gateway(
    loaded: Loaded, db_url: str
) -> None:
    assert loaded.scene.bindings_file is not None
    table, profiles = loaded.table, loaded.profiles
    tags = dict(query(db_url, "SELECT id, tag FROM devices"))
    sim = Simulation(read_bindings(loaded.scene.bindings_file), seed=1, epoch0=time.time(), speed=3600.0)

    def decoded(message: SimMessage) -> DecodeResult:
        return loaded.decoded(message, time.time())

    # A gateway's 'online' on connecting and its last will name the gateway device.
    gateways = {d.tag for d in sim.devices.values() if d.kind is DeviceKind.GATEWAY}
    assert {sim.devices[tag].profile for tag in gateways} == {LORA, ZIGBEE}
    said = [m for m in sim.start_messages() if m.source in gateways] + [sim.stop_will(tag) for tag in gateways]
    for message in said:
        [availability] = decoded(message).availability
        device = table.by_identity[availability.identity]
        assert device.kind == "gateway" and tags[device.device_id] == message.source
    # An hour of everything its devices send through it names it as the way it came.
    namespace = {p.name: p.namespace for p in profiles}
    identity = {(namespace[d.profile], d.identity): d for d in sim.devices.values()}
    relayed = 0
    for message in sim.advance(3600.0):
        for reading in decoded(message).readings:
            gateway = identity[reading.identity].gateway
            if gateway is not None:
                own = sim.devices[gateway]
                assert reading.via is not None
                assert table.by_identity[reading.via] == table.by_identity[(namespace[own.profile], own.identity)]
                relayed += 1
    assert relayed > 100


def test_six_hours_of_the_simulators_normal_traffic_never_make_a_gateway_offline(loaded: Loaded) -> None:
    assert loaded.scene.bindings_file is not None
    table = loaded.table
    epoch0 = time.time() - 6 * 3600.0
    sim = Simulation(read_bindings(loaded.scene.bindings_file), seed=loaded.scene.simulator.seed, epoch0=epoch0)
    gateways = {d.device_id for d in table.devices.values() if d.kind == "gateway"}
    tracker, judged = HealthTracker(), []
    for message in sim.start_messages():
        for item in loaded.decoded(message, epoch0).availability:
            tracker.availability(table.by_identity[item.identity], item.online, datetime.fromtimestamp(epoch0, UTC))
    for second in range(10, 6 * 3600 + 1, 10):  # simulated time at its natural pace, ticked every 10 s
        now = datetime.fromtimestamp(epoch0 + second, UTC)
        for message in sim.advance(float(second)):
            for reading in loaded.decoded(message, epoch0 + second).readings:
                via = table.by_identity.get(reading.via) if reading.via is not None else None
                tracker.seen(table.by_identity[reading.identity], now, via)
        judged += [c.health for c in tracker.tick(now) if c.device.device_id in gateways]
    assert DeviceHealth.OFFLINE not in judged and DeviceHealth.UNREACHABLE not in judged
    assert {tracker.nodes[g].health for g in gateways} == {DeviceHealth.ONLINE}
