"""Dependencies of the routes, as ``Annotated`` aliases (the FastAPI template's habit).

``SessionDep`` is authenticated: its session carries the caller's principal, and every use case
on it sees only the caller's scope. ``RawSessionDep`` has no principal and serves only routes that
authenticate by themselves (login, refresh, emergency links).

Both close (commit) before the response is sent (``scope="function"``): a client that has its
201 can read what it wrote, and a commit that fails is a 500, never a success already answered.

A read-only route whose caller's principal the server keeps (``twin.auth.principal_cache``) is
authenticated on the event loop, with no thread and no database: its session connects when the
route's first statement runs, in the route's thread. That path is the hot one (look-ups, the
view's fetches); every other request opens and authenticates in one hop to the thread pool.

The hottest lists (devices, a subtree, units by address) take ``ReadingDep`` instead: no session
at all, their one statement awaited on the loop (``twin.store.reader``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from twin.auth.authenticate import AuthenticationError, authenticate, known_principal
from twin.auth.roles import Permission
from twin.auth.scope import Principal
from twin.runtime import Runtime
from twin.store.prepared import Question

F = TypeVar("F", bound=Callable[..., Any])
READ_ONLY = "twin_read_only"


def read_only(endpoint: F) -> F:
    """Mark a route that only reads: its session runs without a transaction, so no BEGIN and no COMMIT.

    Two round trips fewer on the hottest reads, at no cost in consistency: under READ COMMITTED
    each statement takes its own snapshot in a transaction too. Never for a route that writes or
    audits: the audit chain's advisory lock lives only as long as a transaction.
    """
    setattr(endpoint, READ_ONLY, True)
    return endpoint


def runtime_of(request: Request) -> Runtime:
    """Return the server's runtime."""
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_runtime(request: Request) -> Runtime:
    """Return the server's runtime (a dependency run on the event loop: it does no I/O)."""
    return runtime_of(request)


def get_session(request: Request) -> Iterator[Session]:
    """Open one transaction per request: committed when the route returns, rolled back if it raises."""
    runtime = runtime_of(request)
    with runtime.sessions() as session:
        runtime.events.bind(session)
        session.info["address"] = request.client.host if request.client else None
        with session.begin():
            yield session


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
RawSessionDep = Annotated[Session, Depends(get_session, scope="function")]


def _session(request: Request, read_only: bool) -> Session:
    """Make the request's session; it has no connection until its first statement."""
    runtime = runtime_of(request)
    session = (runtime.read_sessions if read_only else runtime.sessions)()
    runtime.events.bind(session)
    session.info["address"] = request.client.host if request.client else None
    return session


def _acting(session: Session, principal: Principal) -> Session:
    session.info["principal"] = principal
    session.info["actor"] = principal.username
    return session


def _open_authenticated(request: Request, read_only: bool) -> tuple[Session, ExitStack]:
    """Open the request's session and transaction and authenticate in them; raise 401 if that fails."""
    runtime = runtime_of(request)
    stack = ExitStack()
    session = stack.enter_context(_session(request, read_only))
    try:
        stack.enter_context(session.begin())
        principal = authenticate(
            session,
            runtime.signing_key,
            request.headers.get("authorization"),
            request.headers.get("x-api-key"),
            runtime.principals,
        )
    except AuthenticationError as exc:
        stack.close()
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, exc.message, headers={"WWW-Authenticate": "Bearer"}) from exc
    except BaseException:
        stack.close()
        raise
    return _acting(session, principal), stack


async def authenticated_session(request: Request) -> AsyncIterator[Session]:
    """Open the request's transaction and authenticate in it (Authorization: Bearer … or X-API-Key: …).

    One dependency, not two, and asynchronous so that it chooses its hops to the thread pool: one
    to open and authenticate, one to commit, and none to close a read-only route's session, which
    has nothing to commit and returns its connection without a round trip.
    """
    read_only = bool(getattr(request.scope.get("endpoint"), READ_ONLY, False))
    if read_only:
        runtime = runtime_of(request)
        principal = known_principal(runtime.principals, runtime.signing_key, request.headers.get("authorization"))
        if principal is not None:
            with _acting(_session(request, read_only), principal) as session:
                yield session
            return
    session, stack = await run_in_threadpool(_open_authenticated, request, read_only)
    try:
        yield session
    except BaseException as exc:
        await run_in_threadpool(stack.__exit__, type(exc), exc, exc.__traceback__)
        raise
    if read_only:
        stack.close()
    else:
        await run_in_threadpool(stack.close)


SessionDep = Annotated[Session, Depends(authenticated_session, scope="function")]
"""The request's session, authenticated: every use case on it sees only the caller's scope."""


@dataclass(frozen=True)
class Reading:
    """A read-only list served on the event loop: who asks, and the two ways to the store it may take.

    Its question runs on the loop's reader. The rare follow-up that loads objects through the
    ORM (why a page came back empty: a missing place is a 404) runs in the thread pool, on a
    session acting for the same caller.
    """

    request: Request
    principal: Principal

    async def one(self, question: Question) -> Sequence[Any]:
        """Run the question on the loop; return its single row."""
        return await runtime_of(self.request).reader.one(question)

    async def check(self, check: Callable[[Session], object]) -> None:
        """Run a check that may raise (404, 422) on an ORM session acting for the caller, in the thread pool."""
        await run_in_threadpool(self._checked, check)

    def _checked(self, check: Callable[[Session], object]) -> None:
        with _acting(_session(self.request, True), self.principal) as session:
            check(session)


def _authenticated_principal(request: Request) -> Principal:
    """Authenticate the long way (an API key, an emergency link, a principal not kept yet) and close the session."""
    session, stack = _open_authenticated(request, True)
    with stack:
        principal: Principal = session.info["principal"]
    return principal


async def reading(request: Request) -> Reading:
    """Authenticate a hot read-only list: on the loop when the principal is kept, else in one hop to the thread pool."""
    runtime = runtime_of(request)
    principal = known_principal(runtime.principals, runtime.signing_key, request.headers.get("authorization"))
    if principal is None:
        principal = await run_in_threadpool(_authenticated_principal, request)
    return Reading(request, principal)


ReadingDep = Annotated[Reading, Depends(reading)]
"""A hot read-only list's caller and its ways to the store (see :class:`Reading`)."""


async def get_principal(session: SessionDep) -> Principal:
    """Return who the request acts for (authenticated with its session)."""
    principal: Principal = session.info["principal"]
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require(*permissions: Permission) -> Callable[[Principal], Awaitable[Principal]]:
    """Return a dependency insisting the caller holds these permissions somewhere (403 otherwise).

    Whether they hold them at the object in question is checked where the object is loaded.
    """

    async def check(principal: PrincipalDep) -> Principal:
        missing = [p.value for p in permissions if not principal.has(p)]
        if missing:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"your roles do not allow {', '.join(missing)}")
        return principal

    return check
