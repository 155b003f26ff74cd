"""The outdoor network: paths that miss each other by millimetres or cross without a vertex still join."""

from __future__ import annotations

import pytest
from shapely.geometry import LineString, Point, box

from twin.graph.footpaths import SNAP_M, Network, Path


def _door(network: Network, x: float, y: float, reach: float = 5.0) -> int | None:
    """Attach a 2 m square room centred at (x, y); the walk starts at its centre."""
    room = box(x - 1.0, y - 1.0, x + 1.0, y + 1.0)
    return network.attach(Point(x, y), room, reach)


def test_a_footway_ending_a_millimetre_short_of_the_road_joins_it() -> None:
    road = Path("road", LineString([(0, 0), (100, 0)]))
    footway = Path("footway", LineString([(50, 0.001), (50, 20)]))
    network = Network([road, footway])
    a, b = _door(network, 0, -3), _door(network, 50, 23)
    assert a is not None and b is not None
    walk = network.walks_from(a, {b})[b]
    assert walk.length == pytest.approx(3.0 + 50 + 20 + 3.0, abs=0.01)
    assert walk.names == ("road", "footway")


def test_lines_crossing_without_a_shared_vertex_meet_where_they_cross() -> None:
    network = Network([Path("ew", LineString([(0, 0), (100, 0)])), Path("ns", LineString([(40, -50), (40, 50)]))])
    a, b = _door(network, 0, 2), _door(network, 40, 52)
    assert a is not None and b is not None
    assert network.walks_from(a, {b})[b].length == pytest.approx(2.0 + 40 + 50 + 2.0, abs=0.01)


def test_a_gap_wider_than_the_snap_is_no_way_through() -> None:
    gap = 10 + 2 * SNAP_M
    network = Network([Path("a", LineString([(0, 0), (10, 0)])), Path("b", LineString([(gap, 0), (20, 0)]))])
    a, b = _door(network, 0, 2), _door(network, 20, 2)
    assert a is not None and b is not None
    assert network.walks_from(a, {b}) == {}


def test_a_closed_ring_goes_round_either_way_and_a_far_place_is_not_attached() -> None:
    ring = Path("ring", LineString([(0, 0), (100, 0), (100, 100), (0, 100), (0, 0)]))
    network = Network([ring])
    a, b = _door(network, 10, -2), _door(network, -2, 10)
    assert a is not None and b is not None
    assert network.walks_from(a, {b})[b].length == pytest.approx(2.0 + 10 + 10 + 2.0, abs=0.01)
    assert _door(network, 50, 50) is None, "a room 49 m inside the ring is beyond its reach"
