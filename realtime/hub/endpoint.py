"""The ``/ws`` route and the hub's start: what the app factory includes and calls.

The route is not behind the API's authentication dependency: a browser cannot set headers on a
WebSocket, and a token in the URL would land in access logs, so the session authenticates with
its first message (``realtime.hub.connection``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from fastapi import APIRouter, WebSocket

from realtime.hub.connection import Connection
from realtime.hub.hub import Hub, HubConfig
from realtime.hub.metrics import HubCollector
from realtime.hub.peers import Peers
from realtime.ingest import Ingest
from twin.runtime import Runtime
from twin.telemetry.live import live_of

router = APIRouter()


@router.websocket("/ws")
async def live_socket(websocket: WebSocket) -> None:
    """Serve one live session (see docs/live.md)."""
    state = websocket.app.state
    runtime: Runtime = state.runtime
    connection = Connection(websocket, state.hub, runtime.engine, runtime.signing_key, live_of(state))
    await connection.serve()


def hub_config(runtime: Runtime) -> HubConfig:
    """Read the hub's bounds from the settings."""
    s = runtime.settings
    return HubConfig(
        ring_events=s.hub_ring_events,
        ring_age_s=s.hub_ring_age_s,
        max_queue_bytes=s.hub_max_queue_mb << 20,
        heartbeat_s=s.hub_heartbeat_s,
        idle_timeout_s=s.hub_idle_timeout_s,
        max_connections_per_user=s.hub_max_connections_per_user,
    )


class RunningHub:
    """A hub wired to this process's events, its ingest (if any) and its peers (if asked)."""

    def __init__(self, hub: Hub, detach: list[Callable[[], None]], peers: Peers | None) -> None:
        self.hub = hub
        self._detach = detach
        self.peers = peers

    def stop(self) -> None:
        """Stop taking events and leave the broker."""
        for detach in self._detach:
            detach()
        if self.peers is not None:
            self.peers.stop()


def start_hub(runtime: Runtime, ingest: Ingest | None) -> RunningHub:
    """Start the hub on the running loop: registry events, the ingest's readings, the peer relay."""
    hub = Hub(hub_config(runtime))
    device_of = (lambda i: ingest.bindings.table.devices.get(i)) if ingest is not None else None
    hub.attach(asyncio.get_running_loop(), device_of)
    collector = HubCollector(hub)
    runtime.metrics.register(collector)
    detach = [runtime.events.subscribe(hub.registry), lambda: runtime.metrics.unregister(collector)]
    if ingest is not None:
        detach.append(ingest.state.subscribe(hub.readings))
    peers = None
    if runtime.settings.hub_peers:
        peers = Peers(hub, runtime.broker, runtime.settings.hub_peers_topic)
        peers.start()
    return RunningHub(hub, detach, peers)
