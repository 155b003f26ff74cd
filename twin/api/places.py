"""Sites, buildings, floors and spaces: read them with their paths, create and change them.

The two hot lists, units by address and a subtree, are declared first: FastAPI tries a request's
path against each route in turn (see ``twin.app.PROTECTED_ROUTERS``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, status
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from twin.api.attention import SpaceDetail, attention
from twin.api.deps import GRAPH_WRITES, ReadingDep, SessionDep, read_only
from twin.graph import place_page, queries
from twin.graph import places as uc
from twin.graph.views import place_items, places_public
from twin.schemas import (
    BuildingCreate,
    BuildingPublic,
    FloorCreate,
    FloorPublic,
    Id,
    PlaceList,
    PlacePublic,
    PlaceUpdate,
    SiteCreate,
    SitePublic,
    SpaceCreate,
    SpacePublic,
)
from twin.store.models import BuildingRow, FloorRow, PlaceRow, SiteRow, SpaceRow

router = APIRouter(prefix="/api", tags=["places"])


def _listed(session: Session, rows: Sequence[Any]) -> Response:
    """Send a list of places as plain data, serialised once (see ``twin.graph.views``)."""
    return Response(orjson.dumps({"items": place_items(session, rows)}), media_type="application/json")


def _json(items: bytes) -> Response:
    """Send a list of places that PostgreSQL rendered (see ``twin.graph.place_page``)."""
    return Response(b'{"items":' + items + b"}", media_type="application/json")


@router.get("/units", response_model=PlaceList)
async def find_units(reading: ReadingDep, address: str, site_id: Id | None = None) -> Response:
    """Find household units by their address, in any common spelling (3-2-1801, 3栋2单元1801室, 3#2-1801).

    Served on the event loop: the search box asks at every key.
    """
    items, _count = place_page.read(await reading.one(queries.units_listed(reading.principal, address, site_id)))
    return _json(items)


@router.get("/places/{place_id}/subtree", response_model=PlaceList)
async def list_subtree(
    reading: ReadingDep, place_id: Id, kind: Annotated[list[str] | None, Query()] = None
) -> Response:
    """List every place under a place, optionally of some levels only (served on the event loop)."""
    items, count = place_page.read(await reading.one(queries.subtree(reading.principal, place_id, kind or [])))
    if not count:
        await reading.check(lambda session: uc.get_place(session, PlaceRow, place_id, "place"))
    return _json(items)


@router.get("/sites", response_model=PlaceList)
@read_only
def list_sites(session: SessionDep) -> Response:
    """List the communities."""
    where = (PlaceRow.kind == "site") & PlaceRow.retired_at.is_(None)
    return _json(place_page.render(session, select(PlaceRow.id, PlaceRow.id.label("sort")).where(where))[0])


@router.post("/sites", status_code=status.HTTP_201_CREATED, dependencies=GRAPH_WRITES)
def create_site(session: SessionDep, body: SiteCreate) -> SitePublic:
    """Create a community."""
    return places_public(session, [uc.create_site(session, body)])[0]  # type: ignore[return-value]


@router.get("/sites/{site_id}")
@read_only
def get_site(session: SessionDep, site_id: Id) -> SitePublic:
    """Read a community."""
    return places_public(session, [uc.get_place(session, SiteRow, site_id, "site")])[0]  # type: ignore[return-value]


@router.post("/buildings", status_code=status.HTTP_201_CREATED, dependencies=GRAPH_WRITES)
def create_building(session: SessionDep, body: BuildingCreate) -> BuildingPublic:
    """Put a building on a site."""
    return places_public(session, [uc.create_building(session, body)])[0]  # type: ignore[return-value]


@router.get("/buildings/{building_id}")
@read_only
def get_building(session: SessionDep, building_id: Id) -> BuildingPublic:
    """Read a building."""
    row = uc.get_place(session, BuildingRow, building_id, "building")
    return places_public(session, [row])[0]  # type: ignore[return-value]


@router.post("/floors", status_code=status.HTTP_201_CREATED, dependencies=GRAPH_WRITES)
def create_floor(session: SessionDep, body: FloorCreate) -> FloorPublic:
    """Add a storey to a building."""
    return places_public(session, [uc.create_floor(session, body)])[0]  # type: ignore[return-value]


@router.get("/floors/{floor_id}")
@read_only
def get_floor(session: SessionDep, floor_id: Id) -> FloorPublic:
    """Read a storey."""
    return places_public(session, [uc.get_place(session, FloorRow, floor_id, "floor")])[0]  # type: ignore[return-value]


@router.post("/spaces", status_code=status.HTTP_201_CREATED, dependencies=GRAPH_WRITES)
def create_space(session: SessionDep, body: SpaceCreate) -> SpacePublic:
    """Add a space to a floor."""
    return places_public(session, [uc.create_space(session, body)])[0]  # type: ignore[return-value]


@router.get("/spaces/{space_id}")
@read_only
def get_space(session: SessionDep, space_id: Id) -> SpaceDetail:
    """Read a space with the active alarms and open tickets in it (what its panel shows)."""
    space = places_public(session, [uc.get_place(session, SpaceRow, space_id, "space")])[0]
    return SpaceDetail(**space.model_dump(), **attention(session, under=space.id).model_dump())


@router.get("/places/{place_id}/children", response_model=PlaceList)
@read_only
def list_children(session: SessionDep, place_id: Id) -> Response:
    """List the places directly under a place."""
    return _json(queries.children(session, place_id))


@router.get("/places/{place_id}/ancestors", response_model=PlaceList)
@read_only
def list_ancestors(session: SessionDep, place_id: Id) -> Response:
    """List the places above a place, site first."""
    return _listed(session, queries.ancestors(session, place_id))


@router.get("/floors/{floor_id}/space-at")
@read_only
def get_space_at(session: SessionDep, floor_id: Id, x: float, y: float) -> SpacePublic | None:
    """Return the space of a floor containing a point of the site frame, or null."""
    row = queries.space_at(session, floor_id, x, y)
    return None if row is None else places_public(session, [row])[0]  # type: ignore[return-value]


@router.patch("/places/{place_id}", dependencies=GRAPH_WRITES)
def update_place(session: SessionDep, place_id: Id, body: PlaceUpdate) -> PlacePublic:
    """Rename or move a place."""
    row = uc.update_place(session, place_id, body)
    session.refresh(row)
    return places_public(session, [row])[0]


@router.delete("/places/{place_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=GRAPH_WRITES)
def delete_place(session: SessionDep, place_id: Id) -> None:
    """Delete an empty place."""
    uc.delete_place(session, place_id)
