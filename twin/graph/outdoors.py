"""Outdoor walks between buildings: each entrance joined to every other over the site's mapped paths.

A model's walking graph ends at its walls (doors, stairs and lifts join the spaces of one
building), so without the outdoors no route leaves a building and an inspection round never
crosses the site. The site's map has the rest: its roads and footways (GIS features of kind
``road``, from any layer). Every building's entrances are found in the model — the lobbies of its
entry floor (the ground floor, or for a building wholly below ground its top floor), or, when it
has none, its largest space there, the hall its rooms open onto — and joined to the nearest path
within :data:`ENTRANCE_REACH_M`. Each pair of entrances that the paths connect gets one walking
edge of kind ``path``, as long as the shortest walk between them and naming the paths it takes.

The edges are what the map and the model imply, so they are made again after each import of a
layer: added, re-measured, or dropped when a path or an entrance is gone. A model imported after
its map is joined by importing a layer again.
"""

from __future__ import annotations

from collections import defaultdict

import shapely
from shapely.geometry import LineString, MultiLineString, Polygon
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from twin.catalogue import SpaceKind
from twin.graph.footpaths import Network, Path
from twin.graph.frame import local_frame_proj
from twin.graph.geometry import from_db
from twin.graph.walking import PATH_EDGE, add_walk_edge
from twin.imports.changes import delete_walk_edge
from twin.store.gis_layers import GisFeatureRow
from twin.store.models import FloorRow, SiteRow, SpaceRow, WalkEdgeRow

ENTRANCE_REACH_M = 20.0
"""How far from an entrance's outline a path may pass and still be the way in (a tower's lobby
sits behind the flats of its ground floor: 10 m in the generated towers)."""
ROAD_KIND = "road"
"""The GIS feature kind of roads and footways (``gis.kinds.FeatureKind.ROAD``)."""
VIA_PREFIX = "室外 outdoors: "
VIA_MAX = 200


def join_outdoors(session: Session, site_id: int) -> int:
    """Make the site's ``path`` edges what its paths and entrances imply; return how many it has."""
    site = session.get(SiteRow, site_id)
    if site is None:
        return 0
    network = Network(site_paths(session, site))
    attached: dict[int, SpaceRow] = {}
    if network.paths:
        for space, outline in entrances(session, site_id):
            node = network.attach(outline.centroid, outline, ENTRANCE_REACH_M)
            if node is not None:
                attached[node] = space
    wanted: dict[tuple[int, int], tuple[float, str]] = {}
    for node, space in attached.items():
        for goal, walk in network.walks_from(node, set(attached)).items():
            a, b = sorted((space.id, attached[goal].id))
            if a != b and (a, b) not in wanted:
                wanted[(a, b)] = (round(walk.length, 2), (VIA_PREFIX + " → ".join(walk.names))[:VIA_MAX])
    path_edges = select(WalkEdgeRow).where(WalkEdgeRow.site_id == site_id, WalkEdgeRow.kind == PATH_EDGE)
    held = session.scalars(path_edges).all()
    kept: set[tuple[int, int]] = set()
    for edge in held:
        key = (edge.from_space_id, edge.to_space_id)
        if wanted.get(key) == (round(edge.length, 2), edge.via):
            kept.add(key)
        else:
            delete_walk_edge(session, edge)
    for (a, b), (length, via) in sorted(wanted.items()):
        if (a, b) not in kept:
            add_walk_edge(session, a, b, PATH_EDGE, length, via)
    return len(wanted)


def site_paths(session: Session, site: SiteRow) -> list[Path]:
    """Return the site's roads and footways as lines in the site frame, each with its name."""
    proj = local_frame_proj(site.origin_lat, site.origin_lon, site.origin_height)
    rows = session.execute(
        select(
            GisFeatureRow.name, GisFeatureRow.source_id, func.ST_AsBinary(func.ST_Transform(GisFeatureRow.geom, proj))
        )
        .where(GisFeatureRow.site_id == site.id, GisFeatureRow.kind == ROAD_KIND)
        .order_by(GisFeatureRow.layer, GisFeatureRow.feature_index)
    )
    paths = []
    for name, source_id, wkb in rows:
        geometry = shapely.from_wkb(bytes(wkb))
        lines = geometry.geoms if isinstance(geometry, MultiLineString) else [geometry]
        paths += [Path(name or source_id, line) for line in lines if isinstance(line, LineString)]
    return paths


def entrances(session: Session, site_id: int) -> list[tuple[SpaceRow, Polygon]]:
    """Return every building's entrance spaces with their outlines, found in the model."""
    floors: dict[int, list[FloorRow]] = defaultdict(list)
    for floor in session.scalars(
        select(FloorRow).where(FloorRow.site_id == site_id, FloorRow.retired_at.is_(None)).order_by(FloorRow.id)
    ):
        floors[floor.building_id].append(floor)
    entry = [_entry_floor(levels).id for levels in floors.values()]
    spaces: dict[int, list[tuple[SpaceRow, Polygon]]] = defaultdict(list)
    for space in session.scalars(
        select(SpaceRow)
        .where(SpaceRow.floor_id.in_(entry), SpaceRow.retired_at.is_(None), SpaceRow.polygon_local.is_not(None))
        .order_by(SpaceRow.id)
    ):
        outline = from_db(space.polygon_local)
        if isinstance(outline, Polygon) and outline.area > 0:
            spaces[space.floor_id].append((space, outline))
    out: list[tuple[SpaceRow, Polygon]] = []
    for floor_id in entry:
        here = spaces.get(floor_id, [])
        lobbies = [(s, o) for s, o in here if s.space_kind == SpaceKind.LOBBY.value]
        if lobbies:
            out += lobbies
        elif here:
            out.append(max(here, key=lambda pair: pair[1].area))
    return out


def _entry_floor(floors: list[FloorRow]) -> FloorRow:
    """Return the floor a building is entered on: its ground floor, else the top of one wholly below ground."""
    above = [f for f in floors if f.level >= 1]
    return min(above, key=lambda f: f.level) if above else max(floors, key=lambda f: f.level)
