"""Sessions: a login, the refresh tokens rotated from it, and everything that ends them.

A login starts a session (``auth_sessions``); each refresh retires the token presented and issues
the next of the same session, so a session is a *family* of refresh tokens. Every token, access
or refresh, carries its session's id (``sid``) and its account's token version (``ver``):

- logging out, or revoking one session from the list, ends that family: its refresh tokens are
  refused, and its access tokens too (the principal knows the sessions ended lately);
- presenting a refresh token a second time means it was copied: the whole family is ended, so
  the token issued from it stops working as well, whoever holds it;
- a password change, a disable, or a change of the account's grants raises the token version and
  ends every session of the account at once (grants do so by a trigger of the store, whoever
  writes them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from twin.audit import audit
from twin.auth import tokens
from twin.store.base import utcnow
from twin.store.security import AuthSessionRow, RefreshTokenRow, UserRow


class SessionEnded(tokens.TokenError):
    """A token whose session, or whose account's earlier version, has ended."""


@dataclass(frozen=True)
class Issued:
    """Tokens issued at login or refresh."""

    access_token: str
    refresh_token: str
    expires_in: int = tokens.ACCESS_SECONDS


def start(session: Session, key: str, user: UserRow, address: str | None, user_agent: str | None) -> Issued:
    """Start a session for a user who just proved who they are, and issue its first tokens."""
    row = AuthSessionRow(
        user_id=user.id,
        expires_at=utcnow() + timedelta(seconds=tokens.REFRESH_SECONDS),
        address=address,
        user_agent=(user_agent or "")[:200] or None,
    )
    session.add(row)
    session.flush()
    return _issue(session, key, user, row)


def _issue(session: Session, key: str, user: UserRow, row: AuthSessionRow) -> Issued:
    claims = {"sid": row.id, "ver": user.token_version}
    access, _ = tokens.issue(key, str(user.id), "access", tokens.ACCESS_SECONDS, **claims)
    refresh, issued = tokens.issue(key, str(user.id), "refresh", tokens.REFRESH_SECONDS, **claims)
    session.add(
        RefreshTokenRow(
            token_id=issued.token_id,
            user_id=user.id,
            session_id=row.id,
            expires_at=datetime.fromtimestamp(issued.expires, UTC),
        )
    )
    return Issued(access, refresh)


def rotate(session: Session, key: str, refresh_token: str) -> Issued:
    """Exchange a refresh token for the next tokens of its session, or raise TokenError saying why not.

    A token presented twice ends its session (audited) before the refusal is raised: the caller
    commits on a refusal too (the refresh route answers its 401 without raising), or the session
    would stay alive.
    """
    claims = tokens.verify(key, refresh_token, "refresh")
    row = session.get(RefreshTokenRow, claims.token_id, with_for_update=True)
    if row is None:
        raise SessionEnded("refresh token revoked", "log in again")
    family = session.get(AuthSessionRow, row.session_id, with_for_update=True)
    user = session.get(UserRow, row.user_id)
    if family is None or user is None:
        raise SessionEnded("refresh token revoked", "log in again")
    if row.used_at is not None:
        if family.revoked_at is None:
            end(session, family, "reuse", actor=user.username)
        raise SessionEnded("refresh token used twice: its session is ended", "log in again")
    if family.revoked_at is not None or user.disabled or claims.extra.get("ver") != user.token_version:
        raise SessionEnded("session ended", "log in again")
    row.used_at = family.last_used_at = utcnow()
    return _issue(session, key, user, family)


def end(session: Session, row: AuthSessionRow, why: str, *, actor: str | None = None) -> None:
    """End one session: its refresh tokens are refused, its access tokens too."""
    row.revoked_at = utcnow()
    row.revoked_why = why
    after = {"session": row.id, "why": why}
    audit(session, action="session.end", kind="user", object_id=row.user_id, after=after, actor=actor)


def end_all(session: Session, user: UserRow, why: str) -> None:
    """End every session of an account and every token issued before now (a password change, a disable)."""
    session.execute(update(UserRow).where(UserRow.id == user.id).values(token_version=UserRow.token_version + 1))
    session.execute(
        update(AuthSessionRow)
        .where(AuthSessionRow.user_id == user.id, AuthSessionRow.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_why=why)
    )
    session.expire(user, ["token_version"])


def live(session: Session, user_id: int) -> list[AuthSessionRow]:
    """Return an account's sessions that can still be refreshed, the latest used first."""
    return list(
        session.scalars(
            select(AuthSessionRow)
            .where(
                AuthSessionRow.user_id == user_id,
                AuthSessionRow.revoked_at.is_(None),
                AuthSessionRow.expires_at > utcnow(),
            )
            .order_by(AuthSessionRow.last_used_at.desc(), AuthSessionRow.id.desc())
        )
    )


def holds(claims: tokens.Claims, token_version: int, ended: frozenset[int]) -> bool:
    """Tell whether an access token still holds: its account's version is current and its session not ended."""
    return claims.extra.get("ver") == token_version and claims.extra.get("sid") not in ended
