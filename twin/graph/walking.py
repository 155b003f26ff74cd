"""The walking graph: spaces joined by doors, openings, stairs, elevators and outdoor paths; shortest routes.

Edges come from BIM (doors and their space boundaries, stairs, elevators), from the map (outdoor
paths between entrances, ``twin.graph.outdoors``) or are declared. A
route is Dijkstra over one site's edges, loaded in one query: a community has thousands of
spaces, not millions, and inspection rounds ask for many routes at once.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from twin.auth.roles import Permission
from twin.auth.scope import check_allowed
from twin.errors import NotFoundError, ValidationError
from twin.events import RegistryEvent, record
from twin.graph.geometry import from_db
from twin.graph.paths import scopes
from twin.graph.places import get_place
from twin.schemas import Route, RouteStep
from twin.store.models import FloorRow, SpaceRow, WalkEdgeRow

PATH_EDGE = "path"
"""An outdoor walk between two buildings' entrances over the site's mapped paths (``twin.graph.outdoors``)."""
EDGE_KINDS = ("door", "opening", "stair", "elevator", PATH_EDGE)
ELEVATOR_COST_M = 15.0
"""An elevator ride costs waiting time; counted as this many metres of walking."""


def add_walk_edge(
    session: Session, from_space: int, to_space: int, kind: str, length: float | None = None, via: str | None = None
) -> WalkEdgeRow:
    """Join two spaces of one site; the length defaults to the distance between their centres."""
    if kind not in EDGE_KINDS:
        raise ValidationError("kind", f"must be one of {', '.join(EDGE_KINDS)}")
    if from_space == to_space:
        raise ValidationError("to_space", "a space cannot be joined to itself")
    a = get_place(session, SpaceRow, from_space, "space")
    b = get_place(session, SpaceRow, to_space, "space")
    if a.site_id != b.site_id:
        raise ValidationError("to_space", "both spaces must be in the same site")
    check_allowed(session, Permission.GRAPH_WRITE, a.path, f"space {a.id}")
    check_allowed(session, Permission.GRAPH_WRITE, b.path, f"space {b.id}")
    if length is None:
        length = _centre_distance(session, a, b)
    if length < 0 or not math.isfinite(length):
        raise ValidationError("length", "must be a finite number of metres, not negative")
    pair = (WalkEdgeRow.from_space_id == a.id, WalkEdgeRow.to_space_id == b.id, WalkEdgeRow.kind == kind)
    if session.scalar(select(WalkEdgeRow.id).where(*pair)) is not None:
        raise ValidationError("to_space_id", f"spaces {a.id} and {b.id} are already joined by a {kind}")
    row = WalkEdgeRow(site_id=a.site_id, from_space_id=a.id, to_space_id=b.id, kind=kind, length=length, via=via)
    session.add(row)
    session.flush()
    record(session, RegistryEvent("create", "walk_edge", row.id, scopes(a.path), {"to": b.id, "kind": kind}))
    return row


def _centre_distance(session: Session, a: SpaceRow, b: SpaceRow) -> float:
    pa, pb = from_db(a.polygon_local), from_db(b.polygon_local)
    fa, fb = session.get(FloorRow, a.floor_id), session.get(FloorRow, b.floor_id)
    dz = abs((fa.elevation if fa else 0.0) - (fb.elevation if fb else 0.0))
    if pa is None or pb is None:
        return dz
    ca, cb = pa.centroid, pb.centroid
    return float(math.hypot(ca.x - cb.x, ca.y - cb.y, dz))


def route(session: Session, from_space: int, to_space: int) -> Route:
    """Return the shortest walking route between two spaces, with its length in metres."""
    start = get_place(session, SpaceRow, from_space, "space")
    goal = get_place(session, SpaceRow, to_space, "space")
    if start.site_id != goal.site_id:
        raise ValidationError("to", "the two spaces are in different sites")
    graph = load_graph(session, start.site_id or 0)
    _, previous = shortest_paths(graph, start.id, goal.id)
    if goal.id not in previous:
        raise NotFoundError(f"no walking route from space {start.id} to space {goal.id}")
    chain: list[tuple[int, WalkEdgeRow | None]] = []
    node: int | None = goal.id
    while node is not None:
        prev = previous[node]
        chain.append((node, prev[1] if prev else None))
        node = prev[0] if prev else None
    chain.reverse()
    spaces = {row.id: row for row in session.scalars(select(SpaceRow).where(SpaceRow.id.in_([n for n, _ in chain])))}
    steps = [
        RouteStep(
            space_id=n,
            name=spaces[n].name,
            floor_id=spaces[n].floor_id,
            via=e.via if e else None,
            edge_kind=e.kind if e else None,
            length=round(e.length, 2) if e else 0.0,
        )
        for n, e in chain
    ]
    return Route(length=round(sum(step.length for step in steps), 2), steps=steps)


Graph = dict[int, list[tuple[int, float, WalkEdgeRow]]]


def load_graph(session: Session, site_id: int) -> Graph:
    """Load a site's walking edges as an undirected adjacency list."""
    graph: Graph = defaultdict(list)
    for edge in session.scalars(select(WalkEdgeRow).where(WalkEdgeRow.site_id == site_id)):
        cost = edge.length + (ELEVATOR_COST_M if edge.kind == "elevator" else 0.0)
        graph[edge.from_space_id].append((edge.to_space_id, cost, edge))
        graph[edge.to_space_id].append((edge.from_space_id, cost, edge))
    return graph


def shortest_paths(
    graph: Graph, start: int, goal: int | None = None
) -> tuple[dict[int, float], dict[int, tuple[int, WalkEdgeRow] | None]]:
    """Run Dijkstra from a space: each reached space's cost, and its predecessor with the edge taken.

    Without a goal it reaches every space, which is what inspection rounds need to order stops.
    """
    best = {start: 0.0}
    previous: dict[int, tuple[int, WalkEdgeRow] | None] = {start: None}
    heap = [(0.0, start)]
    while heap:
        cost, node = heapq.heappop(heap)
        if node == goal:
            break
        if cost > best[node]:
            continue
        for neighbour, weight, edge in graph.get(node, ()):
            candidate = cost + weight
            if candidate < best.get(neighbour, math.inf):
                best[neighbour] = candidate
                previous[neighbour] = (node, edge)
                heapq.heappush(heap, (candidate, neighbour))
    return best, previous
