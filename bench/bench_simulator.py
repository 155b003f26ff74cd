"""Scale of the scene generator and the simulator, each beside a bare baseline of the same run.

Usage: ``python bench/bench_simulator.py [--big]``. Prints: the plan of a 100,000-device community
(time), the IFC written for the demo size (seconds, devices per second; ``--big`` also writes the
100,000-device IFC), and the simulator's message production (messages per second, one process)
beside a bare loop that only serialises the same number of JSON payloads with orjson.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.table import Row, report  # noqa: E402
from bim.generate import write_ifc  # noqa: E402
from realtime.simulator import Simulation  # noqa: E402
from twin.scenes import GenerateSpec, plan_bindings, plan_community  # noqa: E402
from twin.scenes.generate import DEFAULT_SITE  # noqa: E402


def main() -> None:
    big = GenerateSpec(32, 33, 16, seed=1)
    started = time.perf_counter()
    plan = plan_community(DEFAULT_SITE, big)
    print(f"plan {big}: {len(plan.devices)} devices in {time.perf_counter() - started:.2f} s")
    sizes = [GenerateSpec(6, 18, 4, seed=1)] + ([big] if "--big" in sys.argv else [])
    for spec in sizes:
        community = plan_community(DEFAULT_SITE, spec)
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            write_ifc(community, Path(folder) / "c.ifc")
            seconds = time.perf_counter() - started
        print(
            f"IFC {spec.buildings}×{spec.floors}×{spec.units_per_floor}: {len(community.devices)} devices "
            f"in {seconds:.1f} s = {len(community.devices) / seconds:.0f} devices/s"
        )
    bindings = plan_bindings(plan)
    sim = Simulation(bindings, seed=1, t0=0.0, epoch0=time.time(), speed=1.0)
    started = time.perf_counter()
    messages = len(sim.advance(1800.0))
    ours = messages / (time.perf_counter() - started)
    payload = {"ts": 1, "data": [{"dev": "WM-1-1-101", "total": 12.5, "unit": "m3"}]}
    started = time.perf_counter()
    for _ in range(messages):
        orjson.dumps(payload)
    bare = messages / (time.perf_counter() - started)
    print(f"simulator: {len(bindings)} bound devices, {messages} messages for 30 simulated minutes")
    print(f"{'':24}{'msg/s':>12}")
    print(f"{'simulator (1 process)':24}{ours:12.0f}")
    print(f"{'bare orjson.dumps':24}{bare:12.0f}")
    report([Row("simulator", "messages generated per second", ours, bare, "msg/s", note="bare: orjson.dumps")])


if __name__ == "__main__":
    main()
