"""TLS on both doors: HTTPS for the API and mutual TLS for MQTT, with a CA made inside the test."""

from __future__ import annotations

import asyncio
import os
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from realtime.mqtt import BrokerSettings, MqttClient, TlsSettings
from tests.conftest import BrokerInfo
from tests.security.certs import Pki, make_pki
from tests.serving import served
from twin.errors import ServiceError
from twin.services import BrokerTls, MosquittoBroker, PostgresCluster
from twin.services.broker_auth import TWIN
from twin.services.endpoints import embedded_broker
from twin.services.system import accepts_connections, free_port
from twin.settings import Settings


@pytest.fixture
def pki(service_root: Path, tmp_path: Path) -> Pki:
    return make_pki(service_root / f"pki-{tmp_path.name}")


def test_the_server_speaks_https_with_its_certificate(
    pki: Pki, tmp_path: Path, postgis: PostgresCluster, mqtt_broker: BrokerInfo
) -> None:
    postgis.ensure_database("twin_tls", template="twin_template")
    env = {
        **os.environ,
        "TWIN_DATABASE_URL": postgis.url("twin_tls"),
        "TWIN_MQTT_URL": mqtt_broker.url,
        "TWIN_HOME": str(tmp_path / "var"),
        "TWIN_TLS_CERTFILE": str(pki.server_cert),
        "TWIN_TLS_KEYFILE": str(pki.server_key),
    }
    try:
        with served(env, tmp_path / "server.log") as port:
            trusted = ssl.create_default_context(cafile=str(pki.ca))
            with urllib.request.urlopen(f"https://127.0.0.1:{port}/healthz", context=trusted, timeout=10) as answer:
                assert answer.status == 200
                assert answer.headers["strict-transport-security"].startswith("max-age=")
                assert answer.headers["server"] is None
            untrusted = ssl.create_default_context()
            with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
                urllib.request.urlopen(f"https://127.0.0.1:{port}/healthz", context=untrusted, timeout=10)
            with pytest.raises((urllib.error.URLError, ConnectionError)):
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10)
    finally:
        postgis.drop_database("twin_tls")


@pytest.fixture
def tls_broker(service_root: Path, pki: Pki) -> Iterator[MosquittoBroker]:
    tls = BrokerTls(free_port(), pki.ca, pki.server_cert, pki.server_key)
    broker = MosquittoBroker(service_root / f"mqtt-tls-{tls.port}", free_port(), tls=tls)
    broker.start()
    deadline = time.monotonic() + 15
    while not accepts_connections("127.0.0.1", tls.port):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    yield broker
    broker.stop()


async def _round_trip(broker: MosquittoBroker, device: BrokerSettings) -> bytes:
    """Publish as ``device`` over TLS and return what the twin, logged in on the plain listener, heard."""
    login = broker.credentials.login(TWIN)
    assert login is not None
    twin = MqttClient.connect(
        BrokerSettings(broker.host, broker.port, client_id="tls-twin", username=login[0], password=login[1])
    )
    sender = MqttClient.connect(device)
    await twin.start()
    await sender.start()
    try:
        twin.subscribe("tls/#")
        await asyncio.sleep(0.3)
        sender.publish("tls/hello", b"over TLS", qos=1)
        async for batch in twin.batches():
            return batch[0].payload
    finally:
        await sender.close()
        await twin.close()
    return b""


def test_mqtt_over_mutual_tls_as_the_device_credential_the_certificate_names(
    tls_broker: MosquittoBroker, pki: Pki
) -> None:
    assert tls_broker.tls is not None
    tls_broker.credentials.issue("sensor-gateway-1", ["tls/#"])  # the client certificate's CN
    assert tls_broker.reload()
    settings = BrokerSettings(
        host="127.0.0.1",
        port=tls_broker.tls.port,
        client_id="tls-test",
        tls=TlsSettings(str(pki.ca), str(pki.client_cert), str(pki.client_key)),
    )
    payload = asyncio.run(asyncio.wait_for(_round_trip(tls_broker, settings), 30))
    assert payload == b"over TLS"


def test_the_settings_open_a_tls_listener_where_devices_log_in_with_a_password(
    service_root: Path, pki: Pki, tmp_path: Path
) -> None:
    home = service_root / f"tls-home-{tmp_path.name}"
    settings = Settings(
        home=home,
        mqtt_port=free_port(),
        mqtt_tls_port=free_port(),
        mqtt_tls_certfile=pki.server_cert,
        mqtt_tls_keyfile=pki.server_key,
    )
    broker = embedded_broker(settings)
    broker.start()
    try:
        _, password = broker.credentials.issue("gw-tls", ["tls/#"])
        assert broker.reload()
        time.sleep(0.3)
        assert settings.mqtt_tls_port is not None
        device = BrokerSettings(
            "127.0.0.1",
            settings.mqtt_tls_port,
            client_id="tls-password",
            username="gw-tls",
            password=password,
            tls=TlsSettings(str(pki.ca)),
        )
        assert asyncio.run(asyncio.wait_for(_round_trip(broker, device), 30)) == b"over TLS"
    finally:
        broker.stop()


def test_a_tls_listener_needs_both_certificate_and_key(tmp_path: Path, pki: Pki) -> None:
    settings = Settings(home=tmp_path, mqtt_tls_port=free_port(), mqtt_tls_certfile=pki.server_cert)
    with pytest.raises(ServiceError, match="TWIN_MQTT_TLS_KEYFILE"):
        embedded_broker(settings)


def test_mqtt_without_a_client_certificate_is_refused(tls_broker: MosquittoBroker, pki: Pki) -> None:
    assert tls_broker.tls is not None
    context = ssl.create_default_context(cafile=str(pki.ca))
    import socket

    with socket.create_connection(("127.0.0.1", tls_broker.tls.port), timeout=10) as raw:
        with pytest.raises((ssl.SSLError, ConnectionResetError, OSError)):
            with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                tls.sendall(b"\x10\x00")
                if not tls.recv(1):
                    raise ConnectionResetError("closed by the broker")
