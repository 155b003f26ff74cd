/**
 * `/wall`: the command-center screen. A slow tour of the site, every building's card, the alarm
 * ticker. A new critical or major alarm takes over: a frame round the whole screen, the flight
 * to its floor isolated in 3D, the place and its building's card pulsing red, and a beep when
 * sound was allowed with a click (browsers forbid sound before one). The takeover lasts until
 * the alarm is acknowledged (its ack arrives over the live socket) and then gives way to the
 * next unacknowledged one, or to the tour. So does the newest unacknowledged one already raised
 * when the wall connects. Places and counts only: no resident, no ticket text, no alarm message
 * reaches this screen.
 */
import "../style.css";
import { colourOf, labelIn } from "../catalogue";
import { h, must, replace } from "../dom";
import { hooks } from "../hooks";
import { lang, t } from "../i18n";
import { centreOf } from "../scene/geometry";
import { TwinView } from "../scene/twin";
import { boot, showError } from "../shell";
import { idFromPath } from "../store";
import { renderTicker, placeOf } from "../ticker";
import type { Alarm, FloorPlan, XYZ } from "../types";
import { createCards, fitCards, renderCards } from "../wallcards";
import { isGrouped } from "../storms";
import { fetchRates, type Figures, liveFigures, NO_RATES, polledFigures, type Rates } from "../wallcounts";
import { takesOver } from "../wallseverity";
import { pickSite } from "./site";

const TOUR_STEP_MS = 20_000;
/** How often the payment rates are re-read at most: bills change by the import, not by the second. */
const RATES_EVERY_MS = 30_000;

interface Held {
  alarm: Alarm;
  path: string[];
}

