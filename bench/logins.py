"""The credentials the benchmarks' MQTT clients log in with: the embedded Mosquitto takes no anonymous client.

As in the tests, subscribers and relays log in as the twin (it reads every topic) and publishers
as the simulator (device topics only). The baseline and the path measured log in alike, with the
same credential for the same role, so neither side of a ratio is spared the broker's password and
ACL checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict
from urllib.parse import quote

import paho.mqtt.client as paho

from twin.services import MosquittoBroker
from twin.services.broker_auth import SIMULATOR, TWIN


class Credential(TypedDict):
    """``BrokerSettings``' keyword arguments for a login, typed so that ``**`` unpacks them checked."""

    username: str
    password: str


@dataclass(frozen=True)
class Login:
    """One broker credential, small enough to hand to a spawned process."""

    username: str
    password: str

    @property
    def settings(self) -> Credential:
        """The credential as ``BrokerSettings``' keyword arguments."""
        return {"username": self.username, "password": self.password}

    def url(self, host: str, port: int) -> str:
        """The broker URL carrying this credential, as ``TWIN_MQTT_URL`` spells it for a ``twin`` process."""
        return f"mqtt://{quote(self.username, safe='')}:{quote(self.password, safe='')}@{host}:{port}"

    def apply(self, client: paho.Client) -> paho.Client:
        """Make a bare paho client log in with this credential (before it connects); return it."""
        client.username_pw_set(self.username, self.password)
        return client


def login(broker: MosquittoBroker, name: str) -> Login:
    """Return the internal credential ``name`` of a started broker."""
    found = broker.credentials.login(name)
    if found is None:
        raise RuntimeError(f"the broker in {broker.home} has no {name!r} credential: start it first")
    return Login(*found)


def twin(broker: MosquittoBroker) -> Login:
    """The twin's credential, for subscribers and relays."""
    return login(broker, TWIN)


def simulator(broker: MosquittoBroker) -> Login:
    """The simulator's credential, for publishers of device topics."""
    return login(broker, SIMULATOR)
