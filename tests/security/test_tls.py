"""TLS on both doors: HTTPS for the API and mutual TLS for MQTT, with a CA made inside the test."""

from __future__ import annotations

import asyncio
import os
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from realtime.mqtt import BrokerSettings, MqttClient, TlsSettings
from tests.conftest import BrokerInfo
from tests.security.certs import Pki, make_pki
from twin.services import BrokerTls, MosquittoBroker, PostgresCluster
from twin.services.system import accepts_connections, free_port


@pytest.fixture
def pki(service_root: Path, tmp_path: Path) -> Pki:
    return make_pki(service_root / f"pki-{tmp_path.name}")


def test_the_server_speaks_https_with_its_certificate(
    pki: Pki, tmp_path: Path, postgis: PostgresCluster, mqtt_broker: BrokerInfo
) -> None:
    postgis.ensure_database("twin_tls", template="twin_template")
    port = free_port()
    env = {
        **os.environ,
        "TWIN_DATABASE_URL": postgis.url("twin_tls"),
        "TWIN_MQTT_URL": mqtt_broker.url,
        "TWIN_HOME": str(tmp_path / "var"),
        "TWIN_TLS_CERTFILE": str(pki.server_cert),
        "TWIN_TLS_KEYFILE": str(pki.server_key),
    }
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "twin.cli", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while not accepts_connections("127.0.0.1", port):
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
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
        server.terminate()
        server.wait(timeout=30)
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


async def _round_trip(settings: BrokerSettings) -> bytes:
    client = MqttClient.connect(settings)
    await client.start()
    try:
        client.subscribe("tls/#")
        await asyncio.sleep(0.3)
        client.publish("tls/hello", b"over mutual TLS", qos=1)
        async for batch in client.batches():
            return batch[0].payload
    finally:
        await client.close()
    return b""


def test_mqtt_over_mutual_tls(tls_broker: MosquittoBroker, pki: Pki) -> None:
    assert tls_broker.tls is not None
    settings = BrokerSettings(
        host="127.0.0.1",
        port=tls_broker.tls.port,
        client_id="tls-test",
        tls=TlsSettings(str(pki.ca), str(pki.client_cert), str(pki.client_key)),
    )
    payload = asyncio.run(asyncio.wait_for(_round_trip(settings), 30))
    assert payload == b"over mutual TLS"


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
