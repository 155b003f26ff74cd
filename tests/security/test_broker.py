"""The broker's door, on the real Mosquitto: nobody anonymous, a device only its own topics, commands the twin's.

Each test watches with the twin's own credential (it may read everything), so "not delivered"
means the broker dropped the message, not that nobody listened: every denied publication is
followed on the same connection by an allowed one, and the broker keeps a connection's order.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from typer.testing import CliRunner

from tests.conftest import BrokerInfo
from tests.ingest.helpers import (
    Publisher,
    add_device,
    build_graph,
    epoch_ms,
    ingest_config,
    query,
    running,
    unique,
    until,
    write_profile,
)
from twin.catalogue import DeviceKind
from twin.cli import app
from twin.errors import ServiceError, TwinError
from twin.services import MosquittoBroker
from twin.services.broker_auth import SIMULATOR, TWIN, TWIN_TOPICS, check_command_topic, check_device_topic
from twin.services.endpoints import broker_address
from twin.services.system import free_port
from twin.settings import Settings, get_settings

V5, V311 = MQTTProtocolVersion.MQTTv5, MQTTProtocolVersion.MQTTv311


class Peer:
    """A raw paho client that records its CONNACK, its PUBACKs' reasons and what it hears."""

    def __init__(self, broker: BrokerInfo, login: tuple[str, str] | None, protocol: MQTTProtocolVersion = V311) -> None:
        self.connack: Any = None
        self.acks: list[str] = []
        self.heard: list[str] = []
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=unique("peer"), protocol=protocol)
        if login is not None:
            self.client.username_pw_set(*login)
        self.client.on_connect = self._on_connect
        self.client.on_publish = lambda c, u, mid, reason, p: self.acks.append(str(reason))
        self.client.on_message = self._on_message
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        assert self._connected.wait(10), "the broker never answered the CONNECT"

    def _on_connect(self, client: paho.Client, userdata: object, flags: object, reason: Any, props: object) -> None:
        if self.connack is None:
            self.connack = reason
        self._connected.set()

    def _on_message(self, client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        with self._lock:
            self.heard.append(message.topic)

    def subscribe(self, *filters: str) -> None:
        """Subscribe and wait for the SUBACK."""
        done = threading.Event()
        self.client.on_subscribe = lambda *args: done.set()
        self.client.subscribe([(f, 1) for f in filters])
        assert done.wait(10), "no SUBACK"

    def heard_topics(self) -> list[str]:
        with self._lock:
            return list(self.heard)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def refused(reason: Any) -> bool:
    """Tell whether a CONNACK refused the client for its identity (not authorised, bad name or password)."""
    return reason is not None and reason.is_failure and reason.value in (134, 135)


def wait_refused(broker: BrokerInfo, login: tuple[str, str], timeout: float = 10.0) -> None:
    """Wait until the broker, having reread its files, refuses ``login``."""
    deadline = time.monotonic() + timeout
    while True:
        peer = Peer(broker, login)
        peer.close()
        if refused(peer.connack):
            return
        assert time.monotonic() < deadline, f"{login[0]} is still accepted after the reload"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def mqtt_broker(service_root: Path) -> Iterator[BrokerInfo]:
    """A broker of this module's own: the session's is killed and restarted by other files' tests.

    It lives in a home of its own (``home/mqtt``, as the CLI looks for the embedded broker).
    """
    home = service_root / "broker-security"
    home.mkdir()
    home.chmod(0o755)
    broker = MosquittoBroker(home / "mqtt", free_port())
    broker.start()
    login = broker.credentials.login(TWIN)
    assert login is not None
    yield BrokerInfo(broker.host, broker.port, broker, *login)
    broker.stop()


def twin_login(broker: BrokerInfo) -> tuple[str, str]:
    return broker.username, broker.password


def device(broker: BrokerInfo, name: str, *topics: str, commands: tuple[str, ...] = ()) -> tuple[str, str]:
    """Issue a device credential (``commands``: the command topics it reads) and make the running broker read it."""
    _, password = broker.broker.credentials.issue(name, list(topics), commands=list(commands))
    assert broker.broker.reload()
    login = (name, password)
    deadline = time.monotonic() + 10
    while True:
        peer = Peer(broker, login)
        peer.close()
        if not refused(peer.connack):
            return login
        assert time.monotonic() < deadline, "the broker never accepted the new credential"
        time.sleep(0.1)


@pytest.mark.parametrize("protocol", [V5, V311], ids=["mqtt5", "mqtt311"])
def test_an_anonymous_client_is_refused(mqtt_broker: BrokerInfo, protocol: MQTTProtocolVersion) -> None:
    peer = Peer(mqtt_broker, None, protocol)
    peer.close()
    assert refused(peer.connack), peer.connack


def test_a_wrong_password_is_refused(mqtt_broker: BrokerInfo) -> None:
    peer = Peer(mqtt_broker, (mqtt_broker.username, mqtt_broker.password + "x"))
    peer.close()
    assert refused(peer.connack), peer.connack


def test_a_device_publishes_only_its_own_topics(mqtt_broker: BrokerInfo) -> None:
    own, other = unique("GW"), unique("GW")
    login = device(mqtt_broker, unique("gw-"), f"gw/{own}/#")
    watcher = Peer(mqtt_broker, twin_login(mqtt_broker))
    watcher.subscribe(f"gw/{own}/#", f"gw/{other}/#", "cmnd/#", "zigbee2mqtt/+/set", "twin/#")
    # The forbidden messages go through a connection of their own: Mosquitto may drop a client
    # whose publication it refused, and that client's own message would then be lost.
    gateway, intruder = Peer(mqtt_broker, login), Peer(mqtt_broker, login)
    try:
        # The forbidden topics first, each acknowledged (the broker has routed it), its own last,
        # again until its own is heard: a forbidden message let through arrives before that one.
        forbidden = (f"gw/{other}/up", f"gw/{other}/down", "cmnd/plug-1/POWER", "zigbee2mqtt/lamp/set", "twin/hub/1")
        deadline = time.monotonic() + 30
        while f"gw/{own}/up" not in watcher.heard_topics():
            assert time.monotonic() < deadline, "the gateway's own message never arrived"
            for topic in forbidden:
                sent = intruder.client.publish(topic, b'{"fire": true}', qos=1)
                if sent.rc == 0:
                    sent.wait_for_publish(2)
            gateway.client.publish(f"gw/{own}/up", b"{}", qos=1)
            time.sleep(0.5)
        time.sleep(0.3)
        assert set(watcher.heard_topics()) == {f"gw/{own}/up"}
    finally:
        for peer in (gateway, intruder, watcher):
            peer.close()


def test_an_mqtt5_device_is_told_its_publication_is_not_authorised(mqtt_broker: BrokerInfo) -> None:
    login = device(mqtt_broker, unique("gw-"), f"gw/{unique('GW')}/#")
    gateway = Peer(mqtt_broker, login, V5)
    try:
        gateway.client.publish("cmnd/plug-1/POWER", b"ON", qos=1)
        deadline = time.monotonic() + 10
        while not gateway.acks:
            assert time.monotonic() < deadline, "no PUBACK"
            time.sleep(0.05)
        assert gateway.acks == ["Not authorized"]
    finally:
        gateway.close()


def test_the_simulator_publishes_device_topics_but_no_command(mqtt_broker: BrokerInfo) -> None:
    sim = mqtt_broker.simulator
    watcher = Peer(mqtt_broker, twin_login(mqtt_broker))
    prefix = unique("sim")
    watcher.subscribe("cmnd/#", "zigbee2mqtt/+/set", "gw/+/down", "twin/#", f"tele/{prefix}/#")
    simulator = Peer(mqtt_broker, (sim["username"], sim["password"]))
    try:
        # The commands go first and the reading last, again until the reading is heard: a broker
        # keeps one client's order, so a command let through would arrive before that reading.
        deadline = time.monotonic() + 30
        while not watcher.heard_topics():
            assert time.monotonic() < deadline, "the simulator's reading never arrived"
            for topic in ("cmnd/plug-1/POWER", "zigbee2mqtt/lamp/set", "gw/GW-1/down", "twin/hub/1"):
                simulator.client.publish(topic, b"ON", qos=1)
            simulator.client.publish(f"tele/{prefix}/SENSOR", b"{}", qos=1)
            time.sleep(0.5)
        time.sleep(0.3)
        assert set(watcher.heard_topics()) == {f"tele/{prefix}/SENSOR"}
    finally:
        simulator.close()
        watcher.close()


def test_the_ingest_takes_a_devices_readings_from_its_own_topics_only(
    db_url: str, mqtt_broker: BrokerInfo, tmp_path: Path
) -> None:
    profile = write_profile(tmp_path)
    graph = build_graph(db_url)
    mine = add_device(db_url, graph, "温湿度", DeviceKind.ENV_SENSOR, (profile.namespace, "s1"))
    theirs = add_device(db_url, graph, "烟感", DeviceKind.ENV_SENSOR, (profile.namespace, "s2"))
    username, password = device(mqtt_broker, unique("gw-"), f"{profile.name}/gw1/#")
    publisher = Publisher(mqtt_broker, {"username": username, "password": password})
    body = {"temperature": 21.5, "humidity": 40, "door": False, "ts": epoch_ms(datetime.now(UTC))}

    async def run() -> None:
        config = ingest_config(db_url, mqtt_broker, profile, tmp_path, unique("ingest"))
        async with running(config, db_url) as ingest:
            publisher.send(f"{profile.name}/gw2/s2", orjson.dumps({**body, "temperature": 99.0}))
            publisher.send(f"{profile.name}/gw1/s1", orjson.dumps(body))
            await until(
                lambda: query(db_url, "SELECT count(*) FROM readings WHERE device_id = %s", (mine,))[0][0] == 3,
                "the device's own readings never reached history",
            )
            await asyncio.sleep(0.3)
            assert ingest.counts.written == 3 and ingest.counts.unknown == 0

    try:
        asyncio.run(run())
    finally:
        publisher.close()
    assert query(db_url, "SELECT count(*) FROM readings WHERE device_id = %s", (theirs,))[0][0] == 0


@dataclass(frozen=True)
class Ran:
    """What a CLI command printed, or the error it raised (as ``twin``'s main would print it)."""

    returncode: int
    stdout: str
    stderr: str


def _cli(broker: BrokerInfo, db_url: str, *args: str) -> Ran:
    """Run ``twin device …`` in this process on the embedded broker's home (a subprocess spent seconds importing)."""
    env = {
        "TWIN_HOME": str(broker.broker.home.parent),
        "TWIN_MQTT_PORT": str(broker.port),
        "TWIN_DATABASE_URL": db_url,
        "TWIN_MQTT_URL": None,
        "COLUMNS": "200",
    }
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["device", *args], env=env)
    finally:
        get_settings.cache_clear()
    error = result.exception
    if isinstance(error, TwinError):
        return Ran(1, result.stdout, f"{error.message} {error.hint or ''}")
    assert error is None or isinstance(error, SystemExit), result.stdout
    return Ran(result.exit_code, result.stdout, "")


