"""The simulator's connections: paho clients that the simulation loop itself drives, one tick at a time.

Two things differ from ``realtime.mqtt.PahoTransport``, both for the simulator's sake.

Acknowledgements. ``PahoTransport`` tracks them by message id in its ``on_publish`` callback, but
paho calls that callback for QoS 0 messages too (once written) and ids wrap at 65,535. A simulator
publishes hundreds of thousands of QoS 0 readings on one connection, so the ids of its retained
QoS 1 availability messages were already "acknowledged" by readings long gone, the wait before
disconnecting returned at once, and what paho still queued behind its inflight window died with
the connection: about 14,000 of the 34,156 'offline' of a clean stop at 100,000 devices. Here each
QoS 1 message keeps paho's own ``MQTTMessageInfo``, which only the PUBACK of that very message
completes, and QoS 0 messages run no callback at all.

No network thread, and one write a tick. paho's own thread costs a wake-up of that thread and a
switch of the GIL per message (29 µs of CPU per published message against 14 µs when the
publishing thread writes paho's queue itself, paho 2.2 on this project's Mosquitto), and paho
writes every packet with its own ``send``, which on loopback also pays the receiving side's TCP
work. A reading is QoS 0: nothing to acknowledge, no state, so its PUBLISH packet is framed here
and a tick's readings leave in one ``send``; paho keeps the connection, its session, keepalive and
every QoS 1 message. The simulation loop calls :meth:`SimTransport.pump` once a tick: it writes
what the tick queued, reads the broker's acknowledgements, pings when due and reconnects with
backoff.
"""

from __future__ import annotations

import ssl
import struct
import time
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from realtime.mqtt import BrokerSettings, Deliver, PahoTransport
from realtime.simulator.styles import SimMessage

POLL_S = 0.002
"""How often the waits (for a connection, for acknowledgements) drive the connection."""


def _no_thread(client: paho.Client, userdata: Any, sock: Any) -> None:
    """Stand in for an event loop's socket registration, so that publish() only queues."""


def publish_packet(topic: str, payload: bytes, retain: bool, v5: bool) -> bytes:
    """Return the MQTT PUBLISH packet of a QoS 0 message (MQTT 5 adds an empty property list)."""
    name = topic.encode()
    remaining = 2 + len(name) + v5 + len(payload)
    header = bytearray((0x31 if retain else 0x30,))
    while True:
        remaining, byte = divmod(remaining, 128)
        header.append(byte | 0x80 if remaining else byte)
        if not remaining:
            break
    return b"".join((header, struct.pack("!H", len(name)), name, b"\x00" if v5 else b"", payload))


