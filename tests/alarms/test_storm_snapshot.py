"""A live screen's first alarms: every root before any storm's child, so a cap never drops a root."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from realtime.hub import snapshot as snapshots
from realtime.hub.access import Target
from tests.alarms.test_api import raised
from tests.ingest.helpers import Graph
from twin.alarms import AlarmSeverity
from twin.auth.roles import Role
from twin.auth.scope import EVERYWHERE, Grant, Principal
from twin.store.engine import session_factory


def test_a_storm_s_children_never_crowd_a_root_out_of_the_snapshot(
    engine: Engine, graph: Graph, monkeypatch: pytest.MonkeyPatch
) -> None:
    gateway = f"device:{graph.devices['GW-1']}"
    offline = {"rule": "offline", "condition": "offline", "severity": AlarmSeverity.MAJOR}
    root = raised(engine, graph, "GW-1", subject=gateway, **offline)
    children = {
        raised(engine, graph, name, subject=f"device:{graph.devices[name]}", parent=("offline", gateway), **offline)
        for name in ("SD-1", "SD-2")
    }
    # Less severe than the storm's children, so a list by severity alone would put it last.
    pressure = raised(
        engine, graph, "PS-1", rule="pressure", subject=f"device:{graph.devices['PS-1']}", severity=AlarmSeverity.MINOR
    )
    site = f"site:{graph.site}"
    target = Target(site, graph.site, str(graph.site), graph.site, None, (site,), frozenset({"alarm"}), (), None)
    admin = Principal("root", (Grant(Role.ADMIN, EVERYWHERE),))

    def first_alarms() -> list[tuple[int, int]]:
        with session_factory(engine)() as session:
            return [(a["id"], a["children"]) for a in snapshots.snapshot(session, admin, target)["alarms"]]

    assert sorted(first_alarms()) == sorted([(root, 2), (pressure, 0), *((c, 0) for c in children)])
    monkeypatch.setattr(snapshots, "MAX_ALARMS", 3)
    shown = first_alarms()
    assert shown[:2] == [(root, 2), (pressure, 0)] and len(shown) == 3 and shown[2][0] in children
