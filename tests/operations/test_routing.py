"""Ordering a round's stops: every stop once, and within 1.2× of the best order found by brute force."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from twin.operations.routing import best_order, cheapest_insertion, improve, nearest_neighbour, walk_length


def instance(rng: random.Random, n: int, floors: int = 3) -> tuple[list[list[float]], list[float]]:
    """Stops on several floors joined by one stair core: a metric like a tower's walking graph."""
    points = [(rng.uniform(0, 40), rng.uniform(0, 20), rng.randrange(floors)) for _ in range(n + 1)]
    core = (38.0, 18.0)

    def d(a: tuple[float, float, int], b: tuple[float, float, int]) -> float:
        if a[2] == b[2]:
            return math.dist(a[:2], b[:2])
        return math.dist(a[:2], core) + 7.0 * abs(a[2] - b[2]) + math.dist(core, b[:2])

    dist = [[d(a, b) for b in points[1:]] for a in points[1:]]
    return dist, [d(points[0], b) for b in points[1:]]


def brute_force(n: int, dist: list[list[float]], start: list[float] | None) -> float:
    return min(walk_length(order, dist, start) for order in itertools.permutations(range(n)))


@pytest.mark.parametrize("fixed_start", [True, False])
def test_small_rounds_are_within_twenty_percent_of_the_best(fixed_start: bool) -> None:
    rng = random.Random(8)
    worst = 1.0
    for case in range(150):
        n = 2 + case % 6
        dist, start = instance(rng, n)
        origin = start if fixed_start else None
        order = best_order(n, dist, origin)
        assert sorted(order) == list(range(n)), "every stop exactly once"
        best = brute_force(n, dist, origin)
        ratio = walk_length(order, dist, origin) / best if best > 0 else 1.0
        worst = max(worst, ratio)
    assert worst <= 1.2


def test_improving_never_lengthens_and_keeps_every_stop() -> None:
    rng = random.Random(3)
    for _ in range(40):
        dist, start = instance(rng, 25)
        seed = list(range(25))
        rng.shuffle(seed)
        improved = improve(seed, dist, start)
        assert sorted(improved) == list(range(25))
        assert walk_length(improved, dist, start) <= walk_length(seed, dist, start) + 1e-9
        assert (
            walk_length(best_order(25, dist, start, seeds=[improved]), dist, start)
            <= walk_length(improved, dist, start) + 1e-9
        )


def test_nearest_neighbour_and_insertion_on_a_line() -> None:
    points = [0.0, 10.0, 3.0, 7.0]
    dist = [[abs(a - b) for b in points] for a in points]
    assert nearest_neighbour(4, dist, None, first=0) == [0, 2, 3, 1]
    assert walk_length([0, 2, 3, 1], dist) == 10.0
    position, extra = cheapest_insertion([0, 1], 2, dist)
    assert (position, extra) == (1, 0.0), "3 lies on the way from 0 to 10"
    assert best_order(0, [], None) == []
    assert best_order(1, [[0.0]], [5.0]) == [0]
