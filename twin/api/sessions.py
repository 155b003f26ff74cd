"""The caller's own sessions: list them (where and when each was used) and end one."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, Request, Response, status
from pydantic import BaseModel

from twin.api.deps import PrincipalDep, RuntimeDep, SessionDep
from twin.auth import sessions, tokens
from twin.auth.scope import Principal
from twin.errors import NotFoundError
from twin.store.security import AuthSessionRow

router = APIRouter(prefix="/api/auth", tags=["auth"])


class SessionOut(BaseModel):
    """One live session of the caller's account."""

    id: int
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    address: str | None
    user_agent: str | None
    current: bool
    """Whether the caller's own access token belongs to it."""


class SessionList(BaseModel):
    """The live sessions of the caller's account, the latest used first."""

    items: list[SessionOut]


def _account(principal: Principal) -> int:
    if principal.user_id is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "an emergency link has no sessions")
    return principal.user_id


def _current(request: Request, key: str) -> int | None:
    """Return the session of the bearer's access token, if the caller came with one."""
    authorization = request.headers.get("authorization") or ""
    if not authorization.lower().startswith("bearer "):
        return None
    try:
        sid = tokens.verify(key, authorization[7:].strip(), "access").extra.get("sid")
    except tokens.TokenError:
        return None
    return sid if isinstance(sid, int) else None


@router.get("/sessions")
def list_sessions(request: Request, session: SessionDep, runtime: RuntimeDep, principal: PrincipalDep) -> SessionList:
    """List the caller's live sessions, marking the one this request came with."""
    current = _current(request, runtime.signing_key)
    return SessionList(
        items=[
            SessionOut(
                id=row.id,
                created_at=row.created_at,
                last_used_at=row.last_used_at,
                expires_at=row.expires_at,
                address=row.address,
                user_agent=row.user_agent,
                current=row.id == current,
            )
            for row in sessions.live(session, _account(principal))
        ]
    )


@router.delete("/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
def end_session(session_id: int, session: SessionDep, principal: PrincipalDep) -> Response:
    """End one of the caller's sessions: its refresh and access tokens stop working at once."""
    row = session.get(AuthSessionRow, session_id)
    if row is None or row.user_id != _account(principal) or row.revoked_at is not None:
        raise NotFoundError(f"session {session_id} not found among your live sessions")
    sessions.end(session, row, "revoked")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
