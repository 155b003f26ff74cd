"""Where the database and the broker are: the embedded ones under ``home``, or the configured ones.

``twin services start`` records the embedded endpoints in ``var/services.json`` for people and
scripts; the code itself derives them from the settings, so a stale record can never mislead it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlparse

from twin.errors import ServiceError
from twin.services.mosquitto import MosquittoBroker
from twin.services.postgres import PostgresCluster
from twin.settings import Settings


@dataclass(frozen=True)
class BrokerAddress:
    """How to reach the MQTT broker."""

    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None


def embedded_cluster(settings: Settings) -> PostgresCluster:
    """Return the private cluster of this installation."""
    return PostgresCluster(settings.home / "pg" / "data", settings.pg_port)


def embedded_broker(settings: Settings) -> MosquittoBroker:
    """Return the private broker of this installation."""
    return MosquittoBroker(settings.home / "mqtt", settings.mqtt_port)


def database_url(settings: Settings) -> str:
    """Return the SQLAlchemy URL of the twin's database."""
    if settings.database_url is not None:
        url = settings.database_url.get_secret_value()
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return url
    cluster = embedded_cluster(settings)
    if not cluster.password_file.exists():
        raise ServiceError("the embedded database has not been created yet", "run `twin services start`")
    return cluster.url()


def broker_address(settings: Settings) -> BrokerAddress:
    """Return the MQTT broker's address from its URL, or the embedded broker's."""
    if settings.mqtt_url is None:
        return BrokerAddress("127.0.0.1", settings.mqtt_port)
    parsed = urlparse(settings.mqtt_url)
    if parsed.scheme not in ("mqtt", "mqtts") or not parsed.hostname:
        raise ServiceError(f"TWIN_MQTT_URL {settings.mqtt_url!r} is not mqtt://host:port or mqtts://host:port")
    tls = parsed.scheme == "mqtts"
    password = settings.mqtt_password.get_secret_value() if settings.mqtt_password else parsed.password
    return BrokerAddress(
        parsed.hostname,
        parsed.port or (8883 if tls else 1883),
        tls,
        settings.mqtt_username or parsed.username,
        password,
    )


def write_record(settings: Settings) -> None:
    """Record where the embedded services listen, for people and scripts (never for the code)."""
    record = {
        "postgres": {
            "host": "127.0.0.1",
            "port": settings.pg_port,
            "database": "twin",
            "password_file": str(embedded_cluster(settings).password_file),
        },
        "mqtt": {"host": "127.0.0.1", "port": settings.mqtt_port},
    }
    path = settings.home / "services.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n")
