/**
 * `/wall`: the command-center screen. A slow tour of the site, per-building counters, the
 * alarm ticker; a new critical alarm takes over: fly to its floor, isolate it, pulse the place,
 * and beep when sound was allowed with a click (browsers forbid sound before one). So does the
 * newest unacknowledged one already raised when the wall connects. Places and
 * counts only: no resident, no ticket text, no alarm message reaches this screen.
 */
import "../style.css";
import { colourOf, isCritical } from "../catalogue";
import { h, must, replace } from "../dom";
import { hooks } from "../hooks";
import { lang, t } from "../i18n";
import { centreOf } from "../scene/geometry";
import { TwinView } from "../scene/twin";
import { boot, showError } from "../shell";
import { idFromPath } from "../store";
import { renderTicker, placeOf } from "../ticker";
import type { Alarm, Catalogue, FloorPlan, Scene, XYZ } from "../types";
import { type Figures, liveFigures, polledFigures } from "../wallcounts";
import { pickSite } from "./site";

const TOUR_STEP_MS = 20_000;
const QUIET_AFTER_CRITICAL_MS = 120_000;

async function wall(): Promise<void> {
  const shell = await boot({ page: "wall" });
  const { api, catalogue, store, live } = shell;
  const site = await pickSite(api);
  const scene = await api.scene(site.id);
  const stage = must<HTMLElement>("#stage");
  const twin = new TwinView(stage, shell);
  twin.mode = "isolate";
  twin.showScene(scene);
  // Alarms site-wide; tickets and bills per building, whose snapshots carry each payment rate.
  live.subscribe(`site:${site.id}`, ["alarm", "ticket"]);
  for (const building of scene.buildings) live.subscribe(`building:${building.id}`, ["billing"]);

  const clock = h("span", { class: "clock" });
  const banner = h("div", { class: "banner", hidden: true, role: "alert" });
  const counters = h("section", { class: "counters", "aria-label": t("counters.title") });
  const ticker = h("div", { class: "ticker", role: "marquee" });
  const sound = new Sound();
  const soundButton = h("button", { class: "ghost", type: "button" }, t("wall.sound_enable"));
  soundButton.addEventListener("click", () => {
    sound.enable();
    soundButton.textContent = t("wall.sound_on");
  });
  replace(must("#top"), h("div", { class: "brand" }, h("span", { class: "logo" }), `${scene.site.name} · ${t("app.wall")}`), clock, soundButton, shell.indicator);
  must("#right").appendChild(counters);
  must("#bottom").appendChild(ticker);
  stage.appendChild(banner);

  const tick = (): void => {
    clock.textContent = new Date().toLocaleTimeString(lang() === "zh" ? "zh-CN" : "en-GB", { hour12: false });
  };
  setInterval(tick, 1000);
  tick();

  // While the socket cannot connect, the counters come from REST; once live, from the hub.
  let polled: Figures | null = null;
  const redraw = (): void => {
    const figures = shell.fallback.active && polled ? polled : liveFigures(scene, store, catalogue);
    renderCounters(counters, scene, figures, catalogue);
    renderTicker(ticker, catalogue, scene, store);
  };
  redraw();
  shell.fallback.add(async () => {
    polled = await polledFigures(api, scene, catalogue);
    redraw();
    return true;
  });
  shell.fallback.onChange(() => redraw());
  // A critical alarm raised while no wall was watching arrives in a snapshot, not as news: the
  // wall that connects then takes over for the newest one nobody has acknowledged, once.
  let waiting: { alarm: Alarm; path: string[] } | null = null;
  let lastCritical = -Infinity;
  store.onAlarm((alarm, path, fresh) => {
    redraw();
    if (!isCritical(catalogue, alarm.severity)) return;
    if (fresh) {
      void takeOver(alarm, path).catch(showError);
      return;
    }
    if (lastCritical !== -Infinity || alarm.state === "acknowledged" || alarm.state === "cleared") return;
    if (waiting && raisedAt(waiting.alarm) >= raisedAt(alarm)) return;
    const first = waiting === null;
    waiting = { alarm, path };
    if (first)
      setTimeout(() => {
        const held = waiting;
        waiting = null;
        if (held && lastCritical === -Infinity) void takeOver(held.alarm, held.path).catch(showError);
      }, 0);
  });
  let redrawQueued = false;
  store.ops.onChange(() => {
    if (redrawQueued) return;
    redrawQueued = true;
    requestAnimationFrame(() => {
      redrawQueued = false;
      redraw();
    });
  });

  async function takeOver(alarm: Alarm, path: string[]): Promise<void> {
    const arrived = performance.now();
    lastCritical = arrived;
    twin.viewer.controls.autoRotate = false;
    banner.textContent = `${t("wall.critical")} · ${placeOf(scene, path)}`;
    banner.hidden = false;
    sound.beep();
    const floorId = idFromPath(path, "floor");
    if (floorId === null) {
      const buildingId = idFromPath(path, "building");
      if (buildingId !== null) twin.openBuilding(buildingId);
      return;
    }
    twin.setMode("isolate");
    // Fly while the plan loads: the floor's frame is known from the scene, its rooms are not.
    const loading = twin.openFloor(floorId, false);
    const flight = twin.frameFloor(floorId);
    const plan = await loading;
    if (!plan) return;
    const colour = colourOf(catalogue, "alarm_severity", alarm.severity);
    const deviceId = idFromPath(path, "device") ?? (alarm.device_id == null ? null : String(alarm.device_id));
    const device = plan.devices.find((d) => String(d.id) === deviceId);
    const place = device ? `device:${device.id}` : placeOfAlarm(plan, alarm, path);
    if (!device || !twin.markDevice(String(device.id), colour)) twin.markAt(spaceCentre(plan, place), colour);
    await flight;
    hooks.set({ takeover: { alarm: String(alarm.id), floor: floorId, place, ms: Math.round(performance.now() - arrived) } });
  }

  let stop = 0;
  setInterval(() => {
    if (performance.now() - lastCritical < QUIET_AFTER_CRITICAL_MS) return;
    banner.hidden = true;
    const buildings = scene.buildings;
    const next = buildings[stop++ % Math.max(1, buildings.length + 1)];
    if (!next) {
      void twin.flyHome(3000);
      twin.viewer.controls.autoRotate = true;
      twin.viewer.controls.autoRotateSpeed = 0.4;
      return;
    }
    twin.viewer.controls.autoRotate = false;
    twin.openBuilding(String(next.id));
  }, TOUR_STEP_MS);
  twin.viewer.controls.autoRotate = true;
  twin.viewer.controls.autoRotateSpeed = 0.4;
}

