"""The only reader of the environment: every setting of the server, from env, twin.toml or defaults.

Environment variables are prefixed ``TWIN_`` (``TWIN_DATABASE_URL``); an optional ``twin.toml`` in
the working directory (or the file named by ``TWIN_CONFIG``) holds the same keys. Without a
database URL or broker URL the embedded services under ``var/`` are used: that is the demo path.
Production names its own PostGIS and broker (docs/deploy.md).
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


class Settings(BaseSettings):
    """Effective settings; secrets are ``SecretStr`` so that printing them masks them."""

    model_config = SettingsConfigDict(env_prefix="TWIN_", extra="forbid", validate_default=True)

    home: Path = Field(default=Path("var"), description="Where embedded services and files live.")
    database_url: SecretStr | None = Field(
        default=None, description="External PostGIS (postgresql+psycopg://…); unset = embedded cluster."
    )
    database_owner_url: SecretStr | None = Field(
        default=None, description="The owner of the external database's tables, for migrations only (docs/deploy.md)."
    )
    mqtt_url: str | None = Field(
        default=None, description="External broker (mqtt://user:password@host:port); unset = embedded."
    )
    mqtt_username: str | None = None
    mqtt_password: SecretStr | None = None
    pg_port: int = Field(default=55432, description="Port of the embedded PostgreSQL cluster.")
    mqtt_port: int = Field(default=18830, description="Port of the embedded Mosquitto broker.")
    mqtt_tls_port: int | None = Field(default=None, description="Embedded broker: also listen with TLS here.")
    mqtt_tls_certfile: Path | None = Field(default=None, description="The embedded broker's TLS certificate chain.")
    mqtt_tls_keyfile: Path | None = Field(default=None, description="The private key of mqtt_tls_certfile.")
    mqtt_tls_client_ca: Path | None = Field(
        default=None, description="Embedded broker: TLS clients must show a certificate from this CA (CN = user)."
    )
    host: str = "127.0.0.1"
    port: int = 8000
    secret_key: SecretStr | None = Field(default=None, description="Signs tokens; unset = generated under home.")
    web_dist: Path = Field(default=Path("web/dist"), description="The built front end the server serves.")
    pii_key_file: Path | None = Field(
        default=None, description="Key of residents' personal data; unset = home/pii.key."
    )
    audit_key_file: Path | None = Field(
        default=None, description="Key that MACs the audit log; unset = home/audit.key."
    )
    audit_checkpoint_file: Path | None = Field(
        default=None, description="Signed checkpoints of the audit chain; unset = home/audit-checkpoints.jsonl."
    )
    max_body_bytes: int = Field(default=1 << 20, description="Largest request body, except uploads.")
    max_upload_bytes: int = Field(default=512 << 20, description="Largest upload (IFC, GIS, CSV, photos).")
    cors_origins: list[str] = Field(default_factory=list, description="Origins allowed by CORS; empty = closed.")
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Reverse proxies (addresses or CIDRs) whose X-Forwarded-For names the client; empty = none.",
    )
    tls_certfile: Path | None = Field(default=None, description="Serve HTTPS with this certificate chain.")
    tls_keyfile: Path | None = Field(default=None, description="The private key of tls_certfile.")
    public_url: str | None = Field(default=None, description="Base URL printed in emergency links and QR codes.")
    ingest: bool = Field(default=False, description="Run the live MQTT ingest inside the server.")
    ingest_profiles: list[Path] = Field(
        default_factory=lambda: [Path("scenes/profiles")], description="Vendor profile files or folders to load."
    )
    ingest_client_id: str = Field(
        default="twin-ingest", description="Fixed MQTT client id: the broker keeps its session."
    )
    ingest_shared_group: str | None = Field(default=None, description="Split the stream with other instances.")
    ingest_memory_readings: int = Field(default=100_000, ge=1000, description="Readings held before spilling to disk.")
    ingest_spool_mb: int = Field(default=1024, ge=1, description="Disk for spilled readings, under home/spool.")
    scenes: list[Path] = Field(
        default_factory=list, description="Scene folders whose alarm rules the live rule engine reads from their files."
    )
    alarm_webhook_url: str | None = Field(default=None, description="POST CRITICAL alarms here; unset = no webhook.")
    alarm_webhook_secret: SecretStr | None = Field(
        default=None, description="Signs each webhook body (HMAC-SHA256); required with alarm_webhook_url."
    )

    hub_peers: bool = Field(default=False, description="Relay live events to other instances through the broker.")
    hub_peers_topic: str = Field(default="twin/hub", description="Topic prefix of the relay between instances.")
    hub_ring_events: int = Field(default=50_000, ge=100, description="Recent events per site held for resuming.")
    hub_ring_age_s: float = Field(default=300.0, gt=0, description="Oldest gap a client may resume over.")
    hub_max_queue_mb: int = Field(default=8, ge=1, description="Queued per client before it must resynchronise.")
    hub_heartbeat_s: float = Field(default=15.0, gt=0, description="Seconds between the hub's pings.")
    hub_idle_timeout_s: float = Field(default=60.0, gt=0, description="Close a socket heard nothing from this long.")
    hub_max_connections_per_user: int = Field(default=20, ge=1, description="Live sockets one account may hold.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Read init arguments, then the environment, then twin.toml: the environment wins over the file."""
        toml_file = Path(os.environ.get("TWIN_CONFIG", "twin.toml"))
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=toml_file))

    @property
    def embedded_database(self) -> bool:
        """Tell whether the private cluster under ``home`` is the database."""
        return self.database_url is None

    @property
    def embedded_broker(self) -> bool:
        """Tell whether the private Mosquitto under ``home`` is the broker."""
        return self.mqtt_url is None

    def signing_key(self) -> str:
        """Return the token signing key, generating one under ``home`` on first use so restarts keep sessions."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.home / "secret.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()

    def pii_key_path(self) -> Path:
        """Return where the personal-data key lives."""
        return self.pii_key_file or self.home / "pii.key"

    def audit_key_path(self) -> Path:
        """Return where the audit log's key lives (never in the database)."""
        return self.audit_key_file or self.home / "audit.key"

    def audit_checkpoint_path(self) -> Path:
        """Return the append-only file of the audit chain's signed checkpoints."""
        return self.audit_checkpoint_file or self.home / "audit-checkpoints.jsonl"

    def masked(self) -> dict[str, Any]:
        """Return the effective settings as plain values with every secret masked."""
        out: dict[str, Any] = {}
        for name, value in self.model_dump().items():
            if isinstance(value, SecretStr):
                out[name] = "**********"
            elif name == "mqtt_url" and isinstance(value, str):
                out[name] = _mask_url_password(value)
            elif isinstance(value, Path):
                out[name] = str(value)
            else:
                out[name] = value
        return out


def _mask_url_password(url: str) -> str:
    """Hide the password of ``scheme://user:password@host``; the rest of the URL stays readable."""
    parsed = urlsplit(url)
    if parsed.password is None:
        return url
    host = parsed.netloc.rsplit("@", 1)[1]
    return urlunsplit(parsed._replace(netloc=f"{parsed.username or ''}:**********@{host}"))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, read once."""
    return Settings()
