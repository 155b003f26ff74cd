"""A slow client gets the latest values, never slows the others, and stays bounded; limits hold."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import time

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedError

from realtime.live_client import LiveClient, LiveRefused
from realtime.specs import Profile
from tests.alarms.live import sync
from tests.hub.conftest import Community, ServerFactory
from tests.hub.test_live import until_message
from tests.ingest.helpers import Publisher

DEVICES = ("f1s0", "f1s1", "f2s0", "f2s1")
ROUNDS = 12000
LAST = (ROUNDS - 1) / 300


def metric(text: str, name: str) -> float:
    """Read one unlabelled sample of a Prometheus text page."""
    match = re.search(rf"^{name}(?:_total)? (\S+)$", text, re.M)
    assert match is not None, f"{name} missing from /metrics"
    return float(match.group(1))


def tiny_socket(port: int) -> socket.socket:
    """A TCP socket with a 4 KiB receive buffer, so a client that stops reading is felt at once."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.setblocking(False)
    return sock


@sync
async def test_slow_client_gets_latest_values_and_others_everything(
    make_server: ServerFactory, community: Community, profile: Profile, publisher: Publisher
) -> None:
    # The slow client reads nothing while the burst goes by, which takes longer than a minute on a
    # loaded machine: neither the hub's idle limit nor the client library's own keepalive (whose
    # pongs sit unread behind the paused transport) may close it for that.
    server = make_server(TWIN_HUB_IDLE_TIMEOUT_S="600")
    token = server.token("boss")
    site = f"site:{community.site}"
    # Uncompressed: with permessage-deflate these repetitive readings shrink tenfold, and the socket
    # buffers of both ends would take the whole burst before the hub's queue ever backed up.
    async with (
        LiveClient(server.ws, token) as fast,
        connect(server.ws, sock=tiny_socket(server.port), max_queue=1, compression=None, ping_interval=None) as slow,
    ):
        await slow.send(json.dumps({"type": "auth", "token": token}))
        assert json.loads(await slow.recv())["type"] == "ready"
        await slow.send(json.dumps({"type": "subscribe", "sub": "slow", "scope": site, "kinds": ["telemetry"]}))
        assert json.loads(await slow.recv())["type"] == "snapshot"
        fast.subscribe(site, ["telemetry"])
        await until_message(fast, lambda m: m["type"] == "snapshot")
        base = int(time.time() * 1000) - ROUNDS
        for n in range(ROUNDS):
            for device in DEVICES:
                publisher.send(f"{profile.namespace}/gw/{device}", json.dumps({"ts": base + n, "temperature": n / 300}))
        await asyncio.to_thread(publisher.flush)
        last: dict[int, float] = {}
        deadline = time.monotonic() + 120
        while len([v for v in last.values() if v == LAST]) < len(DEVICES):
            assert time.monotonic() < deadline, f"the fast client stopped at {last}"
            try:
                message = await fast.receive(timeout=30)
            except TimeoutError:
                page = await asyncio.to_thread(server.metrics, token)
                raise AssertionError(f"the fast client stalled at {last}; {page}") from None
            if message["type"] == "event":
                last[message["data"]["device_id"]] = message["data"]["value"]
        page = await asyncio.to_thread(server.metrics, token)
        assert metric(page, "twin_hub_queued_bytes") < 1 << 20, "the slow client's queue is not bounded"
        received: dict[int, float] = {}
        count = 0
        while len([v for v in received.values() if v == LAST]) < len(DEVICES):
            frame = json.loads(await asyncio.wait_for(slow.recv(), 30))
            for message in frame if isinstance(frame, list) else [frame]:
                if message["type"] == "event":
                    count += 1
                    received[message["data"]["device_id"]] = message["data"]["value"]
        # The socket buffers of both ends absorb several MiB before the hub's queue backs up at all.
        assert count < ROUNDS * len(DEVICES), "nothing was coalesced for the slow client"
        page = await asyncio.to_thread(server.metrics, token)
        assert metric(page, "twin_hub_coalesced") > 0


@sync
async def test_connections_per_user_are_limited(make_server: ServerFactory) -> None:
    server = make_server(TWIN_HUB_MAX_CONNECTIONS_PER_USER="2")
    token = server.token("boss")
    async with LiveClient(server.ws, token), LiveClient(server.ws, token):
        third = LiveClient(server.ws, token, reconnect=False)
        third.start()
        try:
            await third.wait_ready()
            raise AssertionError("a third connection was accepted")
        except LiveRefused:
            assert third.close_code == 4429
    async with LiveClient(server.ws, token):
        pass  # the two closed sessions gave their places back


@sync
async def test_a_silent_client_is_closed(make_server: ServerFactory) -> None:
    server = make_server(TWIN_HUB_HEARTBEAT_S="0.2", TWIN_HUB_IDLE_TIMEOUT_S="1")
    async with connect(server.ws) as ws:
        await ws.send(json.dumps({"type": "auth", "token": server.token("boss")}))
        pings = 0
        started = time.monotonic()
        with contextlib.suppress(ConnectionClosedError):
            async for raw in ws:
                pings += json.loads(raw)["type"] == "ping"
        assert ws.close_code == 4408
        assert pings >= 2 and time.monotonic() - started < 10
