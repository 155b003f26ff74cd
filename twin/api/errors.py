"""Domain errors to HTTP answers: 404 naming the id, 422 naming the field and the rule."""

from __future__ import annotations

import psycopg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError

from twin.errors import ForbiddenError, NotFoundError, ServiceError, TwinError, ValidationError


def install_error_handlers(app: FastAPI) -> None:
    """Answer every TwinError with its message, never a traceback."""

    @app.exception_handler(NotFoundError)
    async def not_found(request: Request, exc: NotFoundError) -> JSONResponse:
        return JSONResponse({"detail": exc.message}, status_code=404)

    @app.exception_handler(ForbiddenError)
    async def forbidden(request: Request, exc: ForbiddenError) -> JSONResponse:
        return JSONResponse({"detail": exc.message}, status_code=403)

    @app.exception_handler(ValidationError)
    async def invalid(request: Request, exc: ValidationError) -> JSONResponse:
        return JSONResponse(
            {"detail": [{"loc": [_location(request, exc.field), exc.field], "msg": exc.rule, "type": "twin.rule"}]},
            status_code=422,
        )

    @app.exception_handler(ServiceError)
    async def unavailable(request: Request, exc: ServiceError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503)

    @app.exception_handler(DataError)
    async def out_of_range(request: Request, exc: DataError) -> JSONResponse:
        # A value the schema let through but the database cannot hold (a number too large, a bad
        # encoding): the request is wrong, not the server.
        return _cannot_hold(exc.orig)

    @app.exception_handler(psycopg.DataError)
    async def out_of_range_on_loop(request: Request, exc: psycopg.DataError) -> JSONResponse:
        # The same, from a list served on the event loop (``twin.store.reader``), which has no SQLAlchemy.
        return _cannot_hold(exc)

    @app.exception_handler(TwinError)
    async def refused(request: Request, exc: TwinError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)


def _location(request: Request, field: str) -> str:
    """Say where a refused field was given, as FastAPI's own 422 does: the query, the path or the body."""
    name = field.split(".", 1)[0].split("[", 1)[0]
    if name in request.query_params:
        return "query"
    if name in request.path_params:
        return "path"
    return "body"


def _cannot_hold(error: BaseException | None) -> JSONResponse:
    reason = str(error).strip().splitlines()[0] if error else "value out of range"
    return JSONResponse({"detail": f"a value in the request cannot be stored: {reason}"}, status_code=422)
