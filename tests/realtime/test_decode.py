"""Decoding realistic vendor payloads with the shipped profiles."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from realtime.decode import Decoder, RejectReason
from realtime.profiles import parse_profile
from tests.realtime.helpers import NOW, message, shipped_decoder


@pytest.fixture
def decoder() -> Decoder:
    return shipped_decoder()


def values(result: object) -> dict[str, object]:
    return {r.quantity: r.value for r in result.readings}  # type: ignore[attr-defined]


def test_zigbee2mqtt_climate_sensor(decoder: Decoder) -> None:
    payload = {
        "battery": 97,
        "humidity": 55.2,
        "linkquality": 120,
        "temperature": 21.3,
        "voltage": 2995,
        "last_seen": "2026-05-09T17:59:30+08:00",
        "pressure": 1012.4,
    }
    result = decoder.decode(message("zigbee2mqtt/3-2-1801/climate", orjson.dumps(payload)))
    # Three levels: this is not a device topic of the profile.
    assert result.rejects[0].reason is RejectReason.NO_PROFILE

    result = decoder.decode(message("zigbee2mqtt/3-2-1801_climate", orjson.dumps(payload)))
    assert not result.rejects
    got = values(result)
    assert got["temperature"] == 21.3 and got["humidity"] == 55.2 and got["atmospheric_pressure"] == 1012.4
    assert got["battery"] == 97 and got["link_quality"] == 120
    reading = result.readings[0]
    assert reading.identity == ("zigbee2mqtt", "3-2-1801_climate")
    assert reading.via == ("zigbee2mqtt", "bridge")
    assert reading.time == datetime(2026, 5, 9, 9, 59, 30, tzinfo=UTC)


def test_zigbee2mqtt_contact_is_inverted_and_nulls_are_skipped(decoder: Decoder) -> None:
    result = decoder.decode(message("zigbee2mqtt/front_door", b'{"contact": true, "battery": null}'))
    assert values(result) == {"door_open": False}
    result = decoder.decode(message("zigbee2mqtt/front_door", b'{"contact": false}'))
    assert values(result) == {"door_open": True}


def test_zigbee2mqtt_plug_words_and_units(decoder: Decoder) -> None:
    payload = b'{"state": "ON", "power": 1250, "energy": 3.52, "voltage": 229.8, "current": 5.4}'
    got = values(decoder.decode(message("zigbee2mqtt/pump_room_plug", payload)))
    assert got == {"switch": True, "power": 1.25, "energy": 3.52, "voltage": 229.8, "current": 5.4}


def test_zigbee2mqtt_availability_and_bridge_last_will(decoder: Decoder) -> None:
    result = decoder.decode(message("zigbee2mqtt/front_door/availability", b'{"state": "offline"}'))
    assert [(a.identity, a.online) for a in result.availability] == [(("zigbee2mqtt", "front_door"), False)]
    result = decoder.decode(message("zigbee2mqtt/bridge/state", b'{"state": "online"}'))
    assert [(a.identity, a.online) for a in result.availability] == [(("zigbee2mqtt", "bridge"), True)]


def test_tasmota_sensor_with_local_time_fahrenheit_and_dotted_key(decoder: Decoder) -> None:
    payload = {
        "Time": "2026-05-09T17:58:00",
        "ENERGY": {
            "TotalStartTime": "2025-01-01T00:00:00",
            "Total": 812.345,
            "Yesterday": 3.2,
            "Today": 1.1,
            "Power": 450,
            "Factor": 0.93,
            "Voltage": 231,
            "Current": 2.1,
        },
        "AM2301": {"Temperature": 71.6, "Humidity": 40.5},
        "TempUnit": "F",
        "PMS5003": {"PM2.5": 35},
    }
    result = decoder.decode(message("tele/tasmota_5F2A1C/SENSOR", orjson.dumps(payload)))
    assert not result.rejects
    got = values(result)
    assert got["energy"] == 812.345 and got["power"] == pytest.approx(0.45) and got["power_factor"] == 0.93
    assert got["temperature"] == pytest.approx(22.0) and got["pm25"] == 35
    assert result.readings[0].time == datetime(2026, 5, 9, 9, 58, tzinfo=UTC)  # Asia/Shanghai is UTC+8


def test_tasmota_plain_text_power_and_last_will(decoder: Decoder) -> None:
    assert values(decoder.decode(message("stat/corridor_light/POWER", b"OFF"))) == {"switch": False}
    result = decoder.decode(message("tele/corridor_light/LWT", b"Offline"))
    assert result.availability[0].online is False
    result = decoder.decode(message("tele/corridor_light/LWT", b"Online"))
    assert result.availability[0].online is True


def test_batch_gateway_array_with_per_element_time_and_units(decoder: Decoder) -> None:
    ts = int(NOW * 1000)
    payload = {
        "gw": "GW-3",
        "ts": ts,
        "data": [
            {"dev": "3-2-1801", "total": 123.456, "unit": "m3", "bat": 87},
            {"dev": "3-2-1802", "total": 98765, "unit": "L", "ts": ts - 60_000},
            {"dev": "pump-b1", "press": 350, "lvl": 180},
            {"dev": 40021, "leak": 0},
        ],
    }
    result = decoder.decode(message("gw/GW-3/up", orjson.dumps(payload)))
    assert not result.rejects
    by_device = {(r.identity[1], r.quantity): r for r in result.readings}
    assert by_device[("3-2-1801", "water_total")].value == 123.456
    assert by_device[("3-2-1802", "water_total")].value == pytest.approx(98.765)
    assert by_device[("3-2-1802", "water_total")].time == datetime.fromtimestamp(NOW - 60, UTC)
    assert by_device[("3-2-1801", "battery")].time == datetime.fromtimestamp(NOW, UTC)
    assert by_device[("pump-b1", "pressure")].value == pytest.approx(0.35)
    assert by_device[("pump-b1", "level")].value == pytest.approx(1.8)
    assert by_device[("40021", "water_leak")].value is False
    assert {r.via for r in result.readings} == {("lora", "GW-3")}
    assert {r.identity[0] for r in result.readings} == {"lora"}


def test_batch_gateway_element_without_id_is_rejected_alone(decoder: Decoder) -> None:
    payload = {"ts": int(NOW * 1000), "data": [{"dev": "3-2-1801", "bat": 80}, {"bat": 50}, "junk"]}
    result = decoder.decode(message("gw/GW-3/up", orjson.dumps(payload)))
    assert [r.identity[1] for r in result.readings] == ["3-2-1801"]
    assert [r.reason for r in result.rejects] == [RejectReason.MISSING_IDENTITY] * 2
    assert "element 1" in result.rejects[0].detail


def test_plain_text_value_with_quantity_in_topic(decoder: Decoder) -> None:
    result = decoder.decode(message("gw/GW-3/dev/3-2-1801/temperature", b" 21.5\n"))
    assert values(result) == {"temperature": 21.5}
    result = decoder.decode(message("gw/GW-3/dev/3-2-1801/smoke", "开"))
    assert values(result) == {"smoke": True}
    result = decoder.decode(message("gw/GW-3/dev/3-2-1801/colour", b"red"))
    assert result.rejects[0].reason is RejectReason.UNKNOWN_QUANTITY


def test_value_carried_in_the_topic(decoder: Decoder) -> None:
    result = decoder.decode(message("gw/GW-3/lift/L3-1/floor/12", b"up"))
    assert values(result) == {"floor": 12.0, "state": "up"}
    assert result.readings[0].identity == ("lora", "L3-1")


def test_gateway_availability_words(decoder: Decoder) -> None:
    result = decoder.decode(message("gw/GW-3/status", "离线"))
    assert [(a.identity, a.online) for a in result.availability] == [(("lora", "GW-3"), False)]


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("zigbee2mqtt/x", b'{"temperature": 21', RejectReason.MALFORMED_JSON),
        ("zigbee2mqtt/x", b'{"temperature": NaN}', RejectReason.MALFORMED_JSON),
        ("zigbee2mqtt/x", b'{"temperature": "NaN"}', RejectReason.NOT_FINITE),
        ("zigbee2mqtt/x", b'{"temperature": "Infinity"}', RejectReason.NOT_FINITE),
        ("zigbee2mqtt/x", b'{"temperature": 1e999}', RejectReason.MALFORMED_JSON),
        ("zigbee2mqtt/x", b'{"temperature": "warm"}', RejectReason.WRONG_TYPE),
        ("zigbee2mqtt/x", b'{"temperature": [21]}', RejectReason.WRONG_TYPE),
        ("zigbee2mqtt/x", b'{"temperature": true}', RejectReason.WRONG_TYPE),
        ("zigbee2mqtt/x", b'{"smoke": "maybe"}', RejectReason.UNKNOWN_WORD),
        ("zigbee2mqtt/x", b'{"smoke": 7}', RejectReason.WRONG_TYPE),
        ("zigbee2mqtt/x", b'{"temperature": -273.15}', RejectReason.OUT_OF_RANGE),
        ("zigbee2mqtt/x", b'{"humidity": 6553.5}', RejectReason.OUT_OF_RANGE),
        ("zigbee2mqtt/x", b'{"temperature": 21, "last_seen": "yesterday"}', RejectReason.BAD_TIMESTAMP),
        (
            "zigbee2mqtt/x",
            b'{"temperature": 21, "last_seen": "2026-05-09T10:00:00"}',
            RejectReason.BAD_TIMESTAMP,
        ),
        (
            "zigbee2mqtt/x",
            b'{"temperature": 21, "last_seen": "2026-05-09T11:00:00Z"}',
            RejectReason.FUTURE_TIMESTAMP,
        ),
        ("zigbee2mqtt/x", b'{"temperature": 21, "last_seen": 0}', RejectReason.OLD_TIMESTAMP),
        ("zigbee2mqtt/x", b'{"temperature": 21, "last_seen": 1e300}', RejectReason.BAD_TIMESTAMP),
        ("zigbee2mqtt/x", b'{"linkquality_only": 1}', RejectReason.NO_READING),
        ("zigbee2mqtt/x", b'\xff{"temperature": 21}', RejectReason.INVALID_UTF8),
        ("stat/x/POWER", b"\xc3\x28", RejectReason.INVALID_UTF8),
        ("stat/x/POWER", b"DIMMED", RejectReason.UNKNOWN_WORD),
        ("tele/x/LWT", b"Sleeping", RejectReason.UNKNOWN_WORD),
        ("gw/g/up", b'{"data": {"dev": "a"}}', RejectReason.WRONG_TYPE),
        ("gw/g/up", b'{"data": [{"dev": "a", "total": 5, "unit": "gallon"}]}', RejectReason.UNKNOWN_UNIT),
        ("gw/g/dev/a/temperature", b"", RejectReason.WRONG_TYPE),
        ("nobody/claims/this", b"1", RejectReason.NO_PROFILE),
    ],
)
def test_bad_input_is_rejected_with_its_reason(
    decoder: Decoder, topic: str, payload: bytes, reason: RejectReason
) -> None:
    result = decoder.decode(message(topic, payload))
    assert not result.readings and not result.availability
    assert [r.reason for r in result.rejects] == [reason], result.rejects
    reject = result.rejects[0]
    assert reject.topic == topic and reject.sample == payload[:512] and reject.detail


def test_one_bad_value_does_not_spoil_the_others(decoder: Decoder) -> None:
    result = decoder.decode(message("zigbee2mqtt/x", b'{"temperature": 999, "humidity": 40}'))
    assert values(result) == {"humidity": 40.0}
    assert [r.reason for r in result.rejects] == [RejectReason.OUT_OF_RANGE]
    assert "temperature" in result.rejects[0].detail


def test_oversized_payload_is_rejected_with_a_short_sample(decoder: Decoder) -> None:
    payload = b'{"temperature": 21, "pad": "' + b"x" * (1 << 20) + b'"}'
    result = decoder.decode(message("zigbee2mqtt/x", payload))
    assert [r.reason for r in result.rejects] == [RejectReason.TOO_LARGE]
    assert len(result.rejects[0].sample) == 512


def test_counters_per_profile(decoder: Decoder) -> None:
    decoder.decode(message("zigbee2mqtt/x", b'{"temperature": 21, "humidity": 40}'))
    decoder.decode(message("zigbee2mqtt/x", b"{"))
    decoder.decode(message("tele/p/LWT", b"Online"))
    decoder.decode(message("elsewhere", b"1"))
    counts = decoder.counters.as_dict()
    assert counts["zigbee2mqtt"] == {
        "received": 2,
        "readings": 2,
        "availability": 0,
        "rejects": {"malformed_json": 1},
    }
    assert counts["tasmota"]["availability"] == 1
    assert counts["(unmatched)"]["rejects"] == {"no_profile": 1}


def test_epoch_seconds_and_iso_with_zone() -> None:
    profile = parse_profile("""
