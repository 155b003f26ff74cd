"""The hub's parts alone: message parsing (fuzzed), the coalescing outbox, the resume ring, fan-out."""

from __future__ import annotations

import asyncio
import json

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from realtime.hub.access import Target
from realtime.hub.hub import Hub, HubConfig, Subscription
from realtime.hub.outbox import Outbox
from realtime.hub.protocol import Auth, ProtocolError, Subscribe, frame, parse
from realtime.hub.stream import Entry, Stream
from tests.alarms.live import sync

FIELDS = ["type", "sub", "scope", "kinds", "resume", "rate", "token", "stream", "seq"]


def test_subscribe_is_read_with_its_resume_and_rate() -> None:
    message = parse(
        b'{"type":"subscribe","sub":"s1","scope":"floor:12","kinds":["alarm","telemetry"],'
        b'"resume":{"stream":"site:1@ab","seq":7},"rate":2}'
    )
    assert isinstance(message, Subscribe)
    assert message.scope == "floor:12" and message.kinds == ("telemetry", "alarm")
    assert message.resume is not None and message.resume.seq == 7 and message.rate == 2.0


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ('{"type":"subscribe","sub":"s1","scope":"floor:-1"}', "scope"),
        ('{"type":"subscribe","sub":"s1","scope":"floor:1","kinds":["x"]}', "unknown kinds"),
        ('{"type":"subscribe","sub":"","scope":"floor:1"}', "'sub'"),
        ('{"type":"subscribe","sub":"a","scope":"site:1","rate":0}', "rate"),
        ('{"type":"subscribe","sub":"a","scope":"site:1","resume":{"stream":"s","seq":-1}}', "resume"),
        ('{"type":"auth"}', "token"),
        ('{"type":"teleport"}', "unknown message type"),
        ("[1]", "JSON object"),
        ("{", "not JSON"),
    ],
)
def test_bad_messages_say_what_is_wrong(raw: str, words: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse(raw)
    assert words in caught.value.message and caught.value.code == 422


def test_a_huge_message_is_refused_unread() -> None:
    with pytest.raises(ProtocolError, match="limit"):
        parse(b'{"type":"auth","token":"' + b"x" * 20000 + b'"}')


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(FIELDS) | st.text(), inner, max_size=6),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=300), st.text(max_size=300), JSON.map(json.dumps)))
def test_parsing_never_raises_anything_but_a_protocol_error(raw: str | bytes) -> None:
    try:
        parse(raw)
    except ProtocolError:
        pass


def test_auth_keeps_its_token() -> None:
    assert parse('{"type":"auth","token":"abc"}') == Auth("abc")


class SlowSocket:
    """A fake socket whose sends wait until the test lets them through."""

    def __init__(self) -> None:
        self.frames: list[str] = []
        self.gate = asyncio.Event()
        self.closed: tuple[int, str] | None = None

    async def send(self, text: str) -> None:
        await self.gate.wait()
        self.frames.append(text)

    async def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)

    def messages(self) -> list[dict[str, object]]:
        out: list[dict[str, object]] = []
        for text in self.frames:
            data = orjson.loads(text)
            out.extend(data if isinstance(data, list) else [data])
        return out


@sync
async def test_a_slow_socket_gets_the_latest_telemetry_and_every_alarm() -> None:
    sock = SlowSocket()
    box = Outbox(sock.send, sock.close, max_bytes=1 << 20, on_overflow=lambda: None, coalesce_above=0)
    writer = asyncio.create_task(box.run())
    box.put(b'{"n":0}', (1, "t"))
    await asyncio.sleep(0)  # the writer took the first message and waits on the socket
    for n in range(1, 100):
        box.put(orjson.dumps({"n": n}), (1, "t"))
        if n % 10 == 0:
            box.put(orjson.dumps({"alarm": n}))
    sock.gate.set()
    await asyncio.sleep(0.01)
    sent = sock.messages()
    assert sent[0] == {"n": 0} and sent[-1] == {"n": 99}
    assert [m["alarm"] for m in sent if "alarm" in m] == list(range(10, 100, 10))
    assert len(sent) == 1 + 9 + 1 and box.coalesced == 98
    assert box.queued_bytes == 0
    box.stop()
    await writer