async function wall(): Promise<void> {
  const shell = await boot({ page: "wall" });
  const { api, catalogue, store, live } = shell;
  const site = await pickSite(api);
  // The first rates are read beside the scene: a 4K wall in software rendering has no time to spare.
  const firstRates = fetchRates(api, site.id);
  firstRates.catch(() => undefined); // reported where it is awaited, below
  const scene = await api.scene(site.id);
  const stage = must<HTMLElement>("#stage");
  const twin = new TwinView(stage, shell);
  twin.mode = "isolate";
  twin.showScene(scene);
  // Alarms site-wide; tickets and bills per building (a bill's event tells the rates to be re-read).
  live.subscribe(`site:${site.id}`, ["alarm", "ticket"]);
  for (const building of scene.buildings) live.subscribe(`building:${building.id}`, ["billing"]);

  const clock = h("span", { class: "clock" });
  const what = h("span", { class: "what" });
  const frame = h("div", { class: "takeover", hidden: true, role: "alert" }, h("div", { class: "banner" }, what, h("span", { class: "hint" }, t("wall.ack_to_end"))));
  const cards = createCards();
  const ticker = h("div", { class: "ticker", role: "marquee" });
  const sound = new Sound();
  const soundButton = h("button", { class: "ghost", type: "button" }, t("wall.sound_enable"));
  soundButton.addEventListener("click", () => {
    sound.enable();
    soundButton.textContent = t("wall.sound_on");
  });
  replace(must("#top"), h("div", { class: "brand" }, h("span", { class: "logo" }), `${scene.site.name} · ${t("app.wall")}`), clock, soundButton, shell.indicator);
  must("#right").appendChild(cards.section);
  must("#bottom").appendChild(ticker);
  document.body.appendChild(frame);

  const tick = (): void => {
    clock.textContent = new Date().toLocaleTimeString(lang() === "zh" ? "zh-CN" : "en-GB", { hour12: false });
  };
  setInterval(tick, 1000);
  tick();

  // While the socket cannot connect, the counters come from REST; once live, from the hub.
  let polled: Figures | null = null;
  let rates: Rates = NO_RATES;
  let shown: Held | null = null;
  /** The tour's next stop: a building, or past the last one the whole site. */
  let stop = 0;
  const fit = (): void => {
    hooks.set({ wallDensity: fitCards(cards) });
  };
  /** The buildings whose cards carry a storm's line: when they change, the layout is fitted again. */
  let stormLines = "";
  const redraw = (): void => {
    const figures = shell.fallback.active && polled ? polled : liveFigures(scene, store, catalogue, rates);
    const alarming = new Set<string>();
    const building = shown ? idFromPath(shown.path, "building") : null;
    if (building !== null) alarming.add(building);
    renderCards(cards, scene, figures, catalogue, rates, alarming);
    renderTicker(ticker, catalogue, scene, store);
    const lines = [...figures].filter(([, f]) => f.grouped > 0).map(([id]) => id).join(",");
    if (lines !== stormLines) {
      stormLines = lines;
      fit();
    }
  };
  redraw();
  fit();
  window.addEventListener("resize", fit);
  let ratesRead = -Infinity;
  let ratesQueued = false;
  const readRates = async (read: Promise<Rates> = fetchRates(api, site.id)): Promise<void> => {
    ratesRead = performance.now();
    rates = await read;
    redraw();
  };
  const ratesChanged = (): void => {
    if (ratesQueued) return;
    ratesQueued = true;
    setTimeout(() => {
      ratesQueued = false;
      void readRates().catch(showError);
    }, Math.max(0, ratesRead + RATES_EVERY_MS - performance.now()));
  };
  // Not awaited: the alarm listener below must be in place before the snapshot comes.
  void readRates(firstRates).catch(showError);
  shell.fallback.add(async () => {
    polled = await polledFigures(api, scene, catalogue, rates);
    redraw();
    return true;
  });
  shell.fallback.onChange(() => redraw());

  /** Whether an alarm should hold the wall: takeover-worthy, a root, and not yet acknowledged. */
  const holds = (alarm: Alarm): boolean =>
    takesOver(catalogue, alarm.severity) && !isGrouped(alarm) && (alarm.state === undefined || alarm.state === "raised");
  /** The newest alarm in the store that should hold the wall, if any. */
  const nextToShow = (): Held | null => {
    let best: Held | null = null;
    for (const held of store.alarms.values()) if (holds(held.alarm) && (!best || raisedAt(held.alarm) > raisedAt(best.alarm))) best = held;
    return best;
  };
  // A critical alarm raised while no wall was watching arrives in a snapshot, not as news: the
  // snapshot's alarms are heard one by one, so the wall waits for the last and takes the newest.
  let snapshotQueued = false;
  store.onAlarm((alarm, path, fresh) => {
    redraw();
    if (shown && String(shown.alarm.id) === String(alarm.id)) {
      // An update of the alarm shown (more occurrences, its ticket) keeps the takeover going.
      if (holds(alarm)) Object.assign(shown, { alarm, path });
      else endTakeover();
      return;
    }
    if (!holds(alarm)) return;
    if (fresh) {
      void takeOver({ alarm, path }).catch(showError);
      return;
    }
    if (shown || snapshotQueued) return;
    snapshotQueued = true;
    setTimeout(() => {
      snapshotQueued = false;
      const next = shown ? null : nextToShow();
      if (next) void takeOver(next).catch(showError);
    }, 0);
  });
  let redrawQueued = false;
  store.ops.onChange(() => {
    ratesChanged();
    if (redrawQueued) return;
    redrawQueued = true;
    requestAnimationFrame(() => {
      redrawQueued = false;
      redraw();
    });
  });

  async function takeOver(held: Held): Promise<void> {
    const { alarm, path } = held;
    const arrived = performance.now();
    shown = held;
    const colour = colourOf(catalogue, "alarm_severity", alarm.severity);
    frame.style.setProperty("--c", colour);
    what.textContent = t("wall.takeover", { severity: labelIn(catalogue, "alarm_severity", alarm.severity), place: placeOf(scene, path) });
    frame.hidden = false;
    frame.dataset.alarm = String(alarm.id);
    redraw();
    twin.viewer.controls.autoRotate = false;
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
    if (!plan || shown !== held) return;
    const deviceId = idFromPath(path, "device") ?? (alarm.device_id == null ? null : String(alarm.device_id));
    const device = plan.devices.find((d) => String(d.id) === deviceId);
    const place = device ? `device:${device.id}` : placeOfAlarm(plan, alarm, path);
    // The place pulses red whatever the severity: the frame carries the severity's colour.
    if (!device || !twin.markDevice(String(device.id))) twin.markAt(spaceCentre(plan, place));
    await flight;
    if (shown !== held) return;
    hooks.set({ takeover: { alarm: String(alarm.id), floor: floorId, place, ms: Math.round(performance.now() - arrived) } });
  }

  /** The alarm shown was acknowledged (or cleared): show the next one, or go back to the tour. */
  function endTakeover(): void {
    shown = null;
    frame.hidden = true;
    delete frame.dataset.alarm;
    twin.markAt(null);
    hooks.set({ takeover: null });
    redraw();
    const next = nextToShow();
    if (next) {
      void takeOver(next).catch(showError);
      return;
    }
    stop = 0;
    void twin.flyHome(3000);
    twin.viewer.controls.autoRotate = true;
  }

  setInterval(() => {
    if (shown) return;
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
