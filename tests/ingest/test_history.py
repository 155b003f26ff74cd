"""History written by COPY, rolled up by the hour, expired per kind, and read back as a chart's series."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
from fastapi.testclient import TestClient

from realtime.history import TelemetryStore, conninfo_of
from realtime.maintenance import Maintenance
from realtime.retention import expire
from realtime.spool import Row
from tests.ingest.helpers import add_device, build_graph, conninfo, query
from twin.catalogue import DeviceKind


def hours_ago(n: int) -> datetime:
    now = datetime.now(UTC)
    return now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=n)


def minute_rows(device_id: int, quantity: str, start: datetime, hours: int) -> list[Row]:
    """One reading a minute; in hour h minute m the value is 100 h + m, so each hour's aggregates are known."""
    return [
        (device_id, quantity, start + timedelta(hours=h, minutes=m), float(100 * h + m), None)
        for h in range(hours)
        for m in range(60)
    ]


def series(client: TestClient, device_id: int, quantity: str, start: datetime, step: str) -> dict:  # type: ignore[type-arg]
    response = client.get(
        f"/api/devices/{device_id}/history",
        params={
            "quantity": quantity,
            "from": start.isoformat(),
            "to": (start + timedelta(hours=3)).isoformat(),
            "step": step,
        },
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_hourly_rollups_answer_like_raw_rows_and_survive_raw_retention(db_url: str, client: TestClient) -> None:
    graph = build_graph(db_url)
    camera = add_device(db_url, graph, "摄像机", DeviceKind.CAMERA, None)
    meter = add_device(db_url, graph, "电表", DeviceKind.ELECTRICITY_METER, None)
    start = hours_ago(72)
    store = TelemetryStore(conninfo_of(db_url))
    try:
        assert (
            store.write_history(minute_rows(camera, "rssi", start, 3) + minute_rows(meter, "power", start, 3)).written
            == 360
        )
    finally:
        store.close()
    expected = [{"count": 60, "avg": 100 * h + 29.5, "min": 100 * h, "max": 100 * h + 59} for h in range(3)]

    before = series(client, camera, "rssi", start, "1h")
    assert [{k: p[k] for k in ("count", "avg", "min", "max")} for p in before["points"]] == expected
    assert query(db_url, "SELECT dirty_from FROM telemetry_jobs")[0][0] == start, "late rows mark their hour"

    report = Maintenance(conninfo_of(db_url)).run(datetime.now(UTC))
    assert report["hours_rolled_up"] >= 3
    assert query(db_url, "SELECT count(*) FROM readings_hourly WHERE device_id = %s", (camera,))[0][0] == 3
    assert query(db_url, "SELECT dirty_from FROM telemetry_jobs")[0][0] is None
    after = series(client, camera, "rssi", start, "1h")
    assert after["source"] == "hourly+raw" and after["points"] == before["points"]

    with psycopg.connect(conninfo(db_url), autocommit=True) as conn:
        expire(conn, datetime.now(UTC) + timedelta(days=40))
    assert query(db_url, "SELECT count(*) FROM readings WHERE device_id = %s", (camera,))[0][0] == 0
    assert query(db_url, "SELECT count(*) FROM readings WHERE device_id = %s", (meter,))[0][0] == 180
    assert series(client, camera, "rssi", start, "1h")["points"] == before["points"], "rollups outlive raw rows"
    assert series(client, camera, "rssi", start, "5m")["points"] == []
    five = series(client, meter, "power", start, "5m")
    assert five["source"] == "raw" and len(five["points"]) == 36
    assert five["points"][0] == {"t": five["points"][0]["t"], "count": 5, "avg": 2.0, "min": 0.0, "max": 4.0}


def test_whole_partitions_past_every_retention_are_dropped(db_url: str) -> None:
    store = TelemetryStore(conninfo_of(db_url))
    try:
        old = datetime(2015, 3, 1, tzinfo=UTC)
        store.ensure_partitions("readings", [old])
        store.ensure_partitions("readings_hourly", [old])
    finally:
        store.close()
    with psycopg.connect(conninfo(db_url), autocommit=True) as conn:
        counts = expire(conn, datetime.now(UTC))
    assert counts["partitions"] == 2
    left = {r[0] for r in query(db_url, "SELECT relname FROM pg_class WHERE relname LIKE 'readings_%2015%'")}
    assert left == set()


def test_daily_buckets_start_at_midnight_of_the_zone_asked_for(db_url: str, client: TestClient) -> None:
    graph = build_graph(db_url)
    meter = add_device(db_url, graph, "电表", DeviceKind.ELECTRICITY_METER, None)
    start = hours_ago(72)
    store = TelemetryStore(conninfo_of(db_url))
    try:
        store.write_history([(meter, "energy", start + timedelta(hours=h), float(h), None) for h in range(48)])
    finally:
        store.close()
    response = client.get(
        f"/api/devices/{meter}/history",
        params={
            "quantity": "energy",
            "from": start.isoformat(),
            "to": (start + timedelta(hours=48)).isoformat(),
            "step": "1d",
            "tz": "Asia/Shanghai",
        },
    )
    points = response.json()["points"]
    assert all(datetime.fromisoformat(p["t"]).astimezone(UTC).hour == 16 for p in points), points
    assert sum(p["count"] for p in points) == 48
