"""The ``twin`` command line: services, database, settings, the server and the demo.

A composition root like the app factory. Every failure a person can act on is printed as one
line with its fix, never as a traceback.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from realtime.cli import ingest_app
from twin.cli_admin import apikey_app, audit_app, ensure_first_admin, user_app
from twin.cli_broker import device_app
from twin.cli_imports import add_import_commands
from twin.cli_operations import billing_app, inspections_app, tickets_app
from twin.cli_scenes import SceneTools, add_scene_commands, load_scene_folder
from twin.errors import TwinError
from twin.imports import ImporterRegistry
from twin.services.endpoints import (
    app_role,
    database_url,
    embedded_broker,
    embedded_cluster,
    owner_database_url,
    write_record,
)
from twin.settings import Settings, get_settings

SERVER_OPTIONS: dict[str, Any] = {
    "ws": "websockets",
    "http": "httptools",
    "loop": "uvloop",
    "proxy_headers": False,
    "server_header": False,
}
"""How uvicorn serves the twin, named so a benchmark serves it the same way.

uvloop and httptools, not the pure-Python defaults: h11's parsing alone was a tenth of the event
loop's time, and a bare request took 2.4-3 ms instead of 0.7. Named, not "auto", so a missing
package is an error rather than a silently slower server. No ``server: uvicorn`` banner: it only
tells an attacker which software to look up.
"""

app = typer.Typer(help="孪生社区 · Community twin server.", no_args_is_help=True, pretty_exceptions_enable=False)
services_app = typer.Typer(help="The embedded PostGIS cluster and Mosquitto broker under var/.", no_args_is_help=True)
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
config_app = typer.Typer(help="The effective settings.", no_args_is_help=True)
app.add_typer(services_app, name="services")
app.add_typer(db_app, name="db")
app.add_typer(config_app, name="config")
app.add_typer(user_app, name="user")
app.add_typer(apikey_app, name="apikey")
app.add_typer(audit_app, name="audit")
app.add_typer(billing_app, name="billing")
app.add_typer(tickets_app, name="tickets")
app.add_typer(inspections_app, name="inspections")
app.add_typer(ingest_app, name="ingest")
app.add_typer(device_app, name="device")
console = Console()


@services_app.command("start")
def services_start() -> None:
    """Start the embedded database and broker (those not replaced by external URLs)."""
    settings = get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    if settings.embedded_database:
        with console.status("starting PostgreSQL + PostGIS…"):
            embedded_cluster(settings).start()
        console.print(f"[green]✓[/] PostgreSQL + PostGIS on 127.0.0.1:{settings.pg_port}")
    if settings.embedded_broker:
        embedded_broker(settings).start()
        console.print(f"[green]✓[/] Mosquitto on 127.0.0.1:{settings.mqtt_port} (no anonymous clients)")
    write_record(settings)


@services_app.command("stop")
def services_stop() -> None:
    """Stop the embedded database and broker cleanly; their data stays under var/."""
    settings = get_settings()
    embedded_broker(settings).stop()
    embedded_cluster(settings).stop()
    console.print("[green]✓[/] embedded services stopped")


@services_app.command("status")
def services_status(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Report whether each embedded service runs and answers; exit 1 when one does not."""
    settings = get_settings()
    rows = []
    if settings.embedded_database:
        rows.append(embedded_cluster(settings).status())
    if settings.embedded_broker:
        rows.append(embedded_broker(settings).status())
    if as_json:
        print(json.dumps(rows, indent=2))
    else:
        table = Table("service", "port", "running", "healthy", "detail")
        for row in rows:
            detail = str(row.get("postgis") or row.get("error") or "")
            table.add_row(str(row["service"]), str(row["port"]), _mark(row["running"]), _mark(row["healthy"]), detail)
        console.print(table)
    if not all(row["healthy"] for row in rows):
        raise typer.Exit(1)


