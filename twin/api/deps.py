"""Dependencies of the routes, as ``Annotated`` aliases (the FastAPI template's habit)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

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
        with session.begin():
            yield session


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SessionDep = Annotated[Session, Depends(get_session)]
