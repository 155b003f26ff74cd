"""Dependencies of the routes, as ``Annotated`` aliases (the FastAPI template's habit).

``SessionDep`` is authenticated: its session carries the caller's principal, and every use case
on it sees only the caller's scope. ``RawSessionDep`` has no principal and serves only routes that
authenticate by themselves (login, refresh, emergency links).

Both close (commit) before the response is sent (``scope="function"``): a client that has its
201 can read what it wrote, and a commit that fails is a 500, never a success already answered.

Every protected route is authenticated once, by ``get_principal``, before its session opens. A
caller whose principal the server keeps (``twin.auth.principal_cache``) is known on the event loop,
with no thread and no database; anyone else (an API key, an emergency link, a first request) in
one hop to the thread pool. The session then opens on the loop and connects at the route's first
statement, in the route's thread; a writing route's commit is its one other hop.

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


def _authenticated_principal(request: Request) -> Principal:
    """Authenticate the long way (an API key, an emergency link, a principal not kept yet); 401 if that fails.

    In a short transaction of its own, committed here: what authenticating writes does not wait
    for the route, nor is it undone by the route's failure.
    """
    runtime = runtime_of(request)
    with _session(request, False) as session, session.begin():
        try:
            return authenticate(
                session,
                runtime.signing_key,
                request.headers.get("authorization"),
                request.headers.get("x-api-key"),
                runtime.principals,
            )
        except AuthenticationError as exc:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED, exc.message, headers={"WWW-Authenticate": "Bearer"}
            ) from exc


async def get_principal(request: Request) -> Principal:
    """Return who the request acts for (Authorization: Bearer … or X-API-Key: …), or raise 401.

    Every protected router depends on it, and FastAPI runs it once per request for the route's
    own dependencies too. A kept principal is found on the event loop, with no thread and no
    database; anything else takes one hop to the thread pool.
    """
    runtime = runtime_of(request)
    headers = request.headers
    principal = known_principal(
        runtime.principals, runtime.signing_key, headers.get("authorization"), headers.get("x-api-key")
    )
    if principal is None:
        principal = await run_in_threadpool(_authenticated_principal, request)
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def authenticated_session(request: Request, principal: PrincipalDep) -> AsyncIterator[Session]:
    """Open the request's session acting for the caller: every use case on it sees only their scope.

    Asynchronous so that it chooses its hops to the thread pool: its transaction begins on the
    loop (the connection is taken at the route's first statement, in the route's thread), one hop
    commits it, and a read-only route's session, which has nothing to commit and returns its
    connection without a round trip, closes on the loop.
    """
    read_only_route = bool(getattr(request.scope.get("endpoint"), READ_ONLY, False))
    session = _acting(_session(request, read_only_route), principal)
    if read_only_route:
        with session:
            yield session
        return
    stack = ExitStack()
    stack.enter_context(session)
    stack.enter_context(session.begin())
    try:
        yield session
    except BaseException as exc:
        await run_in_threadpool(stack.__exit__, type(exc), exc, exc.__traceback__)
        raise
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


async def reading(request: Request, principal: PrincipalDep) -> Reading:
    """Give a hot read-only list its caller, authenticated once for the request (see :func:`get_principal`)."""
    return Reading(request, principal)


ReadingDep = Annotated[Reading, Depends(reading)]
"""A hot read-only list's caller and its ways to the store (see :class:`Reading`)."""


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


GRAPH_WRITES = [Depends(require(Permission.GRAPH_WRITE))]
"""The dependencies of a route that changes the graph: a role without ``graph.write`` anywhere is a 403 at once.

Without it such a route would load its object first and answer 404 outside one's scope, where the
documented answer to a route one's role may not use is a 403 (the object's own scope is checked
where it is loaded).
"""
