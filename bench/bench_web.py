"""The web view's first rendered frame and frame time, in headless Chromium, beside a bare WebGL page.

    python bench/bench_web.py [--buildings 2 --floors 6 --units-per-floor 4 --runs 3]

Ours: a generated scene loaded into a throw-away PostGIS, ``twin serve`` with the live ingest and
the simulator publishing (each logs in to the broker with its own credential, the twin's and the
simulator's); for each 3D mode (``/``, ``/wall``) a fresh page signs in and
reads ``window.__twin``: the first frame that drew site content (ms since navigation, the sign-in
included) and the median time of a rendered frame once live. Bare: a page with one WebGL canvas
that clears itself every frame, served from a plain folder, in the same browser: the floor of what
headless Chromium with software WebGL costs. Goal: the first frame under 3 s. The demo's size is
``--buildings 6 --floors 18 --units-per-floor 4`` (its first frame measured 1.6–1.8 s on ``/``).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, sync_playwright
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.logins import simulator
from bench.table import Row, report
from twin.services import MosquittoBroker, PostgresCluster
from twin.services.system import accepts_connections, free_port
from twin.store.engine import upgrade

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--use-gl=swiftshader", "--enable-unsafe-swiftshader", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
PASSWORD = "bench-web-Passw0rd"
MODES = ("/", "/wall")
"""The 3D modes; the inspector's tablet draws 2D plans, which the web tests look at."""
GOAL_MS = 3000.0
console = Console()

BARE = """<!doctype html><meta charset="utf-8"><title>bare</title>
<style>html,body,canvas{margin:0;width:100%;height:100%;display:block}</style><canvas></canvas>
<script>
const gl = document.querySelector("canvas").getContext("webgl2");
const times = []; window.__bare = {firstFrameMs: null, frameMedianMs: 0};
function frame() {
  const t = performance.now(); gl.clearColor(0.04, 0.05, 0.08, 1); gl.clear(gl.COLOR_BUFFER_BIT); gl.finish();
  times.push(performance.now() - t); if (times.length > 240) times.shift();
  if (window.__bare.firstFrameMs === null) window.__bare.firstFrameMs = Math.round(performance.now());
  const sorted = [...times].sort((a, b) => a - b); window.__bare.frameMedianMs = sorted[sorted.length >> 1];
  requestAnimationFrame(frame);
}
requestAnimationFrame(frame);
</script>"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the bare page without a log line per request."""

    def log_message(self, format: str, *args: Any) -> None:
        return


def twin(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "twin.cli", *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"twin {' '.join(args)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")


