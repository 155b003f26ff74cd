"""Scale of the scene generator and the simulator, each beside a bare baseline of the same run.

Usage: ``python bench/bench_simulator.py [--scale] [--no-ifc] [--rate 10000] [--processes 2] [--duration S]``.

Prints the plan of a 100,000-device community (time); the IFC written for the demo size (``--scale``:
also for the 100,000 devices: seconds, devices per second, peak memory, file size); the simulator's
message production in one process beside a bare loop that only serialises as many JSON payloads
with orjson; and the simulator publishing at ``--rate`` through a private Mosquitto to a bare paho
subscriber on ``#`` (the demo's devices for 10 s; ``--scale``: the 100,000-device community's for
35 s, long enough for its slowest device to report once), beside a bare paho publisher sending the
same messages through the same broker as fast as it can. Both publishers log in as the simulator
and the subscriber as the twin: the broker takes no anonymous client. The rate published is the
simulator's count over its paced run; the rate delivered is the readings the subscriber received
from the run's start (the same instant in every process) to the last one's arrival, so a broker or
subscriber falling behind shows there.
Every received message is then decoded
by the ingest's decoder and bound as a loaded scene binds it: unknown devices and rejects must be
zero, and the bound devices never heard are counted.
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import struct
import sys
import tempfile
import threading
import time
from pathlib import Path

import orjson
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.logins import Login, simulator, twin  # noqa: E402
from bench.table import Row, report  # noqa: E402
from bim.generate import write_ifc  # noqa: E402
from realtime.mqtt import BrokerSettings  # noqa: E402
from realtime.profiles import load_profiles  # noqa: E402
from realtime.simulator import Simulation, run_simulation  # noqa: E402
from realtime.simulator.audit import Audit  # noqa: E402
from realtime.simulator.coexist import OWN  # noqa: E402
from realtime.simulator.devices import sim_devices  # noqa: E402
from realtime.simulator.engine import PERIOD_S, UPLOAD_S  # noqa: E402
from realtime.simulator.styles import online  # noqa: E402
from twin.catalogue import DeviceKind  # noqa: E402
from twin.scenes import Binding, GenerateSpec, plan_bindings, plan_community  # noqa: E402
from twin.scenes.generate import DEFAULT_SITE  # noqa: E402
from twin.services import MosquittoBroker  # noqa: E402
from twin.services.system import free_port  # noqa: E402

BIG = GenerateSpec(32, 33, 16, seed=1)
DEMO = GenerateSpec(6, 18, 4, seed=1)
QUIET_S = 2.0
"""The subscriber has everything once nothing more arrived for this long."""


def generator(scale: bool, ifc: bool = True) -> tuple[list[Binding], list[Row]]:
    """Time the plan of the big community and the IFC writer; return the big plan's bindings."""
    started = time.perf_counter()
    plan = plan_community(DEFAULT_SITE, BIG)
    seconds = time.perf_counter() - started
    print(f"plan {BIG}: {len(plan.devices)} devices in {seconds:.2f} s")
    rows = [Row("generator", "plan of 100k devices", seconds, None, "s")]
    for spec in ([DEMO, BIG] if scale else [DEMO]) if ifc else []:
        community = plan if spec is BIG else plan_community(DEFAULT_SITE, spec)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "c.ifc"
            started = time.perf_counter()
            write_ifc(community, path)
            seconds = time.perf_counter() - started
            size = path.stat().st_size
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"IFC {spec.buildings}×{spec.floors}×{spec.units_per_floor}: {len(community.devices)} devices "
            f"in {seconds:.1f} s = {len(community.devices) / seconds:.0f} devices/s, {size / 1e6:.0f} MB, "
            f"peak RSS so far {peak:.0f} MiB"
        )
        rows.append(Row("generator", f"IFC of {len(community.devices)} devices", seconds, None, "s"))
    return plan_bindings(plan), rows


def production(bindings: list[Binding]) -> Row:
    """Time the simulation alone (no broker) against serialising as many payloads with orjson."""
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
    return Row("simulator", "messages generated per second", ours, bare, "msg/s", note="bare: orjson.dumps")


def _string(data: bytes) -> bytes:
    """MQTT's length-prefixed string (or binary data) field."""
    return struct.pack("!H", len(data)) + data


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        n, byte = divmod(n, 128)
        out.append(byte | 0x80 if n else byte)
        if not n:
            return bytes(out)


