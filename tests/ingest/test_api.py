"""The telemetry API on a server whose lifespan runs the ingest: discover, bind with one call, read back."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from fastapi.testclient import TestClient

from realtime.history import TelemetryStore, conninfo_of
from realtime.unbound import Sighting, address_hint
from tests.api_fixtures import MakeUser, login
from tests.conftest import BrokerInfo
from tests.ingest.helpers import Publisher, add_device, build_graph, unique, write_profile
from twin.app import create_app
from twin.auth.roles import Role
from twin.catalogue import DeviceKind
from twin.settings import Settings


def poll(fetch: Callable[[], Any], accept: Callable[[Any], bool], message: str, limit: float = 30.0) -> Any:
    """Call ``fetch`` until ``accept`` likes its answer."""
    deadline = time.monotonic() + limit
    while True:
        value = fetch()
        if accept(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{message}: last answer {value!r}")
        time.sleep(0.1)


def test_discover_bind_and_read_back_through_the_api(
    db_url: str, mqtt_broker: BrokerInfo, tmp_path: Path, make_user: MakeUser
) -> None:
    profile = write_profile(tmp_path)
    graph = build_graph(db_url)
    make_user("root", grants=[(Role.ADMIN, None, None)])
    settings = Settings(
        home=tmp_path / "var",
        mqtt_url=mqtt_broker.url,
        web_dist=tmp_path / "dist",
        ingest=True,
        ingest_profiles=[Path(profile.source)],
        ingest_client_id=unique("ingest"),
    )
    topic = f"{profile.name}/gw1/3-2-1801_temp"
    publisher = Publisher(mqtt_broker)
    try:
        with TestClient(create_app(settings, db_url=db_url)) as client:
            client.headers.update(login(client, "root"))
            poll(lambda: client.get("/readyz").json()["broker"]["ok"], bool, "the ingest never connected")
            time.sleep(0.3)
            publisher.send(topic, orjson.dumps({"temperature": 21.5}))
            items = poll(
                lambda: client.get("/api/ingest/unbound").json()["items"],
                lambda items: len(items) == 1,
                "the unknown identity was not listed",
            )
            [found] = items
            assert found["value"] == "3-2-1801_temp" and found["namespace"] == profile.namespace
            assert found["latest"]["temperature"]["value"] == 21.5
            assert [s["place_id"] for s in found["suggestions"]] == [graph.unit]

            bound = client.post(
                "/api/ingest/unbound/bind",
                json={
                    "namespace": found["namespace"],
                    "value": found["value"],
                    "place_id": found["suggestions"][0]["place_id"],
                    "kind": "env_sensor",
                },
            )
            assert bound.status_code == 200, bound.text
            device = bound.json()
            assert {"namespace": profile.namespace, "value": "3-2-1801_temp"} in device["identifiers"]
            assert client.get("/api/ingest/unbound").json()["items"] == []

            publisher.send(topic, orjson.dumps({"temperature": 22.5, "humidity": 41}))
            state = poll(
                lambda: client.get(f"/api/devices/{device['id']}/state").json(),
                lambda s: (
                    [(v["quantity"], v["value"]) for v in s["values"]] == [("humidity", 41), ("temperature", 22.5)]
                ),
                "readings did not flow to the bound device",
            )
            assert state["health"] == "online" and state["last_seen"] is not None
            history = poll(
                lambda: client.get(f"/api/devices/{device['id']}/history", params={"quantity": "temperature"}).json(),
                lambda h: h["points"],
                "the reading did not reach history",
            )
            assert history["points"][0]["avg"] == 22.5 and history["points"][0]["count"] == 1

            publisher.send(f"{profile.name}/gw1/x", b"{not json")
            rejects = poll(
                lambda: client.get("/api/ingest/rejects").json(),
                lambda r: "malformed_json" in r["samples"].get(profile.name, {}),
                "the reject was not sampled",
            )
            [sample] = rejects["samples"][profile.name]["malformed_json"]
            assert sample["topic"] == f"{profile.name}/gw1/x" and sample["payload"] == "{not json"
            assert rejects["profiles"][profile.name]["rejects"] == {"malformed_json": 1}

            counts = client.get("/api/ingest/status").json()["counts"]
            assert counts["received"] == 3 and counts["unknown"] == 1 and counts["rejected"] == 1
            metrics = client.get("/metrics").text
            assert "twin_ingest_messages_received_total 3.0" in metrics
            labels = f'profile="{profile.name}",reason="malformed_json"'
            assert f"twin_ingest_profile_rejects_total{{{labels}}} 1.0" in metrics
    finally:
        publisher.close()


def test_history_and_state_are_scoped_and_binding_needs_graph_write(
    db_url: str, client: TestClient, make_user: MakeUser
) -> None:
    graph = build_graph(db_url)
    meter = add_device(db_url, graph, "电表", DeviceKind.ELECTRICITY_METER, None)
    other_site = client.post("/api/sites", json={"name": "别处", "origin_lat": 25.0, "origin_lon": 102.0}).json()
    make_user("viewer", grants=[(Role.VIEWER, other_site["id"], None)])
    client.headers.update(login(client, "viewer"))
    assert client.get(f"/api/devices/{meter}/state").status_code == 404
    assert client.get(f"/api/devices/{meter}/history", params={"quantity": "energy"}).status_code == 404
    assert client.get("/api/ingest/unbound").status_code == 403
    bind = {"namespace": "x", "value": "y", "device_id": meter}
    assert client.post("/api/ingest/unbound/bind", json=bind).status_code == 403


def test_a_bind_to_an_impossible_id_is_refused_naming_the_field(client: TestClient) -> None:
    """Found by the API fuzzer: a negative place id reached the device model and answered 500."""
    for field in ("place_id", "device_id"):
        bind = {"namespace": "create", "value": "create", "kind": "aed", field: -180}
        answer = client.post("/api/ingest/unbound/bind", json=bind)
        assert answer.status_code == 422, answer.text
        assert field in answer.text


def test_history_parameters_are_checked_with_the_field_named(db_url: str, client: TestClient) -> None:
    graph = build_graph(db_url)
    meter = add_device(db_url, graph, "电表", DeviceKind.ELECTRICITY_METER, None)
    url = f"/api/devices/{meter}/history"
    now = datetime.now(UTC)

    def field(params: dict[str, Any]) -> str:
        response = client.get(url, params={"quantity": "energy", **params})
        assert response.status_code == 422, response.text
        return str(response.json()["detail"][0]["loc"][-1])

    assert field({"step": "5 fortnights"}) == "step"
    assert field({"tz": "Mars/Olympus"}) == "tz"
    assert field({"from": "2026-05-09T10:00:00"}) == "from"
    assert field({"from": now.isoformat(), "to": (now - timedelta(hours=1)).isoformat()}) == "from"
    assert field({"from": (now - timedelta(days=365)).isoformat(), "step": "1s"}) == "step"
    ok = client.get(url, params={"quantity": "energy", "tz": "Asia/Shanghai", "step": "1d"})
    assert ok.status_code == 200 and ok.json()["points"] == [] and ok.json()["step_s"] == 86400


def test_suggestions_name_the_unit_or_floor_an_identity_spells(db_url: str, client: TestClient) -> None:
    graph = build_graph(db_url)
    meter = add_device(db_url, graph, "电表", DeviceKind.ELECTRICITY_METER, None)
    now = datetime.now(UTC)
    store = TelemetryStore(conninfo_of(db_url))
    try:
        store.write_state(
            [],
            [],
            [
                Sighting(
                    "acme", value, "acme", f"acme/{value}", now, now + timedelta(seconds=i), 1, {}, address_hint(value)
                )
                for i, value in enumerate(["3栋2单元1801室-water", "b3_f18_meter", "pump-7"])
            ],
        )
    finally:
        store.close()
    items = {i["value"]: i for i in client.get("/api/ingest/unbound").json()["items"]}
    assert [s["place_id"] for s in items["3栋2单元1801室-water"]["suggestions"]] == [graph.unit]
    assert [(s["place_id"], s["kind"]) for s in items["b3_f18_meter"]["suggestions"]] == [(graph.floor, "floor")]
    assert items["pump-7"]["suggestions"] == [] and items["pump-7"]["hint"] is None
    assert list(items) == ["pump-7", "b3_f18_meter", "3栋2单元1801室-water"], "most recently heard first"

    bound = client.post(
        "/api/ingest/unbound/bind", json={"namespace": "acme", "value": "b3_f18_meter", "device_id": meter}
    )
    assert bound.status_code == 200 and {"namespace": "acme", "value": "b3_f18_meter"} in bound.json()["identifiers"]
    again = client.post(
        "/api/ingest/unbound/bind", json={"namespace": "acme", "value": "b3_f18_meter", "device_id": meter}
    )
    assert again.status_code == 200, "binding the same identity to the same device again changes nothing"
    other = add_device(db_url, graph, "另一个", DeviceKind.WATER_METER, None)
    clash = client.post(
        "/api/ingest/unbound/bind", json={"namespace": "acme", "value": "b3_f18_meter", "device_id": other}
    )
    assert clash.status_code == 422 and "already names" in clash.text
    neither = client.post("/api/ingest/unbound/bind", json={"namespace": "acme", "value": "pump-7"})
    assert neither.status_code == 422
    odd = client.post(
        "/api/ingest/unbound/bind",
        json={"namespace": "Vendor X", "value": "pump-7", "place_id": graph.unit, "kind": "water_pump"},
    )
    assert odd.status_code == 200
    assert {"namespace": "mqtt", "value": "Vendor X/pump-7"} in odd.json()["identifiers"]
    audit = client.get("/api/audit", params={"object_kind": "device", "object_id": meter})
    assert audit.status_code == 200 and "device.bind" in audit.text
