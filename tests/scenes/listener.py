"""A paho subscriber that keeps every message it hears, for the simulator's tests against Mosquitto."""

from __future__ import annotations

import threading
import time

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from tests.conftest import BrokerInfo


class Listener:
    """Subscribe to some topic filters on the test broker and keep (topic, payload) of each message."""

    def __init__(self, broker: BrokerInfo, client_id: str, filters: list[tuple[str, int]]) -> None:
        self._lock = threading.Lock()
        self._received: list[tuple[str, bytes]] = []
        self._subscribed = threading.Event()
        self._client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        self._client.on_message = self._keep
        self._client.on_subscribe = lambda *args: self._subscribed.set()
        self._client.on_connect = lambda client, *args: client.subscribe(filters)
        self._client.username_pw_set(broker.username, broker.password)
        self._client.connect(broker.host, broker.port)
        self._client.loop_start()

    def _keep(self, client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        with self._lock:
            self._received.append((message.topic, bytes(message.payload)))

    def wait_subscribed(self, timeout: float) -> bool:
        """Wait until the broker has confirmed the subscription."""
        return self._subscribed.wait(timeout)

    def wait_for(self, count: int, timeout: float) -> None:
        """Wait until at least ``count`` messages were heard, or the timeout passed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.messages()) < count:
            time.sleep(0.05)

    def messages(self) -> list[tuple[str, bytes]]:
        """Return what was heard so far, in arrival order."""
        with self._lock:
            return list(self._received)

    def close(self) -> None:
        """Stop listening."""
        self._client.loop_stop()
        self._client.disconnect()
