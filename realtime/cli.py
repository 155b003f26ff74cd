"""``twin ingest run`` and ``twin ingest maintain``: the ingest without the HTTP server, and its upkeep.

An ingest-only process beside API-only servers is how ingestion scales out: several of them with
the same ``TWIN_INGEST_SHARED_GROUP`` split the stream through ``$share``. Stopping it (Ctrl-C or
SIGTERM) makes what it took durable before it disconnects.
"""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console

from realtime.history import conninfo_of
from realtime.maintenance import Maintenance
from realtime.setup import start_ingest
from twin.runtime import Runtime
from twin.services.endpoints import broker_address, database_url
from twin.settings import get_settings
from twin.store.engine import check_schema, make_engine

ingest_app = typer.Typer(help="The live MQTT ingest.", no_args_is_help=True)
console = Console()


@ingest_app.command("run")
def run() -> None:
    """Run the ingest alone until Ctrl-C or SIGTERM, with the configured broker, profiles and database."""
    settings = get_settings()
    url = database_url(settings)
    check_schema(url)
    runtime = Runtime(settings=settings, engine=make_engine(url), broker=broker_address(settings))

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        ingest = await start_ingest(runtime, url)
        console.print(
            f"[green]✓[/] ingesting from {runtime.broker.host}:{runtime.broker.port} "
            f"with {len(ingest.config.profiles)} profiles as {settings.ingest_client_id}"
        )
        try:
            await stop.wait()
        finally:
            await ingest.stop()
            counts = ingest.status()["counts"]
            console.print(f"stopped: {counts}")

    try:
        asyncio.run(main())
    finally:
        runtime.engine.dispose()


@ingest_app.command("maintain")
def maintain(
    expire: Annotated[bool, typer.Option(help="Also apply retention now (the ingest does it daily).")] = False,
) -> None:
    """Create history partitions ahead and roll up finished hours; with --expire, drop what is past retention."""
    settings = get_settings()
    url = database_url(settings)
    check_schema(url)
    now = datetime.now(UTC)
    report = Maintenance(conninfo_of(url)).run(now, expire=expire)
    for key, value in report.items():
        console.print(f"{key}: {value}")