def measure(browser: Browser, url: str, hooks: str, sign_in: bool) -> tuple[float, float]:
    """Open ``url`` in a fresh page (signing in to the twin if asked) and read its first frame and frame time."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        page.goto(url)
        if sign_in:
            page.fill("input[name=username]", "bench")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
        page.wait_for_function(f"window.{hooks} && window.{hooks}.firstFrameMs !== null", timeout=60_000)
        if sign_in:
            page.wait_for_function(f"window.{hooks}.connection === 'live'", timeout=30_000)
        page.wait_for_timeout(3000)
        figures: dict[str, Any] = page.evaluate(f"window.{hooks}")
        return float(figures["firstFrameMs"]), float(figures["frameMedianMs"])
    finally:
        page.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--buildings", type=int, default=2)
    parser.add_argument("--floors", type=int, default=6)
    parser.add_argument("--units-per-floor", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not (ROOT / "web" / "dist" / "index.html").is_file():
        raise SystemExit("web/dist is not built: run make web")
    if not Path(CHROMIUM).is_file():
        console.print(f"{CHROMIUM} is missing (apt-get install chromium): the web benchmark is skipped")
        report([Row("web", "first frame", None, note="skipped: no Chromium (apt-get install chromium)")])
        return
    root = Path(tempfile.mkdtemp(prefix="bench-web-"))
    root.chmod(0o755)
    (root / "pg").mkdir()
    (root / "pg").chmod(0o755)
    cluster = PostgresCluster(root / "pg" / "data", free_port(), database="bench", fast_and_unsafe=True)
    broker = MosquittoBroker(root / "mqtt", free_port())
    processes: list[subprocess.Popen[bytes]] = []
    bare_dir = root / "bare"
    bare_dir.mkdir()
    (bare_dir / "index.html").write_text(BARE)
    handler = functools.partial(QuietHandler, directory=str(bare_dir))
    bare_server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=bare_server.serve_forever, daemon=True).start()
    try:
        with console.status("PostgreSQL, Mosquitto, a generated scene, the server and the simulator…"):
            cluster.start()
            broker.start()
            upgrade(cluster.url())
            env = {**os.environ, "TWIN_DATABASE_URL": cluster.url(), "TWIN_MQTT_URL": broker.url,
                   "TWIN_HOME": str(root / "var"), "TWIN_WEB_DIST": str(ROOT / "web" / "dist"), "TWIN_INGEST": "true",
                   "TWIN_INGEST_PROFILES": f'["{ROOT / "scenes" / "profiles"}"]'}  # fmt: skip
            scene = root / "scene"
            size = ["--buildings", str(args.buildings), "--floors", str(args.floors)]
            twin(env, "scene", "generate", str(scene), *size, "--units-per-floor", str(args.units_per_floor))
            twin(env, "scene", "load", str(scene))
            twin(env, "user", "add", "bench", "--role", "admin", "--password", PASSWORD)
            port = free_port()
            log = (root / "server.log").open("wb")
            command = [sys.executable, "-m", "twin.cli"]
            processes.append(
                subprocess.Popen([*command, "serve", "--port", str(port)], env=env, stdout=log, stderr=log)
            )
            as_simulator = {**env, "TWIN_MQTT_URL": simulator(broker).url(broker.host, broker.port)}
            processes.append(
                subprocess.Popen(
                    [*command, "simulate", "--scene", str(scene)], env=as_simulator, stdout=log, stderr=log
                )
            )
            deadline = time.monotonic() + 60
            while not accepts_connections("127.0.0.1", port) and time.monotonic() < deadline:
                time.sleep(0.2)
            url = f"http://127.0.0.1:{port}"
            assert httpx.get(f"{url}/readyz", timeout=10).status_code == 200
        results: dict[str, list[tuple[float, float]]] = {}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for _ in range(args.runs):
                bare_url = f"http://127.0.0.1:{bare_server.server_port}/"
                results.setdefault("bare", []).append(measure(browser, bare_url, "__bare", sign_in=False))
                for mode in MODES:
                    results.setdefault(mode, []).append(measure(browser, f"{url}{mode}", "__twin", sign_in=True))
            browser.close()
        print_table(results, args)
    finally:
        for process in processes:
            process.terminate()
            process.wait(30)
        bare_server.shutdown()
        broker.stop()
        cluster.stop()


def print_table(results: dict[str, list[tuple[float, float]]], args: argparse.Namespace) -> None:
    first_bare = statistics.median(r[0] for r in results["bare"])
    frame_bare = statistics.median(r[1] for r in results["bare"])
    size = f"{args.buildings} towers × {args.floors} floors × {args.units_per_floor} units"
    table = Table(title=f"Web view in headless Chromium (software WebGL), {size}, median of {args.runs}")
    for column in ("page", "first frame", "bare page", "frame time", "bare frame", "goal", "met"):
        table.add_column(column, justify="left" if column in ("page", "goal") else "right")
    rows: list[Row] = []
    for mode in MODES:
        first = statistics.median(r[0] for r in results[mode])
        frame = statistics.median(r[1] for r in results[mode])
        ok = first < GOAL_MS
        table.add_row(mode, f"{first:,.0f} ms", f"{first_bare:,.0f} ms", f"{frame:.1f} ms", f"{frame_bare:.1f} ms",
                      "first frame < 3 s", "yes" if ok else "NO")  # fmt: skip
        rows.append(Row("web", f"{mode} first frame", first, first_bare, "ms", "< 3 s", ok))
        rows.append(Row("web", f"{mode} frame time", frame, frame_bare, "ms"))
    console.print(table)
    report(rows)


if __name__ == "__main__":
    main()
