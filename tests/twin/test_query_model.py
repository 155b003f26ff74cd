"""The one-call query model answers, refuses and documents exactly as FastAPI's own query model does."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI, Query
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field

from twin.api.query_model import openapi_parameters, query_model


class Filters(BaseModel):
    """A query with every shape the twin's lists take: a list, an optional id, a bounded number, a flag."""

    kind: list[str] | None = None
    under: int | None = Field(None, ge=1, description="A place id.")
    limit: int = Field(100, ge=1, le=500)
    retired: bool = False
    text: str


def _apps() -> tuple[TestClient, TestClient]:
    ours, theirs = FastAPI(), FastAPI()

    @ours.get("/items", openapi_extra=openapi_parameters(Filters))
    async def read_ours(filters: Annotated[Filters, Depends(query_model(Filters))]) -> dict[str, Any]:
        return filters.model_dump()

    @theirs.get("/items")
    async def read_theirs(filters: Annotated[Filters, Query()]) -> dict[str, Any]:
        return filters.model_dump()

    return TestClient(ours), TestClient(theirs)


@pytest.mark.parametrize(
    "query",
    [
        "text=a",
        "text=a&kind=x&kind=y&under=3&limit=7&retired=true",
        "text=a&retired=yes&ignored=1",
        "text=a&kind=x",
        "text=a&text=b",
        "text=a&limit=0",
        "text=a&limit=x&under=0",
        "under=3",
        "text=a&retired=maybe",
    ],
)
def test_answers_and_refusals_match_fastapis_own(query: str) -> None:
    ours, theirs = _apps()
    mine, reference = ours.get(f"/items?{query}"), theirs.get(f"/items?{query}")
    assert (mine.status_code, mine.json()) == (reference.status_code, reference.json())


def test_a_refusal_names_the_parameter() -> None:
    ours, _ = _apps()
    refused = ours.get("/items?text=a&limit=501")
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["query", "limit"]


def test_the_openapi_parameters_are_fastapis_own() -> None:
    ours, theirs = _apps()
    mine = ours.get("/openapi.json").json()["paths"]["/items"]["get"]["parameters"]
    assert mine == theirs.get("/openapi.json").json()["paths"]["/items"]["get"]["parameters"]


def test_a_model_this_cannot_read_as_fastapi_would_is_refused_at_declaration() -> None:
    class Nested(BaseModel):
        inner: Filters | None = None

    class Strict(Filters, extra="forbid"):
        pass

    with pytest.raises(TypeError, match="Nested"):
        openapi_parameters(Nested)
    with pytest.raises(TypeError, match="Strict"):
        query_model(Strict)
