"""What a running server holds: its settings, database engine, broker address, metrics and events.

The app factory builds one ``Runtime`` and every route reads it from ``app.state``; nothing in the
twin reaches for a global engine, so tests run several servers against several databases.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from prometheus_client import CollectorRegistry
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from twin.audit import SEAL, seal_of
from twin.audit_seal import AuditSeal
from twin.auth.principal_cache import PrincipalCache
from twin.events import EventBus
from twin.services.endpoints import BrokerAddress
from twin.settings import Settings
from twin.store.engine import driver_conninfo, session_factory
from twin.store.reader import Reader


@dataclass
class Runtime:
    """The live parts of one server process."""

    settings: Settings
    engine: Engine
    broker: BrokerAddress
    metrics: CollectorRegistry = field(default_factory=CollectorRegistry)
    events: EventBus = field(default_factory=EventBus)
    principals: PrincipalCache = field(default_factory=PrincipalCache)
    broker_connected: Callable[[], bool] | None = None
    """Set by the live ingest once it runs; until then readiness probes the broker's port."""

    @cached_property
    def signing_key(self) -> str:
        """The token signing key, read once: it was read from its file at every request."""
        return self.settings.signing_key()

    @cached_property
    def audit_seal(self) -> AuditSeal:
        """The key that MACs this server's audit entries and the file of its checkpoints."""
        return seal_of(self.settings.audit_key_path(), self.settings.audit_checkpoint_path())

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        """Sessions of this server's engine, carrying its audit seal."""
        return session_factory(self.engine, {SEAL: self.audit_seal})

    @cached_property
    def read_sessions(self) -> sessionmaker[Session]:
        """Sessions for routes that only read: each statement on its own, never a BEGIN or a COMMIT.

        Their connection is taken when the first statement runs, in the thread that runs it.
        """
        return session_factory(self.engine.execution_options(isolation_level="AUTOCOMMIT"), {SEAL: self.audit_seal})

    @cached_property
    def reader(self) -> Reader:
        """The event loop's connections for the hot read-only lists (``twin.store.reader``)."""
        return Reader(driver_conninfo(self.engine), self.engine.dialect)