def _password(out: str) -> str:
    found = re.search(r"password \(shown once\): (\S+)", out)
    assert found, out
    return found.group(1)


def test_credentials_are_created_rotated_and_revoked_from_the_cli_and_audited(
    mqtt_broker: BrokerInfo, db_url: str
) -> None:
    name, gw = unique("gw-"), unique("GW")
    made = _cli(mqtt_broker, db_url, "credentials", name, "--topic", f"gw/{gw}/#")
    assert made.returncode == 0, made.stderr + made.stdout
    first = (name, _password(made.stdout))
    assert "reread" in made.stdout
    connected = Peer(mqtt_broker, first)
    assert not refused(connected.connack)

    again = _cli(mqtt_broker, db_url, "credentials", name, "--topic", f"gw/{gw}/#")
    assert again.returncode == 1 and "exists" in again.stderr and "--rotate" in again.stderr

    rotated = _cli(mqtt_broker, db_url, "credentials", name, "--rotate")
    assert rotated.returncode == 0, rotated.stderr
    second = (name, _password(rotated.stdout))
    wait_refused(mqtt_broker, first)
    peer = Peer(mqtt_broker, second)
    peer.close()
    assert not refused(peer.connack)

    listed = _cli(mqtt_broker, db_url, "credentials-list")
    assert name in listed.stdout and f"gw/{gw}/#" in listed.stdout and second[1] not in listed.stdout

    gone = _cli(mqtt_broker, db_url, "credentials", name, "--revoke")
    assert gone.returncode == 0, gone.stderr
    wait_refused(mqtt_broker, second)
    deadline = time.monotonic() + 10
    while connected.client.is_connected():
        assert time.monotonic() < deadline, "the revoked device's open connection was kept"
        time.sleep(0.05)
    connected.close()
    actions = query(
        db_url,
        "SELECT action, actor FROM audit_log WHERE object_kind = 'broker_credential' AND object_id = %s ORDER BY id",
        (name,),
    )
    assert actions == [("create", "cli"), ("rotate", "cli"), ("revoke", "cli")]
    secrets_in_record = mqtt_broker.broker.credentials.record.read_text()
    assert first[1] not in secrets_in_record and second[1] not in secrets_in_record