class SimTransport(PahoTransport):
    """One simulated connection (the shared one, a gateway's, the bridge's), optionally with a last will."""

    def __init__(self, settings: BrokerSettings, will: SimMessage | None = None) -> None:
        """Prepare the client; a gateway's will says offline when its connection dies uncleanly."""
        super().__init__(settings)
        client = self._client
        client.on_publish = None
        client.on_socket_register_write = _no_thread
        client.on_socket_unregister_write = _no_thread
        # No inflight window: paho rescans its whole window on every acknowledgement (1,000 messages
        # by default here), which made the 34,000 retained 'online' and 'offline' of a 100,000-device
        # run cost more than its readings. Mosquitto acknowledges a QoS 1 message as it arrives.
        client.max_inflight_messages_set(0)
        if will is not None:
            client.will_set(will.topic, will.payload, qos=1, retain=True)
        client.on_subscribe = self._on_subscribe
        self.subscribed = 0
        """Subscriptions the broker confirmed: its retained messages for a filter follow its confirmation."""
        self._watch: list[paho.MQTTMessageInfo] = []
        self._v5 = settings.protocol == "5"
        self._out = bytearray()
        """QoS 0 packets not yet written, for the socket they were framed for."""
        self._out_count = 0
        self._out_sock: object | None = None
        self._retry_at = 0.0
        self._backoff = float(settings.reconnect_min_s)
        self.unsent = 0
        """Messages that may not have reached the broker: readings dropped with a lost connection, QoS 1
        messages published while it was down (paho resends them, nothing confirms them)."""

    def start(self, deliver: Deliver) -> None:
        """Open the connection; :meth:`pump` completes it (and reopens it after a loss)."""
        self._deliver = deliver
        s = self.settings
        try:
            if s.protocol == "5":
                properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
                properties.SessionExpiryInterval = s.session_expiry_s
                self._client.connect(s.host, s.port, s.keepalive, clean_start=True, properties=properties)
            else:
                self._client.connect(s.host, s.port, s.keepalive)
        except OSError:
            self._retry_at = time.monotonic() + self._backoff

    def _on_subscribe(self, client: paho.Client, userdata: Any, mid: int, reasons: Any, properties: Any) -> None:
        self.subscribed += 1

    def pump(self) -> None:
        """Write what is queued, read acknowledgements, ping when due; reconnect with backoff when down."""
        client = self._client
        if client.socket() is None:
            now = time.monotonic()
            if now < self._retry_at:
                return
            try:
                client.reconnect()
            except OSError:
                self._backoff = min(2 * self._backoff, float(self.settings.reconnect_max_s))
                self._retry_at = now + self._backoff
                return
            self._backoff = float(self.settings.reconnect_min_s)
        if client.loop_read() != paho.MQTT_ERR_SUCCESS:
            return
        if self._watch and self._watch[0].is_published():
            self.pending()  # let go of the acknowledged: a long run should not hold its 'online' burst
        # paho's packets first, ours after: neither may start while the other is half written.
        if client.loop_write() == paho.MQTT_ERR_SUCCESS and not client.want_write():
            self._write_out()
        client.loop_misc()

    def _write_out(self) -> None:
        sock = self._client.socket()
        if not self._out or sock is None:
            return
        if sock is not self._out_sock:
            self._drop_out()  # framed for a connection since lost: half of a packet would corrupt the new one
            return
        try:
            written = sock.send(self._out)
        except (BlockingIOError, ssl.SSLWantWriteError):
            return
        except OSError:
            self._drop_out()
            return
        del self._out[:written]
        if not self._out:
            self._out_count = 0

    def _drop_out(self) -> None:
        self.unsent += self._out_count
        self._out.clear()
        self._out_count = 0

    def flush(self, timeout: float) -> bool:
        """Drive the connection until every queued reading is written, or the timeout passed."""
        deadline = time.monotonic() + timeout
        while self._out:
            if time.monotonic() > deadline:
                return False
            self.pump()
            if self._out:
                time.sleep(POLL_S)
        return True

    def stop(self) -> None:
        """Disconnect cleanly: the DISCONNECT goes out after everything queued before it."""
        client = self._client
        self.flush(5.0)
        self._drop_out()
        if client.socket() is not None:
            client.disconnect()
            deadline = time.monotonic() + 5.0
            while client.socket() is not None and client.want_write() and time.monotonic() < deadline:
                client.loop_write()
        with self._lock:
            self._connected = False

    def wait_connected(self, timeout: float) -> bool:
        """Drive the connection until the broker accepted it, so nothing is published into the void."""
        deadline = time.monotonic() + timeout
        while not self.connected:
            if time.monotonic() > deadline:
                return False
            self.pump()
            time.sleep(POLL_S)
        return True

    def publish(self, topic: str, payload: bytes, qos: int = 0, retain: bool = False) -> None:
        """Queue a message: a reading for the tick's one write, a QoS 1 message to paho, watched until acknowledged."""
        if qos == 0:
            sock = self._client.socket()
            if sock is None:
                self.unsent += 1
                return
            if sock is not self._out_sock:
                self._drop_out()
                self._out_sock = sock
            self._out += publish_packet(topic, payload, retain, self._v5)
            self._out_count += 1
            return
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc == paho.MQTT_ERR_SUCCESS:
            self._watch.append(info)
        else:
            self.unsent += 1  # no connection (paho resends it unwatched) or its id still taken: unconfirmed

    def pending(self) -> int:
        """Return the QoS 1 messages the broker has not acknowledged yet (and forget the acknowledged)."""
        self._watch = [info for info in self._watch if not info.is_published()]
        return len(self._watch)

    def wait_published(self, timeout: float) -> bool:
        """Drive the connection until the broker acknowledged every watched QoS 1 message, or the timeout."""
        deadline = time.monotonic() + timeout
        while self.pending():
            if time.monotonic() > deadline:
                return False
            self.pump()
            time.sleep(POLL_S)
        return True
