"""Logging in, refreshing, emergency links and "who am I": the routes that authenticate by themselves."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, Field

from twin.api.deps import PrincipalDep, RawSessionDep, RuntimeDep
from twin.audit import audit
from twin.auth import tokens
from twin.auth.passwords import hash_password, needs_rehash, verify_password
from twin.auth.roles import PERMISSIONS
from twin.store.base import utcnow
from twin.store.security import EmergencyLinkRow, RefreshTokenRow, UserRow

router = APIRouter(prefix="/api/auth", tags=["auth"])
me_router = APIRouter(prefix="/api", tags=["auth"])


class Login(BaseModel):
    """Credentials."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class Refresh(BaseModel):
    """A refresh token to exchange."""

    refresh_token: str = Field(min_length=1, max_length=4096)


class EmergencyKey(BaseModel):
    """The key of an emergency link."""

    key: str = Field(min_length=16, max_length=128)


class TokenPair(BaseModel):
    """Tokens issued at login or refresh."""

    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int


def _pair(session: Any, key: str, user: UserRow) -> TokenPair:
    access, _ = tokens.issue(key, str(user.id), "access", tokens.ACCESS_SECONDS)
    refresh, claims = tokens.issue(key, str(user.id), "refresh", tokens.REFRESH_SECONDS)
    session.add(
        RefreshTokenRow(
            token_id=claims.token_id, user_id=user.id, expires_at=utcnow() + timedelta(seconds=tokens.REFRESH_SECONDS)
        )
    )
    return TokenPair(access_token=access, refresh_token=refresh, expires_in=tokens.ACCESS_SECONDS)


@router.post("/login")
def login(request: Request, body: Login, session: RawSessionDep, runtime: RuntimeDep) -> TokenPair:
    """Exchange a user name and password for tokens; failures are limited per user and per address."""
    address = request.client.host if request.client else "?"
    limiter = runtime.login_limiter
    wait = limiter.retry_after(f"user:{body.username}", f"addr:{address}")
    if wait > 0:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "too many failed logins; wait and try again",
            headers={"Retry-After": str(int(wait) + 1)},
        )
    user = session.query(UserRow).filter(UserRow.username == body.username).one_or_none()
    if (
        user is None
        or user.disabled
        or user.password_hash is None
        or not verify_password(user.password_hash, body.password)
    ):
        limiter.fail(f"user:{body.username}", f"addr:{address}")
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "wrong user name or password", headers={"WWW-Authenticate": "Bearer"}
        )
    limiter.succeed(f"user:{body.username}")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(body.password)
    session.info["actor"] = user.username
    audit(session, action="auth.login", kind="user", object_id=user.id)
    return _pair(session, runtime.signing_key, user)


@router.post("/refresh")
def refresh(body: Refresh, session: RawSessionDep, runtime: RuntimeDep) -> TokenPair:
    """Exchange a refresh token for new tokens; each refresh token works once (rotation)."""
    try:
        claims = tokens.verify(runtime.signing_key, body.refresh_token, "refresh")
    except tokens.TokenError as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, exc.message) from exc
    row = session.get(RefreshTokenRow, claims.token_id, with_for_update=True)
    user = session.get(UserRow, int(claims.subject))
    if row is None or row.used_at is not None or user is None or user.disabled:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "refresh token already used or revoked")
    row.used_at = utcnow()
    return _pair(session, runtime.signing_key, user)


@router.post("/emergency")
def use_emergency_link(
    request: Request, body: EmergencyKey, session: RawSessionDep, runtime: RuntimeDep
) -> dict[str, Any]:
    """Exchange an emergency link's key for a responder token on its site, until the link expires."""
    digest = hashlib.sha256(body.key.encode()).hexdigest()
    link = session.query(EmergencyLinkRow).filter(EmergencyLinkRow.key_hash == digest).one_or_none()
    if link is None or link.revoked_at is not None or link.expires_at <= utcnow():
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "emergency link unknown, expired or revoked")
    link.uses += 1
    seconds = int((link.expires_at - utcnow()).total_seconds())
    token, _ = tokens.issue(runtime.signing_key, f"emergency:{link.id}", "emergency", seconds)
    audit(
        session,
        action="emergency.use",
        kind="emergency_link",
        object_id=link.id,
        actor=f"emergency-link-{link.id}",
        after={"uses": link.uses, "site_id": link.site_id},
    )
    return {"access_token": token, "token_type": "bearer", "expires_in": seconds, "site_id": link.site_id}


@me_router.get("/me")
def me(principal: PrincipalDep) -> dict[str, Any]:
    """Say who the caller is, with their grants and what they may do (the view shows only allowed actions)."""
    permissions = sorted({p.value for g in principal.grants for p in PERMISSIONS[g.role]})
    return {
        "username": principal.username,
        "via": principal.via,
        "wall_display": principal.wall_display,
        "roles": sorted(r.value for r in principal.roles),
        "permissions": permissions,
        "grants": [
            {"role": g.role.value, "path": g.path, "device_kinds": sorted(g.device_kinds or [])}
            for g in principal.grants
        ],
    }
