"""The simulator's connections on a real broker: readings framed by hand arrive as sent, and a clean
stop leaves every retained 'offline' there, none lost."""

from __future__ import annotations

import threading
import time
from typing import Literal

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from realtime.mqtt import BrokerSettings
from realtime.simulator import Simulation, run_simulation
from realtime.simulator.transport import SimTransport
from tests.conftest import BrokerInfo
from tests.scenes.listener import Listener
from tests.scenes.test_generate import Small
from twin.scenes import read_bindings


def retained(broker: BrokerInfo, topic_filter: str, expected: int, timeout: float = 20.0) -> dict[str, bytes]:
    """Subscribe afresh and return the retained payload of every topic under ``topic_filter``."""
    found: dict[str, bytes] = {}
    lock = threading.Lock()
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"retained-{time.monotonic_ns()}")

    def on_message(client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        if message.retain:
            with lock:
                found[message.topic] = bytes(message.payload)

    client.on_message = on_message
    client.on_connect = lambda c, *args: c.subscribe(topic_filter, qos=1)
    client.username_pw_set(broker.username, broker.password)
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        deadline, last, since = time.monotonic() + timeout, -1, time.monotonic()
        while time.monotonic() < deadline:
            with lock:
                count = len(found)
            if count != last:
                last, since = count, time.monotonic()
            elif count >= expected and time.monotonic() - since > 0.5:
                break
            time.sleep(0.05)
    finally:
        client.loop_stop()
        client.disconnect()
    with lock:
        return dict(found)


def clear(broker: BrokerInfo, topics: list[str]) -> None:
    """Delete the retained messages of ``topics`` (an empty retained payload), so a run must set them anew."""
    transport = SimTransport(
        BrokerSettings(broker.host, broker.port, **broker.login, client_id="clear-retained", session_expiry_s=0)
    )
    transport.start(lambda message, token: None)
    try:
        assert transport.wait_connected(10)
        for topic in topics:
            transport.publish(topic, b"", 1, True)
        assert transport.wait_published(20)
    finally:
        transport.stop()


def test_retained_messages_after_a_flood_of_readings_all_reach_the_broker(mqtt_broker: BrokerInfo) -> None:
    """3,000 retained messages after 70,000 readings all arrive before the connection closes.

    The shared paho transport the simulator used took the ids of long-gone readings (paho draws
    ids for QoS 0 messages too, and they wrap at 65,535) for acknowledgements, stopped at once and
    lost what paho still queued behind its inflight window: 8 of these 3,000 arrived.
    """
    transport = SimTransport(
        BrokerSettings(mqtt_broker.host, mqtt_broker.port, **mqtt_broker.login, client_id="flood", session_expiry_s=0)
    )
    transport.start(lambda message, token: None)
    try:
        assert transport.wait_connected(10)
        for n in range(70_000):
            transport.publish(f"flood/reading/{n % 100}", b"1", 0, False)
        for n in range(3_000):
            transport.publish(f"flood/offline/{n}", b"Offline", 1, True)
        assert transport.wait_published(30)
        assert transport.pending() == 0
    finally:
        transport.stop()
    found = retained(mqtt_broker, "flood/offline/#", 3_000)
    assert len(found) == 3_000 and set(found.values()) == {b"Offline"}


@pytest.mark.parametrize("processes", [1, 2])
def test_a_clean_stop_leaves_every_device_offline_on_the_broker(
    small: Small, mqtt_broker: BrokerInfo, processes: int
) -> None:
    scene, _, _ = small
    assert scene.bindings_file is not None
    bindings = read_bindings(scene.bindings_file)
    stops = Simulation(bindings, seed=4).stop_messages()
    assert len(stops) > 20
    clear(mqtt_broker, [m.topic for m in stops])
    settings = BrokerSettings(
        mqtt_broker.host, mqtt_broker.port, **mqtt_broker.login, client_id=f"stop-test-{processes}"
    )
    report = run_simulation(bindings, settings, seed=4, rate=300.0, duration=2.0, processes=processes)
    assert report.messages > 100 and report.unconfirmed == 0
    found: dict[str, bytes] = {}
    for prefix in ("zigbee2mqtt/", "tele/", "gw/"):
        expected = sum(1 for m in stops if m.topic.startswith(prefix))
        found |= retained(mqtt_broker, f"{prefix}#", expected)
    assert {m.topic: m.payload for m in stops} == {m.topic: found.get(m.topic) for m in stops}


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_readings_framed_by_hand_arrive_as_sent(mqtt_broker: BrokerInfo, protocol: Literal["5", "3.1.1"]) -> None:
    sent = [(f"frame{protocol}/{n}/" + "x" * (n * 7), bytes(range(256)) * n, n % 3 == 0) for n in range(1, 60)]
    listener = Listener(mqtt_broker, f"frame-listener-{protocol}", [(f"frame{protocol}/#", 0)])
    settings = BrokerSettings(
        mqtt_broker.host,
        mqtt_broker.port,
        **mqtt_broker.login,
        client_id=f"frame-{protocol}",
        protocol=protocol,
        session_expiry_s=0,
    )
    transport = SimTransport(settings)
    try:
        assert listener.wait_subscribed(10)
        transport.start(lambda message, token: None)
        assert transport.wait_connected(10)
        for topic, payload, retain in sent:
            transport.publish(topic, payload, 0, retain)
        assert transport.flush(10)
        listener.wait_for(len(sent), 10)
    finally:
        transport.stop()
        listener.close()
    assert listener.messages() == [(topic, payload) for topic, payload, _ in sent]
    assert transport.unsent == 0
    clear(mqtt_broker, [topic for topic, _, retain in sent if retain])