[profile]
name = "t"
[[message]]
topic = "s/{device}"
time = "at"
time_format = "epoch_s"
[[message.reading]]
path = "v"
quantity = "co2"
[[message]]
topic = "i/{device}"
time = "meta.at"
time_format = "iso8601"
[[message.reading]]
path = "v"
quantity = "co2"
""")
    decoder = Decoder([profile])
    result = decoder.decode(message("s/a", orjson.dumps({"at": NOW - 30, "v": 800})))
    assert result.readings[0].time == datetime.fromtimestamp(NOW - 30, UTC)
    result = decoder.decode(message("s/a", orjson.dumps({"at": str(int(NOW)), "v": 800})))
    assert result.readings[0].time == datetime.fromtimestamp(NOW, UTC)
    result = decoder.decode(message("i/a", b'{"meta": {"at": "2026-05-09T12:00:00+02:00"}, "v": 800}'))
    assert result.readings[0].time == datetime(2026, 5, 9, 10, tzinfo=UTC)
    result = decoder.decode(message("i/a", b'{"v": 800}'))
    assert result.readings[0].time == datetime.fromtimestamp(NOW, UTC)


def test_matching_uses_the_most_specific_pattern() -> None:
    profile = parse_profile("""
[profile]
name = "t"
[[message]]
topic = "site/{device}/#"
[[message.reading]]
path = "v"
quantity = "co2"
[[message]]
topic = "site/{device}/air"
[[message.reading]]
path = "v"
quantity = "pm25"
[[message]]
topic = "+/{device}/wild"
[[message.reading]]
path = "v"
quantity = "battery"
""")
    decoder = Decoder([profile])
    assert values(decoder.decode(message("site/a/air", b'{"v": 5}'))) == {"pm25": 5.0}
    assert values(decoder.decode(message("site/a/air/more", b'{"v": 5}'))) == {"co2": 5.0}
    assert values(decoder.decode(message("other/a/wild", b'{"v": 5}'))) == {"battery": 5.0}
