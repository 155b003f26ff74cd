"""The store's guarantees: one open alarm per (rule, subject), by the database itself."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlalchemy import Engine, func, select

from tests.ingest.helpers import Graph, conninfo
from twin.alarms import AlarmSeverity, Occurrence, clear_condition, escalate_due, raise_alarm
from twin.events import EventBus, RegistryEvent
from twin.store.alarms import AlarmRow
from twin.store.engine import session_factory

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def device_path(engine: Engine, device_id: int) -> str:
    with engine.connect() as conn:
        return str(conn.exec_driver_sql("SELECT path::text FROM devices WHERE id = %s", (device_id,)).scalar())


def occurrence(engine: Engine, g: Graph, name: str = "SD-1", **kw: object) -> Occurrence:
    device = g.devices[name]
    base: dict[str, object] = {
        "rule": "smoke",
        "condition": "equals",
        "subject": f"device:{device}",
        "path": device_path(engine, device),
        "severity": AlarmSeverity.CRITICAL,
        "at": T0,
        "device_id": device,
    }
    base.update(kw)
    return Occurrence(**base)  # type: ignore[arg-type]


def run(engine: Engine, fn: object, *args: object, bus: EventBus | None = None) -> object:
    with session_factory(engine)() as session:
        if bus is not None:
            bus.bind(session)
        with session.begin():
            result = fn(session, *args)  # type: ignore[operator]
            if isinstance(result, AlarmRow):
                return result.id
            return result


def count_open(engine: Engine) -> int:
    with session_factory(engine)() as session:
        return int(session.scalar(select(func.count()).select_from(AlarmRow).where(AlarmRow.state != "closed")) or 0)


def test_raising_twice_keeps_one_alarm_and_tells_once(engine: Engine, graph: Graph) -> None:
    bus, seen = EventBus(), []
    bus.subscribe(seen.append)
    first = run(engine, lambda s: raise_alarm(s, occurrence(engine, graph)).created, bus=bus)
    second = run(engine, lambda s: raise_alarm(s, occurrence(engine, graph, at=T0 + timedelta(seconds=5))).created)
    assert (first, second) == (True, False)
    assert count_open(engine) == 1
    assert [e.data["cause"] for e in seen] == ["raised"]
    event: RegistryEvent = seen[0]
    assert event.path[0] == f"site:{graph.site}" and event.path[-1] == f"device:{graph.devices['SD-1']}"
    assert event.data["households"] == [graph.unit]


def test_the_database_refuses_a_second_open_alarm_even_behind_the_code(
    engine: Engine, graph: Graph, db_url: str
) -> None:
    run(engine, lambda s: raise_alarm(s, occurrence(engine, graph)))
    with psycopg.connect(conninfo(db_url)) as conn, pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute(
            "INSERT INTO alarms (rule, subject, condition, site_id, place_id, path, households, severity, state,"
            " message, data, occurrences, first_at, last_at, escalations)"
            " SELECT rule, subject, condition, site_id, place_id, path, households, severity, 'raised', '', '{}',"
            " 1, now(), now(), 0 FROM alarms"
        )


def test_concurrent_raises_converge_on_one_row(engine: Engine, graph: Graph) -> None:
    barrier, results, errors = threading.Barrier(8), [], []

    def worker() -> None:
        try:
            barrier.wait()
            results.append(run(engine, lambda s: raise_alarm(s, occurrence(engine, graph)).created))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(results) == [False] * 7 + [True]
    assert count_open(engine) == 1


def test_a_condition_that_returns_reopens_its_alarm_and_counts(engine: Engine, graph: Graph) -> None:
    subject = f"device:{graph.devices['SD-1']}"
    alarm_id = run(engine, lambda s: raise_alarm(s, occurrence(engine, graph)).alarm.id)
    assert run(engine, clear_condition, "smoke", subject, T0 + timedelta(seconds=30)) == alarm_id
    raised = run(
        engine,
        lambda s: (lambda r: (r.alarm.id, r.reopened, r.alarm.occurrences, r.alarm.state))(
            raise_alarm(s, occurrence(engine, graph, at=T0 + timedelta(seconds=60)))
        ),
    )
    assert raised == (alarm_id, True, 2, "raised")
    assert count_open(engine) == 1


def test_severity_only_rises_while_open(engine: Engine, graph: Graph) -> None:
    low = {"rule": "pressure", "condition": "below", "subject": f"device:{graph.devices['PS-1']}"}
    kw = {**low, "path": device_path(engine, graph.devices["PS-1"]), "device_id": graph.devices["PS-1"]}
    run(engine, lambda s: raise_alarm(s, occurrence(engine, graph, **kw, severity=AlarmSeverity.MAJOR)))
    worse = run(engine, lambda s: raise_alarm(s, occurrence(engine, graph, **kw, severity=AlarmSeverity.CRITICAL)))
    assert worse.worsened and worse.alarm.severity == "critical"  # type: ignore[attr-defined]
    back = run(engine, lambda s: raise_alarm(s, occurrence(engine, graph, **kw, severity=AlarmSeverity.MINOR)))
    assert back.alarm.severity == "critical" and not back.worsened  # type: ignore[attr-defined]


def test_an_unacknowledged_critical_escalates_once_per_delay(engine: Engine, graph: Graph) -> None:
    run(engine, lambda s: raise_alarm(s, occurrence(engine, graph, data={"escalate_after_min": 2})))
    assert run(engine, lambda s: len(escalate_due(s, T0 + timedelta(minutes=1)))) == 0
    assert run(engine, lambda s: len(escalate_due(s, T0 + timedelta(minutes=2)))) == 1
    assert run(engine, lambda s: len(escalate_due(s, T0 + timedelta(minutes=3)))) == 0
    assert run(engine, lambda s: len(escalate_due(s, T0 + timedelta(minutes=4)))) == 1
