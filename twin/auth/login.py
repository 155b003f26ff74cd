"""Logging in with a name and a password: throttled, audited, and as slow for a name that does not exist.

Every way a login can fail (unknown name, disabled or machine account, wrong password) answers
the same, after the same argon2 work, and is audited with the address it came from (never the
password). The outcome is returned rather than raised: what a failure writes (its audit row,
its throttle) must be committed though the caller is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from twin.audit import audit
from twin.auth import names, sessions, throttle
from twin.auth.passwords import hash_password, needs_rehash, verify_nobody, verify_password
from twin.store.security import UserRow


@dataclass(frozen=True)
class Refused:
    """A login refused: ``wait_s`` > 0 when throttled, else wrong credentials."""

    wait_s: float = 0.0


def log_in(
    session: Session, key: str, username: str, password: str, address: str, user_agent: str | None
) -> sessions.Issued | Refused:
    """Check a name and password from an address; start a session, or say why not (the caller commits either way)."""
    spelled = names.normalise(username)
    name = spelled[: names.MAX_LENGTH]  # NFKC may lengthen a name: such a one is nobody's, but is throttled
    wait_s = throttle.wait(session, name, address)
    if wait_s > 0:
        return Refused(wait_s)
    user = session.scalar(select(UserRow).where(UserRow.username == spelled)) if spelled == name else None
    if user is None or user.disabled or user.password_hash is None:
        verify_nobody(password)
        return _failed(session, name, address, user, "unknown" if user is None else "not allowed to log in")
    if not verify_password(user.password_hash, password):
        return _failed(session, name, address, user, "wrong password")
    throttle.succeeded(session, name, address)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    session.info["actor"] = user.username
    audit(session, action="auth.login", kind="user", object_id=user.id)
    return sessions.start(session, key, user, address, user_agent)


def _failed(session: Session, name: str, address: str, user: UserRow | None, reason: str) -> Refused:
    throttle.failed(session, name, address)
    audit(
        session,
        action="auth.login_failed",
        kind="user",
        object_id=None if user is None else user.id,
        actor="anonymous",
        address=address,
        after={"username": name, "reason": reason},
    )
    return Refused()
