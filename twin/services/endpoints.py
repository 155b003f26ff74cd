"""Where the database and the broker are: the embedded ones under ``home``, or the configured ones.

``twin services start`` records the embedded endpoints in ``var/services.json`` for people and
scripts; the code itself derives them from the settings, so a stale record can never mislead it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote, urlparse

from sqlalchemy.engine import make_url

from twin.errors import ServiceError
from twin.services.broker_auth import TWIN, TWIN_TOPICS
from twin.services.mosquitto import BrokerTls, MosquittoBroker
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
    """Return the private broker of this installation, with its TLS listener when one is configured."""
    reserved = tuple(dict.fromkeys((*TWIN_TOPICS, f"{settings.hub_peers_topic.rstrip('/')}/#")))
    return MosquittoBroker(settings.home / "mqtt", settings.mqtt_port, tls=_broker_tls(settings), reserved=reserved)


def _broker_tls(settings: Settings) -> BrokerTls | None:
    """Return the embedded broker's TLS listener from the settings, refusing half of one."""
    if settings.mqtt_tls_port is None:
        return None
    if settings.mqtt_tls_certfile is None or settings.mqtt_tls_keyfile is None:
        raise ServiceError(
            "TWIN_MQTT_TLS_PORT is set but the broker's certificate or key is not",
            "set TWIN_MQTT_TLS_CERTFILE and TWIN_MQTT_TLS_KEYFILE",
        )
    ca = settings.mqtt_tls_client_ca
    return BrokerTls(settings.mqtt_tls_port, ca, settings.mqtt_tls_certfile, settings.mqtt_tls_keyfile, ca is not None)


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


def broker_address(settings: Settings, login: str = TWIN) -> BrokerAddress:
    """Return the MQTT broker's address from its URL, or the embedded broker's with ``login``'s credential.

    ``login`` names an internal credential of the embedded broker (the twin's, or the simulator's);
    an external broker is reached with the credential its URL or settings give.
    """
    if settings.mqtt_url is None:
        found = embedded_broker(settings).credentials.login(login)
        user, password = found if found else (None, None)
        return BrokerAddress("127.0.0.1", settings.mqtt_port, username=user, password=password)
    parsed = urlparse(settings.mqtt_url)
    if parsed.scheme not in ("mqtt", "mqtts") or not parsed.hostname:
        raise ServiceError(f"TWIN_MQTT_URL {settings.mqtt_url!r} is not mqtt://host:port or mqtts://host:port")
    tls = parsed.scheme == "mqtts"
    in_url = unquote(parsed.password) if parsed.password is not None else None
    password = settings.mqtt_password.get_secret_value() if settings.mqtt_password else in_url
    username = settings.mqtt_username or (unquote(parsed.username) if parsed.username else None)
    return BrokerAddress(parsed.hostname, parsed.port or (8883 if tls else 1883), tls, username, password)


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
        "mqtt": {
            "host": "127.0.0.1",
            "port": settings.mqtt_port,
            "username": TWIN,
            "password_file": str(embedded_broker(settings).credentials.login_file(TWIN)),
        },
    }
    path = settings.home / "services.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n")
