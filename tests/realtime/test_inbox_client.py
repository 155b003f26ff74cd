"""The batched hand-off and the client over the in-memory transport."""

from __future__ import annotations

import asyncio
import threading

from realtime.inbox import Inbox
from realtime.memory import MemoryBroker, MemoryTransport
from realtime.message import ReceiveMessage
from realtime.mqtt import MqttClient


def test_messages_from_a_thread_arrive_in_few_batches_in_order() -> None:
    async def run() -> tuple[list[list[int]], int]:
        inbox: Inbox[int] = Inbox(capacity=100_000, max_batch=10_000)
        inbox.bind(asyncio.get_running_loop())

        def produce() -> None:
            for i in range(5000):
                inbox.put(i)

        producer = threading.Thread(target=produce)
        producer.start()
        batches: list[list[int]] = []
        async for batch in inbox.batches():
            batches.append(batch)
            if sum(map(len, batches)) == 5000:
                break
        producer.join()
        return batches, inbox.wakeups

    batches, wakeups = asyncio.run(run())
    assert [i for batch in batches for i in batch] == list(range(5000))
    assert wakeups <= len(batches) + 1
    assert len(batches) < 5000


def test_a_full_inbox_makes_the_producer_wait_instead_of_dropping() -> None:
    inbox: Inbox[int] = Inbox(capacity=3, max_batch=2)
    for i in range(3):
        assert inbox.put(i)
    assert inbox.put(99, timeout=0.05) is False
    assert len(inbox) == 3
    released = threading.Event()

    def producer() -> None:
        inbox.put(3)
        released.set()

    thread = threading.Thread(target=producer)
    thread.start()
    assert not released.wait(0.05)
    assert inbox.take() == [0, 1]
    thread.join(5)
    assert released.is_set()
    assert inbox.take() == [2, 3]


def test_closing_ends_the_batches_after_draining() -> None:
    async def run() -> list[list[int]]:
        inbox: Inbox[int] = Inbox()
        inbox.put(1)
        inbox.close()
        return [batch async for batch in inbox.batches()]

    assert asyncio.run(run()) == [[1]]


def test_client_subscribes_batches_and_acknowledges_after_each_batch() -> None:
    broker = MemoryBroker()

    async def run() -> tuple[list[list[ReceiveMessage]], MemoryTransport, list[int]]:
        transport = MemoryTransport(broker)
        client = MqttClient(transport, max_batch=2)
        await client.start()
        unsubscribe = client.subscribe("tele/+/SENSOR")
        again = client.subscribe("tele/+/SENSOR")
        for i in range(3):
            client.publish(f"tele/d{i}/SENSOR", f"{i}")
        client.publish("elsewhere", "x")
        seen: list[list[ReceiveMessage]] = []
        acked_when_asked: list[int] = []
        async for batch in client.batches():
            acked_when_asked.append(len(transport.acked))
            seen.append(batch)
            if sum(map(len, seen)) == 3:
                break
        unsubscribe()
        unsubscribe()
        assert transport.filters == {"tele/+/SENSOR"}
        again()
        assert transport.filters == set()
        assert await client.flush()
        await client.close()
        return seen, transport, acked_when_asked

    seen, transport, acked_when_asked = asyncio.run(run())
    assert [[m.payload for m in batch] for batch in seen] == [[b"0", b"1"], [b"2"]]
    # The first batch is acknowledged only when the second is asked for; the last one, never
    # handed back, stays unacknowledged and would come again from the broker.
    assert acked_when_asked == [0, 2]
    assert transport.acked == [1, 2]


def test_retained_messages_reach_a_new_subscriber() -> None:
    broker = MemoryBroker()

    async def run() -> list[ReceiveMessage]:
        publisher, subscriber = MqttClient(MemoryTransport(broker)), MqttClient(MemoryTransport(broker))
        await publisher.start()
        await subscriber.start()
        publisher.publish("tele/d/LWT", "Online", retain=True)
        subscriber.subscribe("tele/#")
        async for batch in subscriber.batches():
            return batch
        return []

    [retained] = asyncio.run(run())
    assert retained.retain and retained.payload == b"Online"
