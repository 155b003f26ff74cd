"""Failed-login throttles that slow a guesser down without locking the real user out.

The old limiter counted failures per user name and per address, in memory: fifty wrong passwords
from anywhere locked an account for everyone, and one address's failures on one account locked
every other account behind it (a NAT, a proxy). Now, kept in the store (every instance and the
CLI see the same, and an administrator can clear them):

- **per (account, address) pair**: ``FREE_FAILURES`` failures are free, then each further failure
  makes that pair wait twice as long as the last, from ``FIRST_WAIT_S`` up to ``MAX_WAIT_S``. The
  same account from another address is not slowed; a success clears the pair.
- **per address, across accounts**: a generous cap (``ADDRESS_CAP`` failures in ``ADDRESS_WINDOW_S``)
  after which the address waits out the window, for every account: failing on one account does
  not slow the others before that.

Unknown names are throttled like known ones, so the throttle tells nothing about which exist.
A pair or address not failing for ``FORGET_AFTER_S`` starts over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from twin.audit import audit
from twin.errors import ValidationError
from twin.store.base import utcnow
from twin.store.security import LoginThrottleRow

FREE_FAILURES = 5
FIRST_WAIT_S = 5.0
MAX_WAIT_S = 15 * 60.0
ADDRESS_CAP = 100
ADDRESS_WINDOW_S = 15 * 60.0
FORGET_AFTER_S = 24 * 3600.0


@dataclass(frozen=True)
class Throttle:
    """One pair's or one address's failures, as an administrator sees them."""

    username: str | None
    address: str
    failures: int
    last_failure_at: datetime
    blocked_until: datetime | None


def _pair(username: str, address: str) -> str:
    return f"pair:{address}:{username}"


def _address(address: str) -> str:
    return f"addr:{address}"


def pair_wait(failures: int) -> float:
    """Seconds a pair waits after its n-th failure in a row: none for the first few, then doubling."""
    if failures < FREE_FAILURES:
        return 0.0
    return min(FIRST_WAIT_S * 2.0 ** min(failures - FREE_FAILURES, 32), MAX_WAIT_S)


def wait(session: Session, username: str, address: str) -> float:
    """Return the seconds this account must wait before trying again from this address (0: go ahead)."""
    now = utcnow()
    until = session.scalar(
        select(LoginThrottleRow.blocked_until)
        .where(LoginThrottleRow.key.in_([_pair(username, address), _address(address)]))
        .where(LoginThrottleRow.blocked_until > now)
        .order_by(LoginThrottleRow.blocked_until.desc())
        .limit(1)
    )
    return 0.0 if until is None else (until - now).total_seconds()


def failed(session: Session, username: str, address: str) -> None:
    """Count a failure against the pair and the address, and forget throttles idle for a day."""
    now = utcnow()
    idle = select(LoginThrottleRow.key).where(LoginThrottleRow.last_failure_at < now - _s(FORGET_AFTER_S))
    # Skipping rows another login holds: waiting for them could deadlock with its next lock.
    session.execute(delete(LoginThrottleRow).where(LoginThrottleRow.key.in_(idle.with_for_update(skip_locked=True))))
    pair = _row(session, _pair(username, address), username, address, now)
    pair.failures += 1
    pair.last_failure_at = now
    wait_s = pair_wait(pair.failures)
    pair.blocked_until = now + _s(wait_s) if wait_s else None
    per_address = _row(session, _address(address), None, address, now)
    if now - per_address.first_failure_at > _s(ADDRESS_WINDOW_S):
        per_address.failures, per_address.first_failure_at = 0, now
    per_address.failures += 1
    per_address.last_failure_at = now
    if per_address.failures >= ADDRESS_CAP:
        per_address.blocked_until = per_address.first_failure_at + _s(ADDRESS_WINDOW_S)


def succeeded(session: Session, username: str, address: str) -> None:
    """Clear the pair after a login that worked (the address keeps its count across accounts)."""
    session.execute(delete(LoginThrottleRow).where(LoginThrottleRow.key == _pair(username, address)))


def listing(session: Session, limit: int = 1000) -> list[Throttle]:
    """Return the throttles with failures, the latest first (at most ``limit``)."""
    rows = session.scalars(select(LoginThrottleRow).order_by(LoginThrottleRow.last_failure_at.desc()).limit(limit))
    return [Throttle(r.username, r.address, r.failures, r.last_failure_at, r.blocked_until) for r in rows]


def clear(session: Session, username: str | None = None, address: str | None = None) -> int:
    """Clear an account's throttles (from every address), an address's (its pairs and its cap), or one pair's.

    Return how many were cleared; the clearing is audited.
    """
    if username is None and address is None:
        raise ValidationError("throttle", "name an account, an address, or both")
    query = delete(LoginThrottleRow)
    if username is not None:
        query = query.where(LoginThrottleRow.username == username)
    if address is not None:
        query = query.where(LoginThrottleRow.address == address)
    cleared: int = session.execute(query).rowcount  # type: ignore[attr-defined]
    after = {"username": username, "address": address, "cleared": cleared}
    audit(session, action="auth.unlock", kind="user", after=after)
    return cleared


def _row(session: Session, key: str, username: str | None, address: str, now: datetime) -> LoginThrottleRow:
    """Return a throttle's row locked for this transaction, created if new (two instances may race here)."""
    session.execute(
        insert(LoginThrottleRow)
        .values(key=key, username=username, address=address, failures=0, first_failure_at=now, last_failure_at=now)
        .on_conflict_do_nothing()
    )
    row = session.get(LoginThrottleRow, key, with_for_update=True, populate_existing=True)
    assert row is not None  # inserted just now, or already there
    return row


def _s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)
