"""Where the database and the broker are: the embedded ones under ``home``, or the configured ones.

``twin services start`` records the embedded endpoints in ``var/services.json`` for people and
scripts; the code itself derives them from the settings, so a stale record can never mislead it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlparse

from sqlalchemy.engine import make_url

from twin.errors import ServiceError
from twin.services.mosquitto import MosquittoBroker
from twin.services.postgres import APP_ROLE, PostgresCluster
from twin.settings import Settings

log = logging.getLogger(__name__)


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
    """Return the SQLAlchemy URL the server and the CLI use: the role that owns nothing.

    An external database given only ``TWIN_DATABASE_URL`` is used as it is, as before, with a
    warning: that one role then migrates too, so it likely owns the tables, and whoever holds the
    server holds the audit log's trigger.
    """
    if settings.database_url is not None:
        if settings.database_owner_url is None:
            _warn_single_url()
        return _sqlalchemy_url(settings.database_url.get_secret_value())
    cluster = embedded_cluster(settings)
    if not cluster.app_password_file.exists():
        raise ServiceError("the embedded database has not been created yet", "run `twin services start`")
    return cluster.app_url()


def owner_database_url(settings: Settings) -> str:
    """Return the URL migrations run with: the tables' owner (the embedded cluster's superuser)."""
    if settings.database_owner_url is not None:
        return _sqlalchemy_url(settings.database_owner_url.get_secret_value())
    if settings.database_url is not None:
        return _sqlalchemy_url(settings.database_url.get_secret_value())
    cluster = embedded_cluster(settings)
    if not cluster.password_file.exists():
        raise ServiceError("the embedded database has not been created yet", "run `twin services start`")
    return cluster.url()


def app_role(settings: Settings) -> str | None:
    """Return the server's role that ``twin db upgrade`` grants to, or None when it is the owner itself."""
    app, owner = make_url(database_url(settings)), make_url(owner_database_url(settings))
    return app.username if app.username != owner.username else None


def _sqlalchemy_url(url: str) -> str:
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


@lru_cache(maxsize=1)
def _warn_single_url() -> None:
    log.warning(
        "TWIN_DATABASE_URL without TWIN_DATABASE_OWNER_URL: migrations and the server use one role; if it owns the "
        "tables it may alter them and disable the audit log's trigger: give the server a role that owns nothing "
        "(docs/deploy.md)"
    )


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
            "app_user": APP_ROLE,
            "app_password_file": str(embedded_cluster(settings).app_password_file),
        },
        "mqtt": {"host": "127.0.0.1", "port": settings.mqtt_port},
    }
    path = settings.home / "services.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n")
