"""Finding one's way: walking routes between spaces and search (the legend's catalogue is ``twin.api.catalogue``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field

from twin.api.deps import GRAPH_WRITES, SessionDep, read_only
from twin.graph import queries, walking
from twin.graph.geometry import point_xyz
from twin.graph.paths import PathNamer
from twin.schemas import Id, Route, SearchHit
from twin.store.models import DeviceRow, FloorRow, SpaceRow

router = APIRouter(prefix="/api", tags=["navigation"])


class WalkEdgeCreate(BaseModel):
    """A declared walking connection between two spaces."""

    from_space_id: Id
    to_space_id: Id
    kind: str = Field(pattern="^(door|opening|stair|elevator)$")
    length: float | None = Field(default=None, ge=0)
    via: str | None = None


@router.get("/routes")
@read_only
def get_route(
    session: SessionDep,
    from_: Annotated[Id, Query(alias="from", description="Start space id.")],
    to: Annotated[Id, Query(description="Destination space id.")],
) -> Route:
    """Return the shortest walking route between two spaces, with its length in metres."""
    return walking.route(session, from_, to)


@router.post("/walk-edges", status_code=status.HTTP_201_CREATED, dependencies=GRAPH_WRITES)
def create_walk_edge(session: SessionDep, body: WalkEdgeCreate) -> dict[str, Any]:
    """Declare a door, opening, stair or elevator between two spaces."""
    row = walking.add_walk_edge(session, body.from_space_id, body.to_space_id, body.kind, body.length, body.via)
    return {"id": row.id, "length": row.length}


@router.get("/search")
@read_only
def search(
    session: SessionDep, q: Annotated[str, Query(min_length=1, max_length=100)], limit: int = 20
) -> dict[str, list[SearchHit]]:
    """Find units by address (3-2-1801), devices by tag or name, buildings and floors by name."""
    hits = queries.search(session, q, min(max(limit, 1), 100))
    namer = PathNamer(session, [hit.path for hit in hits])
    items = []
    for hit in hits:
        if isinstance(hit, DeviceRow):
            items.append(
                SearchHit(
                    type="device",
                    id=hit.id,
                    name=hit.name,
                    path=namer.items(hit.path),
                    floor_id=hit.floor_id,
                    position=point_xyz(hit.position_local),
                )
            )
            continue
        kind = hit.kind
        floor_id = hit.id if isinstance(hit, FloorRow) else hit.floor_id if isinstance(hit, SpaceRow) else None
        if isinstance(hit, SpaceRow) and hit.space_kind == "unit":
            kind = "unit"
        items.append(
            SearchHit(
                type=kind,
                id=hit.id,
                name=hit.name,
                path=namer.items(hit.path),
                floor_id=floor_id,
                position=None,
            )
        )
    return {"items": items}
