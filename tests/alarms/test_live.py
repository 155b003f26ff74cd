"""Alarms from real MQTT messages through the real ingest into the real PostGIS."""

from __future__ import annotations

from pathlib import Path

from tests.alarms.live import alarms, build_site, live, reading, sync
from tests.conftest import BrokerInfo
from tests.ingest.helpers import Publisher, until, write_profile


def subject(site_device: int) -> str:
    return f"device:{site_device}"


@sync
async def test_a_threshold_raises_once_flaps_into_one_alarm_and_clears_below_clear_at(
    db_url: str, mqtt_broker: BrokerInfo, tmp_path: Path
) -> None:
    site = build_site(db_url, write_profile(tmp_path), sensors=1)
    pub = Publisher(mqtt_broker)
    s0 = subject(site.device("S0"))
    try:
        async with live(db_url, mqtt_broker, site, tmp_path) as (_, engine, seen):
            pub.send(*reading(site, "S0", 0, temperature=31.0))
            await until(lambda: alarms(db_url), "no alarm for 31 °C")
            for i, t in enumerate([29.0, 31.5, 29.5, 30.5], start=1):  # hovers above clear_at: one alarm
                pub.send(*reading(site, "S0", i, temperature=t))
            pub.send(*reading(site, "S0", 10, temperature=50.0))  # beyond worse_at
            await until(lambda: alarms(db_url)[0][3] == "major", "severity did not rise")
            pub.send(*reading(site, "S0", 11, temperature=27.0))
            await until(lambda: alarms(db_url)[0][2] == "cleared", "27 °C did not clear it")
            pub.send(*reading(site, "S0", 12, temperature=33.0))
            await until(lambda: alarms(db_url)[0][2] == "raised", "the return did not re-open it")
            pub.flush()
        assert alarms(db_url) == [("hot", s0, "raised", "major", 2, None)]
        causes = [e.data["cause"] for e in seen if e.id == seen[0].id]
        assert causes == ["raised", "worsened", "cleared", "reopened"]
        assert engine.counts().pending == 0
    finally:
        pub.close()


@sync
async def test_a_hold_time_waits_for_the_condition_to_last(
    db_url: str, mqtt_broker: BrokerInfo, tmp_path: Path
) -> None:
    site = build_site(db_url, write_profile(tmp_path), sensors=1)
    pub = Publisher(mqtt_broker)
    try:
        async with live(db_url, mqtt_broker, site, tmp_path):
            pub.send(*reading(site, "S0", 0, door=True))
            pub.send(*reading(site, "S0", 10, door=False))
            pub.send(*reading(site, "S0", 20, door=True))
            pub.send(*reading(site, "S0", 45, door=True))
            pub.flush()
            await until(lambda: any(a[0] == "door held" for a in alarms(db_url)), "the held door raised nothing")
        assert [a[:3] for a in alarms(db_url)] == [("door held", subject(site.device("S0")), "raised")]
    finally:
        pub.close()


@sync
async def test_a_gateway_going_offline_raises_one_root_with_its_children(
    db_url: str, mqtt_broker: BrokerInfo, tmp_path: Path
) -> None:
    site = build_site(db_url, write_profile(tmp_path), sensors=5)
    pub = Publisher(mqtt_broker)
    ns = site.profile.namespace
    try:
        async with live(db_url, mqtt_broker, site, tmp_path):
            for i in range(5):
                pub.send(*reading(site, f"S{i}", 0, temperature=20.0))
            pub.send(f"{ns}/gw/availability", "online")
            pub.flush()
            await until(lambda: True, "")
            pub.send(f"{ns}/gw/availability", "offline")
            pub.flush()
            await until(lambda: len(alarms(db_url)) == 6, "not one root and five children")
        rows = alarms(db_url)
        roots = [r for r in rows if r[5] is None]
        assert [r[:2] for r in roots] == [("gateway offline", subject(site.device("GW")))]
        assert sorted(r[1] for r in rows if r[5] == "gateway offline") == sorted(
            subject(site.device(f"S{i}")) for i in range(5)
        )
    finally:
        pub.close()


@sync
async def test_two_sensors_on_a_floor_within_a_minute_confirm_one_place_alarm(
    db_url: str, mqtt_broker: BrokerInfo, tmp_path: Path
) -> None:
    site = build_site(db_url, write_profile(tmp_path), sensors=3)
    pub = Publisher(mqtt_broker)
    try:
        async with live(db_url, mqtt_broker, site, tmp_path):
            pub.send(*reading(site, "S0", 0, temperature=35.0))
            pub.send(*reading(site, "S1", 20, temperature=36.0))
            pub.send(*reading(site, "S2", 40, temperature=37.0))
            pub.flush()
            await until(lambda: len(alarms(db_url)) == 4, "three hot sensors and one hot floor expected")
        places = [a for a in alarms(db_url) if a[0] == "hot floor"]
        assert places == [("hot floor", f"place:{site.graph.floor}", "raised", "critical", 1, None)]
    finally:
        pub.close()


@sync
async def test_a_restart_mid_alarm_neither_duplicates_nor_loses_it(
    db_url: str, mqtt_broker: BrokerInfo, tmp_path: Path
) -> None:
    site = build_site(db_url, write_profile(tmp_path), sensors=1)
    pub = Publisher(mqtt_broker)
    try:
        async with live(db_url, mqtt_broker, site, tmp_path, client_id="restart-a"):
            pub.send(*reading(site, "S0", 0, temperature=40.0))
            pub.flush()
            await until(lambda: alarms(db_url), "no alarm before the restart")
        async with live(db_url, mqtt_broker, site, tmp_path, client_id="restart-a"):
            pub.send(*reading(site, "S0", 5, temperature=41.0))
            pub.flush()
            await until(lambda: True, "")
            assert [a[2] for a in alarms(db_url)] == ["raised"]
            pub.send(*reading(site, "S0", 9, temperature=20.0))
            pub.flush()
            await until(lambda: alarms(db_url)[0][2] == "cleared", "the resumed engine did not clear it")
        assert len(alarms(db_url)) == 1
    finally:
        pub.close()


@sync
async def test_two_instances_on_a_shared_subscription_raise_one_alarm_per_condition(
    db_url: str, mqtt_broker: BrokerInfo, tmp_path: Path
) -> None:
    site = build_site(db_url, write_profile(tmp_path), sensors=4)
    pub = Publisher(mqtt_broker)
    group = site.profile.namespace
    try:
        async with (
            live(db_url, mqtt_broker, site, tmp_path / "a", shared_group=group) as (a, _, _),
            live(db_url, mqtt_broker, site, tmp_path / "b", shared_group=group) as (b, _, _),
        ):
            for second in range(10):
                for i in range(4):
                    pub.send(*reading(site, f"S{i}", second, temperature=31.0 + second))
            pub.flush()
            await until(lambda: a.counts.received + b.counts.received >= 40, "the instances did not get it all")
            await until(lambda: len([r for r in alarms(db_url) if r[0] == "hot"]) == 4, "not four alarms")
            assert a.counts.received > 0 and b.counts.received > 0
        hot = [r for r in alarms(db_url) if r[0] == "hot"]
        assert sorted(r[1] for r in hot) == sorted(subject(site.device(f"S{i}")) for i in range(4))
        assert [a for a in alarms(db_url) if a[0] == "hot floor"][0][4] == 1
    finally:
        pub.close()