@pytest.mark.parametrize(
    ("pattern", "says"),
    [
        ("#", "literal level"),
        ("+/SENSOR", "literal level"),
        ("$SYS/x", "literal level"),
        ("twin/hub/1", "only the twin"),
        ("twin/#", "only the twin"),
        ("gw/a#", "'#' must be"),
        ("gw/#/x", "'#' must be"),
        ("gw/a+", "'+' must fill"),
        ("gw/a b", "space"),
        ("", "empty"),
        ("gw/+/#", "other devices' commands"),
        ("zigbee2mqtt/#", "other devices' commands"),
        ("cmnd/plug-1/#", "a command topic"),
        ("gw/+/down", "a command topic"),
    ],
)
def test_a_device_topic_beyond_its_own_is_refused_with_the_reason(pattern: str, says: str) -> None:
    with pytest.raises(ServiceError, match=re.escape(says)):
        check_device_topic(pattern, TWIN_TOPICS)


@pytest.mark.parametrize("pattern", ["tele/plug-1/#", "twin/#", "+/plug-1/POWER"])
def test_a_command_topic_a_device_would_read_must_be_one(pattern: str) -> None:
    with pytest.raises(ServiceError):
        check_command_topic(pattern)


def test_vendors_layouts_publish_their_state_and_read_only_their_own_commands(mqtt_broker: BrokerInfo) -> None:
    """A Tasmota plug and a zigbee2mqtt bridge, with the topics their firmware uses (tele/stat/cmnd, base/+/set).

    Each device publishes its state and reads its own commands; it neither reads another's commands
    nor writes a command (the twin's watcher would hear it), and its forbidden messages go first.
    """
    plug, other, victim, lamp = unique("plug-"), unique("plug-"), unique("plug-"), unique("lamp-")
    tasmota = device(mqtt_broker, plug, f"tele/{plug}/#", f"stat/{plug}/#", commands=(f"cmnd/{plug}/#",))
    bridge = device(
        mqtt_broker,
        unique("bridge-"),
        "zigbee2mqtt/+",
        "zigbee2mqtt/+/availability",
        "zigbee2mqtt/bridge/#",
        commands=("zigbee2mqtt/+/set",),
    )
    plug_peer, bridge_peer = Peer(mqtt_broker, tasmota), Peer(mqtt_broker, bridge)
    # The forbidden reads and writes go through connections of their own: Mosquitto may drop a
    # client whose publication it refused, and the command its clean session would then miss.
    nosy, bridge_nosy = Peer(mqtt_broker, tasmota), Peer(mqtt_broker, bridge)
    plug_peer.subscribe(f"cmnd/{plug}/#")
    nosy.subscribe(f"cmnd/{other}/#")
    bridge_peer.subscribe("zigbee2mqtt/+/set")
    commander, watcher = Peer(mqtt_broker, twin_login(mqtt_broker)), Peer(mqtt_broker, twin_login(mqtt_broker))
    watcher.subscribe(f"stat/{plug}/#", f"cmnd/{victim}/#", f"zigbee2mqtt/{victim}/set", f"zigbee2mqtt/{lamp}")
    wanted = {f"stat/{plug}/POWER", f"zigbee2mqtt/{lamp}"}
    try:
        deadline = time.monotonic() + 30
        while (
            f"cmnd/{plug}/POWER" not in plug_peer.heard_topics()
            or f"zigbee2mqtt/{lamp}/set" not in bridge_peer.heard_topics()
            or wanted - set(watcher.heard_topics())
        ):
            assert time.monotonic() < deadline, "a device's state or its own command never arrived"
            nosy.client.publish(f"cmnd/{victim}/POWER", b"OFF", qos=1)
            bridge_nosy.client.publish(f"zigbee2mqtt/{victim}/set", b'{"state":"OFF"}', qos=1)
            plug_peer.client.publish(f"stat/{plug}/POWER", b"ON", qos=1)
            bridge_peer.client.publish(f"zigbee2mqtt/{lamp}", b'{"state":"ON"}', qos=1)
            commander.client.publish(f"cmnd/{other}/POWER", b"ON", qos=1)
            commander.client.publish(f"cmnd/{plug}/POWER", b"ON", qos=1)
            commander.client.publish(f"zigbee2mqtt/{lamp}/set", b'{"state":"ON"}', qos=1)
            time.sleep(0.5)
        time.sleep(0.3)
        assert set(plug_peer.heard_topics()) == {f"cmnd/{plug}/POWER"}, "the plug reads only its own commands"
        assert nosy.heard_topics() == [], "the plug read another device's commands"
        assert set(bridge_peer.heard_topics()) == {f"zigbee2mqtt/{lamp}/set"}
        assert set(watcher.heard_topics()) == wanted, "a device's command to another device was delivered"
    finally:
        for peer in (plug_peer, bridge_peer, nosy, bridge_nosy, commander, watcher):
            peer.close()


