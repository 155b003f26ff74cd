"""The one home of paho-mqtt: a broker transport and the client the rest of the server uses.

Everything outside this module sees ``ReceiveMessage`` and ``MqttClient``; the transport behind
the client is swappable (the httpx habit): ``PahoTransport`` talks to a real broker,
``realtime.memory.MemoryTransport`` to an in-process one for unit tests.

Delivery is at least once. Messages are QoS 1 in a persistent session (MQTT 3.1.1
clean_session=False, MQTT 5 clean_start=False with a session expiry, a fixed client id), and
acknowledged manually: a batch is acknowledged when the consumer comes back for the next one,
that is after it has handled the batch. A server that dies in between gets the batch again from
the broker on restart instead of losing it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Hashable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from realtime.inbox import Inbox, InboxClosed
from realtime.message import ReceiveMessage

log = logging.getLogger(__name__)

Deliver = Callable[[ReceiveMessage, Hashable | None], None]
"""How a transport hands over a message and its ack token (None when there is nothing to ack)."""


class BrokerTransport(Protocol):
    """What the client needs from a connection to a broker."""

    def start(self, deliver: Deliver) -> None:
        """Connect in the background, keep reconnecting, and hand every message to ``deliver``."""

    def stop(self) -> None:
        """Disconnect cleanly and stop the background work."""

    def subscribe(self, topic_filter: str) -> None:
        """Subscribe at QoS 1, now and after every reconnect."""

    def unsubscribe(self, topic_filter: str) -> None:
        """Stop receiving ``topic_filter``."""

    def publish(self, topic: str, payload: bytes, qos: int, retain: bool) -> None:
        """Queue a message; QoS 1 messages survive a reconnect of this transport."""

    def ack(self, tokens: list[Hashable]) -> None:
        """Acknowledge delivered messages by their tokens."""

    def wait_published(self, timeout: float) -> bool:
        """Wait until every queued QoS 1 message is acknowledged by the broker."""


@dataclass(frozen=True, slots=True)
class TlsSettings:
    """TLS to the broker; a client certificate and key for mutual TLS."""

    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None


@dataclass(frozen=True, slots=True)
class BrokerSettings:
    """How to reach the broker and keep a session there."""

    host: str
    port: int = 1883
    client_id: str = "twin-ingest"
    """Fixed, so that the broker finds our persistent session after a restart."""
    protocol: Literal["3.1.1", "5"] = "5"
    keepalive: int = 30
    session_expiry_s: int = 7 * 24 * 3600
    username: str | None = None
    password: str | None = None
    tls: TlsSettings | None = None
    shared_group: str | None = None
    """Several instances with the same group split the stream (``$share/<group>/<filter>``)."""
    reconnect_min_s: int = 1
    reconnect_max_s: int = 30
    """Backoff between reconnect attempts doubles from the minimum up to the maximum."""
    receive_maximum: int = 1000
    """Unacknowledged messages the broker may send us at once (MQTT 5): bounds a batch."""
    publish_inflight: int = 1000
    """Our QoS 1 publications awaiting the broker's acknowledgement at once (paho's default is 20)."""


class PahoTransport:
    """A paho-mqtt 2.x client running its network loop in its own thread."""

    def __init__(self, settings: BrokerSettings) -> None:
        """Prepare the client; nothing connects until ``start``."""
        self.settings = settings
        v5 = settings.protocol == "5"
        self._client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=settings.client_id,
            clean_session=None if v5 else False,
            protocol=MQTTProtocolVersion.MQTTv5 if v5 else MQTTProtocolVersion.MQTTv311,
            reconnect_on_failure=True,
            manual_ack=True,
        )
        self._client.reconnect_delay_set(settings.reconnect_min_s, settings.reconnect_max_s)
        self._client.max_queued_messages_set(0)
        self._client.max_inflight_messages_set(settings.publish_inflight)
        if settings.username is not None:
            self._client.username_pw_set(settings.username, settings.password)
        if settings.tls is not None:
            tls = settings.tls
            self._client.tls_set(ca_certs=tls.ca_file, certfile=tls.cert_file, keyfile=tls.key_file)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_publish = self._on_publish
        self._lock = threading.Condition()
        self._filters: set[str] = set()
        self._connected = False
        self._generation = 0
        self._pending: set[int] = set()
        self._early: set[int] = set()
        self._deliver: Deliver | None = None
        self.connects = 0

    @property
    def connected(self) -> bool:
        """Tell whether the broker accepted our last connection and it is still up."""
        return self._connected

    def _shared(self, topic_filter: str) -> str:
        group = self.settings.shared_group
        return f"$share/{group}/{topic_filter}" if group else topic_filter

    def start(self, deliver: Deliver) -> None:
        """Connect in the background; paho retries with backoff until the broker answers."""
        self._deliver = deliver
        s = self.settings
        if s.protocol == "5":
            props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            props.SessionExpiryInterval = s.session_expiry_s
            props.ReceiveMaximum = s.receive_maximum
            self._client.connect_async(s.host, s.port, s.keepalive, clean_start=False, properties=props)
        else:
            self._client.connect_async(s.host, s.port, s.keepalive)
        self._client.loop_start()

    def stop(self) -> None:
        """Disconnect and join the network thread; the broker keeps our session."""
        self._client.disconnect()
        self._client.loop_stop()
        with self._lock:
            self._connected = False

    def _subscribe_now(self, topic_filter: str) -> None:
        if self.settings.protocol == "5":
            options = SubscribeOptions(qos=1, retainHandling=SubscribeOptions.RETAIN_SEND_IF_NEW_SUB)
            self._client.subscribe(self._shared(topic_filter), options=options)
        else:
            self._client.subscribe(self._shared(topic_filter), qos=1)

    def subscribe(self, topic_filter: str) -> None:
        """Subscribe now if connected; remember the filter for every reconnect."""
        with self._lock:
            self._filters.add(topic_filter)
            if self._connected:
                self._subscribe_now(topic_filter)

    def unsubscribe(self, topic_filter: str) -> None:
        """Forget the filter and unsubscribe if connected."""
        with self._lock:
            self._filters.discard(topic_filter)
            if self._connected:
                self._client.unsubscribe(self._shared(topic_filter))

    def publish(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False) -> None:
        """Queue a message in paho, which resends unacknowledged QoS 1 messages after a reconnect."""
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        if qos == 0:
            return
        with self._lock:
            if info.mid in self._early:
                self._early.discard(info.mid)
            else:
                self._pending.add(info.mid)

    def wait_published(self, timeout: float) -> bool:
        """Wait until the broker acknowledged every QoS 1 message we published."""
        with self._lock:
            return self._lock.wait_for(lambda: not self._pending, timeout)

    def ack(self, tokens: list[Hashable]) -> None:
        """Acknowledge messages received on the current connection; older ones come again anyway."""
        generation = self._generation
        for token in tokens:
            if isinstance(token, tuple) and token[0] == generation:
                self._client.ack(int(token[1]), 1)

    def _on_connect(
        self,
        client: paho.Client,
        userdata: Any,
        flags: paho.ConnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            log.warning(
                "broker %s:%s refused the connection: %s", self.settings.host, self.settings.port, reason
            )
            return
        with self._lock:
            self._generation += 1
            self._connected = True
            self.connects += 1
            # Resubscribe every time: a broker that lost our session (or a first start) needs it,
            # and MQTT 5's retain handling keeps a repeated subscription from resending retained messages.
            for topic_filter in sorted(self._filters):
                self._subscribe_now(topic_filter)
        log.info(
            "connected to %s:%s (session present: %s)",
            self.settings.host,
            self.settings.port,
            flags.session_present,
        )

    def _on_disconnect(
        self,
        client: paho.Client,
        userdata: Any,
        flags: paho.DisconnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        with self._lock:
            self._connected = False
        log.info("disconnected from %s:%s: %s", self.settings.host, self.settings.port, reason)

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        try:
            received = ReceiveMessage(
                message.topic, bytes(message.payload), message.qos, bool(message.retain), time.time()
            )
            token = (self._generation, message.mid) if message.qos > 0 else None
            assert self._deliver is not None
            self._deliver(received, token)
        except InboxClosed:
            pass  # shutting down: unacknowledged, so the broker sends it again next session
        except Exception:
            # An exception escaping a callback would stop paho's network thread for good.
            log.exception("dropping a message on %r that could not be handed over", message.mid)

    def _on_publish(
        self,
        client: paho.Client,
        userdata: Any,
        mid: int,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        with self._lock:
            if mid in self._pending:
                self._pending.discard(mid)
                if not self._pending:
                    self._lock.notify_all()
            else:
                self._early.add(mid)


@dataclass(slots=True)
class Delivery:
    """A batch of messages and the means to acknowledge them to the broker, once."""

    messages: list[ReceiveMessage]
    tokens: list[Hashable]
    _ack: Callable[[list[Hashable]], None]

    def ack(self) -> None:
        """Acknowledge every message of the batch; a second call does nothing."""
        if self.tokens:
            tokens, self.tokens = self.tokens, []
            self._ack(tokens)


class MqttClient:
    """Subscriptions, batched delivery to asyncio, and publishing, over any transport."""

    def __init__(self, transport: BrokerTransport, *, capacity: int = 10_000, max_batch: int = 1_000) -> None:
        """Wrap ``transport``; ``capacity`` bounds the messages waiting for the event loop."""
        self.transport = transport
        self.inbox: Inbox[tuple[ReceiveMessage, Hashable | None]] = Inbox(capacity, max_batch)
        self._filters: dict[str, int] = {}
        self._started = False

    @classmethod
    def connect(cls, settings: BrokerSettings, **options: Any) -> MqttClient:
        """Return a client over a paho transport for ``settings``."""
        return cls(PahoTransport(settings), **options)

    async def start(self) -> None:
        """Start receiving; call from the event loop that will consume the batches."""
        self.inbox.bind(asyncio.get_running_loop())
        self.transport.start(self._deliver)
        self._started = True

    def _deliver(self, message: ReceiveMessage, token: Hashable | None) -> None:
        self.inbox.put((message, token))

    def subscribe(self, topic_filter: str) -> Callable[[], None]:
        """Subscribe to ``topic_filter`` at QoS 1 and return the callable that unsubscribes."""
        count = self._filters.get(topic_filter, 0)
        self._filters[topic_filter] = count + 1
        if count == 0:
            self.transport.subscribe(topic_filter)
        done = False

        def unsubscribe() -> None:
            nonlocal done
            if done:
                return
            done = True
            left = self._filters[topic_filter] - 1
            if left:
                self._filters[topic_filter] = left
            else:
                del self._filters[topic_filter]
                self.transport.unsubscribe(topic_filter)

        return unsubscribe

    async def batches(self) -> AsyncIterator[list[ReceiveMessage]]:
        """Yield lists of messages; each is acknowledged when the next one is asked for."""
        async for batch in self.inbox.batches():
            yield [message for message, _ in batch]
            tokens = [token for _, token in batch if token is not None]
            if tokens:
                self.transport.ack(tokens)

    async def deliveries(self) -> AsyncIterator[Delivery]:
        """Yield batches that the consumer acknowledges itself, once what they carry is safe.

        Unlike ``batches``, taking the next batch acknowledges nothing: a pipeline that stores
        readings behind the event loop acknowledges each batch when it is durable, in order.
        """
        async for batch in self.inbox.batches():
            tokens = [token for _, token in batch if token is not None]
            yield Delivery([message for message, _ in batch], tokens, self.transport.ack)

    def publish(self, topic: str, payload: bytes | str, qos: int = 1, retain: bool = False) -> None:
        """Queue a message for the broker (for the simulator and tests)."""
        data = payload.encode("utf-8") if isinstance(payload, str) else payload
        self.transport.publish(topic, data, qos, retain)

    async def flush(self, timeout: float = 10.0) -> bool:
        """Wait, off the event loop, until the broker acknowledged everything published."""
        return await asyncio.to_thread(self.transport.wait_published, timeout)

    async def close(self) -> None:
        """Stop the transport and end ``batches()`` once what is buffered has been handed out."""
        if self._started:
            self.inbox.close()
            await asyncio.to_thread(self.transport.stop)
            self._started = False
