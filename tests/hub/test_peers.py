"""Several server instances: events reach clients on any of them through the broker."""

from __future__ import annotations

import asyncio
import json
import time

import httpx

from realtime.live_client import LiveClient
from realtime.specs import Profile
from tests.alarms.live import sync
from tests.hub.conftest import Community, ServerFactory
from tests.hub.test_live import open_ticket, until_message
from tests.ingest.helpers import Publisher, unique


@sync
async def test_events_cross_instances_through_the_broker(
    make_server: ServerFactory, community: Community, profile: Profile, publisher: Publisher
) -> None:
    topic = unique("hubtest")
    ingesting = make_server(TWIN_HUB_PEERS="true", TWIN_HUB_PEERS_TOPIC=topic)
    serving = make_server(TWIN_HUB_PEERS="true", TWIN_HUB_PEERS_TOPIC=topic, TWIN_INGEST="false")
    token = serving.token("boss")
    async with LiveClient(serving.ws, token) as live:
        live.subscribe(f"floor:{community.floors[1]}", ["telemetry", "ticket"])
        await until_message(live, lambda m: m["type"] == "snapshot")
        await asyncio.sleep(0.5)
        publisher.send(f"{profile.namespace}/gw/f1s0", json.dumps({"ts": int(time.time() * 1000), "temperature": 19.5}))
        event = await until_message(live, lambda m: m["type"] == "event" and m["kind"] == "telemetry")
        assert event["data"] == {**event["data"], "device_id": community.devices["f1s0"], "value": 19.5}
        ticket = await asyncio.to_thread(open_ticket, ingesting, ingesting.token("boss"), community.units[1], "灯坏了")
        event = await until_message(live, lambda m: m["type"] == "event" and m["kind"] == "ticket")
        assert event["data"]["id"] == ticket
        local = await asyncio.to_thread(open_ticket, serving, token, community.units[1], "电梯异响")
        event = await until_message(live, lambda m: m["type"] == "event" and m["kind"] == "ticket")
        assert event["data"]["id"] == local
        await asyncio.sleep(1.0)
        again = [m for m in live._queue._queue if m.get("kind") == "ticket"]  # type: ignore[attr-defined]
        assert again == [], "an instance heard its own event back from the broker"
        status = httpx.get(f"{serving.http}/readyz", timeout=10)
        assert status.status_code == 200
