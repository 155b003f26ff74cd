"""Liveness, readiness and metrics: what a load balancer and Prometheus ask.

``/healthz`` answers as long as the process runs; ``/readyz`` proves the database answers (with
its PostGIS version) and the broker is connected, so an orchestrator routes traffic only to an
instance that can serve it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from twin.api.deps import get_principal
from twin.runtime import Runtime
from twin.services.system import accepts_connections
from twin.store.engine import postgis_version

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Say the process is alive."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Check the database and the broker, and answer 503 naming what is not ready."""
    runtime: Runtime = request.app.state.runtime
    checks: dict[str, Any] = {}
    try:
        version = await asyncio.to_thread(postgis_version, runtime.engine)
        checks["database"] = {"ok": True, "postgis": version}
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready", reported, not raised
        checks["database"] = {"ok": False, "error": str(exc).strip().splitlines()[0]}
    broker = runtime.broker
    connected = (
        runtime.broker_connected()
        if runtime.broker_connected
        else await asyncio.to_thread(accepts_connections, broker.host, broker.port)
    )
    checks["broker"] = {"ok": connected, "host": broker.host, "port": broker.port}
    ready = all(check["ok"] for check in checks.values())
    return JSONResponse({"status": "ready" if ready else "not ready", **checks}, status_code=200 if ready else 503)


@router.get("/metrics", dependencies=[Depends(get_principal)])
async def metrics(request: Request) -> Response:
    """Expose the process's counters in the Prometheus text format (scrape with an API key as bearer token)."""
    runtime: Runtime = request.app.state.runtime
    return Response(generate_latest(runtime.metrics), media_type=CONTENT_TYPE_LATEST)
