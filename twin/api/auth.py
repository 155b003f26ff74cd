"""Logging in, refreshing, logging out, emergency links and "who am I": the routes that authenticate by themselves."""

from __future__ import annotations

import hashlib
import math
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from twin.api.deps import PrincipalDep, RawSessionDep, RuntimeDep
from twin.audit import audit
from twin.auth import sessions, tokens
from twin.auth.login import Refused, log_in
from twin.auth.roles import PERMISSIONS
from twin.store.base import utcnow
from twin.store.security import AuthSessionRow, EmergencyLinkRow, UserRow

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


class EmergencyToken(BaseModel):
    """A responder token on one site, good until its link ends (no refresh: the link is the session)."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int
    site_id: int


class GrantPublic(BaseModel):
    """One of the caller's grants: a role on the subtree under ``path`` ("" = everywhere)."""

    role: str
    path: str
    device_kinds: list[str]


class Me(BaseModel):
    """Who the caller is, and what they may do: the view shows only the actions it allows."""

    username: str
    via: str
    wall_display: bool
    roles: list[str]
    permissions: list[str]
    grants: list[GrantPublic]


class Logout(BaseModel):
    """The refresh token of the session to end; without it, the session of the bearer's access token."""

    refresh_token: str | None = Field(default=None, min_length=1, max_length=4096)


REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Wrong credentials, or a token that no longer holds"},
    429: {"description": "Too many failed logins of this account from this address: wait Retry-After seconds"},
}


def _refused(code: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """Answer a refusal without raising, so that what the refusal wrote (audit, throttle) is committed."""
    return JSONResponse({"detail": detail}, status_code=code, headers=headers)


def _tokens(issued: sessions.Issued) -> TokenPair:
    return TokenPair(access_token=issued.access_token, refresh_token=issued.refresh_token, expires_in=issued.expires_in)


@router.post("/login", response_model=TokenPair, responses=REFUSALS)
def login(request: Request, body: Login, session: RawSessionDep, runtime: RuntimeDep) -> TokenPair | JSONResponse:
    """Exchange a user name and password for tokens and a session; failures are throttled per account and address."""
    address = request.client.host if request.client else "?"
    outcome = log_in(
        session, runtime.signing_key, body.username, body.password, address, request.headers.get("user-agent")
    )
    if isinstance(outcome, Refused) and outcome.wait_s > 0:
        return _refused(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "too many failed logins of this account from this address; wait and try again",
            {"Retry-After": str(math.ceil(outcome.wait_s))},
        )
    if isinstance(outcome, Refused):
        return _refused(status.HTTP_401_UNAUTHORIZED, "wrong user name or password", {"WWW-Authenticate": "Bearer"})
    return _tokens(outcome)


@router.post("/refresh", response_model=TokenPair, responses=REFUSALS)
def refresh(body: Refresh, session: RawSessionDep, runtime: RuntimeDep) -> TokenPair | JSONResponse:
    """Exchange a refresh token for the next tokens of its session; one presented twice ends the session."""
    try:
        return _tokens(sessions.rotate(session, runtime.signing_key, body.refresh_token))
    except tokens.TokenError as exc:
        return _refused(status.HTTP_401_UNAUTHORIZED, str(exc))


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, responses=REFUSALS)
def logout(request: Request, body: Logout, session: RawSessionDep, runtime: RuntimeDep) -> Response:
    """End a session: its refresh tokens and its access tokens stop working (ending an ended one is no error)."""
    authorization = request.headers.get("authorization") or ""
    try:
        if body.refresh_token is not None:
            claims = tokens.verify(runtime.signing_key, body.refresh_token, "refresh")
        elif authorization.lower().startswith("bearer "):
            claims = tokens.verify(runtime.signing_key, authorization[7:].strip(), "access")
        else:
            raise tokens.TokenError("authentication required", "send the session's refresh or access token")
    except tokens.TokenError as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc), headers={"WWW-Authenticate": "Bearer"}) from exc
    sid = claims.extra.get("sid")
    row = session.get(AuthSessionRow, sid) if isinstance(sid, int) else None
    user = session.get(UserRow, int(claims.subject))
    if row is not None and user is not None and row.user_id == user.id and row.revoked_at is None:
        sessions.end(session, row, "logout", actor=user.username)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/emergency")
def use_emergency_link(
    request: Request, body: EmergencyKey, session: RawSessionDep, runtime: RuntimeDep
) -> EmergencyToken:
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
    return EmergencyToken(access_token=token, expires_in=seconds, site_id=link.site_id)


@me_router.get("/me")
def me(principal: PrincipalDep) -> Me:
    """Say who the caller is, with their grants and what they may do (the view shows only allowed actions)."""
    permissions = sorted({p.value for g in principal.grants for p in PERMISSIONS[g.role]})
    return Me(
        username=principal.username,
        via=principal.via,
        wall_display=principal.wall_display,
        roles=sorted(r.value for r in principal.roles),
        permissions=permissions,
        grants=[
            GrantPublic(role=g.role.value, path=g.path, device_kinds=sorted(g.device_kinds or []))
            for g in principal.grants
        ],
    )
