"""docs/live.schema.json describes what a real session sends, both ways."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import jsonschema_rs

from realtime.live_client import LiveClient
from realtime.specs import Profile
from tests.alarms.live import sync
from tests.hub.conftest import Community, HubServer
from tests.hub.test_live import open_ticket, until_message
from tests.ingest.helpers import Publisher

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "live.schema.json").read_text())


def validator(name: str) -> Any:
    """Validate against one definition of the schema."""
    return jsonschema_rs.validator_for({**SCHEMA, "oneOf": None, "$ref": f"#/$defs/{name}"} | {"oneOf": [{}]})


def test_the_schema_refuses_what_the_hub_refuses() -> None:
    client = validator("client_message")
    assert client.is_valid({"type": "subscribe", "sub": "s1", "scope": "floor:3", "kinds": ["alarm"], "rate": 2})
    assert not client.is_valid({"type": "subscribe", "sub": "s1", "scope": "planet:3"})
    assert not client.is_valid({"type": "subscribe", "sub": "s1", "scope": "floor:3", "kinds": ["gossip"]})


@sync
async def test_a_real_session_matches_the_schema(
    server: HubServer, community: Community, profile: Profile, publisher: Publisher
) -> None:
    frames = jsonschema_rs.validator_for(SCHEMA)
    token = server.token("boss")
    seen: list[dict[str, Any]] = []
    async with LiveClient(server.ws, token) as live:
        live.subscribe(f"floor:{community.floors[1]}", ["telemetry", "status", "alarm", "ticket", "billing"])
        seen.append(await until_message(live, lambda m: m["type"] == "snapshot"))
        publisher.send(f"{profile.namespace}/gw/f1s0", json.dumps({"ts": int(time.time() * 1000), "temperature": 23.5}))
        seen.append(await until_message(live, lambda m: m.get("kind") == "telemetry"))
        await asyncio.to_thread(open_ticket, server, token, community.units[1], "水管爆裂")
        seen.append(await until_message(live, lambda m: m.get("kind") == "ticket"))
        live.subscribe("floor:999999", ["alarm"])
        seen.append(await until_message(live, lambda m: m["type"] == "error"))
        live.unsubscribe("s1")
        seen.append(await until_message(live, lambda m: m["type"] == "unsubscribed"))
    assert {m["type"] for m in seen} == {"snapshot", "event", "error", "unsubscribed"}
    for message in seen:
        errors = [e.message for e in frames.iter_errors(message)]
        assert not errors, f"{message['type']} does not match docs/live.schema.json: {errors[:3]}"
    assert frames.is_valid(seen[1:3]), "a batched frame is an array of messages"