/** Return when an alarm was raised, in milliseconds (0 when the wire did not say). */
function raisedAt(alarm: Alarm): number {
  const at = alarm.first_at ?? alarm.raised_at;
  if (typeof at === "number") return at * 1000;
  const parsed = typeof at === "string" ? Date.parse(at) : NaN;
  return Number.isNaN(parsed) ? 0 : parsed;
}

/** Return the space an alarm without a drawn device points at, as `space:ID`, or null. */
function placeOfAlarm(plan: FloorPlan, alarm: Alarm & { place_id?: number | string }, path: readonly string[]): string | null {
  const id = idFromPath(path, "space") ?? (alarm.place_id == null ? null : String(alarm.place_id));
  return plan.spaces.some((s) => String(s.id) === id) ? `space:${id}` : null;
}

function spaceCentre(plan: FloorPlan, place: string | null): XYZ | null {
  const space = plan.spaces.find((s) => `space:${s.id}` === place);
  return space ? [...centreOf(space.polygon), plan.floor.elevation] : null;
}

function renderCounters(element: HTMLElement, scene: Scene, figures: Figures, catalogue: Catalogue): void {
  replace(
    element,
    h("h3", {}, t("counters.title")),
    ...scene.buildings.map((b) => {
      const f = figures.get(String(b.id));
      const rate = f?.rate ?? null;
      return h(
        "div",
        { class: "counter", "data-building": String(b.id), style: f?.worst ? `--c:${colourOf(catalogue, "alarm_severity", f.worst)}` : "" },
        h("div", { class: "name" }, b.name),
        h(
          "div",
          { class: "figures" },
          figure(String(f?.alarms ?? 0), t("counters.alarms"), "alarms"),
          figure(String(f?.overdue ?? 0), t("counters.overdue"), "overdue"),
          figure(rate === null ? t("counters.none") : t("unit.percent", { n: Math.round(rate * 100) }), t("counters.payment"), "payment"),
        ),
      );
    }),
  );
}

function figure(value: string, label: string, name: string): HTMLElement {
  return h("div", { class: "figure", "data-figure": name }, h("b", {}, value), h("span", {}, label));
}

/** A two-tone alert made by the browser itself: no sound file to serve. */
class Sound {
  private context: AudioContext | null = null;

  enable(): void {
    this.context ??= new AudioContext();
    void this.context.resume();
  }

  beep(): void {
    const ctx = this.context;
    if (!ctx) return;
    [0, 0.35, 0.7].forEach((at, i) => {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = i % 2 === 0 ? 960 : 720;
      gain.gain.setValueAtTime(0.25, ctx.currentTime + at);
      gain.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + at + 0.3);
      osc.connect(gain).connect(ctx.destination);
      osc.start(ctx.currentTime + at);
      osc.stop(ctx.currentTime + at + 0.32);
    });
  }
}

wall().catch(showError);
