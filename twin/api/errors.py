"""Domain errors to HTTP answers: 404 naming the id, 422 naming the field and the rule."""

from __future__ import annotations

import json
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError

from twin.errors import ForbiddenError, NotFoundError, ServiceError, TwinError, ValidationError


class ErrorResponse(JSONResponse):
    r"""A JSON error that always encodes, even when it echoes text that is not Unicode.

    A validation error repeats the input it refused; a lone surrogate in it (``"\ud800"`` in the
    request's JSON) cannot be written as UTF-8, which made the answer itself fail with a 500.
    Such an answer is written with every non-ASCII character escaped instead: still valid JSON.
    """

    def render(self, content: Any) -> bytes:
        """Write UTF-8, or escaped ASCII when the content holds a lone surrogate."""
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode()


def install_error_handlers(app: FastAPI) -> None:
    """Answer every TwinError with its message, never a traceback."""

    @app.exception_handler(RequestValidationError)
    async def unprocessable(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own handler, with an answer that encodes whatever input it echoes.
        return ErrorResponse({"detail": jsonable_encoder(exc.errors())}, status_code=422)

    @app.exception_handler(NotFoundError)
    async def not_found(request: Request, exc: NotFoundError) -> JSONResponse:
        return ErrorResponse({"detail": exc.message}, status_code=404)

    @app.exception_handler(ForbiddenError)
    async def forbidden(request: Request, exc: ForbiddenError) -> JSONResponse:
        return ErrorResponse({"detail": exc.message}, status_code=403)

    @app.exception_handler(ValidationError)
    async def invalid(request: Request, exc: ValidationError) -> JSONResponse:
        return ErrorResponse(
            {"detail": [{"loc": [_location(request, exc.field), exc.field], "msg": exc.rule, "type": "twin.rule"}]},
            status_code=422,
        )

    @app.exception_handler(ServiceError)
    async def unavailable(request: Request, exc: ServiceError) -> JSONResponse:
        return ErrorResponse({"detail": str(exc)}, status_code=503)

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
        return ErrorResponse({"detail": str(exc)}, status_code=400)


def _location(request: Request, field: str) -> str:
    """Say where a refused field was given, as FastAPI's own 422 does: the query, the path or the body."""
    name = field.split(".", 1)[0].split("[", 1)[0]
    if name in request.query_params:
        return "query"
    if name in request.path_params:
        return "path"
    return "body"


def _cannot_hold(error: BaseException | None) -> JSONResponse:
    """A 422 in the declared shape of every 422 (FastAPI's list of errors); the database does not say which field."""
    reason = str(error).strip().splitlines()[0] if error else "value out of range"
    message = f"a value in the request cannot be stored: {reason}"
    detail = [{"loc": ["request"], "msg": message, "type": "twin.out_of_range"}]
    return ErrorResponse({"detail": detail}, status_code=422)
