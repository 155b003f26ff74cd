"""Ordering the stops of a round: an open walk through every stop once, as short as we can make it.

This is the travelling-salesman path problem over shortest walking distances. Rounds have tens of
stops, so nearest neighbour from several first stops, then 2-opt (reverse a stretch) and Or-opt
(move one to three consecutive stops elsewhere) until neither improves, lands within a few per
cent of the best order in practice, in milliseconds. The walk may start at a given place (the
entrance, the office) and ends wherever its last stop is.

Stops are indices ``0..n-1``; ``dist[i][j]`` is the walking distance between stops i and j, and
``start[i]`` from the starting place to stop i (``None``: the walk starts at its first stop).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Matrix = Sequence[Sequence[float]]
START = -1
END = -2
_EPS = 1e-9
MAX_FIRST_STOPS = 12
"""How many first stops nearest neighbour tries when the walk has no fixed start."""


class _Walk:
    """Distances with the two virtual ends of an open walk: its start and its end."""

    def __init__(self, dist: Matrix, start: Sequence[float] | None) -> None:
        self.dist = dist
        self.start = start

    def link(self, a: int, b: int) -> float:
        """Return the cost of walking from a to b (START and END are free unless a start is given)."""
        if b == END or a == END:
            return 0.0
        if a == START:
            return self.start[b] if self.start is not None else 0.0
        if b == START:
            return self.start[a] if self.start is not None else 0.0
        return self.dist[a][b]

    def length(self, order: Sequence[int]) -> float:
        """Return the length of a walk visiting ``order``."""
        stops = [START, *order, END]
        return sum(self.link(a, b) for a, b in zip(stops, stops[1:], strict=False))


def walk_length(order: Sequence[int], dist: Matrix, start: Sequence[float] | None = None) -> float:
    """Return the length of an open walk through ``order`` (from ``start`` when given)."""
    return _Walk(dist, start).length(order)


def nearest_neighbour(n: int, dist: Matrix, start: Sequence[float] | None, first: int | None = None) -> list[int]:
    """Walk to the nearest unvisited stop each time, from the start (or from ``first``)."""
    walk = _Walk(dist, start)
    left = set(range(n))
    order: list[int] = []
    here = START
    if first is not None:
        order.append(first)
        left.discard(first)
        here = first
    while left:
        nxt = min(left, key=lambda j: (walk.link(here, j), j))
        order.append(nxt)
        left.discard(nxt)
        here = nxt
    return order


def _two_opt(walk: _Walk, order: list[int]) -> bool:
    """Reverse the first stretch whose reversal shortens the walk; tell whether one was found."""
    n = len(order)
    for i in range(n - 1):
        before = order[i - 1] if i > 0 else START
        for j in range(i + 1, n):
            after = order[j + 1] if j + 1 < n else END
            old = walk.link(before, order[i]) + walk.link(order[j], after)
            new = walk.link(before, order[j]) + walk.link(order[i], after)
            if new < old - _EPS:
                order[i : j + 1] = reversed(order[i : j + 1])
                return True
    return False


def _or_opt(walk: _Walk, order: list[int]) -> bool:
    """Move the first stretch of one to three stops whose move shortens the walk; tell whether one was."""
    n = len(order)
    for size in (1, 2, 3):
        for i in range(n - size + 1):
            seg = order[i : i + size]
            before = order[i - 1] if i > 0 else START
            after = order[i + size] if i + size < n else END
            gain = walk.link(before, seg[0]) + walk.link(seg[-1], after) - walk.link(before, after)
            rest = order[:i] + order[i + size :]
            ends = [START, *rest, END]
            for k in range(len(ends) - 1):
                a, b = ends[k], ends[k + 1]
                if k == i:
                    continue
                base = walk.link(a, b)
                for piece in (seg, seg[::-1]):
                    cost = walk.link(a, piece[0]) + walk.link(piece[-1], b) - base
                    if cost < gain - _EPS:
                        order[:] = rest[:k] + piece + rest[k:]
                        return True
    return False


def improve(order: Sequence[int], dist: Matrix, start: Sequence[float] | None = None) -> list[int]:
    """Apply 2-opt and Or-opt moves until neither shortens the walk; the result is never longer."""
    walk = _Walk(dist, start)
    out = list(order)
    while _two_opt(walk, out) or _or_opt(walk, out):
        pass
    return out


def best_order(
    n: int, dist: Matrix, start: Sequence[float] | None = None, seeds: Sequence[Sequence[int]] = ()
) -> list[int]:
    """Return a short open walk through all n stops: the best of several improved constructions.

    ``seeds`` are orders the caller already has (the order stops were chosen in): they are improved
    too, so the answer is never longer than any of them.
    """
    if n == 0:
        return []
    walk = _Walk(dist, start)
    firsts: list[int | None] = [None]
    if start is None:
        firsts = list(range(n)) if n <= MAX_FIRST_STOPS else list(range(0, n, math.ceil(n / MAX_FIRST_STOPS)))
    candidates = [nearest_neighbour(n, dist, start, first) for first in firsts] + [list(s) for s in seeds]
    best: list[int] = []
    best_length = math.inf
    for order in candidates:
        improved = improve(order, dist, start)
        length = walk.length(improved)
        if length < best_length - _EPS:
            best, best_length = improved, length
    return best


def cheapest_insertion(
    order: Sequence[int], new: int, dist: Matrix, start: Sequence[float] | None = None
) -> tuple[int, float]:
    """Return where inserting stop ``new`` into a walk costs least, and that extra length."""
    walk = _Walk(dist, start)
    ends = [START, *order, END]
    best = (len(order), math.inf)
    for k in range(len(ends) - 1):
        a, b = ends[k], ends[k + 1]
        extra = walk.link(a, new) + walk.link(new, b) - walk.link(a, b)
        if extra < best[1] - _EPS:
            best = (k, extra)
    return best
