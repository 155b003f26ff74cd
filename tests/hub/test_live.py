"""The live hub through a real server: auth in-band, snapshot then deltas, scope isolation, resume."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from realtime.live_client import LiveClient, LiveRefused
from realtime.specs import Profile
from tests.alarms.live import sync
from tests.hub.conftest import Community, HubServer
from tests.ingest.helpers import Publisher


def publish(pub: Publisher, profile: Profile, device: str, **values: Any) -> None:
    """Publish one reading of a test sensor through the real broker."""
    payload = {"ts": int(time.time() * 1000), **values}
    pub.send(f"{profile.namespace}/gw/{device}", json.dumps(payload))


async def until_message(live: LiveClient, match: Any, limit: float = 15.0) -> dict[str, Any]:
    """Read messages until one satisfies ``match``; fail after ``limit`` seconds."""
    deadline = time.monotonic() + limit
    while True:
        left = deadline - time.monotonic()
        assert left > 0, "the expected message never came"
        message = await live.receive(timeout=left)
        if match(message):
            return message


def drain(live: LiveClient) -> list[dict[str, Any]]:
    """Take every message already received."""
    out = []
    while live.pending():
        out.append(live._queue.get_nowait())
    return out


@sync
async def test_first_message_must_authenticate(server: HubServer) -> None:
    async with connect(server.ws) as ws:
        await ws.send(json.dumps({"type": "subscribe", "sub": "s1", "scope": "site:1"}))
        reply = json.loads(await ws.recv())
        assert reply["type"] == "error" and reply["code"] == 401
        await ws.wait_closed()
        assert ws.close_code == 4401
    bad = LiveClient(server.ws, "not-a-token", reconnect=False)
    with pytest.raises(LiveRefused):
        async with bad:
            pass
    async with connect(f"{server.ws}?token={server.token('boss')}") as ws:
        await ws.send(json.dumps({"type": "ping"}))
        reply = json.loads(await ws.recv())
        assert reply["code"] == 401, "a token in the URL is not a credential"


@sync
async def test_snapshot_then_deltas_of_one_floor(
    server: HubServer, community: Community, profile: Profile, publisher: Publisher
) -> None:
    publish(publisher, profile, "f1s0", temperature=20.5)
    publish(publisher, profile, "f2s0", temperature=30.0)
    publisher.flush()
    await asyncio.sleep(1.5)
    async with LiveClient(server.ws, server.token("boss")) as live:
        live.subscribe(f"floor:{community.floors[1]}", ["telemetry", "status", "alarm"])
        snap = await until_message(live, lambda m: m["type"] == "snapshot")
        ids = {d["id"] for d in snap["devices"]}
        assert ids == {community.devices["f1s0"], community.devices["f1s1"]}
        s0 = next(d for d in snap["devices"] if d["id"] == community.devices["f1s0"])
        assert s0["state"]["temperature"]["value"] == 20.5
        assert s0["path"][-1] == f"device:{s0['id']}"
        assert snap["alarms"] == []
        publish(publisher, profile, "f2s1", temperature=31.0)
        publish(publisher, profile, "f1s1", temperature=22.25)
        event = await until_message(live, lambda m: m["type"] == "event" and m["kind"] == "telemetry")
        assert event["data"]["device_id"] == community.devices["f1s1"]
        assert event["data"]["value"] == 22.25 and event["data"]["quantity"] == "temperature"
        assert event["path"][:3] == [
            f"site:{community.site}",
            f"building:{community.building}",
            f"floor:{community.floors[1]}",
        ]
        assert event["seq"] > snap["seq"] and event["stream"] == snap["stream"]
        await asyncio.sleep(1.0)
        others = [m for m in drain(live) if m["type"] == "event" and m["kind"] == "telemetry"]
        assert all(m["data"]["device_id"] != community.devices["f2s1"] for m in others), "another floor's event leaked"


@sync
async def test_inspector_sees_only_the_granted_floor(
    server: HubServer, community: Community, profile: Profile, publisher: Publisher
) -> None:
    async with LiveClient(server.ws, server.token("walker")) as live:
        live.subscribe(f"building:{community.building}", ["telemetry", "billing"])
        snap = await until_message(live, lambda m: m["type"] == "snapshot")
        assert snap["denied"] == ["billing"] and snap["kinds"] == ["telemetry"]
        assert {d["id"] for d in snap["devices"]} == {community.devices["f1s0"], community.devices["f1s1"]}
        live.subscribe(f"floor:{community.floors[2]}", ["telemetry"])
        refused = await until_message(live, lambda m: m["type"] == "error")
        assert refused["code"] == 404 and refused["sub"] == "s2"
        for n in range(3):
            publish(publisher, profile, "f2s0", temperature=40.0 + n)
        publish(publisher, profile, "f1s0", temperature=21.0)
        event = await until_message(live, lambda m: m["type"] == "event")
        assert event["data"]["device_id"] == community.devices["f1s0"]
        await asyncio.sleep(1.0)
        assert not [
            m for m in drain(live) if m["type"] == "event" and m["data"]["device_id"] == community.devices["f2s0"]
        ]


def open_ticket(server: HubServer, token: str, place_id: int, title: str) -> int:
    """Open a repair ticket through the REST API."""
    response = httpx.post(
        f"{server.http}/api/tickets",
        json={
            "place_id": place_id,
            "category": "plumbing",
            "priority": "normal",
            "title": title,
            "description": "漏水",
        },
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    ticket_id: int = response.json()["id"]
    return ticket_id


@sync
async def test_resume_after_a_dropped_socket_misses_nothing(server: HubServer, community: Community) -> None:
    token = server.token("boss")
    unit = community.units[1]
    async with LiveClient(server.ws, token, backoff_s=(0.5, 0.5)) as live:
        live.subscribe(f"site:{community.site}", ["ticket"])
        snap = await until_message(live, lambda m: m["type"] == "snapshot")
        assert snap["tickets"] == []
        first = await asyncio.to_thread(open_ticket, server, token, unit, "厨房漏水")
        event = await until_message(live, lambda m: m["type"] == "event")
        assert event["data"]["id"] == first and event["kind"] == "ticket"
        socket = live.raw()
        assert socket is not None
        socket.transport.abort()  # the network drops; the client notices and reconnects by itself
        missed = [await asyncio.to_thread(open_ticket, server, token, unit, f"漏水 {n}") for n in range(3)]
        resumed = await until_message(live, lambda m: m["type"] in ("resumed", "snapshot"))
        assert resumed["type"] == "resumed" and resumed["stream"] == snap["stream"]
        seen = [await until_message(live, lambda m: m["type"] == "event") for _ in missed]
        assert [m["data"]["id"] for m in seen] == missed
        seqs = [event["seq"], *(m["seq"] for m in seen)]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "a gap in the replayed stream"
        assert live.connects == 2


@sync
async def test_clients_reconnect_after_a_server_restart(server: HubServer, community: Community) -> None:
    token = server.token("boss")
    async with LiveClient(server.ws, token, backoff_s=(0.3, 1.0)) as live:
        live.subscribe(f"floor:{community.floors[1]}", ["ticket"])
        first = await until_message(live, lambda m: m["type"] == "snapshot")
        await asyncio.to_thread(server.stop)
        await asyncio.to_thread(server.start)
        again = await until_message(live, lambda m: m["type"] in ("snapshot", "resumed"), limit=60)
        assert again["type"] == "snapshot", "a new server run cannot replay the old one's stream"
        assert again["stream"] != first["stream"]
        ticket = await asyncio.to_thread(open_ticket, server, token, community.units[1], "门禁故障")
        event = await until_message(live, lambda m: m["type"] == "event")
        assert event["data"]["id"] == ticket


@sync
async def test_malformed_messages_are_answered_and_survived(server: HubServer, community: Community) -> None:
    async with LiveClient(server.ws, server.token("boss")) as live:
        socket = live.raw()
        assert socket is not None
        for bad in ["{", "[]", json.dumps({"type": "subscribe", "sub": "x", "scope": "planet:1"}),
                    json.dumps({"type": "subscribe", "sub": "y", "scope": "site:1", "kinds": ["gossip"]}),
                    json.dumps({"type": "dance"})]:  # fmt: skip
            await socket.send(bad)
            reply = await until_message(live, lambda m: m["type"] == "error")
            assert reply["code"] == 422, reply
        live.subscribe(f"site:{community.site}", ["alarm"])
        snap = await until_message(live, lambda m: m["type"] == "snapshot")
        assert snap["alarms"] == []
