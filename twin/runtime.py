"""What a running server holds: its settings, database engine, broker address, metrics and events.

The app factory builds one ``Runtime`` and every route reads it from ``app.state``; nothing in the
twin reaches for a global engine, so tests run several servers against several databases.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry
from sqlalchemy import Engine

from twin.auth.ratelimit import FailureLimiter
from twin.events import EventBus
from twin.services.endpoints import BrokerAddress
from twin.settings import Settings


@dataclass
class Runtime:
    """The live parts of one server process."""

    settings: Settings
    engine: Engine
    broker: BrokerAddress
    metrics: CollectorRegistry = field(default_factory=CollectorRegistry)
    events: EventBus = field(default_factory=EventBus)
    login_limiter: FailureLimiter = field(default_factory=FailureLimiter)
    broker_connected: Callable[[], bool] | None = None
    """Set by the live ingest once it runs; until then readiness probes the broker's port."""