@sync
async def test_a_client_that_keeps_up_gets_every_reading() -> None:
    sock = SlowSocket()
    box = Outbox(sock.send, sock.close, max_bytes=1 << 20, on_overflow=lambda: None)
    writer = asyncio.create_task(box.run())
    for n in range(50):
        box.put(orjson.dumps({"n": n}), (1, "t"))
    sock.gate.set()
    await asyncio.sleep(0.01)
    assert [m["n"] for m in sock.messages()] == list(range(50)) and box.coalesced == 0
    box.stop()
    await writer


@sync
async def test_too_far_behind_frees_the_queue_and_says_resync() -> None:
    sock = SlowSocket()
    overflowed: list[bool] = []
    box = Outbox(sock.send, sock.close, max_bytes=1000, on_overflow=lambda: overflowed.append(True))
    writer = asyncio.create_task(box.run())
    for n in range(200):
        box.put(orjson.dumps({"alarm": n}))
    assert overflowed == [True] and box.closed and box.queued_bytes == 0
    sock.gate.set()
    await asyncio.wait_for(writer, 5)
    assert [m["type"] for m in sock.messages() if "type" in m] == ["resync"]
    assert sock.closed is not None and sock.closed[0] == 4000


@sync
async def test_a_rate_limit_holds_the_newest_value() -> None:
    sock = SlowSocket()
    sock.gate.set()
    box = Outbox(sock.send, sock.close, max_bytes=1 << 20, on_overflow=lambda: None)
    writer = asyncio.create_task(box.run())
    for n in range(20):
        box.put_limited(orjson.dumps({"n": n}), (1, "t"), 0.1)
    await asyncio.sleep(0.01)
    assert sock.messages() == [{"n": 0}]
    await asyncio.sleep(0.15)
    assert sock.messages() == [{"n": 0}, {"n": 19}]
    box.stop()
    await writer


def test_the_ring_replays_only_what_it_still_holds() -> None:
    stream = Stream(1, capacity=5, max_age_s=60)
    entries = []
    for _ in range(8):
        entries.append(Entry(stream.next_seq(), "alarm", ("site:1",), None, None, b"{}", 1e12))
        stream.keep(entries[-1])
    assert stream.since(8) is not None and list(stream.since(8) or []) == []
    assert [e.seq for e in stream.since(5) or []] == [6, 7, 8]
    assert stream.since(2) is None, "seq 3 fell out of the ring: a snapshot is needed"
    assert stream.since(9) is None, "a sequence number from the future names another run"


def target(roots: tuple[str, ...], kinds: frozenset[str], device_kinds: frozenset[str] | None = None) -> Target:
    return Target(roots[0], 1, "1", 1, None, roots, kinds, (), device_kinds)


@sync
async def test_fan_out_follows_the_path_and_sends_one_copy_per_client() -> None:
    hub = Hub(HubConfig())
    hub.attach(asyncio.get_running_loop())
    sock = SlowSocket()
    sock.gate.set()
    box = Outbox(sock.send, sock.close, max_bytes=1 << 20, on_overflow=lambda: None)
    other = Outbox(sock.send, sock.close, max_bytes=1 << 20, on_overflow=lambda: None)
    site = Subscription("a", box, target(("site:1",), frozenset({"alarm"})), held=None)
    floor = Subscription("b", box, target(("floor:3",), frozenset({"alarm", "telemetry"})), held=None)
    vendor = Subscription("c", other, target(("floor:3",), frozenset({"alarm"}), frozenset({"elevator"})), held=None)
    for sub in (site, floor, vendor):
        hub.add(sub)
    path = ("site:1", "building:2", "floor:3", "device:9")
    hub.emit(1, "alarm", path, "smoke_detector", None, {"id": 1})
    hub.emit(1, "telemetry", ("site:1", "building:2", "floor:4", "device:8"), "meter", (8, "e"), {})
    assert len(box._queue) == 1, "one copy for two matching subscriptions"
    assert other.queued_bytes == 0, "the vendor's grant names elevators only"
    hub.remove(floor)
    hub.emit(1, "telemetry", path, "smoke_detector", (9, "t"), {})
    assert len(box._queue) == 1
    assert hub.counts.events == 3 and hub.counts.offered == 1


def test_frames_join_messages_without_reencoding() -> None:
    assert frame([b'{"a":1}']) == '{"a":1}'
    assert orjson.loads(frame([b'{"a":1}', b'{"b":2}'])) == [{"a": 1}, {"b": 2}]
