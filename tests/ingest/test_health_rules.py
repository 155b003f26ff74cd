"""Health from silence, availability and gateways, decided with explicit times (no waiting)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from realtime.bindings import Bound, expected_interval
from realtime.health import HealthTracker
from twin.catalogue import DeviceHealth

T0 = datetime(2026, 5, 9, 10, 0, tzinfo=UTC)


def device(device_id: int, kind: str = "env_sensor", interval: float = 60.0, via: int | None = None) -> Bound:
    return Bound(device_id, kind, "1.2.3", interval, via, "unknown", None)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_reading_makes_a_device_online_and_silence_makes_it_stale_then_offline() -> None:
    tracker = HealthTracker()
    sensor = device(1, interval=60)
    [change] = tracker.seen(sensor, at(0))
    assert change.health is DeviceHealth.ONLINE
    assert tracker.tick(at(89)) == []
    [stale] = tracker.tick(at(91))
    assert stale.previous is DeviceHealth.ONLINE and stale.health is DeviceHealth.STALE
    [offline] = tracker.tick(at(181))
    assert offline.health is DeviceHealth.OFFLINE
    [again] = tracker.seen(sensor, at(200))
    assert again.health is DeviceHealth.ONLINE


def test_a_sleepy_kind_is_not_offline_when_a_pump_would_be() -> None:
    tracker = HealthTracker()
    smoke = device(1, "smoke_detector", expected_interval("smoke_detector", None))
    pump = device(2, "water_pump", expected_interval("water_pump", None))
    tracker.seen(smoke, at(0))
    tracker.seen(pump, at(0))
    changes = {c.device.device_id: c.health for c in tracker.tick(at(600))}
    assert changes == {2: DeviceHealth.OFFLINE}
    assert tracker.nodes[1].health is DeviceHealth.ONLINE


def test_an_interval_in_the_properties_overrides_the_kind() -> None:
    assert expected_interval("water_pump", "5") == 5.0
    assert expected_interval("water_pump", "nonsense") == 60.0
    assert expected_interval("no_such_kind", None) == expected_interval("other", None)


def test_availability_offline_is_immediate_and_a_reading_undoes_it() -> None:
    tracker = HealthTracker()
    sensor = device(1)
    tracker.seen(sensor, at(0))
    [change] = tracker.availability(sensor, False, at(1))
    assert change.health is DeviceHealth.OFFLINE
    assert tracker.seen(sensor, at(2))
    assert tracker.nodes[1].health is DeviceHealth.ONLINE


def test_devices_behind_an_offline_gateway_are_unreachable_not_offline() -> None:
    tracker = HealthTracker()
    gateway = device(10, "gateway")
    child = device(11, via=10)
    other = device(12)
    for d in (gateway, child, other):
        tracker.seen(d, at(0))
    changes = {c.device.device_id: c.health for c in tracker.availability(gateway, False, at(5))}
    assert changes == {10: DeviceHealth.OFFLINE, 11: DeviceHealth.UNREACHABLE}
    assert tracker.nodes[12].health is DeviceHealth.ONLINE
    # Still unreachable long after, not offline: the gateway is the thing to repair.
    later = {c.device.device_id: c.health for c in tracker.tick(at(3600))}
    assert later == {12: DeviceHealth.OFFLINE}
    assert tracker.nodes[11].health is DeviceHealth.UNREACHABLE
    # Back: the child's silence counts from the gateway's return, not from before the outage.
    back = {c.device.device_id: c.health for c in tracker.availability(gateway, True, at(3601))}
    assert back == {10: DeviceHealth.ONLINE, 11: DeviceHealth.ONLINE}
    assert {c.device.device_id: c.health for c in tracker.tick(at(3601 + 91))} == {
        10: DeviceHealth.STALE,
        11: DeviceHealth.STALE,
    }


def test_a_child_heard_after_its_gateway_went_quiet_is_reachable() -> None:
    tracker = HealthTracker()
    gateway, child = device(10, "gateway"), device(11, via=10)
    tracker.seen(gateway, at(0))
    tracker.seen(child, at(0))
    tracker.availability(gateway, False, at(5))
    assert tracker.nodes[11].health is DeviceHealth.UNREACHABLE
    tracker.seen(child, at(6))
    assert tracker.nodes[11].health is DeviceHealth.ONLINE


def test_an_unbound_gateway_is_known_by_its_identity_from_the_readings() -> None:
    tracker = HealthTracker()
    child = device(11)
    bridge = ("zigbee2mqtt", "bridge")
    tracker.seen(child, at(0), via=bridge)
    [change] = tracker.availability(bridge, False, at(1))
    assert change.device.device_id == 11 and change.health is DeviceHealth.UNREACHABLE
    [back] = tracker.availability(bridge, True, at(2))
    assert back.health is DeviceHealth.ONLINE


def test_adopting_a_table_keeps_what_is_known_and_forgets_the_unbound() -> None:
    tracker = HealthTracker()
    seen_before = Bound(1, "env_sensor", "1.2", 60.0, None, "online", at(-30))
    never_seen = Bound(2, "env_sensor", "1.2", 60.0, None, "unknown", None)
    long_silent = Bound(3, "water_pump", "1.2", 60.0, None, "online", at(-3600))
    changes = tracker.adopt({1: seen_before, 2: never_seen, 3: long_silent}, at(0))
    assert {c.device.device_id: c.health for c in changes} == {3: DeviceHealth.OFFLINE}
    assert set(tracker.nodes) == {1, 3}
    tracker.adopt({1: seen_before}, at(1))
    assert set(tracker.nodes) == {1}


def test_dirty_devices_are_handed_over_once() -> None:
    tracker = HealthTracker()
    tracker.seen(device(1), at(0))
    assert [n.device.device_id for n in tracker.take_dirty()] == [1]
    assert tracker.take_dirty() == []


def test_a_later_last_seen_from_another_instance_keeps_a_device_online() -> None:
    tracker = HealthTracker()
    sensor = device(1, interval=60)
    tracker.seen(sensor, at(0))
    heard_elsewhere = Bound(1, "env_sensor", "1.2.3", 60.0, None, "online", at(100))
    assert tracker.adopt({1: heard_elsewhere}, at(150)) == []
    assert tracker.nodes[1].health is DeviceHealth.ONLINE
    [stale] = tracker.tick(at(191))
    assert stale.health is DeviceHealth.STALE
