"""Principals kept between requests, and forgotten the moment the store says an account changed.

Reading the account and its grants at every request cost a database round trip, about a
millisecond on two shared cores: as much as the look-up the request was for. So a server keeps
the principals it built, and forgets all of them whenever an account, a grant or a granted place
changes, or one of its sessions ends (a principal knows the sessions ended lately, whose access
tokens it refuses), however it changed:

- **in this process**, at the commit of a session that changed one through the ORM (a flush saw a
  user, a grant or a place's path change): synchronously, before the commit returns, so the
  next request of the same client is refused;
- **in any process** (the CLI, another server, hand-written SQL), by triggers of the store that
  send ``NOTIFY twin_security`` at commit, heard by a listener thread of the server: a few
  milliseconds later.

While the listener is not connected (starting, or the database restarted) nothing is kept, so
a change it could not hear can never be missed; it forgets everything again each time it
reconnects. API keys and emergency links are not kept: they are checked in the store each time.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from typing import Any

import psycopg
from sqlalchemy import Engine, event, inspect
from sqlalchemy.orm import Session

from twin.auth.scope import Principal
from twin.auth.tokens import VerifiedAccessTokens
from twin.store.engine import driver_conninfo
from twin.store.models import PlaceRow
from twin.store.security import AuthSessionRow, GrantRow, UserRow

CHANNEL = "twin_security"
"""The channel the store's triggers notify (migration 0007)."""

log = logging.getLogger(__name__)
_caches: weakref.WeakSet[PrincipalCache] = weakref.WeakSet()
_CHANGED = "twin_security_changed"


class PrincipalCache:
    """Principals by user id, kept only while a listener guarantees their changes are heard."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._entries: dict[int, Principal] = {}
        self._lock = threading.Lock()
        self.generation = 0
        """Counts the times everything was forgotten: a principal read before one is not kept."""
        self.live = False
        """Whether the listener is connected; until it is, nothing is kept."""
        self.hits = 0
        self.tokens = VerifiedAccessTokens(size)
        """Access tokens verified already: they need no invalidation, only their expiry."""
        _caches.add(self)

    def get(self, user_id: int) -> Principal | None:
        """Return the kept principal of a user, if any."""
        principal = self._entries.get(user_id)
        if principal is not None:
            self.hits += 1
        return principal

    def get_or_read(self, user_id: int, read: Callable[[], Principal]) -> Principal:
        """Return the kept principal of a user, or ``read`` it and keep it unless something changed meanwhile.

        A principal read while a change was committed (it was forgotten during the read) may hold
        what the change undid, so it serves this request only.
        """
        kept = self.get(user_id)
        if kept is not None:
            return kept
        generation = self.generation
        principal = read()
        with self._lock:
            if self.live and generation == self.generation:
                if len(self._entries) >= self.size:
                    self._entries.clear()
                self._entries[user_id] = principal
        return principal

    def forget(self) -> None:
        """Forget every principal (an account, a grant or a place changed somewhere)."""
        with self._lock:
            self.generation += 1
            self._entries.clear()

    def set_live(self, live: bool) -> None:
        """Say whether changes are being heard; either way, what was kept may be stale and goes."""
        with self._lock:
            self.live = live
        self.forget()


class SecurityListener:
    """A thread that LISTENs on the store's security channel and empties the cache on each notice."""

    def __init__(self, engine: Engine, cache: PrincipalCache, *, retry_s: float = 1.0) -> None:
        self.conninfo = driver_conninfo(engine)
        self.cache = cache
        self.retry_s = retry_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="twin-security-listener", daemon=True)
        self._conn: psycopg.Connection[Any] | None = None

    def start(self) -> None:
        """Start listening; the cache keeps principals from the moment the LISTEN is in place."""
        self._thread.start()

    def stop(self) -> None:
        """Stop listening and keep nothing more."""
        self._stop.set()
        self._thread.join(5)
        self.cache.set_live(False)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True, application_name="twin security listener") as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.cache.set_live(True)
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=0.5):
                            self.cache.forget()
            except psycopg.Error as exc:
                log.warning("security listener lost the database (%s); principals are read at each request", exc)
            self.cache.set_live(False)
            self._stop.wait(self.retry_s)


def _touches_security(session: Session) -> bool:
    """Tell whether a flush writes an account, a grant, a place a grant may name, or ends a session."""
    for row in (*session.new, *session.dirty, *session.deleted):
        if isinstance(row, UserRow | GrantRow):
            return True
        if isinstance(row, AuthSessionRow) and (
            row in session.deleted or inspect(row).attrs.revoked_at.history.has_changes()
        ):
            return True
        if isinstance(row, PlaceRow) and (row in session.deleted or inspect(row).attrs.path.history.has_changes()):
            return True
    return False


@event.listens_for(Session, "before_flush")
def _note_change(session: Session, _context: Any, _instances: Any) -> None:
    if _touches_security(session):
        session.info[_CHANGED] = True


@event.listens_for(Session, "after_commit")
def _forget_at_commit(session: Session) -> None:
    if session.info.pop(_CHANGED, False):
        forget_everywhere()


@event.listens_for(Session, "after_rollback")
def _drop_note(session: Session) -> None:
    session.info.pop(_CHANGED, None)


def forget_everywhere() -> None:
    """Empty every cache of this process (a change committed here: its databases are not told apart)."""
    for cache in list(_caches):
        cache.forget()
