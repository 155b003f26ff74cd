"""The app factory: the composition root that wires the store, the API, the live path and the web view.

Only this module and the CLI import the other packages (bim, gis, realtime); the rest of ``twin``
knows them through the interfaces it declares.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from bim.store import IfcImporter
from gis.store import GisImporter
from realtime.hub.endpoint import router as live_router
from realtime.hub.endpoint import start_hub
from realtime.rules.load import vocabulary as alarm_vocabulary
from realtime.rules.setup import start_rules
from realtime.setup import start_ingest
from twin import __version__
from twin.alarms.notify import dispatcher_from
from twin.api import (
    access_log,
    admin,
    alarms,
    assets,
    auth,
    billing,
    catalogue,
    devices,
    emergency,
    floor_layers,
    health,
    imports,
    inspections,
    layers,
    navigation,
    places,
    residents,
    sessions,
    telemetry,
    throttles,
    tickets,
    view,
)
from twin.api.deps import get_principal
from twin.api.docs import install_docs
from twin.api.errors import install_error_handlers
from twin.api.headers import SecurityHeaders
from twin.api.limits import BodyLimit
from twin.api.proxies import TrustedProxies, networks
from twin.api.unicode import ValidUnicode
from twin.auth.principal_cache import SecurityListener
from twin.imports import ImporterRegistry, ImportRunner
from twin.imports.assets import assets_root
from twin.metrics import RequestMetrics
from twin.runtime import Runtime
from twin.services.endpoints import broker_address, database_url
from twin.settings import Settings, get_settings
from twin.store.engine import check_schema, make_engine

PROTECTED_ROUTERS = [
    devices.router,
    places.router,
    navigation.router,
    catalogue.router,
    auth.me_router,
    admin.router,
    residents.router,
    telemetry.router,
    imports.router,
    layers.router,
    assets.router,
    view.router,
    floor_layers.router,
    tickets.router,
    billing.router,
    inspections.router,
    alarms.router,
    sessions.router,
    throttles.router,
    emergency.router,
]
"""Every API router but login: each is included behind authentication, whatever its routes declare.

In the order a request's path is tried against them, before the few public routes (health, login,
the live socket): FastAPI matches route by route, twice per router, so the hot lists come first
(the device list, units by address and a subtree reached their endpoint 80-110 µs sooner).
"""

PAGES = {"/": "index.html", "/wall": "wall.html", "/inspect": "inspect.html", "/respond": "respond.html"}

NOT_BUILT = """<!doctype html><meta charset="utf-8"><title>孪生社区</title>
<p>前端尚未构建 / The web view is not built: run <code>make web</code>.</p>"""


def create_app(settings: Settings | None = None, *, db_url: str | None = None) -> FastAPI:
    """Build the server for one database; the schema must be current or the app refuses to start."""
    settings = settings or get_settings()
    url = db_url or database_url(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        check_schema(url)
        access_log.install()  # here, not earlier: the server configures its loggers before it starts the app
        security = SecurityListener(runtime.engine, runtime.principals)
        security.start()
        app.state.notify = dispatcher_from(settings)
        app.state.telemetry = await start_ingest(runtime, url) if settings.ingest else None
        app.state.rules = None
        if app.state.telemetry is not None:
            app.state.rules = await start_rules(app.state.telemetry, runtime.engine, settings.scenes, runtime.events)
        if app.state.notify is not None:
            app.state.notify.attach(runtime.events)
        live_hub = start_hub(runtime, app.state.telemetry)
        app.state.hub = live_hub.hub
        try:
            yield
        finally:
            live_hub.stop()
            if app.state.rules is not None:
                await app.state.rules.stop()
            if app.state.notify is not None:
                app.state.notify.close()
            if app.state.telemetry is not None:
                await app.state.telemetry.stop()
            app.state.imports.close()
            security.stop()
            await runtime.reader.close()
            runtime.engine.dispose()

    app = FastAPI(title="Community Twin", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None)
    runtime = Runtime(settings=settings, engine=make_engine(url), broker=broker_address(settings))
    app.state.runtime = runtime
    app.state.alarm_vocabulary = alarm_vocabulary()
    importers = ImporterRegistry([IfcImporter(), GisImporter()])
    app.state.imports = ImportRunner(runtime.engine, runtime.events, importers, assets_root(settings.home))
    install_error_handlers(app)
    app.add_middleware(RequestMetrics, registry=runtime.metrics)
    app.add_middleware(ValidUnicode)  # inside BodyLimit: it reads a body only once that is bounded
    for router in PROTECTED_ROUTERS:
        app.include_router(router, dependencies=[Depends(get_principal)])
    app.include_router(health.router)
    app.include_router(auth.router)
    app.include_router(live_router)
    app.add_middleware(BodyLimit, max_body=settings.max_body_bytes, max_upload=settings.max_upload_bytes)
    if settings.trusted_proxies:
        app.add_middleware(TrustedProxies, trusted=networks(settings.trusted_proxies))
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=False,
            allow_methods=["*"],
            allow_headers=["authorization", "content-type", "x-api-key"],
        )
    app.add_middleware(SecurityHeaders)  # outermost: every answer carries them, a 413 or a CORS refusal too
    install_docs(app)
    _mount_web(app, settings.web_dist)
    return app


def _mount_web(app: FastAPI, dist: Path) -> None:
    """Serve the built front end: one HTML page per mode, hashed assets cached for a long time."""
    assets = dist / "assets"
    if assets.is_dir():
        app.mount("/assets", StaticFiles(directory=assets), name="assets")
    for route, page in PAGES.items():
        app.add_api_route(
            route, _page_handler(dist / page), include_in_schema=False, methods=["GET"], response_model=None
        )
    # The pages name no icon; a browser asks for one anyway, and a 404 would be an error in its console.
    app.add_api_route("/favicon.ico", _no_icon, include_in_schema=False, methods=["GET"], response_model=None)


async def _no_icon() -> Response:
    return Response(status_code=204, headers={"Cache-Control": "max-age=86400"})


def _page_handler(path: Path) -> Callable[[], Awaitable[Response]]:
    async def page() -> Response:
        if path.is_file():
            return FileResponse(path, headers={"Cache-Control": "no-cache"})
        return HTMLResponse(NOT_BUILT, status_code=503)

    return page
