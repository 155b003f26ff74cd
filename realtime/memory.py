"""An in-process broker and transport, for unit tests of everything above the wire.

It routes by MQTT filter rules (``+``, ``#``, ``$share/…``) and delivers synchronously on the
publishing thread, and it records acknowledgements, so a test can check that a consumer
acknowledges what it handled — without sockets, threads or timing.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Hashable

from realtime.message import ReceiveMessage
from realtime.mqtt import Deliver
from realtime.topic import filter_matches


class MemoryBroker:
    """Routes published messages to the memory transports subscribed to them."""

    def __init__(self) -> None:
        """Start with no clients and no retained messages."""
        self.transports: list[MemoryTransport] = []
        self.retained: dict[str, bytes] = {}

    def route(self, topic: str, payload: bytes, qos: int, retain: bool) -> None:
        """Deliver to every matching subscriber, keeping the retained message per topic."""
        if retain:
            if payload:
                self.retained[topic] = payload
            else:
                self.retained.pop(topic, None)
        for transport in list(self.transports):
            if any(filter_matches(f, topic) for f in transport.filters):
                transport.receive(topic, payload, qos, False)


class MemoryTransport:
    """A BrokerTransport over a MemoryBroker."""

    def __init__(self, broker: MemoryBroker) -> None:
        """Attach to ``broker``; nothing is received before ``start``."""
        self.broker = broker
        self.filters: set[str] = set()
        self.acked: list[Hashable] = []
        self._deliver: Deliver | None = None
        self._ids = itertools.count(1)

    def start(self, deliver: Deliver) -> None:
        """Join the broker."""
        self._deliver = deliver
        self.broker.transports.append(self)

    def stop(self) -> None:
        """Leave the broker."""
        if self in self.broker.transports:
            self.broker.transports.remove(self)

    def subscribe(self, topic_filter: str) -> None:
        """Subscribe, receiving the retained messages that match, as a broker does."""
        self.filters.add(topic_filter)
        for topic, payload in list(self.broker.retained.items()):
            if filter_matches(topic_filter, topic):
                self.receive(topic, payload, 1, True)

    def unsubscribe(self, topic_filter: str) -> None:
        """Unsubscribe."""
        self.filters.discard(topic_filter)

    def publish(self, topic: str, payload: bytes, qos: int, retain: bool) -> None:
        """Route through the broker at once."""
        self.broker.route(topic, payload, qos, retain)

    def receive(self, topic: str, payload: bytes, qos: int, retain: bool) -> None:
        """Hand one message to the client, with a token when it must be acknowledged."""
        if self._deliver is None:
            return
        token = next(self._ids) if qos > 0 else None
        self._deliver(ReceiveMessage(topic, payload, qos, retain, time.time()), token)

    def ack(self, tokens: list[Hashable]) -> None:
        """Record the acknowledgements."""
        self.acked.extend(tokens)

    def wait_published(self, timeout: float) -> bool:
        """Return at once: routing is synchronous."""
        return True
