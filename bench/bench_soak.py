"""The soak and the scenarios at full length: the demo's community through a simulated day, and
through each incident, judged by its rules.

Why a benchmark as well as the test: the test (tests/scenes/test_simulator_rules.py) proves that a
day of normal life raises nothing; this prints what that day held (messages, readings, health
changes, alarms) and what judging it cost per message beside the bare baseline measured in the
same run, decoding alone, so that the ratio holds on a noisy machine.

Each scenario starts at 10:00 after an hour of normal life, runs its length, ends, and is followed
for an hour: what its device rules raised is printed by rule, to read beside what docs/scenes.md
lists (place rules such as the confirmed fire are judged in the store: tests/alarms), and whatever
is still open then is a failure (everything it raised must clear once it ends).

    python bench/bench_soak.py [--hours 24] [--step 20]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.table import Row, report
from realtime.decode import Decoder
from realtime.message import ReceiveMessage
from realtime.profiles import load_profiles
from realtime.simulator import SimMessage, Simulation
from realtime.simulator.judge import PROFILES, ROOT, Judge
from realtime.simulator.scenarios import scenario_plan
from twin.scenes import Binding, load_scene, plan_community
from twin.scenes.files import plan_bindings

DEMO = ROOT / "scenes" / "demo"
MIDNIGHT = datetime(2026, 12, 1, tzinfo=timezone(timedelta(hours=8))).timestamp()
SCENARIOS = {"fire": 15.0, "elevator": 120.0, "leak": 10.0, "gateway_offline": 30.0}
"""Each scenario that publishes, and its length in minutes (billing writes bills and publishes nothing)."""


def scenario(bindings: list[Binding], seed: int, name: str, minutes: float, step: float) -> Row:
    """Run one scenario from 10:00 after an hour of normal life; print and return what it raised."""
    start = 9 * 3600.0
    sim = Simulation(bindings, seed=seed, t0=start, epoch0=MIDNIGHT + start)
    judge = Judge(DEMO, bindings)
    judge.feed(sim.start_messages(), sim.stamp(start))
    at = start

    def until(t: float) -> None:
        nonlocal at
        while at < t:
            at = min(t, at + step)
            judge.feed(sim.advance(at), sim.stamp(at))
            judge.tick(sim.stamp(at))

    until(start + 3600)
    before = len(judge.changes)
    sim.start_plan(scenario_plan(name, sim.devices, seed), at, "scenario")
    until(at + minutes * 60)
    sim.end_plan("scenario", at)
    until(at + 3600)
    raised = Counter((c.rule, c.severity) for c in judge.changes[before:] if c.action == "raise")
    still = judge.still_open()
    said = ", ".join(f"{rule} [{severity}] ×{n}" for (rule, severity), n in sorted(raised.items()))
    print(f"{name} ({minutes:g} min, then an hour): {said or 'nothing'}")
    if still:
        print(f"  still open an hour after it ended: {sorted(still)}")
    return Row("soak", f"{name}: alarms raised, all cleared", ours=sum(raised.values()), baseline=None,
               unit="alarms", goal="as docs/scenes.md lists; none left open", ok=not still)  # fmt: skip


def main() -> None:
    """Simulate the demo for the hours asked, then judge and decode the same messages, timed apart."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--step", type=float, default=20.0, help="simulated seconds between ticks")
    args = parser.parse_args()
    scene = load_scene(DEMO)
    assert scene.generate is not None
    bindings = plan_bindings(plan_community(scene.site, scene.generate))
    sim = Simulation(bindings, seed=scene.simulator.seed, epoch0=MIDNIGHT)
    batches: list[tuple[list[SimMessage], float]] = [(sim.start_messages(), sim.stamp(0.0))]
    at = 0.0
    while at < args.hours * 3600:
        at = min(args.hours * 3600, at + args.step)
        batches.append((sim.advance(at), sim.stamp(at)))
    messages = sum(len(b) for b, _ in batches)

    decoder = Decoder(load_profiles([PROFILES]))
    started = time.process_time()
    for batch, epoch in batches:
        for m in batch:
            decoder.decode(ReceiveMessage(m.topic, m.payload, 0, False, epoch))
    bare = time.process_time() - started

    judge = Judge(DEMO, bindings)
    started = time.process_time()
    for batch, epoch in batches:
        judge.feed(batch, epoch)
        judge.tick(epoch)
    ours = time.process_time() - started

    raised = judge.raised()
    print(f"demo: {len(bindings)} devices, {args.hours:g} simulated hours, {messages:,} messages")
    print(f"rules judged: {sum(judge.judged.values()):,} times over {len(judge.judged)} rules")
    print(f"alarms raised: {len(raised)}" + "".join(f"\n  {c.rule} {c.tag} {c.severity}" for c in raised[:20]))
    per_ours, per_bare = ours / messages * 1e6, bare / messages * 1e6
    print(f"per message: decode, bind, health and rules {per_ours:.1f} µs; decoding alone {per_bare:.1f} µs")
    rows = [scenario(bindings, scene.simulator.seed, name, minutes, args.step) for name, minutes in SCENARIOS.items()]
    report([
        *rows,
        Row("soak", f"alarms in {args.hours:g} h of normal life", ours=len(raised), baseline=None, unit="alarms",
            goal="0", ok=not raised),
        Row("soak", "judging per message", ours=per_ours, baseline=per_bare, unit="µs"),
    ])  # fmt: skip


if __name__ == "__main__":
    main()
