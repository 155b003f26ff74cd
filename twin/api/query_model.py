"""A route's query string validated as one pydantic model, in one call.

FastAPI can take a model as a route's query parameters (``Annotated[Model, Query()]``), but on
every request it reads the model field by field, working out again from each field's annotation
whether it is a list: for the device list's twelve parameters that was 0.3 ms of a 2.6 ms
request on 2 cores, measured in-process (docs/graph.md), on the list the view asks for every
floor it shows. :func:`query_model` works that out once, reads the query string into a dict,
validates it with one pydantic call, and reports errors as FastAPI does, at ``("query", field)``.
Which fields are lists (read from repeated keys) is FastAPI's own judgement, asked once per
model rather than once per field and request.
Since FastAPI sees only a dependency on the request, the route declares the same parameters in
its OpenAPI operation with :func:`openapi_parameters`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import Request
from fastapi._compat import field_annotation_is_sequence
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

M = TypeVar("M", bound=BaseModel)


def query_model(model: type[M]) -> Callable[[Request], Awaitable[M]]:
    """Return a dependency reading ``model`` from the query string: repeated keys for list fields.

    Parameters the model does not name are ignored, as FastAPI ignores them; a model that would
    refuse or keep them (``extra="forbid"`` or ``"allow"``) is refused here instead.
    """
    if model.model_config.get("extra", "ignore") != "ignore":
        raise TypeError(f"{model.__name__}: a query model must ignore the parameters it does not name")
    names = tuple(model.model_fields)
    lists = frozenset(
        name for name, field in model.model_fields.items() if field_annotation_is_sequence(field.annotation)
    )

    async def read(request: Request) -> M:
        query = request.query_params
        raw = {name: query.getlist(name) if name in lists else query[name] for name in names if name in query}
        try:
            return model.model_validate(raw)
        except PydanticValidationError as exc:
            errors = exc.errors(include_url=False)
            raise RequestValidationError([{**error, "loc": ("query", *error["loc"])} for error in errors]) from None

    return read


def openapi_parameters(model: type[BaseModel]) -> dict[str, Any]:
    """Return the ``openapi_extra`` that declares ``model``'s fields as the operation's query parameters."""
    schema = model.model_json_schema()
    if "$defs" in schema:
        raise TypeError(f"{model.__name__}: a query parameter's schema may not refer to other schemas")
    required = set(schema.get("required", ()))
    parameters = []
    for name, field_schema in schema["properties"].items():
        parameter: dict[str, Any] = {"name": name, "in": "query", "required": name in required}
        if field_schema.get("default", ...) is None:
            field_schema = {key: value for key, value in field_schema.items() if key != "default"}
        parameter["schema"] = field_schema
        if "description" in field_schema:
            parameter["description"] = field_schema["description"]
        parameters.append(parameter)
    return {"parameters": parameters}
