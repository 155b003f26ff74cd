"""The permission matrix: every role on every scope × every route of the app, in scope and out of it.

Every REST route the app declares (iterated from ``app.routes``: a new route without a line in
``CASES`` fails the test) is asked for building A's object and for building B's, by a principal of
each role granted everywhere, on A and on B, and by nobody. The expected answer comes from the
documented rule, written here apart from the code that enforces it:

- nobody: 401 (the public routes aside);
- a role whose permissions lack what the route needs, anywhere: 403;
- an object outside the principal's scope (another building; another device kind for a vendor;
  bills and residents for the roles that never see them): 404;
- an object seen but where the role does not hold the permission (the site above one's
  building, a site-wide step for a building's principal): 403;
- anything else: allowed (any answer but 401, 403, 404 or a 5xx; a state machine may refuse a
  step twice with 422).

Live subscriptions (``/ws``) follow the same rule: a building's principal subscribes to its own
building and the site above it, and is told 404 for the other building.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.security.world import SCOPES, VENDOR_KINDS, Side, World, system
from twin.auth.roles import PERMISSIONS, SEES_BILLING, Permission, Role
from twin.graph import devices as device_cases
from twin.graph import places as place_cases
from twin.schemas import DeviceCreate, RelationCreate, SpaceCreate
from twin.store.alarms import AlarmRuleRow

P = Permission
PUBLIC = "public"
BILLS = "bills"
"""Bills and residents: for the roles that never see them they do not exist (404, as documented)."""


@dataclass(frozen=True)
class Everywhere:
    """A site-wide step: the permission held everywhere."""

    permission: Permission


@dataclass(frozen=True)
class Req:
    """One request."""

    url: str
    json: Any = None
    params: dict[str, Any] | None = None
    files: dict[str, Any] | None = None
    data: dict[str, Any] | None = None


@dataclass(frozen=True)
class Case:
    """What a route needs, what its object is, and how to ask for building ``side``'s (None: a site-level object).

    ``obj``: ``none`` (no object: a list in one's scope), ``site`` (the site, seen by all), ``place``,
    ``device:<kind>`` (a device or a row bound to one: a vendor sees its kinds only), ``missing``
    (an id that names nothing: 404 once the role may ask), ``user`` (an account granted in the side).
    """

    need: Permission | Everywhere | str | None
    obj: str
    make: Callable[[Ctx, Side | None], Req]


@dataclass
class Ctx:
    """What a request builder may use: the world and fresh objects for the routes that remove theirs."""

    world: World
    engine: Engine
    counter: Iterator[int]

    def n(self) -> int:
        """Return a number never returned before (unique names and references)."""
        return next(self.counter)

    def fresh_space(self, side: Side) -> int:
        """Make an empty space to delete."""
        body = SpaceCreate(floor_id=side.floor, name=f"储藏室 {self.n()}", kind="room")  # type: ignore[arg-type]
        return int(system(self.engine, lambda s: place_cases.create_space(s, body).id))

    def fresh_device(self, side: Side) -> int:
        """Make an elevator to retire."""
        body = DeviceCreate(place_id=side.corridor, kind="elevator", name=f"梯 {self.n()}")  # type: ignore[arg-type]
        return int(system(self.engine, lambda s: device_cases.create_device(s, body).id))

    def fresh_relation(self, side: Side) -> int:
        """Make a relation to remove."""
        body = RelationCreate(kind="serves", source_device_id=side.elevator, target_place_id=side.corridor)  # type: ignore[arg-type]
        return int(system(self.engine, lambda s: device_cases.add_relation(s, body).id))

    def fresh_rule(self, side: Side) -> int:
        """Make a rule naming the side's elevator, to withdraw."""
        spec = {"type": "device", "name": f"lift {self.n()}", "device": f"EL-{side.name}", "condition": "offline",
                "severity": "minor"}  # fmt: skip

        def add(session: Any) -> int:
            row = AlarmRuleRow(name=spec["name"], spec=spec, created_by="root")
            session.add(row)
            session.flush()
            return int(row.id)

        return int(system(self.engine, add))


def _s(side: Side | None) -> Side:
    assert side is not None
    return side


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
ROUTE_RULE = {"name": "", "kind": "elevator", "condition": "offline", "severity": "minor"}

CASES: dict[tuple[str, str], Case] = {
    # -- devices and relations
    ("GET", "/api/devices"): Case(None, "place", lambda c, s: Req("/api/devices", params={"under": _s(s).building})),
    ("POST", "/api/devices"): Case(P.GRAPH_WRITE, "place", lambda c, s: Req(
        "/api/devices", {"place_id": _s(s).corridor, "kind": "camera", "name": f"cam {c.n()}"})),
    ("GET", "/api/devices/{device_id}"): Case(None, "device:smoke_detector", lambda c, s: Req(
        f"/api/devices/{_s(s).smoke}")),
    ("PATCH", "/api/devices/{device_id}"): Case(P.GRAPH_WRITE, "device:elevator", lambda c, s: Req(
        f"/api/devices/{_s(s).elevator}", {"name": f"{_s(s).name} 电梯"})),
    ("DELETE", "/api/devices/{device_id}"): Case(P.GRAPH_WRITE, "device:elevator", lambda c, s: Req(
        f"/api/devices/{c.fresh_device(_s(s))}")),
    ("GET", "/api/devices/{device_id}/relations"): Case(None, "device:smoke_detector", lambda c, s: Req(
        f"/api/devices/{_s(s).smoke}/relations")),
    ("GET", "/api/devices/{device_id}/households"): Case(None, "device:elevator", lambda c, s: Req(
        f"/api/devices/{_s(s).elevator}/households")),
    ("POST", "/api/relations"): Case(P.GRAPH_WRITE, "device:elevator", lambda c, s: Req(
        "/api/relations", {"kind": "serves", "source_device_id": _s(s).elevator, "target_place_id": _s(s).unit})),
    ("DELETE", "/api/relations/{relation_id}"): Case(P.GRAPH_WRITE, "device:elevator", lambda c, s: Req(
        f"/api/relations/{c.fresh_relation(_s(s))}")),
    ("GET", "/api/devices/{device_id}/state"): Case(None, "device:smoke_detector", lambda c, s: Req(
        f"/api/devices/{_s(s).smoke}/state")),
    ("GET", "/api/devices/{device_id}/history"): Case(None, "device:elevator", lambda c, s: Req(
        f"/api/devices/{_s(s).elevator}/history", params={"quantity": "temperature"})),
    # -- places
    ("GET", "/api/units"): Case(None, "none", lambda c, s: Req("/api/units", params={"address": "A栋1单元101室"})),
    ("GET", "/api/places/{place_id}/subtree"): Case(None, "place", lambda c, s: Req(
        f"/api/places/{_s(s).building}/subtree")),
    ("GET", "/api/sites"): Case(None, "none", lambda c, s: Req("/api/sites")),
    ("POST", "/api/sites"): Case(Everywhere(P.USER_ADMIN), "none", lambda c, s: Req(
        "/api/sites", {"name": f"新区 {c.n()}", "origin_lat": 25.0, "origin_lon": 102.0})),
    ("GET", "/api/sites/{site_id}"): Case(None, "site", lambda c, s: Req(f"/api/sites/{c.world.site}")),
    ("POST", "/api/buildings"): Case(P.GRAPH_WRITE, "site", lambda c, s: Req(
        "/api/buildings", {"site_id": c.world.site, "name": f"楼 {c.n()}"})),
    ("GET", "/api/buildings/{building_id}"): Case(None, "place", lambda c, s: Req(
        f"/api/buildings/{_s(s).building}")),
    ("POST", "/api/floors"): Case(P.GRAPH_WRITE, "place", lambda c, s: Req(
        "/api/floors", {"building_id": _s(s).building, "name": f"{c.n()}F", "level": 2 + c.n() % 290,
                                            "elevation": 3.0})),
    ("GET", "/api/floors/{floor_id}"): Case(None, "place", lambda c, s: Req(f"/api/floors/{_s(s).floor}")),
    ("POST", "/api/spaces"): Case(P.GRAPH_WRITE, "place", lambda c, s: Req(
        "/api/spaces", {"floor_id": _s(s).floor, "name": f"房 {c.n()}", "kind": "room"})),
    ("GET", "/api/spaces/{space_id}"): Case(None, "place", lambda c, s: Req(f"/api/spaces/{_s(s).unit}")),
    ("GET", "/api/places/{place_id}/children"): Case(None, "place", lambda c, s: Req(
        f"/api/places/{_s(s).floor}/children")),
    ("GET", "/api/places/{place_id}/ancestors"): Case(None, "place", lambda c, s: Req(
        f"/api/places/{_s(s).unit}/ancestors")),
    ("GET", "/api/floors/{floor_id}/space-at"): Case(None, "place", lambda c, s: Req(
        f"/api/floors/{_s(s).floor}/space-at", params={"x": 1.0, "y": 1.0})),
    ("PATCH", "/api/places/{place_id}"): Case(P.GRAPH_WRITE, "place", lambda c, s: Req(
        f"/api/places/{_s(s).floor}", {"name": "1F"})),
    ("DELETE", "/api/places/{place_id}"): Case(P.GRAPH_WRITE, "place", lambda c, s: Req(
        f"/api/places/{c.fresh_space(_s(s))}")),
    ("GET", "/api/floors/{floor_id}/plan"): Case(None, "place", lambda c, s: Req(f"/api/floors/{_s(s).floor}/plan")),
    ("GET", "/api/floors/{floor_id}/layers"): Case(None, "place", lambda c, s: Req(
        f"/api/floors/{_s(s).floor}/layers")),
    ("GET", "/api/sites/{site_id}/scene"): Case(None, "site", lambda c, s: Req(f"/api/sites/{c.world.site}/scene")),
    ("GET", "/api/sites/{site_id}/layers"): Case(None, "site", lambda c, s: Req(
        f"/api/sites/{c.world.site}/layers")),
    ("GET", "/api/sites/{site_id}/layers/{name}"): Case(None, "missing", lambda c, s: Req(
        f"/api/sites/{c.world.site}/layers/nothing")),
    ("GET", "/api/sites/{site_id}/models"): Case(None, "site", lambda c, s: Req(
        f"/api/sites/{c.world.site}/models")),
    ("GET", "/api/assets/sites/{site_id}/{model}/{file}"): Case(None, "missing", lambda c, s: Req(
        f"/api/assets/sites/{c.world.site}/nothing/storey-1.glb")),
    # -- navigation
    ("GET", "/api/routes"): Case(None, "place", lambda c, s: Req(
        "/api/routes", params={"from": _s(s).unit, "to": _s(s).corridor})),
    ("POST", "/api/walk-edges"): Case(P.GRAPH_WRITE, "place", lambda c, s: Req(
        "/api/walk-edges", {"from_space_id": _s(s).unit, "to_space_id": _s(s).corridor, "kind": "opening"})),
    ("GET", "/api/search"): Case(None, "none", lambda c, s: Req("/api/search", params={"q": "电梯"})),
    ("GET", "/api/catalogue"): Case(None, "none", lambda c, s: Req("/api/catalogue")),
    # -- accounts
    ("GET", "/api/me"): Case(None, "none", lambda c, s: Req("/api/me")),
    ("POST", "/api/emergency-links"): Case(P.EMERGENCY_CREATE, "site", lambda c, s: Req(
        "/api/emergency-links", {"site_id": c.world.site, "hours": 1})),
    ("GET", "/api/users"): Case(P.USER_ADMIN, "none", lambda c, s: Req("/api/users")),
    ("POST", "/api/users"): Case(P.USER_ADMIN, "none", lambda c, s: Req("/api/users", {"username": f"u{c.n()}"})),
    ("POST", "/api/users/{username}/grants"): Case(P.USER_ADMIN, "user", lambda c, s: Req(
        f"/api/users/{_s(s).viewer}/grants", {"role": "viewer", "place_id": _s(s).floor})),
    ("POST", "/api/users/{username}/disable"): Case(P.USER_ADMIN, "user", lambda c, s: Req(
        f"/api/users/{_s(s).viewer}/disable")),
    ("POST", "/api/apikeys"): Case(P.USER_ADMIN, "user", lambda c, s: Req(
        "/api/apikeys", {"username": _s(s).machine, "name": f"k{c.n()}"})),
    ("DELETE", "/api/apikeys/{prefix}"): Case(P.USER_ADMIN, "user", lambda c, s: Req(
        f"/api/apikeys/{_s(s).machine_key}")),
    ("GET", "/api/admin/throttles"): Case(Everywhere(P.USER_ADMIN), "none", lambda c, s: Req("/api/admin/throttles")),
    ("DELETE", "/api/admin/throttles"): Case(Everywhere(P.USER_ADMIN), "none", lambda c, s: Req(
        "/api/admin/throttles", params={"username": "nobody"})),
    ("GET", "/api/auth/sessions"): Case(None, "none", lambda c, s: Req("/api/auth/sessions")),
    ("DELETE", "/api/auth/sessions/{session_id}"): Case(None, "missing", lambda c, s: Req(
        "/api/auth/sessions/999999")),
    ("GET", "/api/emergency-links"): Case(P.EMERGENCY_CREATE, "none", lambda c, s: Req("/api/emergency-links")),
    ("DELETE", "/api/emergency-links/{link_id}"): Case(P.EMERGENCY_CREATE, "missing", lambda c, s: Req(
        "/api/emergency-links/999999")),
    ("GET", "/api/audit"): Case(P.AUDIT_READ, "none", lambda c, s: Req("/api/audit")),
    ("GET", "/api/audit/verify"): Case(P.AUDIT_READ, "none", lambda c, s: Req("/api/audit/verify")),
    ("POST", "/api/units/{unit_id}/residents"): Case(P.BILLING_WRITE, "place", lambda c, s: Req(
        f"/api/units/{_s(s).unit}/residents", {"name": "张三丰"})),
    ("GET", "/api/units/{unit_id}/residents"): Case(BILLS, "place", lambda c, s: Req(
        f"/api/units/{_s(s).unit}/residents")),
    # -- ingest
    ("GET", "/api/ingest/unbound"): Case(P.GRAPH_WRITE, "none", lambda c, s: Req("/api/ingest/unbound")),
    ("POST", "/api/ingest/unbound/bind"): Case(P.GRAPH_WRITE, "device:elevator", lambda c, s: Req(
        "/api/ingest/unbound/bind", {"namespace": "mqtt", "value": f"lift-{c.n()}", "device_id": _s(s).elevator})),
    ("GET", "/api/ingest/rejects"): Case(P.IMPORT_RUN, "none", lambda c, s: Req("/api/ingest/rejects")),
    ("GET", "/api/ingest/status"): Case(P.IMPORT_RUN, "none", lambda c, s: Req("/api/ingest/status")),
    # -- imports
    ("POST", "/api/imports"): Case(P.IMPORT_RUN, "site", lambda c, s: Req(
        "/api/imports", data={"site_id": str(c.world.site)}, files={"file": ("x.geojson", b"not json")})),
    ("GET", "/api/imports"): Case(P.IMPORT_RUN, "none", lambda c, s: Req("/api/imports")),
    ("GET", "/api/imports/{job_id}"): Case(P.IMPORT_RUN, "missing", lambda c, s: Req("/api/imports/999999")),
    # -- tickets
    ("GET", "/api/operations/catalogue"): Case(None, "none", lambda c, s: Req("/api/operations/catalogue")),
    ("POST", "/api/tickets"): Case(P.TICKET_WRITE, "device:elevator", lambda c, s: Req(
        "/api/tickets", {"device_id": _s(s).elevator, "category": "elevator", "description": "异响"})),
    ("GET", "/api/tickets"): Case(None, "none", lambda c, s: Req("/api/tickets")),
    ("GET", "/api/tickets/counts"): Case(None, "place", lambda c, s: Req(
        "/api/tickets/counts", params={"under": _s(s).building})),
    ("GET", "/api/tickets/{ticket_id}"): Case(None, "device:smoke_detector", lambda c, s: Req(
        f"/api/tickets/{_s(s).smoke_ticket}")),
    ("PATCH", "/api/tickets/{ticket_id}"): Case(P.TICKET_WRITE, "device:elevator", lambda c, s: Req(
        f"/api/tickets/{_s(s).elevator_ticket}", {"priority": "normal"})),
    ("POST", "/api/tickets/{ticket_id}/assign"): Case(P.TICKET_WRITE, "device:elevator", lambda c, s: Req(
        f"/api/tickets/{_s(s).elevator_ticket}/assign", {"assignee": "root"})),
    ("POST", "/api/tickets/{ticket_id}/status"): Case(P.TICKET_WRITE, "device:elevator", lambda c, s: Req(
        f"/api/tickets/{_s(s).elevator_ticket}/status", {"status": "in_progress"})),
    ("POST", "/api/tickets/{ticket_id}/comments"): Case(P.TICKET_WRITE, "device:elevator", lambda c, s: Req(
        f"/api/tickets/{_s(s).elevator_ticket}/comments", {"body": "看过了"})),
    ("POST", "/api/uploads/tickets/{ticket_id}/photos"): Case(P.TICKET_WRITE, "device:smoke_detector", lambda c, s: Req(
        f"/api/uploads/tickets/{_s(s).smoke_ticket}/photos", files={"file": ("p.png", PNG, "image/png")})),
    ("GET", "/api/tickets/{ticket_id}/photos/{photo_id}"): Case(None, "missing", lambda c, s: Req(
        f"/api/tickets/{_s(s).elevator_ticket}/photos/999999")),
    # -- billing
    ("POST", "/api/uploads/billing"): Case(P.BILLING_WRITE, "none", lambda c, s: Req(
        "/api/uploads/billing", data={"site_id": str(c.world.site)}, files={"file": ("b.csv", b"x\n", "text/csv")})),
    ("GET", "/api/billing/imports/{import_id}"): Case(P.BILLING_WRITE, "missing", lambda c, s: Req(
        "/api/billing/imports/999999")),
    ("POST", "/api/billing/charges"): Case(P.BILLING_WRITE, "place", lambda c, s: Req(
        "/api/billing/charges", {"site_id": c.world.site, "reference": f"R{c.n()}", "unit_id": _s(s).unit,
                                 "period": "2026-10", "item": "water", "amount_due": "3.00"})),
    ("POST", "/api/billing/charges/{charge_id}/payments"): Case(P.BILLING_WRITE, "place", lambda c, s: Req(
        f"/api/billing/charges/{_s(s).charge}/payments",
        {"reference": f"P{c.n()}", "amount": "0.01", "paid_on": "2026-11-20"})),
    ("GET", "/api/billing/units/{unit_id}"): Case(BILLS, "place", lambda c, s: Req(
        f"/api/billing/units/{_s(s).unit}")),
    ("GET", "/api/billing/status"): Case(BILLS, "place", lambda c, s: Req(
        "/api/billing/status", params={"under": _s(s).building})),
    ("GET", "/api/billing/rates"): Case(BILLS, "place", lambda c, s: Req(
        "/api/billing/rates", params={"under": _s(s).building})),
    # -- inspections
    ("POST", "/api/inspections/plans"): Case(P.INSPECTION_WRITE, "place", lambda c, s: Req(
        "/api/inspections/plans", {"place_id": _s(s).floor, "name": f"p{c.n()}", "every": "month",
                                   "device_kinds": ["elevator"]})),
    ("GET", "/api/inspections/plans"): Case(None, "none", lambda c, s: Req("/api/inspections/plans")),
    ("PATCH", "/api/inspections/plans/{plan_id}"): Case(P.INSPECTION_WRITE, "place", lambda c, s: Req(
        f"/api/inspections/plans/{_s(s).plan}", {"minutes_per_stop": 5.0})),
    ("GET", "/api/inspections/due"): Case(None, "place", lambda c, s: Req(
        "/api/inspections/due", params={"under": _s(s).building})),
    ("POST", "/api/inspections/rounds"): Case(P.INSPECTION_WRITE, "place", lambda c, s: Req(
        "/api/inspections/rounds", {"place_id": _s(s).building, "inspector": f"round-{_s(s).name.lower()}",
                                    "budget_minutes": 30})),
    ("GET", "/api/inspections/rounds"): Case(None, "none", lambda c, s: Req("/api/inspections/rounds")),
    ("GET", "/api/inspections/rounds/{round_id}"): Case(None, "place", lambda c, s: Req(
        f"/api/inspections/rounds/{_s(s).round}")),
    ("POST", "/api/inspections/rounds/{round_id}/stops/{stop_id}"): Case(P.INSPECTION_WRITE, "place", lambda c, s: Req(
        f"/api/inspections/rounds/{_s(s).round}/stops/{_s(s).stop}", {"outcome": "ok"})),
    ("POST", "/api/inspections/rounds/{round_id}/finish"): Case(P.INSPECTION_WRITE, "place", lambda c, s: Req(
        f"/api/inspections/rounds/{_s(s).round}/finish")),
    ("POST", "/api/inspections/visits"): Case(P.INSPECTION_WRITE, "place", lambda c, s: Req(
        "/api/inspections/visits", {"plan_id": _s(s).plan, "device_id": _s(s).elevator, "outcome": "ok"})),
    # -- alarms
    ("GET", "/api/alarms/legend"): Case(None, "none", lambda c, s: Req("/api/alarms/legend")),
    ("GET", "/api/alarms"): Case(None, "place", lambda c, s: Req("/api/alarms", params={"under": _s(s).building})),
    ("GET", "/api/alarms/counts"): Case(None, "place", lambda c, s: Req(
        "/api/alarms/counts", params={"under": _s(s).building})),
    ("GET", "/api/alarms/rules"): Case(None, "none", lambda c, s: Req("/api/alarms/rules")),
    ("POST", "/api/alarms/rules"): Case(Everywhere(P.GRAPH_WRITE), "none", lambda c, s: Req(
        "/api/alarms/rules", {"spec": {**ROUTE_RULE, "name": f"r{c.n()}"}})),
    ("DELETE", "/api/alarms/rules/{rule_id}"): Case(P.GRAPH_WRITE, "device:elevator", lambda c, s: Req(
        f"/api/alarms/rules/{c.fresh_rule(_s(s))}")),
    ("GET", "/api/alarms/{alarm_id}"): Case(None, "device:smoke_detector", lambda c, s: Req(
        f"/api/alarms/{_s(s).smoke_alarm}")),
    ("POST", "/api/alarms/{alarm_id}/ack"): Case(P.ALARM_ACK, "device:elevator", lambda c, s: Req(
        f"/api/alarms/{_s(s).elevator_alarm}/ack", {})),
    ("POST", "/api/alarms/{alarm_id}/clear"): Case(P.ALARM_ACK, "device:elevator", lambda c, s: Req(
        f"/api/alarms/{_s(s).elevator_alarm}/clear", {})),
    ("POST", "/api/alarms/{alarm_id}/close"): Case(P.ALARM_ACK, "device:elevator", lambda c, s: Req(
        f"/api/alarms/{_s(s).elevator_alarm}/close", {})),
    ("POST", "/api/alarms/{alarm_id}/assign"): Case(P.ALARM_ACK, "device:elevator", lambda c, s: Req(
        f"/api/alarms/{_s(s).elevator_alarm}/assign", {"assignee": "root"})),
    ("POST", "/api/alarms/{alarm_id}/ticket"): Case(P.ALARM_ACK, "device:smoke_detector", lambda c, s: Req(
        f"/api/alarms/{_s(s).smoke_alarm}/ticket", {"category": "fire_safety"})),
    # -- the rest
    ("GET", "/metrics"): Case(None, "none", lambda c, s: Req("/metrics")),
    ("GET", "/healthz"): Case(PUBLIC, "none", lambda c, s: Req("/healthz")),
    ("GET", "/readyz"): Case(PUBLIC, "none", lambda c, s: Req("/readyz")),
    ("POST", "/api/auth/login"): Case(PUBLIC, "none", lambda c, s: Req("/api/auth/login", {"username": "x"})),
    ("POST", "/api/auth/refresh"): Case(PUBLIC, "none", lambda c, s: Req("/api/auth/refresh", {})),
    ("POST", "/api/auth/logout"): Case(PUBLIC, "none", lambda c, s: Req("/api/auth/logout", {})),
    ("GET", "/docs"): Case(PUBLIC, "none", lambda c, s: Req("/docs")),
    ("GET", "/redoc"): Case(PUBLIC, "none", lambda c, s: Req("/redoc")),
    ("GET", "/favicon.ico"): Case(PUBLIC, "none", lambda c, s: Req("/favicon.ico")),
    ("POST", "/api/auth/emergency"): Case(PUBLIC, "none", lambda c, s: Req("/api/auth/emergency", {})),
    ("GET", "/"): Case(PUBLIC, "none", lambda c, s: Req("/")),
    ("GET", "/wall"): Case(PUBLIC, "none", lambda c, s: Req("/wall")),
    ("GET", "/inspect"): Case(PUBLIC, "none", lambda c, s: Req("/inspect")),
    ("GET", "/respond"): Case(PUBLIC, "none", lambda c, s: Req("/respond")),
}  # fmt: skip


def api_routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """Yield (method, path) of every REST route, looking through included routers."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from api_routes(inner.routes, prefix + route.include_context.prefix)
        elif isinstance(route, APIRoute):
            for method in sorted(route.methods):
                yield method, prefix + route.path


def _per_side(case: Case) -> bool:
    """Tell whether a route's object lies in a building (asked for A's and for B's)."""
    return case.obj in ("place", "user") or case.obj.startswith("device:")


def expected(role: Role, scope: str, case: Case, side: str | None) -> str:
    """Return the documented answer: ok, 403 or 404."""
    held = PERMISSIONS[role]
    need = case.need
    if isinstance(need, Permission) and need not in held:
        return "403"
    if isinstance(need, Everywhere) and need.permission not in held:
        return "403"
    if need == BILLS and role not in SEES_BILLING:
        return "404"
    covers = scope == "G" or scope == side
    if _per_side(case):
        if not covers:
            return "404"
        kind = case.obj.removeprefix("device:")
        if case.obj.startswith("device:") and role is Role.VENDOR and kind not in VENDOR_KINDS:
            return "404"
    if isinstance(need, Permission) and not covers and case.obj not in ("none", "missing"):
        return "403"
    if isinstance(need, Everywhere) and scope != "G":
        return "403"
    if case.obj == "missing":
        return "404"
    return "ok"


def _answer(status: int) -> str:
    if status in (401, 403, 404) or status >= 500:
        return str(status)
    return "ok"


def _send(client: TestClient, method: str, req: Req, headers: dict[str, str]) -> int:
    answer = client.request(
        method, req.url, json=req.json, params=req.params, files=req.files, data=req.data, headers=headers
    )
    return answer.status_code


def test_every_route_answers_every_role_on_every_scope_as_documented(
    client: TestClient, world: World, engine: Engine
) -> None:
    started = time.monotonic()
    routes = sorted(set(api_routes(client.app.routes)))  # type: ignore[attr-defined]
    assert not [r for r in routes if r not in CASES], "every route needs a line in CASES"
    assert not [r for r in CASES if r not in routes], "a line of CASES names no route"
    ctx = Ctx(world, engine, itertools.count(1))
    principals = [(role, scope, world.headers(role, scope)) for role in Role for scope in SCOPES]
    wrong: list[str] = []
    asked = 0
    for method, path in routes:
        case = CASES[(method, path)]
        sides: list[str | None] = (
            ["A", "B"] if case.obj in ("place", "user") or case.obj.startswith("device:") else [None]
        )
        for side in sides:
            obj = world.sides[side] if side else world.sides["A"]
            if case.need == PUBLIC:
                continue
            nobody = _answer(_send(client, method, case.make(ctx, obj), {"Authorization": ""}))
            if nobody != "401":
                wrong.append(f"{method} {path} [{side}] nobody: {nobody}, expected 401")
            for role, scope, headers in principals:
                got = _answer(_send(client, method, case.make(ctx, obj), headers))
                want = expected(role, scope, case, side)
                asked += 1
                if got != want:
                    wrong.append(f"{method} {path} [{side}] {role.value}@{scope}: {got}, expected {want}")
    assert not wrong, f"{len(wrong)} of {asked} answers differ:\n" + "\n".join(wrong)
    assert asked > 3000
    assert time.monotonic() - started < 90


def test_live_subscriptions_answer_every_role_on_every_scope_as_documented(client: TestClient, world: World) -> None:
    wrong = []
    for role in Role:
        for scope in SCOPES:
            token = world.headers(role, scope)["X-API-Key"]
            with client.websocket_connect("/ws") as ws:
                ws.send_json({"type": "auth", "token": token})
                assert ws.receive_json()["type"] == "ready"
                targets = [("site", world.site, None)] + [
                    (level, getattr(world.sides[s], attr), s)
                    for s in "AB"
                    for level, attr in (("building", "building"), ("floor", "floor"), ("device", "smoke"))
                ]
                for n, (level, ident, side) in enumerate(targets):
                    ws.send_json({"type": "subscribe", "sub": f"s{n}", "scope": f"{level}:{ident}",
                                  "kinds": ["alarm", "ticket", "status"]})  # fmt: skip
                    reply = ws.receive_json()
                    while reply["type"] not in ("snapshot", "error"):
                        reply = ws.receive_json()
                    got = "ok" if reply["type"] == "snapshot" else str(reply["code"])
                    kind = "device:smoke_detector" if level == "device" else ("place" if side else "site")
                    want = expected(role, scope, Case(None, kind, lambda c, s: Req("")), side)
                    if got != want:
                        wrong.append(f"{level}:{side} {role.value}@{scope}: {got}, expected {want}")
    with client.websocket_connect("/ws") as ws:
        ws.send_json({"type": "subscribe", "sub": "s", "scope": f"site:{world.site}"})
        assert ws.receive_json()["code"] == 401
    assert not wrong, "\n".join(wrong)
