"""The paho transport against a real Mosquitto: QoS 1, batching, persistent sessions, restarts."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Iterator
from typing import Any, Literal

import pytest

from realtime.message import ReceiveMessage
from realtime.mqtt import BrokerSettings, MqttClient, PahoTransport

_ids = itertools.count()
Protocol = Literal["3.1.1", "5"]


def settings_for(broker: Any, role: str, protocol: Protocol = "5") -> BrokerSettings:
    return BrokerSettings(
        broker.host,
        broker.port,
        **broker.login,
        client_id=f"test-{role}-{next(_ids)}",
        protocol=protocol,
        reconnect_min_s=1,
        reconnect_max_s=2,
    )


async def collect(
    client: MqttClient, expected: set[bytes], limit: float = 60.0, pause: float = 0.0
) -> list[list[ReceiveMessage]]:
    """Gather batches until every expected payload arrived (duplicates allowed: at least once).

    ``pause`` makes the consumer slow after each batch, as a loaded event loop is: what arrives
    meanwhile must come as one batch, not as one wake-up per message.
    """
    batches: list[list[ReceiveMessage]] = []
    missing = set(expected)

    async def run() -> None:
        async for batch in client.batches():
            batches.append(batch)
            missing.difference_update(m.payload for m in batch)
            if not missing:
                return
            await asyncio.sleep(pause)

    try:
        await asyncio.wait_for(run(), limit)
    except TimeoutError:
        pytest.fail(f"{len(missing)} of {len(expected)} messages never arrived, e.g. {sorted(missing)[:3]}")
    return batches


class Publisher:
    """A plain paho transport publishing from the test thread."""

    def __init__(self, broker: Any) -> None:
        self.transport = PahoTransport(settings_for(broker, "pub"))
        self.transport.start(lambda message, token: None)

    def send(self, topic: str, payloads: list[bytes]) -> None:
        for payload in payloads:
            self.transport.publish(topic, payload, 1, False)

    def close(self) -> None:
        assert self.transport.wait_published(60), "the broker never acknowledged every publication"
        self.transport.stop()


@pytest.fixture
def publisher(mqtt_broker: Any) -> Iterator[Publisher]:
    pub = Publisher(mqtt_broker)
    yield pub
    pub.transport.stop()


async def started(
    broker: Any, role: str, topic: str, protocol: Protocol = "5", client_id: str | None = None
) -> MqttClient:
    settings = settings_for(broker, role, protocol)
    if client_id is not None:
        settings = BrokerSettings(
            broker.host,
            broker.port,
            **broker.login,
            client_id=client_id,
            protocol=protocol,
            reconnect_min_s=1,
            reconnect_max_s=2,
        )
    client = MqttClient.connect(settings)
    await client.start()
    client.subscribe(topic)
    await wait_connected(client)
    return client


async def wait_connected(client: MqttClient) -> None:
    transport = client.transport
    assert isinstance(transport, PahoTransport)
    for _ in range(600):
        if transport.connected:
            await asyncio.sleep(0.2)  # let the SUBACK come back before anyone publishes
            return
        await asyncio.sleep(0.05)
    pytest.fail("the client never connected to the test broker")


@pytest.mark.parametrize("protocol", ["3.1.1", "5"])
def test_qos1_round_trip(mqtt_broker: Any, publisher: Publisher, protocol: Protocol) -> None:
    async def run() -> list[list[ReceiveMessage]]:
        client = await started(mqtt_broker, "rt", f"rt/{protocol}/+", protocol)
        publisher.send(f"rt/{protocol}/a", [b'{"temperature": 21.5}'])
        try:
            return await collect(client, {b'{"temperature": 21.5}'})
        finally:
            await client.close()

    [[message]] = asyncio.run(run())
    assert message.topic == f"rt/{protocol}/a" and message.qos == 1 and message.received_at > 0


def test_a_thousand_messages_arrive_in_far_fewer_batches(mqtt_broker: Any, publisher: Publisher) -> None:
    payloads = [f"{i}".encode() for i in range(1000)]

    async def run() -> list[list[ReceiveMessage]]:
        client = await started(mqtt_broker, "batch", "batch/#")
        # A burst that is all at the broker before the consumer looks: the situation batching is for.
        publisher.send("batch/x", payloads)
        await asyncio.to_thread(publisher.transport.wait_published, 60)
        try:
            return await collect(client, set(payloads), pause=0.02)
        finally:
            await client.close()

    batches = asyncio.run(run())
    received = [m.payload for batch in batches for m in batch]
    assert sorted(set(received)) == sorted(payloads)
    assert len(batches) < len(payloads) // 4, f"{len(batches)} batches for 1000 messages"


def test_a_subscriber_that_falls_behind_loses_nothing_past_mosquittos_default_queue(
    mqtt_broker: Any, publisher: Publisher
) -> None:
    """5,000 messages accepted by the broker while the consumer handles none: Mosquitto's default
    ``max_queued_messages 1000`` would drop all but about 2,000 of them (in flight plus queued) without
    a word; the twin's broker configuration queues them all."""
    payloads = [f"{i}".encode() for i in range(5000)]
    topic = f"behind/{next(_ids)}"

    async def run() -> list[list[ReceiveMessage]]:
        client = await started(mqtt_broker, "behind", topic)
        publisher.send(topic, payloads)
        try:
            assert await asyncio.to_thread(publisher.transport.wait_published, 60)
            return await collect(client, set(payloads), limit=90)
        finally:
            await client.close()

    batches = asyncio.run(run())
    assert {m.payload for batch in batches for m in batch} == set(payloads)


