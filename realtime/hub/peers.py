"""Events between server instances, through the MQTT broker: no home-made bus.

Each instance publishes the events that arose in it (readings its share of the ingest took,
registry events its API or rule engine committed) to ``<topic>/<site>`` and subscribes to
``<topic>/+`` with MQTT 5's No Local option, so it hears every other instance and never itself.
A clustered broker (EMQX, Mosquitto bridges) carries the same traffic across machines. One MQTT
message carries a whole ingested batch, so the relay costs a publish per batch, not per reading.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.subscribeoptions import SubscribeOptions

from realtime.hub.hub import Hub
from realtime.hub.stream import RUN_TOKEN
from twin.services.endpoints import BrokerAddress

log = logging.getLogger(__name__)


class Peers:
    """The relay of one instance's hub to and from the others."""

    def __init__(self, hub: Hub, broker: BrokerAddress, topic: str) -> None:
        """Prepare a connection of its own (the ingest's session is durable; this one need not be)."""
        self.hub = hub
        self.topic = topic.rstrip("/")
        self.loop = asyncio.get_running_loop()
        self.received = 0
        self.sent = 0
        self.refused = 0
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"twin-hub-{RUN_TOKEN}",
            protocol=MQTTProtocolVersion.MQTTv5,
            reconnect_on_failure=True,
        )
        client.reconnect_delay_set(1, 30)
        client.max_queued_messages_set(0)
        if broker.username is not None:
            client.username_pw_set(broker.username, broker.password)
        if broker.tls:
            client.tls_set()
        client.on_connect = self._on_connect
        client.on_message = self._on_message
        self._client = client
        self._broker = broker

    def start(self) -> None:
        """Connect in the background (paho retries until the broker answers) and start relaying."""
        self._client.connect_async(self._broker.host, self._broker.port, 30, clean_start=True)
        self._client.loop_start()
        self.hub.forward = self.publish

    def stop(self) -> None:
        """Stop relaying and leave the broker."""
        self.hub.forward = None
        self._client.disconnect()
        self._client.loop_stop()

    @property
    def connected(self) -> bool:
        """Tell whether the relay's connection is up."""
        return bool(self._client.is_connected())

    def publish(self, site_id: int, items: list[list[Any]]) -> None:
        """Send local events of one site to the other instances (QoS 1: alarms must arrive)."""
        self._client.publish(f"{self.topic}/{site_id}", orjson.dumps(items), qos=1)
        self.sent += len(items)

    def _on_connect(self, client: paho.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if reason.is_failure:
            log.warning("hub relay refused by the broker: %s", reason)
            return
        client.subscribe(f"{self.topic}/+", options=SubscribeOptions(qos=1, noLocal=True))

    def _on_message(self, _client: paho.Client, _userdata: Any, message: paho.MQTTMessage) -> None:
        try:
            site_id = int(message.topic.rsplit("/", 1)[1])
            items = orjson.loads(message.payload)
            if not isinstance(items, list):
                raise ValueError("not a list of events")
        except ValueError as exc:
            self.refused += 1
            log.warning("hub relay: a message on %s is not a batch of events (%s); ignored", message.topic, exc)
            return
        self.received += len(items)
        self.loop.call_soon_threadsafe(self._deliver, site_id, items)

    def _deliver(self, site_id: int, items: list[list[Any]]) -> None:
        try:
            self.hub.remote(site_id, items)
        except (TypeError, ValueError) as exc:
            self.refused += 1
            log.warning("hub relay: a batch for site %s is malformed (%s); ignored", site_id, exc)
