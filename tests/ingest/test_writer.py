"""The durable queue: acknowledgements only once rows are safe, in order; spill and replay; odd rows."""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from realtime.history import TelemetryStore, conninfo_of
from realtime.message import ReceiveMessage
from realtime.mqtt import Delivery
from realtime.spool import Row, Spool
from realtime.writer import DurableQueue, PipelineCounts
from tests.ingest.helpers import query
from twin.services.system import free_port

T0 = datetime.now(UTC).replace(microsecond=123456) - timedelta(hours=1)


def rows(device_id: int, count: int, quantity: str = "temperature") -> list[Row]:
    return [(device_id, quantity, T0 + timedelta(seconds=i), float(i), None) for i in range(count)]


def test_a_batch_written_twice_is_stored_once(db_url: str) -> None:
    store = TelemetryStore(conninfo_of(db_url))
    try:
        first = store.write_history(rows(1, 500))
        again = store.write_history(rows(1, 500) + rows(1, 10, "humidity"))
    finally:
        store.close()
    assert (first.written, first.duplicates) == (500, 0)
    assert (again.written, again.duplicates) == (10, 500)
    assert query(db_url, "SELECT count(*) FROM readings")[0][0] == 510


def test_a_row_the_database_refuses_is_isolated_and_the_rest_written(db_url: str) -> None:
    batch = rows(1, 200)
    batch[137] = (1, "state", T0, None, "nul \x00 inside")
    store = TelemetryStore(conninfo_of(db_url))
    try:
        result = store.write_history(batch)
    finally:
        store.close()
    assert (result.written, result.refused) == (199, 1)


def test_the_spool_keeps_times_exact_and_sets_aside_what_it_cannot_read(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool", max_bytes=1 << 20)
    chunk = spool.put(rows(7, 3) + [(7, "state", T0, None, "开门")])
    assert spool.read(chunk) == rows(7, 3) + [(7, "state", T0, None, "开门")]
    spool.done(chunk)
    assert spool.chunks() == [] and spool.bytes == 0
    (tmp_path / "spool" / "00000000000000000001-000000.spool").write_bytes(b"not json")
    (tmp_path / "spool" / "00000000000000000002-000000.tmp").write_bytes(b"half written")
    reopened = Spool(tmp_path / "spool", max_bytes=1 << 20)
    assert not list((tmp_path / "spool").glob("*.tmp")), "a chunk never acknowledged is dropped at start"
    [bad] = reopened.chunks()
    assert reopened.read(bad) is None and reopened.chunks() == []
    assert (tmp_path / "spool" / "unreadable" / bad.name).exists()


def delivery(token: int, acked: list[Hashable]) -> Delivery:
    message = ReceiveMessage("t/x", b"{}", 1, False, 0.0)
    return Delivery([message], [token], acked.extend)


def test_batches_are_acknowledged_in_order_once_written(db_url: str, tmp_path: Path) -> None:
    acked: list[Hashable] = []
    store = TelemetryStore(conninfo_of(db_url))

    async def run() -> None:
        queue = DurableQueue(store, Spool(tmp_path / "spool", 1 << 20), _runner(), PipelineCounts())
        queue.add(rows(1, 10), delivery(1, acked), [0.0])
        queue.add([], delivery(2, acked), [0.0])
        assert acked == [], "an empty batch behind a waiting one waits for it"
        assert await queue.write_once()
        assert acked == [1, 2]

    try:
        asyncio.run(run())
    finally:
        store.close()


def test_with_the_database_away_batches_are_spilled_then_acknowledged_and_replayed_later(
    db_url: str, tmp_path: Path
) -> None:
    acked: list[Hashable] = []
    away = TelemetryStore(f"host=127.0.0.1 port={free_port()} user=x password=x dbname=x", connect_timeout=1)
    counts = PipelineCounts()

    async def run() -> Spool:
        spool = Spool(tmp_path / "spool", 1 << 20)
        queue = DurableQueue(away, spool, _runner(), counts)
        queue.add(rows(1, 10), delivery(1, acked), [0.0])
        queue.add(rows(2, 5), delivery(2, acked), [0.0])
        assert not await queue.write_once()
        assert not queue.database_up and acked == []
        assert await queue.spill() == 15
        assert acked == [1, 2] and queue.waiting_rows == 0
        queue.store = TelemetryStore(conninfo_of(db_url))
        try:
            assert await queue.replay_once()
        finally:
            queue.store.close()
        return spool

    spool = asyncio.run(run())
    assert spool.chunks() == []
    assert (counts.spilled, counts.replayed, counts.written) == (15, 15, 15)
    assert query(db_url, "SELECT count(*) FROM readings")[0][0] == 15


def test_memory_full_and_spool_full_stops_intake(tmp_path: Path) -> None:
    away = TelemetryStore(f"host=127.0.0.1 port={free_port()} user=x password=x dbname=x", connect_timeout=1)

    async def run() -> None:
        queue = DurableQueue(away, Spool(tmp_path / "spool", max_bytes=1), _runner(), PipelineCounts(), memory_rows=20)
        queue.add(rows(1, 10), None, [])
        await asyncio.wait_for(queue.room(), 1)
        queue.spool.put(rows(9, 1))  # now the spool is over its bound
        queue.add(rows(1, 10), None, [])
        assert await queue.spill() == 0
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(queue.room(), 0.2)

    asyncio.run(run())


def _runner():  # type: ignore[no-untyped-def]
    async def run(fn, *args):  # type: ignore[no-untyped-def]
        return await asyncio.to_thread(fn, *args)

    return run
