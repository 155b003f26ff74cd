"""Dependencies of the routes, as ``Annotated`` aliases (the FastAPI template's habit).

``SessionDep`` is authenticated: its session carries the caller's principal, and every use case
on it sees only the caller's scope. ``RawSessionDep`` has no principal and serves only routes that
authenticate by themselves (login, refresh, emergency links).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.orm import Session

from twin.auth.authenticate import AuthenticationError, authenticate
from twin.auth.roles import Permission
from twin.auth.scope import Principal
from twin.runtime import Runtime
from twin.store.engine import session_factory


def get_runtime(request: Request) -> Runtime:
    """Return the server's runtime."""
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_session(request: Request) -> Iterator[Session]:
    """Open one transaction per request: committed when the route returns, rolled back if it raises."""
    runtime = get_runtime(request)
    with session_factory(runtime.engine)() as session:
        runtime.events.bind(session)
        session.info["address"] = request.client.host if request.client else None
        with session.begin():
            yield session


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
RawSessionDep = Annotated[Session, Depends(get_session)]


def get_principal(request: Request, session: RawSessionDep, runtime: RuntimeDep) -> Principal:
    """Authenticate the request (Authorization: Bearer … or X-API-Key: …) and scope its session."""
    try:
        principal = authenticate(
            session,
            runtime.settings.signing_key(),
            request.headers.get("authorization"),
            request.headers.get("x-api-key"),
        )
    except AuthenticationError as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, exc.message, headers={"WWW-Authenticate": "Bearer"}) from exc
    session.info["principal"] = principal
    session.info["actor"] = principal.username
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def get_scoped_session(session: RawSessionDep, principal: PrincipalDep) -> Session:
    """Return the request's session once authentication has put the principal on it."""
    return session


SessionDep = Annotated[Session, Depends(get_scoped_session)]


def require(*permissions: Permission) -> Callable[[Principal], Principal]:
    """Return a dependency insisting the caller holds these permissions somewhere (403 otherwise).

    Whether they hold them at the object in question is checked where the object is loaded.
    """

    def check(principal: PrincipalDep) -> Principal:
        missing = [p.value for p in permissions if not principal.has(p)]
        if missing:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"your roles do not allow {', '.join(missing)}")
        return principal

    return check