def test_config_show_masks_the_broker_password() -> None:
    shown = Settings(mqtt_url="mqtt://gateway:s3cr3t@broker.example:1883").masked()["mqtt_url"]
    assert "s3cr3t" not in shown and shown == "mqtt://gateway:**********@broker.example:1883"


def test_the_twin_and_the_simulator_find_their_own_credentials_on_the_embedded_broker(
    mqtt_broker: BrokerInfo,
) -> None:
    settings = Settings(home=mqtt_broker.broker.home.parent, mqtt_port=mqtt_broker.port, mqtt_url=None)
    twin, simulator = broker_address(settings), broker_address(settings, SIMULATOR)
    assert (twin.username, simulator.username) == ("twin", "simulator")
    for address in (twin, simulator):
        assert address.username is not None and address.password is not None
        peer = Peer(mqtt_broker, (address.username, address.password))
        peer.close()
        assert not refused(peer.connack)
    assert twin.password != simulator.password


def test_an_external_broker_url_carries_the_credential() -> None:
    address = broker_address(Settings(mqtt_url="mqtts://gw%2F1:p%40ss@broker.example"))
    assert (address.host, address.port, address.tls) == ("broker.example", 8883, True)
    assert (address.username, address.password) == ("gw/1", "p@ss")


def test_a_broker_left_running_without_authentication_is_restarted_with_it(service_root: Path) -> None:
    broker = MosquittoBroker(service_root / f"mqtt-{unique('old')}", free_port())
    broker.start()
    try:
        conf = broker.home / "mosquitto.conf"
        conf.write_text(conf.read_text().replace("allow_anonymous false", "allow_anonymous true"))
        before = broker.pid_file.read_text()
        broker.start()
        assert broker.pid_file.read_text() != before
        assert "allow_anonymous false" in conf.read_text()
        login = broker.credentials.login("twin")
        assert login is not None
        info = BrokerInfo(broker.host, broker.port, broker, *login)
        anonymous = Peer(info, None)
        anonymous.close()
        assert refused(anonymous.connack)
    finally:
        broker.stop()