class Listener:
    """A bare MQTT 3.1.1 subscriber on ``#`` keeping every message with its time of receipt.

    It reads its socket a megabyte at a time and parses the PUBLISH packets itself: paho reads
    every packet in three or more ``recv`` calls and was, at 10,000 msg/s on two shared cores, the
    first part of the chain to fall behind. Subscribed at QoS 0, so there is nothing to acknowledge.
    It logs in with ``login`` (the twin's credential reads every topic).
    """

    FLAGS = 0x80 | 0x40 | 0x02
    """CONNECT flags: a user name (bit 7) and a password (bit 6) follow the client id; clean session (bit 1)."""

    def __init__(self, port: int, login: Login) -> None:
        self.messages: list[tuple[str, bytes, float]] = []
        self.refused: int | None = None
        sock = socket.create_connection(("127.0.0.1", port))
        client_id = f"bench-listener-{os.getpid()}".encode()
        header = _string(b"MQTT") + bytes([4, self.FLAGS]) + struct.pack("!H", 0)  # level 4 = 3.1.1, no keepalive
        payload = _string(client_id) + _string(login.username.encode()) + _string(login.password.encode())
        connect = header + payload
        sock.sendall(b"\x10" + _varint(len(connect)) + connect)
        subscribe = b"\x00\x01" + struct.pack("!H", 1) + b"#\x00"
        sock.sendall(b"\x82" + _varint(len(subscribe)) + subscribe)
        self._sock = sock
        self._subscribed = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        if not self._subscribed.wait(10):
            raise RuntimeError("the listener could not subscribe")
        if self.refused is not None:
            raise RuntimeError(
                f"the broker refused the listener's login as {login.username!r} (CONNACK {self.refused})"
            )

    def _read(self) -> None:
        buffer = bytearray()
        while True:
            try:
                chunk = self._sock.recv(1 << 20)
            except OSError:
                return
            if not chunk:
                return
            at = time.time()
            buffer += chunk
            used = 0
            while True:
                packet = self._packet(buffer, used)
                if packet is None:
                    break
                kind, body, used = packet
                if kind == 0x20 and buffer[body + 1]:
                    self.refused = buffer[body + 1]
                    self._subscribed.set()
                elif kind == 0x90:
                    self._subscribed.set()
                elif kind == 0x30:
                    size = struct.unpack_from("!H", buffer, body)[0]
                    topic = buffer[body + 2 : body + 2 + size].decode()
                    self.messages.append((topic, bytes(buffer[body + 2 + size : used]), at))
            del buffer[:used]

    @staticmethod
    def _packet(buffer: bytearray, at: int) -> tuple[int, int, int] | None:
        """Return the next whole packet's type, body start and end, or None while it has not all arrived."""
        length, shift, i = 0, 0, at + 1
        while True:
            if i >= len(buffer):
                return None
            byte = buffer[i]
            length += (byte & 0x7F) << shift
            shift += 7
            i += 1
            if not byte & 0x80:
                break
        if i + length > len(buffer):
            return None
        return buffer[at] & 0xF0, i, i + length

    def settle(self, expected: int, timeout: float = 120.0) -> None:
        """Wait until ``expected`` messages arrived and then nothing more for a moment (or the timeout)."""
        deadline = time.monotonic() + timeout
        seen, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            count = len(self.messages)
            if count != seen:
                seen, since = count, time.monotonic()
            elif count >= expected and time.monotonic() - since > QUIET_S:
                return
            time.sleep(0.1)

    def close(self) -> None:
        """Disconnect."""
        try:
            self._sock.sendall(b"\xe0\x00")
        finally:
            self._sock.close()
            self._thread.join(5)


