"""Shortest walks over a site's outdoor paths: lines of a map, noded, and places attached to them.

Paths as a survey or the generator draws them rarely share exact vertices: a footway ends on a
road a millimetre short of it once the map went through WGS84 and back, a crossing has no vertex
at all. So the network is made from the lines themselves: every crossing of two lines is a node of
both, an end within :data:`SNAP_M` of another line is joined to the nearest point of it, and each
attached place (a building's entrance) is joined to the nearest point of the nearest line. Pure
shapely and a Dijkstra, in the site frame's metres; no database.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from dataclasses import dataclass

from shapely import STRtree
from shapely.geometry import LineString, MultiPoint, Point
from shapely.geometry.base import BaseGeometry

SNAP_M = 0.5
"""An end of a path this close to another path joins it (drawing and reprojection leave gaps of mm)."""


@dataclass(frozen=True, slots=True)
class Path:
    """One line of the outdoor network and the name it goes by."""

    name: str
    line: LineString


@dataclass(frozen=True, slots=True)
class Walk:
    """The shortest outdoor walk between two attached places: metres, and the paths' names in order."""

    length: float
    names: tuple[str, ...]


class Network:
    """The noded network of some paths, with places attached to it."""

    def __init__(self, paths: list[Path]) -> None:
        self.paths = [p for p in paths if p.line.length > 0]
        self._at: dict[int, list[tuple[float, int]]] = defaultdict(list)
        """Per path: the nodes on it, by distance along it."""
        self._links: list[tuple[int, int, float, int | None]] = []
        """Edges that are not along one path: (node, node, metres, path or None)."""
        self._count = 0
        self._graph: dict[int, list[tuple[int, float, int | None]]] | None = None
        self._tree = STRtree([p.line for p in self.paths])
        for i, path in enumerate(self.paths):
            start, end = self._node(i, 0.0), self._node(i, path.line.length)
            if Point(path.line.coords[0]).distance(Point(path.line.coords[-1])) <= SNAP_M:
                self._links.append((start, end, 0.0, i))  # a closed ring: its two ends are one place
        self._cross()
        self._snap_ends()

    def _node(self, path: int, along: float) -> int:
        node = self._count
        self._count += 1
        self._at[path].append((along, node))
        return node

    def _cross(self) -> None:
        for i, path in enumerate(self.paths):
            for j in self._tree.query(path.line):
                if j <= i:
                    continue
                other = self.paths[j].line
                for point in _points(path.line.intersection(other)):
                    a, b = self._node(i, path.line.project(point)), self._node(int(j), other.project(point))
                    self._links.append((a, b, 0.0, None))

    def _snap_ends(self) -> None:
        for i, path in enumerate(self.paths):
            ends = ((0.0, Point(path.line.coords[0])), (path.line.length, Point(path.line.coords[-1])))
            for along, end in ends:
                for j in self._tree.query(end.buffer(SNAP_M)):
                    other = self.paths[j].line
                    gap = other.distance(end)
                    if j == i or gap > SNAP_M:
                        continue
                    a, b = self._node(i, along), self._node(int(j), other.project(end))
                    self._links.append((a, b, gap, None))

    def attach(self, place: Point, reach: BaseGeometry, within: float) -> int | None:
        """Join a place to the path nearest ``reach`` (its outline) if within ``within`` m; return its node.

        The walk starts at ``place`` (the entrance's centre) and meets the path where it comes
        nearest to it.
        """
        best: tuple[float, int] | None = None
        for j in self._tree.query(reach.buffer(within)):
            gap = self.paths[j].line.distance(reach)
            if gap <= within and (best is None or (gap, j) < best):
                best = (gap, int(j))
        if best is None:
            return None
        j = best[1]
        line = self.paths[j].line
        along = line.project(place)
        node = self._node(j, along)
        self._graph = None
        here = self._count
        self._count += 1
        self._links.append((here, node, place.distance(line.interpolate(along)), None))
        return here

    def walks_from(self, start: int, goals: set[int]) -> dict[int, Walk]:
        """Return the shortest walk from one attached node to each goal it reaches."""
        if self._graph is None:
            self._graph = self._adjacency()
        graph = self._graph
        best: dict[int, float] = {start: 0.0}
        previous: dict[int, tuple[int, int | None]] = {}
        heap = [(0.0, start)]
        left = set(goals) - {start}
        while heap and left:
            cost, node = heapq.heappop(heap)
            if cost > best[node]:
                continue
            left.discard(node)
            for neighbour, weight, path in graph.get(node, ()):
                candidate = cost + weight
                if candidate < best.get(neighbour, math.inf):
                    best[neighbour] = candidate
                    previous[neighbour] = (node, path)
                    heapq.heappush(heap, (candidate, neighbour))
        out = {}
        for goal in goals - {start}:
            if goal in best:
                out[goal] = Walk(best[goal], self._names(previous, goal))
        return out

    def _adjacency(self) -> dict[int, list[tuple[int, float, int | None]]]:
        graph: dict[int, list[tuple[int, float, int | None]]] = {}
        edges = list(self._links)
        for line, nodes in self._at.items():
            ordered = sorted(nodes)
            edges += [(a, b, db - da, line) for (da, a), (db, b) in zip(ordered, ordered[1:], strict=False)]
        for a, b, length, path in edges:
            graph.setdefault(a, []).append((b, length, path))
            graph.setdefault(b, []).append((a, length, path))
        return graph

    def _names(self, previous: dict[int, tuple[int, int | None]], goal: int) -> tuple[str, ...]:
        names: list[str] = []
        node = goal
        while node in previous:
            node, path = previous[node]
            if path is not None and (not names or names[-1] != self.paths[path].name):
                names.append(self.paths[path].name)
        return tuple(reversed(names))


def _points(geometry: BaseGeometry) -> list[Point]:
    """Return the points where two lines meet: crossings, and the ends of a stretch they share."""
    if isinstance(geometry, Point):
        return [geometry]
    if isinstance(geometry, MultiPoint):
        return list(geometry.geoms)
    if isinstance(geometry, LineString):
        return [Point(geometry.coords[0]), Point(geometry.coords[-1])] if not geometry.is_empty else []
    return [p for part in getattr(geometry, "geoms", ()) for p in _points(part)]
