"""Request metrics for Prometheus: counts and latency per route template, never per raw URL.

Labelling by the route template (``/api/devices/{device_id}``) keeps the series bounded however
many ids clients ask for.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from prometheus_client import CollectorRegistry, Counter, Histogram


def install_request_metrics(app: FastAPI, registry: CollectorRegistry) -> None:
    """Count every HTTP request and time it, labelled by method, route and status."""
    requests = Counter("twin_http_requests", "HTTP requests served", ["method", "route", "status"], registry=registry)
    latency = Histogram(
        "twin_http_request_seconds",
        "HTTP request latency",
        ["method", "route"],
        registry=registry,
        buckets=(0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
    )

    @app.middleware("http")
    async def measure(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        start = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        template = getattr(route, "path", "unmatched")
        requests.labels(request.method, template, str(response.status_code)).inc()
        latency.labels(request.method, template).observe(time.perf_counter() - start)
        return response
