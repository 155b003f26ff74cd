"""A site with two buildings built alike, and people of every role on each and everywhere.

Building A and building B each hold a floor, a corridor, a unit, an elevator and a smoke detector
(linked by a relation), an alarm on each device, a ticket on each device, an inspection plan and
a round, a charge on the unit, and accounts: a viewer and a machine account granted there. The
security tests ask the same questions of A's objects and of B's, as people whose grants cover
everything, A only or B only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.api_fixtures import ADMIN_PASSWORD
from tests.twin.community import post, rect
from twin.alarms import AlarmSeverity, raise_alarm
from twin.alarms.conditions import Occurrence
from twin.auth import users
from twin.auth.roles import Role
from twin.events import EventBus
from twin.store.engine import session_factory
from twin.store.models import DeviceRow

SCOPES = ("G", "A", "B")
"""Where a principal's grant lies: everywhere, on building A, on building B."""
VENDOR_KINDS = ["elevator"]


@dataclass
class Side:
    """The ids of what one building holds."""

    name: str
    building: int = 0
    floor: int = 0
    corridor: int = 0
    unit: int = 0
    elevator: int = 0
    smoke: int = 0
    relation: int = 0
    smoke_alarm: int = 0
    elevator_alarm: int = 0
    elevator_ticket: int = 0
    smoke_ticket: int = 0
    plan: int = 0
    round: int = 0
    stop: int = 0
    charge: int = 0
    viewer: str = ""
    machine: str = ""
    machine_key: str = ""


@dataclass
class World:
    """The site, its two sides, and who is who."""

    site: int = 0
    sides: dict[str, Side] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    """Each principal's API key, by user name."""

    def principal(self, role: Role, scope: str) -> str:
        """Return the user name of the principal with a role on a scope."""
        return f"{role.value}-{scope.lower()}"

    def headers(self, role: Role, scope: str) -> dict[str, str]:
        """Return the headers that act as the principal with a role on a scope."""
        return {"X-API-Key": self.keys[self.principal(role, scope)]}


def system(engine: Engine, fn: Callable[[Session], Any], bus: EventBus | None = None) -> Any:
    """Run a use case as the system (no principal), committed; its events go to ``bus`` (a server's)."""
    with session_factory(engine)() as session:
        if bus is not None:
            bus.bind(session)
        with session.begin():
            return fn(session)


def _alarm(engine: Engine, device: int, rule: str) -> int:
    def make(session: Session) -> int:
        row = session.get(DeviceRow, device)
        assert row is not None
        occurrence = Occurrence(
            rule=rule,
            condition="equals",
            subject=f"device:{device}",
            path=row.path,
            severity=AlarmSeverity.CRITICAL,
            at=datetime(2026, 12, 1, tzinfo=UTC),
            device_id=device,
        )
        return int(raise_alarm(session, occurrence).alarm.id)

    return int(system(engine, make))


def _side(client: TestClient, engine: Engine, site: int, name: str, x0: float) -> Side:
    s = Side(name)
    s.building = post(
        client, "/api/buildings", {"site_id": site, "name": f"{name}栋", "footprint_local": rect(x0, 0, x0 + 30, 20)}
    )["id"]
    s.floor = post(client, "/api/floors", {"building_id": s.building, "name": "1F", "level": 1, "elevation": 0.0})["id"]
    s.corridor = post(
        client,
        "/api/spaces",
        {"floor_id": s.floor, "name": "走廊", "kind": "corridor", "polygon_local": rect(x0, 8, x0 + 30, 12)},
    )["id"]
    s.unit = post(
        client,
        "/api/spaces",
        {
            "floor_id": s.floor,
            "name": "101室",
            "kind": "unit",
            "polygon_local": rect(x0, 0, x0 + 10, 8),
            "address": f"{name}栋1单元101室",
        },
    )["id"]
    post(client, "/api/walk-edges", {"from_space_id": s.unit, "to_space_id": s.corridor, "kind": "door"})
    s.elevator = post(
        client,
        "/api/devices",
        {"place_id": s.corridor, "kind": "elevator", "name": f"{name} 电梯", "tag": f"EL-{name}",
         "position": [x0 + 15, 10.0, 0.0]},
    )["id"]  # fmt: skip
    s.smoke = post(
        client,
        "/api/devices",
        {"place_id": s.unit, "kind": "smoke_detector", "name": f"{name} 烟感", "tag": f"SD-{name}",
         "position": [x0 + 5, 4.0, 2.6]},
    )["id"]  # fmt: skip
    s.relation = post(
        client, "/api/relations", {"kind": "monitors", "source_device_id": s.smoke, "target_place_id": s.unit}
    )["id"]
    s.smoke_alarm = _alarm(engine, s.smoke, "smoke")
    s.elevator_alarm = _alarm(engine, s.elevator, "elevator fault")
    s.elevator_ticket = post(
        client, "/api/tickets", {"device_id": s.elevator, "category": "elevator", "description": "门不关"}
    )["id"]
    s.smoke_ticket = post(
        client, "/api/tickets", {"device_id": s.smoke, "category": "fire_safety", "description": "误报"}
    )["id"]
    s.plan = post(
        client,
        "/api/inspections/plans",
        {"place_id": s.building, "name": f"{name} 巡检", "every": "week",
         "device_kinds": ["elevator", "smoke_detector"], "starts_at": "2026-01-01T00:00:00Z"},
    )["id"]  # fmt: skip
    inspector = f"round-{name.lower()}"
    system(engine, lambda session: _account(session, inspector, ADMIN_PASSWORD, Role.INSPECTOR, s.building))
    planned = post(
        client, "/api/inspections/rounds", {"place_id": s.building, "inspector": inspector, "budget_minutes": 120}
    )
    s.round = planned["id"]
    s.stop = planned["stops"][0]["id"]
    s.charge = post(
        client,
        "/api/billing/charges",
        {"site_id": site, "reference": f"C-{name}", "unit_id": s.unit, "period": "2026-11",
         "item": "property_fee", "amount_due": "100.00"},
    )["id"]  # fmt: skip
    s.viewer = f"viewer-of-{name.lower()}"
    s.machine = f"machine-of-{name.lower()}"
    system(engine, lambda session: _account(session, s.viewer, ADMIN_PASSWORD, Role.VIEWER, s.building))
    system(engine, lambda session: _account(session, s.machine, None, Role.VIEWER, s.building))
    s.machine_key = system(engine, lambda session: users.create_api_key(session, s.machine, "gate")[0].prefix)
    return s


def _account(session: Session, username: str, password: str | None, role: Role, place: int | None) -> None:
    users.add_user(session, username, password)
    users.grant(session, username, role, place, VENDOR_KINDS if role is Role.VENDOR else None)


def build_world(client: TestClient, engine: Engine) -> World:
    """Build the site, both sides and a principal for every role on every scope."""
    w = World()
    w.site = post(client, "/api/sites", {"name": "两栋小区", "origin_lat": 25.07, "origin_lon": 102.72})["id"]
    w.sides = {"A": _side(client, engine, w.site, "A", 0.0), "B": _side(client, engine, w.site, "B", 60.0)}
    places = {"G": None, "A": w.sides["A"].building, "B": w.sides["B"].building}

    def principals(session: Session) -> None:
        # Machine accounts with keys: the same principals as a login's, without an argon2 hash each.
        for role in Role:
            for scope in SCOPES:
                name = w.principal(role, scope)
                _account(session, name, None, role, places[scope])
                w.keys[name] = users.create_api_key(session, name, "matrix")[1]

    system(engine, principals)
    return w