@pytest.mark.parametrize("protocol", ["3.1.1", "5"])
def test_persistent_session_keeps_what_was_published_while_away(
    mqtt_broker: Any, publisher: Publisher, protocol: Protocol
) -> None:
    client_id = f"test-persistent-{protocol}-{next(_ids)}"
    topic = f"away/{protocol}/{client_id}"
    payloads = [f"{i}".encode() for i in range(500)]

    async def first_visit() -> None:
        client = await started(mqtt_broker, "p", topic, protocol, client_id)
        await client.close()

    async def second_visit() -> list[list[ReceiveMessage]]:
        client = MqttClient.connect(
            BrokerSettings(
                mqtt_broker.host, mqtt_broker.port, **mqtt_broker.login, client_id=client_id, protocol=protocol
            )
        )
        await client.start()  # no subscribe: the broker kept the session's subscription
        try:
            return await collect(client, set(payloads))
        finally:
            await client.close()

    asyncio.run(first_visit())
    publisher.send(topic, payloads)
    publisher.close()
    batches = asyncio.run(second_visit())
    assert {m.payload for batch in batches for m in batch} == set(payloads)


def test_no_qos1_message_lost_when_the_broker_restarts_mid_stream(mqtt_broker: Any, publisher: Publisher) -> None:
    payloads = [f"{i}".encode() for i in range(2000)]
    topic = f"restart/{next(_ids)}"

    def publish_slowly() -> None:
        for start in range(0, len(payloads), 50):
            publisher.send(topic, payloads[start : start + 50])
            time.sleep(0.01)

    def restart_broker() -> None:
        time.sleep(0.3)
        mqtt_broker.broker.stop()  # SIGTERM: Mosquitto saves the sessions and their queues
        time.sleep(1.0)
        mqtt_broker.broker.start()

    async def run() -> tuple[list[list[ReceiveMessage]], int]:
        client = await started(mqtt_broker, "restart", topic)
        threads = [threading.Thread(target=publish_slowly), threading.Thread(target=restart_broker)]
        for thread in threads:
            thread.start()
        try:
            batches = await collect(client, set(payloads), limit=90)
        finally:
            for thread in threads:
                thread.join()
            connects = client.transport.connects  # type: ignore[attr-defined]
            await client.close()
        return batches, connects

    batches, connects = asyncio.run(run())
    assert {m.payload for batch in batches for m in batch} == set(payloads)
    assert connects >= 2, "the subscriber never reconnected: the broker restart did not happen mid-stream"


def test_shared_subscription_splits_the_stream(mqtt_broker: Any, publisher: Publisher) -> None:
    payloads = [f"{i}".encode() for i in range(200)]
    topic = f"shared/{next(_ids)}"

    async def run() -> tuple[list[bytes], list[bytes]]:
        clients = []
        for role in ("a", "b"):
            settings = BrokerSettings(
                mqtt_broker.host,
                mqtt_broker.port,
                **mqtt_broker.login,
                client_id=f"test-share-{role}-{next(_ids)}",
                shared_group="ingest",
            )
            client = MqttClient.connect(settings)
            await client.start()
            client.subscribe(topic)
            await wait_connected(client)
            clients.append(client)
        publisher.send(topic, payloads)
        got: list[list[bytes]] = [[], []]

        async def drain(index: int) -> None:
            async for batch in clients[index].batches():
                got[index].extend(m.payload for m in batch)

        tasks = [asyncio.create_task(drain(i)) for i in (0, 1)]
        for _ in range(600):
            if len(set(got[0]) | set(got[1])) == len(payloads):
                break
            await asyncio.sleep(0.05)
        for client in clients:
            await client.close()
        await asyncio.gather(*tasks)
        return got[0], got[1]

    a, b = asyncio.run(run())
    assert set(a) | set(b) == set(payloads)
    assert a and b, "one instance received nothing: the subscription was not shared"