def bare_publish(port: int, login: Login, messages: list[tuple[str, bytes, float]], listener: Listener) -> float:
    """Send the same messages with one bare paho client as fast as it goes; return msg/s received."""
    listener.messages.clear()
    client = login.apply(paho.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-bare-{os.getpid()}"))
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    started = time.time()
    for topic, payload, _ in messages:
        client.publish(topic, payload, qos=0)
    listener.settle(len(messages))
    last = listener.messages[-1][2] if listener.messages else time.time()
    client.loop_stop()
    client.disconnect()
    received = len(listener.messages)
    return received / (last - started) if received else 0.0


def slowest_s(bindings: list[Binding], speed: float) -> float:
    """Return the wall seconds within which every bound device reports once at ``speed``."""
    periods = [PERIOD_S.get(b.kind, 600.0) for b in bindings if b.kind is not DeviceKind.GATEWAY]
    return (max(periods, default=0.0) + UPLOAD_S) / speed


def through_broker(bindings: list[Binding], rate: float, processes: int, duration: float, label: str) -> list[Row]:
    """Publish through a private Mosquitto to a bare subscriber; audit what arrived; then the bare publisher."""
    availability = {m.topic for d in sim_devices(bindings, 1) if (m := online(d, True)) is not None}
    announced = len(availability)
    with tempfile.TemporaryDirectory() as home:
        os.chmod(home, 0o755)  # the broker runs as the mosquitto user when started by root
        broker = MosquittoBroker(Path(home) / "mqtt", free_port())
        broker.start()
        try:
            listener = Listener(broker.port, twin(broker))
            try:
                sim = run_simulation(
                    bindings,
                    BrokerSettings("127.0.0.1", broker.port, client_id="bench-sim", **simulator(broker).settings),
                    seed=1,
                    rate=rate,
                    duration=duration,
                    processes=processes,
                )
                expected = sim.messages + 2 * announced
                listener.settle(expected)
                received = [m for m in listener.messages if not m[0].startswith(OWN)]  # the simulators' own
                bare = bare_publish(broker.port, simulator(broker), received, listener)
            finally:
                listener.close()
        finally:
            broker.stop()
    started = time.perf_counter()
    audit = Audit.of(bindings, load_profiles([ROOT / "scenes" / "profiles"]))
    for topic, payload, at in received:
        audit.add(topic, payload, at)
    decoding = time.perf_counter() - started
    silent = audit.silent(bindings)
    within = slowest_s(bindings, sim.speed)
    telemetry = [at for topic, _, at in received if topic not in availability]
    span = max(telemetry, default=sim.started_at) - sim.started_at
    delivered = len(telemetry) / span if span > 0 else 0.0
    print(
        f"\nthrough Mosquitto, {label}: {len(bindings)} bound devices, --rate {rate:.0f} --processes {processes}"
        f" --duration {duration:.0f}: published {sim.messages} in {sim.seconds:.1f} s = {sim.rate:.0f} msg/s"
        f" (simulated time ×{sim.speed:.1f}; plus {announced} online and {announced} offline on start and stop)"
    )
    print(
        f"bare subscriber on #: received {len(received)} of {expected}; {len(telemetry)} readings from the"
        f" run's start to the last one's arrival ({span:.1f} s) = {delivered:.0f} msg/s delivered;"
        f" unconfirmed by the broker at the stop: {sim.unconfirmed}"
    )
    print(
        f"decoded by the ingest's decoder in {decoding:.1f} s: {audit.readings} readings, {audit.availability}"
        f" availability; unknown devices {sum(audit.unknown.values())}, rejects {sum(audit.rejects.values())}"
    )
    for line in audit.samples:
        print(f"  {line}")
    print(
        f"bound devices heard: {len(bindings) - len(silent)} of {len(bindings)} (every one reports within"
        f" {within:.1f} s at ×{sim.speed:.1f}){'; never heard: ' + ', '.join(silent[:5]) if silent else ''}"
    )
    print(f"{'':32}{'msg/s':>12}")
    print(f"{'simulator → Mosquitto':32}{sim.rate:12.0f}")
    print(f"{'simulator → Mosquitto → #':32}{delivered:12.0f}")
    print(f"{'bare paho publisher → #':32}{bare:12.0f}")
    return [
        Row("simulator", f"published, {label}", sim.rate, None, "msg/s", goal=f">= {rate:.0f}", ok=sim.rate >= rate),
        Row(
            "simulator",
            f"delivered through Mosquitto, {label}",
            delivered,
            bare,
            "msg/s",
            goal=f">= {rate:.0f}",
            ok=delivered >= rate,
            note="bare: one paho publisher",
        ),
        Row(
            "simulator",
            f"received / published, {label}",
            len(received),
            expected,
            "messages",
            goal="all received",
            ok=len(received) == expected,
        ),
        Row(
            "simulator",
            f"unknown + rejected, {label}",
            sum(audit.unknown.values()) + sum(audit.rejects.values()),
            None,
            "messages",
            goal="0",
            ok=audit.clean,
        ),
        Row("simulator", f"bound devices never heard, {label}", len(silent), None, "devices"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", action="store_true", help="the 100,000-device community: IFC and broker run")
    parser.add_argument("--rate", type=float, default=10_000.0, help="messages per second through the broker")
    parser.add_argument("--processes", type=int, default=2, help="simulator processes")
    parser.add_argument("--duration", type=float, default=None, help="seconds (default 10; 35 with --scale)")
    parser.add_argument("--no-ifc", action="store_true", help="skip writing the IFC (minutes at --scale)")
    args = parser.parse_args()
    big, rows = generator(args.scale, ifc=not args.no_ifc)
    rows.append(production(big))
    bindings = big if args.scale else plan_bindings(plan_community(DEFAULT_SITE, DEMO))
    duration = args.duration or (35.0 if args.scale else 10.0)
    label = "100k community" if args.scale else "demo"
    rows += through_broker(bindings, args.rate, args.processes, duration, label)
    report(rows)


if __name__ == "__main__":
    main()
