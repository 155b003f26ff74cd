"""The embedded services: start, status, restart with data kept, and clear refusals."""

from __future__ import annotations

import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from twin.errors import ServiceError
from twin.services import MosquittoBroker, PostgresCluster
from twin.services.system import free_port


@pytest.fixture
def home() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="twin-svc-"))
    path.chmod(0o755)
    yield path
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def test_cluster_keeps_its_data_across_stop_and_start(home: Path) -> None:
    cluster = PostgresCluster(home / "pg" / "data", free_port(), fast_and_unsafe=True)
    (home / "pg").mkdir()
    (home / "pg").chmod(0o755)
    cluster.start()
    try:
        status = cluster.status()
        assert status["running"] and status["healthy"] and str(status["postgis"]).startswith("3.")
        with psycopg.connect(cluster.conninfo("twin"), autocommit=True) as conn:
            conn.execute("CREATE TABLE kept (v int)")
            conn.execute("INSERT INTO kept VALUES (42)")
        cluster.stop()
        assert not cluster.running()
        cluster.start()
        with psycopg.connect(cluster.conninfo("twin")) as conn:
            assert conn.execute("SELECT v FROM kept").fetchone() == (42,)
    finally:
        cluster.stop()


def test_taken_port_is_one_clear_error(home: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        broker = MosquittoBroker(home / "mqtt", port)
        with pytest.raises(ServiceError, match=f"port {port} .* taken.*TWIN_MQTT_PORT"):
            broker.start()


def test_stale_pid_file_is_ignored_and_replaced(home: Path) -> None:
    broker = MosquittoBroker(home / "mqtt", free_port())
    broker.home.mkdir(parents=True)
    broker.pid_file.write_text("999999\n")
    broker.start()
    try:
        assert broker.status()["healthy"]
        assert broker.pid_file.read_text().strip() != "999999"
    finally:
        broker.stop()
    assert not broker.running()


def test_a_folder_that_is_not_a_cluster_is_refused_and_left_alone(home: Path) -> None:
    data = home / "pg" / "data"
    data.mkdir(parents=True)
    (data / "notes.txt").write_text("mine")
    with pytest.raises(ServiceError, match="not a PostgreSQL cluster"):
        PostgresCluster(data, free_port()).start()
    assert (data / "notes.txt").read_text() == "mine"


def test_a_cluster_of_another_major_version_is_refused_untouched(home: Path) -> None:
    data = home / "pg" / "data"
    data.mkdir(parents=True)
    (data / "PG_VERSION").write_text("9\n")
    with pytest.raises(ServiceError, match="made by PostgreSQL 9"):
        PostgresCluster(data, free_port()).start()
    assert (data / "PG_VERSION").read_text() == "9\n"
    assert os.listdir(data) == ["PG_VERSION"]
