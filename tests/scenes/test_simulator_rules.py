"""The simulator and the demo's rules agree: normal life raises nothing, each scenario raises what docs/scenes.md lists.

The demo's own community (its 2,044 bound devices, planned in memory: no IFC) at its natural pace,
every reading judged by the demo's rules through the live engine's rule choice and condition
machines (realtime/simulator/judge.py), hold times included: simulated time is reading time here.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from realtime.simulator import Simulation
from realtime.simulator.engine import PERIOD_S, UPLOAD_S
from realtime.simulator.judge import ROOT, Judge
from realtime.simulator.scenarios import scenario_plan
from twin.alarms.rules import DeviceRule
from twin.catalogue import DEVICE_KINDS, DeviceKind
from twin.scenes import Binding, load_scene, plan_community
from twin.scenes.files import plan_bindings

DEMO = ROOT / "scenes" / "demo"
SEED = 2024
MIDNIGHT = datetime(2026, 12, 1, tzinfo=timezone(timedelta(hours=8))).timestamp()
"""A local midnight: simulated time 0 is stamped there, so the daily cycles fall at their hours."""
STEP_S = 20.0
MARGIN = 1.1
"""Normal values stay at least 10% of the threshold inside it."""
SMOKE, CALL = "火警 smoke detected", "手动报警 call point pressed"
MAIN, RISER = "消防管网压力低 fire main pressure low", "消防立管顶部压力低 fire riser top pressure low"
LIFT, TREND = "电梯振动超限 elevator vibration high", "电梯振动趋势 elevator vibration trend"
DOMESTIC, LEAK = "生活水压低 domestic pressure low", "水浸 leak detected"
OFFLINE, GATEWAY = "设备离线 device offline", "网关离线 gateway offline"


@pytest.fixture(scope="module")
def demo() -> list[Binding]:
    scene = load_scene(DEMO)
    assert scene.generate is not None
    return plan_bindings(plan_community(scene.site, scene.generate))


class Run:
    """A simulation of the demo from a local hour, judged as it goes."""

    def __init__(self, bindings: list[Binding], start_h: float, warm_h: float = 1.0) -> None:
        """Start at local hour ``start_h`` after ``warm_h`` hours of normal life (a trend's window fills)."""
        self.at = (start_h - warm_h) * 3600
        self.sim = Simulation(bindings, seed=SEED, t0=self.at, epoch0=MIDNIGHT + self.at)
        self.judge = Judge(DEMO, bindings)
        self.judge.feed(self.sim.start_messages(), self.sim.stamp(self.at))  # gateways and plugs say online
        self.until(start_h * 3600)

    def until(self, t: float) -> None:
        """Advance to simulated time ``t``, judging every message and ticking every step."""
        while self.at < t:
            self.at = min(t, self.at + STEP_S)
            self.judge.feed(self.sim.advance(self.at), self.sim.stamp(self.at))
            self.judge.tick(self.sim.stamp(self.at))

    def scenario(self, name: str, minutes: float) -> list[tuple[str, str, str]]:
        """Run a scenario for ``minutes``, end it, let an hour pass; return what it raised (rule, tag, severity)."""
        before = len(self.judge.changes)
        self.sim.start_plan(scenario_plan(name, self.sim.devices, SEED), self.at, "scenario")
        self.until(self.at + minutes * 60)
        self.sim.end_plan("scenario", self.at)
        self.until(self.at + 3600)
        return sorted((c.rule, c.tag, c.severity) for c in self.judge.changes[before:] if c.action == "raise")


def test_every_device_reports_within_the_interval_its_kind_is_expected_at() -> None:
    # Health counts silence in the catalogue's intervals: a device reporting slower is called
    # offline in normal running (cameras and gates once reported every 300 s against 60).
    for kind, period in PERIOD_S.items():
        assert period <= DEVICE_KINDS[kind].expected_interval_s, kind
    assert UPLOAD_S <= DEVICE_KINDS[DeviceKind.GATEWAY].expected_interval_s


def test_a_day_of_normal_life_raises_nothing_and_stays_inside_every_rule_with_margin(demo: list[Binding]) -> None:
    day = Run(demo, 0.0, warm_h=0.0)
    day.until(24 * 3600)
    judge = day.judge
    rules = {r.name: r for r in judge.rules.devices if isinstance(r, DeviceRule)}
    assert judge.raised() == []
    judged = {name for name, count in judge.judged.items() if count > 0}
    assert {SMOKE, CALL, MAIN, RISER, LIFT, TREND, DOMESTIC, LEAK, "水箱液位低 tank level low"} <= judged
    assert {OFFLINE, GATEWAY} <= judged  # every device's health, gateways' included, judged all day
    assert len(judge.health.nodes) == len(judge.bound)  # every bound device was heard
    for (name, tag), low in judge.lowest.items():
        assert low > MARGIN * float(rules[name].threshold), (name, tag, low)  # type: ignore[arg-type]
    for (name, tag), high in judge.highest.items():
        assert high < float(rules[name].threshold) / MARGIN, (name, tag, high)  # type: ignore[arg-type]


def test_a_fire_raises_its_floor_s_detectors_the_call_point_and_the_late_pump_s_low_main_and_all_clear(
    demo: list[Binding],
) -> None:
    afternoon = Run(demo, 14.0)
    plan = scenario_plan("fire", afternoon.sim.devices, SEED)
    floor = {d.floor for d in afternoon.sim.devices.values() if d.tag in plan.steps[0].tags}
    raised = afternoon.scenario("fire", 15)
    smoke = sorted(tag for rule, tag, _ in raised if rule == SMOKE)
    assert len(smoke) == 5 and {afternoon.sim.devices[tag].floor for tag in smoke} == floor
    assert [r for r in raised if r[0] != SMOKE] == sorted(
        [(CALL, plan.steps[-4].tags[0], "critical"), (MAIN, "PS-FIRE", "major")]
    )
    assert {severity for rule, _, severity in raised if rule == SMOKE} == {"critical"}
    main = [c for c in afternoon.judge.changes if c.rule == MAIN]
    assert [c.action for c in main] == ["raise", "clear"]  # the pump took over before the fire was out
    assert afternoon.judge.still_open() == set()


def test_a_wearing_lift_crosses_its_limit_once_and_clears_when_repaired(demo: list[Binding]) -> None:
    day = Run(demo, 9.0)
    plan = scenario_plan("elevator", day.sim.devices, SEED)
    [lift] = plan.steps[0].tags
    raised = day.scenario("elevator", 120)
    assert (LIFT, lift, "warning") in raised
    assert {tag for _, tag, _ in raised} == {lift} and {rule for rule, _, _ in raised} <= {LIFT, TREND}
    assert [c.action for c in day.judge.changes if c.rule == LIFT] == ["raise", "clear"]
    assert day.judge.still_open() == set()


def test_a_burst_in_the_pump_room_raises_the_leak_and_the_domestic_pressure_and_both_clear(
    demo: list[Binding],
) -> None:
    day = Run(demo, 10.0)
    raised = day.scenario("leak", 10)
    assert raised == sorted([(DOMESTIC, "PS-DOM", "major"), (LEAK, "LK-PUMP", "major")])
    assert day.judge.still_open() == set()


def test_a_gateway_offline_silences_its_devices_until_it_is_back(demo: list[Binding]) -> None:
    day = Run(demo, 10.0)
    plan = scenario_plan("gateway_offline", day.sim.devices, SEED)
    [gateway] = plan.steps[0].tags
    day.sim.start_plan(plan, day.at, "scenario")
    heard = day.sim.advance(day.at + 1800)
    cut = next(i for i, m in enumerate(heard) if m.topic == f"gw/{gateway}/status")
    assert heard[cut].payload == b"offline" and heard[cut].retain
    behind = {tag for tag, d in day.sim.devices.items() if d.gateway == gateway} | {gateway}
    assert not [m for m in heard[cut + 1 :] if m.source in behind]
    day.sim.end_plan("scenario", day.at + 1800)
    back = day.sim.advance(day.at + 1800 + 120)
    assert back[0].topic == f"gw/{gateway}/status" and back[0].payload == b"online"
    assert any(m.source == gateway and m.topic == f"gw/{gateway}/up" for m in back)


def test_a_gateway_offline_raises_its_own_alarm_and_its_devices_and_all_clear_when_it_is_back(
    demo: list[Binding],
) -> None:
    day = Run(demo, 10.0)
    plan = scenario_plan("gateway_offline", day.sim.devices, SEED)
    [gateway] = plan.steps[0].tags
    raised = day.scenario("gateway_offline", 30)
    behind = {tag for tag, d in day.sim.devices.items() if d.gateway == gateway}
    assert (GATEWAY, gateway, "major") in raised
    # Each device behind it unreachable: on the live path grouped under the gateway's (tests/ingest).
    others = [r for r in raised if r[0] != GATEWAY]
    assert {tag for _, tag, _ in others} == behind and {rule for rule, _, _ in others} == {OFFLINE}
    assert day.judge.still_open() == set()
