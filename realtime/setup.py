"""Build the live ingest from the twin's settings: what the composition root calls.

The app factory starts it in the server's lifespan when ``TWIN_INGEST=true``; ``twin ingest``
runs it alone (an ingest-only instance beside API-only ones, sharing the stream through
``$share``). Either way it reports to the runtime's events, metrics and readiness.
"""

from __future__ import annotations

from pathlib import Path

from realtime.ingest import Ingest, IngestConfig
from realtime.mqtt import BrokerSettings, TlsSettings
from realtime.profiles import ProfileError, load_profiles
from twin.errors import ServiceError
from twin.runtime import Runtime
from twin.services.endpoints import BrokerAddress
from twin.settings import Settings


def broker_settings(address: BrokerAddress, settings: Settings) -> BrokerSettings:
    """Return how the ingest connects: the configured broker, a fixed client id, TLS when mqtts."""
    return BrokerSettings(
        address.host,
        address.port,
        client_id=settings.ingest_client_id,
        username=address.username,
        password=address.password,
        tls=TlsSettings() if address.tls else None,
        shared_group=settings.ingest_shared_group,
    )


def ingest_config(settings: Settings, address: BrokerAddress, database_url: str) -> IngestConfig:
    """Gather the ingest's configuration; profiles are loaded (and validated) here."""
    paths = [p if p.is_absolute() else Path.cwd() / p for p in settings.ingest_profiles]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise ServiceError(f"vendor profiles not found: {', '.join(missing)}", "set TWIN_INGEST_PROFILES")
    try:
        profiles = load_profiles(paths)
    except ProfileError as exc:
        raise ServiceError(f"vendor profile refused: {exc}", "fix the profile at that line") from exc
    if not profiles:
        raise ServiceError("no vendor profile to ingest with", "add a profile file to TWIN_INGEST_PROFILES")
    return IngestConfig(
        broker=broker_settings(address, settings),
        profiles=profiles,
        database_url=database_url,
        spool_dir=settings.home / "spool",
        spool_max_bytes=settings.ingest_spool_mb << 20,
        memory_rows=settings.ingest_memory_readings,
    )


async def start_ingest(runtime: Runtime, database_url: str) -> Ingest:
    """Start an ingest reporting to ``runtime``; the caller stops it."""
    config = ingest_config(runtime.settings, runtime.broker, database_url)
    ingest = Ingest(config, runtime.engine, events=runtime.events, registry=runtime.metrics)
    await ingest.start()
    runtime.broker_connected = ingest.broker_connected
    return ingest
