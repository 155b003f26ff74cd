"""``twin ingest run`` as its own process (stopped by SIGTERM) and ``twin ingest maintain``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from tests.conftest import BrokerInfo
from tests.ingest.helpers import Publisher, add_device, build_graph, query, unique, write_profile
from twin.catalogue import DeviceKind

pytestmark = pytest.mark.slow


def test_an_ingest_only_process_writes_and_stops_cleanly_on_sigterm(
    db_url: str, app_db_url: str, mqtt_broker: BrokerInfo, tmp_path: Path
) -> None:
    profile = write_profile(tmp_path)
    sensor = add_device(db_url, build_graph(db_url), "传感器", DeviceKind.ENV_SENSOR, (profile.namespace, "s1"))
    env = {
        **os.environ,
        "TWIN_HOME": str(tmp_path / "var"),
        "TWIN_DATABASE_URL": app_db_url,
        "TWIN_DATABASE_OWNER_URL": db_url,
        "TWIN_MQTT_URL": mqtt_broker.url,
        "TWIN_INGEST_PROFILES": json.dumps([profile.source]),
        "TWIN_INGEST_CLIENT_ID": unique("cli"),
    }
    twin = Path(sys.executable).with_name("twin")
    proc = subprocess.Popen([str(twin), "ingest", "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    publisher = Publisher(mqtt_broker)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().decode()
        assert "ingesting from" in first, first
        time.sleep(0.5)
        for i in range(50):
            publisher.send(
                f"{profile.name}/gw/s1", orjson.dumps({"temperature": 20 + i, "ts": int(time.time() * 1000) - 1000 + i})
            )
        publisher.flush()
        deadline = time.monotonic() + 30
        while query(db_url, "SELECT count(*) FROM readings WHERE device_id = %s", (sensor,))[0][0] < 50:
            assert time.monotonic() < deadline, "the ingest-only process did not write"
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=120)
    finally:
        publisher.close()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0 and "stopped:" in out.decode()


def test_maintain_creates_partitions_ahead_and_rolls_up(db_url: str, app_db_url: str, tmp_path: Path) -> None:
    """As the server's role, which creates partitions through the owner's function."""
    env = {**os.environ, "TWIN_HOME": str(tmp_path / "var"), "TWIN_DATABASE_URL": app_db_url}
    env["TWIN_DATABASE_OWNER_URL"] = db_url
    twin = Path(sys.executable).with_name("twin")
    done = subprocess.run([str(twin), "ingest", "maintain", "--expire"], env=env, capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode()
    assert "partitions_created" in done.stdout.decode() and "expired" in done.stdout.decode()
    names = {r[0] for r in query(db_url, "SELECT relname FROM pg_class WHERE relname ~ '^readings_[0-9]{4}_[0-9]{2}$'")}
    assert len(names) >= 3