def _mark(value: object) -> str:
    return "[green]yes[/]" if value else "[red]no[/]"


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the schema this code needs."""
    from twin.store.engine import schema_state, upgrade

    settings = get_settings()
    url = owner_database_url(settings)
    role = app_role(settings)
    upgrade(url, role)
    granted = f", rights granted to {role}" if role else ""
    console.print(f"[green]✓[/] database schema at {', '.join(sorted(schema_state(url)[0]))}{granted}")


@db_app.command("status")
def db_status() -> None:
    """Show the database's schema revision against the code's."""
    from twin.store.engine import schema_state

    current, heads = schema_state(database_url(get_settings()))
    console.print(f"database: {', '.join(sorted(current)) or 'empty'} · code: {', '.join(sorted(heads))}")
    if current != heads:
        console.print("run [bold]twin db upgrade[/]")
        raise typer.Exit(1)


@config_app.command("show")
def config_show() -> None:
    """Print the effective settings, secrets masked."""
    for key, value in get_settings().masked().items():
        console.print(f"{key} = {value!r}")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
) -> None:
    """Run the server against the configured (or embedded) database and broker."""
    run_server(get_settings(), host, port)


def run_server(settings: Settings, host: str | None, port: int | None) -> None:
    """Check the schema and the port, then serve until interrupted."""
    import uvicorn

    from twin.app import create_app
    from twin.services.system import port_is_free
    from twin.store.engine import check_schema

    host, port = host or settings.host, port or settings.port
    check_schema(database_url(settings))
    if not port_is_free(host, port):
        raise TwinError(f"port {port} on {host} is already taken", "stop the other server or pass --port")
    tls = settings.tls_certfile is not None
    if tls != (settings.tls_keyfile is not None):
        raise TwinError("TLS needs both TWIN_TLS_CERTFILE and TWIN_TLS_KEYFILE")
    console.print(f"[bold green]twin server: {'https' if tls else 'http'}://{host}:{port}[/]")
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level="info",
        **SERVER_OPTIONS,
        ssl_certfile=settings.tls_certfile,
        ssl_keyfile=settings.tls_keyfile,
    )


@app.command()
def demo(
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    scene: Annotated[Path, typer.Option(help="The scene to load and simulate.")] = Path("scenes/demo"),
    simulate: Annotated[bool, typer.Option(help="Run the telemetry simulator beside the server.")] = True,
) -> None:
    """Run the whole system on its embedded defaults: services, schema, demo scene, simulator and server."""
    services_start()
    db_upgrade()
    ensure_first_admin()
    load_scene_folder(scene, _scene_tools)
    settings = get_settings().model_copy(update={"ingest": True, "scenes": [scene]})
    simulator = _start_simulator(settings, scene) if simulate else None
    try:
        run_server(settings, None, port)
    finally:
        if simulator is not None:
            simulator.terminate()
            simulator.wait(timeout=30)


def _start_simulator(settings: Settings, scene: Path) -> subprocess.Popen[bytes]:
    """Start the simulator in its own process, logging to home/simulator.log."""
    log = settings.home / "simulator.log"
    console.print(f"simulator: publishing the bound devices of {scene} (log: {log})")
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "twin.cli", "simulate", "--scene", str(scene)], stdout=out, stderr=subprocess.STDOUT
        )


def _importers() -> ImporterRegistry:
    """Return the importers of this build: IFC models (bim) and GIS layers (gis)."""
    from bim.store import IfcImporter
    from gis.store import GisImporter

    return ImporterRegistry([IfcImporter(), GisImporter()])


def _align(session: Session, building: str, *, apply: bool) -> dict[str, Any]:
    """Fit a BIM building onto its GIS footprint (gis.realign)."""
    from gis.realign import align_building

    return align_building(session, building, apply=apply)


add_import_commands(app, _importers, _align)


def _scene_tools() -> SceneTools:
    """Return the scene generator's writers (bim, gis), the importers and the simulator (realtime)."""
    import os

    from bim.generate import write_ifc
    from gis.generate import write_layers
    from realtime.mqtt import BrokerSettings, TlsSettings
    from realtime.rules.load import vocabulary
    from realtime.simulator import run_simulation
    from twin.scenes.generate import Writers

    def broker(address: Any) -> BrokerSettings:
        tls = TlsSettings() if address.tls else None
        user, password = address.username, address.password
        return BrokerSettings(
            address.host, address.port, client_id=f"twin-sim-{os.getpid()}", username=user, password=password, tls=tls
        )

    writers = Writers(ifc=lambda c, p: write_ifc(c, p).counts, gis=lambda c, p: write_layers(c, p).counts)
    return SceneTools(lambda: writers, _importers, run_simulation, broker, vocabulary)


add_scene_commands(app, _scene_tools)


def main() -> None:
    """Run the CLI, turning every TwinError into one readable line and exit status 1."""
    try:
        app()
    except TwinError as exc:
        Console(stderr=True).print(f"[bold red]error:[/] {exc.message}")
        if exc.hint:
            Console(stderr=True).print(f"  [yellow]→[/] {exc.hint}")
        sys.exit(1)


if __name__ == "__main__":
    main()
