"""Processes of the live-hub benchmark: a paced publisher, the bare relay, and WebSocket clients.

Each runs in its own spawned process so that its CPU is its own. The bare relay is what the hub is
measured against: a paho subscriber that hands payloads to asyncio (one wake-up per batch, the
efficient way) and broadcasts each with ``websockets.broadcast``; no auth of its WebSocket
clients, no scopes, no state. At the broker it logs in as the twin, like the server's ingest, and
the publisher as the simulator (bench/logins.py).
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from multiprocessing.queues import Queue
from typing import Any

import orjson
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from bench.ingest_parts import publish_paced
from bench.logins import Login

PROFILE = """
[profile]
name = "benchhub"
namespace = "benchhub"

[[message]]
topic = "benchhub/{device}"
time = "t"
time_format = "epoch_s"

[[message.reading]]
path = "temperature"
quantity = "temperature"
unit = "°C"
"""


def publish(
    host: str, port: int, login: Login, devices: list[str], rate: float, seconds: float, done: Queue[int]
) -> None:
    """Publish one reading per message, round-robin over ``devices``, at ``rate`` per second (QoS 1)."""
    count = int(rate * seconds)

    def message(i: int) -> tuple[str, bytes]:
        body = orjson.dumps({"temperature": 20 + i % 100 / 10, "t": time.time()})
        return f"benchhub/{devices[i % len(devices)]}", body

    publish_paced(f"benchhub-pub-{os.getpid()}", host, port, login, count, rate, message)
    done.put(count)


def bare_relay(host: str, port: int, login: Login, ws_port: int, ready: Queue[int]) -> None:
    """Relay every message of ``benchhub/#`` to every connected WebSocket, until killed."""
    from websockets.asyncio.server import broadcast, serve

    async def main() -> None:
        loop = asyncio.get_running_loop()
        clients: set[Any] = set()
        lock = threading.Lock()
        batch: list[bytes] = []

        def flush() -> None:
            with lock:
                items, batch[:] = list(batch), []
            for payload in items:
                broadcast(clients, payload.decode())

        def on_message(_c: Any, _u: Any, message: paho.MQTTMessage) -> None:
            with lock:
                batch.append(bytes(message.payload))
                first = len(batch) == 1
            if first:
                loop.call_soon_threadsafe(flush)

        async def handler(ws: Any) -> None:
            clients.add(ws)
            try:
                await ws.wait_closed()
            finally:
                clients.discard(ws)

        client = login.apply(
            paho.Client(CallbackAPIVersion.VERSION2, client_id="benchhub-bare", protocol=MQTTProtocolVersion.MQTTv5)
        )
        client.on_message = on_message
        client.on_connect = lambda c, *_: c.subscribe("benchhub/#", qos=1)
        client.connect(host, port)
        client.loop_start()
        async with serve(handler, "127.0.0.1", ws_port, max_size=None):
            ready.put(os.getpid())
            await asyncio.Future()

    asyncio.run(main())


def clients(
    url: str,
    token: str | None,
    scopes: list[str],
    seconds: float,
    expected: int,
    stalled: int,
    ready: Queue[Any],
    out: Queue[Any],
) -> None:
    """Open one client per scope (``token`` None: the bare relay, no protocol); report counts and latencies.

    ``stalled`` more clients subscribe like the first and then never read again (the slow client).
    Runs until every client saw ``expected`` readings or ``seconds`` passed since the first one.
    """
    from bench.ws_reader import Reader

    async def one(scope: str, results: list[Any], go: asyncio.Event) -> None:
        ws = await Reader.open(url)
        try:
            if token is not None:
                await ws.send(orjson.dumps({"type": "auth", "token": token}).decode())
                await ws.recv()
                await ws.send(
                    orjson.dumps({"type": "subscribe", "sub": "b", "scope": scope, "kinds": ["telemetry"]}).decode()
                )
                await ws.recv()
            go.set()
            latencies: list[float] = []
            results.append(latencies)
            deadline = None
            while len(latencies) < expected:
                try:
                    raw = await asyncio.wait_for(ws.recv(), 1.0 if deadline else 60.0)
                except TimeoutError:
                    if deadline is not None and time.monotonic() > deadline:
                        return
                    continue
                now = time.time()
                deadline = deadline or time.monotonic() + seconds
                data = orjson.loads(raw)
                for m in data if isinstance(data, list) else [data]:
                    if token is None:
                        latencies.append((now - m["t"]) * 1000)
                    elif m.get("type") == "event":
                        latencies.append((now - m["data"]["time"]) * 1000)
                    elif m.get("type") == "ping":
                        await ws.send('{"type":"pong"}')
        finally:
            ws.close()

    async def stall(scope: str) -> None:
        ws = await Reader.open(url, rcvbuf=4096)
        await ws.send(orjson.dumps({"type": "auth", "token": token}).decode())
        await ws.recv()
        await ws.send(orjson.dumps({"type": "subscribe", "sub": "b", "scope": scope, "kinds": ["telemetry"]}).decode())
        await asyncio.sleep(seconds + 120)

    async def main() -> None:
        results: list[list[float]] = []
        gates = [asyncio.Event() for _ in scopes]
        tasks = [asyncio.create_task(one(s, results, g)) for s, g in zip(scopes, gates, strict=True)]
        stalls = [asyncio.create_task(stall(scopes[0])) for _ in range(stalled)]
        await asyncio.gather(*(g.wait() for g in gates))
        await asyncio.sleep(0.5)
        ready.put(True)
        await asyncio.gather(*tasks)
        for task in stalls:
            task.cancel()
        out.put({"counts": [len(r) for r in results], "latencies": [x for r in results for x in r]})

    asyncio.run(main())
