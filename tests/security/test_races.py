"""Racing changes to one alarm, one ticket, one charge: never a deadlock, never a 500, one consistent result.

Real concurrent requests (threads through one server, each request its own database session and
transaction) on a real PostGIS, many times over. Before one lock order was kept, an alarm's
ticket took the audit chain's lock and then the alarm's row while an acknowledgement held the row
and waited for the chain: PostgreSQL broke the deadlock by failing one of them, a 500.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.ingest.helpers import Graph, add_device, build_graph, query
from tests.twin.community import build
from twin.alarms import AlarmSeverity, Occurrence, raise_alarm
from twin.catalogue import DeviceKind
from twin.store.engine import make_engine, session_factory

ROUNDS = 20


@pytest.fixture
def engine(db_url: str) -> Any:
    """An engine on the test's database."""
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def graph(db_url: str) -> Graph:
    """One unit with a smoke detector, as the system would build it."""
    g = build_graph(db_url)
    add_device(db_url, g, "SD-1", DeviceKind.SMOKE_DETECTOR, ("t", "sd1"))
    return g


def _alarms(engine: Engine, graph: Graph, n: int) -> list[int]:
    device = graph.devices["SD-1"]
    ids = []
    with session_factory(engine)() as session, session.begin():
        path = query_path(session, device)
        for i in range(n):
            occurrence = Occurrence(
                rule=f"race-{i}",
                condition="equals",
                subject=f"device:{device}",
                path=path,
                severity=AlarmSeverity.CRITICAL,
                at=datetime(2026, 1, 1, tzinfo=UTC),
                device_id=device,
            )
            ids.append(raise_alarm(session, occurrence).alarm.id)
    return ids


def query_path(session: Any, device: int) -> str:
    """Return a device's location path."""
    from twin.store.models import DeviceRow

    row = session.get(DeviceRow, device)
    return str(row.path)


def _race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls at the same moment, each in its own thread; return their answers in order."""
    start = threading.Barrier(len(calls))

    def go(call: Callable[[], Any]) -> Any:
        start.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(go, calls))


def test_ack_and_ticket_on_one_alarm_both_succeed_every_time(
    client: TestClient, engine: Engine, graph: Graph, db_url: str
) -> None:
    for alarm in _alarms(engine, graph, ROUNDS):
        acked, ticketed = _race(
            [
                lambda a=alarm: client.post(f"/api/alarms/{a}/ack", json={"note": "on it"}),
                lambda a=alarm: client.post(f"/api/alarms/{a}/ticket", json={"category": "fire_safety"}),
            ]
        )
        assert (acked.status_code, ticketed.status_code) == (200, 201), (acked.text, ticketed.text)
        final = client.get(f"/api/alarms/{alarm}").json()
        assert final["state"] == "acknowledged" and final["ticket_id"] == ticketed.json()["ticket_id"]
    tickets = query(db_url, "SELECT alarm_id, count(*) FROM tickets GROUP BY alarm_id HAVING count(*) > 1")
    assert tickets == []
    assert client.get("/api/audit/verify").json()["ok"] is True


def test_every_transition_raced_on_one_alarm_keeps_it_consistent(
    client: TestClient, engine: Engine, graph: Graph, db_url: str
) -> None:
    verbs = {
        "ack": {"note": "seen"},
        "clear": {"note": "false alarm"},
        "assign": {"assignee": "root"},
        "ticket": {"category": "fire_safety"},
    }
    seen: Counter[tuple[str, int]] = Counter()
    for alarm in _alarms(engine, graph, ROUNDS):
        calls = [lambda a=alarm, v=v, b=b: client.post(f"/api/alarms/{a}/{v}", json=b) for v, b in verbs.items()]
        calls.append(lambda a=alarm: client.post(f"/api/alarms/{a}/ticket", json={"category": "fire_safety"}))
        answers = _race(calls)
        codes = dict(zip([*verbs, "ticket again"], [r.status_code for r in answers], strict=True))
        assert all(code < 500 for code in codes.values()), codes
        seen.update(codes.items())
        # Two tickets asked at once: exactly one is opened.
        assert sorted([codes["ticket"], codes["ticket again"]]) == [201, 422], codes
        # A clear always wins (nothing refuses it here); an acknowledgement only if it came first.
        assert codes["clear"] == 200 and codes["assign"] == 200
        done = [
            r[0]
            for r in query(
                db_url,
                f"SELECT action FROM audit_log WHERE object_kind = 'alarm' AND object_id = '{alarm}' ORDER BY id",
            )
        ]
        if codes["ack"] == 200:
            assert done.index("alarm.ack") < done.index("alarm.clear"), done
        else:
            assert "alarm.ack" not in done
        final = client.get(f"/api/alarms/{alarm}").json()
        assert final["state"] == "cleared" and final["ticket_id"] is not None
    assert client.get("/api/audit/verify").json()["ok"] is True


def test_racing_one_ticket_and_one_charge_never_doubles_a_change(client: TestClient, db_url: str) -> None:
    community = build(client)
    device = community.devices["sd-3-2-101"]
    for _ in range(ROUNDS // 2):
        ticket = client.post(
            "/api/tickets", json={"device_id": device, "category": "fire_safety", "description": "race"}
        ).json()["id"]
        assert client.post(f"/api/tickets/{ticket}/assign", json={"assignee": "root"}).status_code == 200
        answers = _race([lambda t=ticket: client.post(f"/api/tickets/{t}/status", json={"status": "in_progress"})] * 3)
        assert sorted(r.status_code for r in answers) == [200, 422, 422], [r.text for r in answers]
        lines = query(
            db_url, f"SELECT count(*) FROM ticket_events WHERE ticket_id = {ticket} AND to_status = 'in_progress'"
        )
        assert lines == [(1,)]

    today = datetime.now(UTC).date()
    for n in range(ROUNDS // 2):
        charge = client.post(
            "/api/billing/charges",
            json={
                "site_id": community.site,
                "reference": f"RACE-{n}",
                "unit": "3-2-101",
                "period": "2026-01",
                "item": "parking",
                "amount_due": "100.00",
            },  # fmt: skip
        ).json()["id"]
        pays = [
            lambda c=charge, i=i, n=n: client.post(
                f"/api/billing/charges/{c}/payments",
                json={"reference": f"P{n}-{i}", "amount": "60.00", "paid_on": str(today)},
            )
            for i in range(3)
        ]
        codes = sorted(r.status_code for r in _race(pays))
        assert codes == [201, 422, 422], codes
        paid = query(db_url, f"SELECT sum(amount) FROM billing_payments WHERE charge_id = {charge}")
        assert str(paid[0][0]) == "60.00"
    assert client.get("/api/audit/verify").json()["ok"] is True
