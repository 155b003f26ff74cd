"""Registry events: every create, update and delete of the graph, published after its commit.

A use case records its events on the session; they are published only when that session commits
and dropped when it rolls back, so no listener (the live hub, the audit trail, caches) ever sees a
change that did not happen. Listeners subscribe by callback; ``subscribe`` returns the
unsubscribe callable (Home Assistant's habit).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

Action = Literal["create", "update", "delete", "retire"]


@dataclass(frozen=True, slots=True)
class RegistryEvent:
    """One change of the graph: what happened, to which object, and where it sits."""

    action: Action
    kind: str
    id: int
    path: tuple[str, ...]
    """The scopes the change belongs to, site first (``site:1``, ``building:3``, …, ``device:9``)."""
    data: dict[str, Any] = field(default_factory=dict)


Listener = Callable[[RegistryEvent], None]


class EventBus:
    """Synchronous fan-out of committed registry events to in-process listeners."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Add a listener; return the callable that removes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def publish(self, item: RegistryEvent) -> None:
        """Hand an event to every listener; a failing listener is logged and never stops the others."""
        for listener in list(self._listeners):
            try:
                listener(item)
            except Exception:
                log.exception("registry event listener failed on %s %s %s", item.action, item.kind, item.id)

    def bind(self, session: Session) -> None:
        """Publish what ``record`` collects on this session when, and only when, it commits."""
        session.info["event_bus"] = self


def record(session: Session, item: RegistryEvent) -> None:
    """Queue an event on the session, to be published after its commit."""
    session.info.setdefault("pending_events", []).append(item)


@event.listens_for(Session, "after_commit")
def _publish_after_commit(session: Session) -> None:
    pending: list[RegistryEvent] = session.info.pop("pending_events", [])
    bus: EventBus | None = session.info.get("event_bus")
    if bus is not None:
        for item in pending:
            bus.publish(item)


@event.listens_for(Session, "after_rollback")
def _drop_after_rollback(session: Session) -> None:
    session.info.pop("pending_events", None)
