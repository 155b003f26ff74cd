"""Fuzzing the decoder: whatever arrives, decode() returns, and accounts for the message."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from realtime.decode import Decoder, DecodeResult, RejectReason
from tests.realtime.helpers import NOW, message, shipped_decoder

DECODER = shipped_decoder()

TOPICS = st.sampled_from(
    [
        "zigbee2mqtt/x",
        "zigbee2mqtt/x/availability",
        "zigbee2mqtt/bridge/state",
        "tele/x/SENSOR",
        "tele/x/STATE",
        "tele/x/LWT",
        "stat/x/POWER",
        "gw/g/up",
        "gw/g/status",
        "gw/g/dev/d/temperature",
        "gw/g/dev/d/smoke",
        "gw/g/dev/d/state",
        "gw/g/lift/l/floor/3",
        "gw/g/lift/l/floor/B2",
        "unknown/topic",
    ]
)
KEYS = st.sampled_from(
    [
        "temperature",
        "humidity",
        "contact",
        "state",
        "last_seen",
        "Time",
        "ENERGY",
        "Total",
        "AM2301",
        "Temperature",
        "TempUnit",
        "data",
        "dev",
        "ts",
        "total",
        "unit",
        "press",
        "x",
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(),
    st.text(max_size=30),
    st.sampled_from(
        ["ON", "off", "开", "NaN", "Infinity", "-inf", "1e400", "2026-05-09T10:00:00Z", "F", "L", "m3"]
    ),
)
JSON = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(KEYS | st.text(max_size=8), children, max_size=6)
    ),
    max_leaves=30,
)


def accounted(result: DecodeResult) -> bool:
    """Every message yields readings, availability or at least one reject."""
    return bool(result.readings or result.availability or result.rejects)


def check(decoder: Decoder, topic: str, payload: bytes) -> None:
    result = decoder.decode(message(topic, payload))
    assert accounted(result)
    assert all(r.reason is not RejectReason.DECODER_ERROR for r in result.rejects), result.rejects
    for reading in result.readings:
        assert reading.time.tzinfo is not None
        if isinstance(reading.value, float):
            assert reading.value == reading.value and abs(reading.value) != float("inf")


@settings(max_examples=400, deadline=None)
@given(TOPICS, st.binary(max_size=300))
def test_arbitrary_bytes(topic: str, payload: bytes) -> None:
    check(DECODER, topic, payload)


@settings(max_examples=600, deadline=None)
@given(TOPICS, JSON)
def test_arbitrary_json(topic: str, document: Any) -> None:
    # The standard encoder writes NaN and Infinity as bare words, which the decoder must refuse.
    check(DECODER, topic, json.dumps(document, ensure_ascii=False).encode())


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {"dev": st.one_of(st.text(max_size=5), st.integers(), st.none())},
            optional={"total": SCALARS, "unit": SCALARS, "ts": SCALARS, "t": SCALARS},
        ),
        max_size=6,
    ),
    st.one_of(st.just(int(NOW * 1000)), SCALARS),
)
def test_arbitrary_gateway_batches(items: list[dict[str, Any]], ts: Any) -> None:
    payload = json.dumps({"ts": ts, "data": items}).encode()
    check(DECODER, "gw/g/up", payload)


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet=st.characters(exclude_categories=["Cs"]), min_size=1, max_size=40),
    st.binary(max_size=40),
)
def test_arbitrary_topics(topic: str, payload: bytes) -> None:
    check(DECODER, topic, payload)
