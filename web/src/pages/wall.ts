/**
 * `/wall`: the command-center screen. A slow tour of the site, per-building counters, the
 * alarm ticker; a new critical alarm takes over: fly to its floor, isolate it, pulse the place,
 * and beep when sound was allowed with a click (browsers forbid sound before one).
 */
import "../style.css";
import { colourOf, isCritical, worstSeverity } from "../catalogue";
import { h, must, replace } from "../dom";
import { hooks } from "../hooks";
import { lang, t } from "../i18n";
import { TwinView } from "../scene/twin";
import { boot, showError } from "../shell";
import { idFromPath } from "../store";
import { renderTicker, placeOf } from "../ticker";
import type { Alarm, Scene } from "../types";
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
  live.subscribe(`site:${site.id}`, ["alarm", "status"]);

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

  const redraw = (): void => {
    renderCounters(counters, scene, shell.store.alarms.values(), catalogue);
    renderTicker(ticker, catalogue, scene, store);
  };
  redraw();
  store.onAlarm((alarm, path, fresh) => {
    redraw();
    if (fresh && isCritical(catalogue, alarm.severity)) void takeOver(alarm, path).catch(showError);
  });
  setInterval(() => {
    api.scene(site.id).then((fresh) => {
      scene.counters = fresh.counters;
      twin.updateCounters(fresh.counters);
      twin.retint();
      redraw();
    }, showError);
  }, 30_000);

  let lastCritical = -Infinity;
  async function takeOver(alarm: Alarm, path: string[]): Promise<void> {
    lastCritical = performance.now();
    twin.viewer.controls.autoRotate = false;
    banner.textContent = `${t("wall.critical")} · ${placeOf(scene, path)}`;
    banner.hidden = false;
    sound.beep();
    const floorId = idFromPath(path, "floor");
    const deviceId = idFromPath(path, "device") ?? (alarm.device_id == null ? null : String(alarm.device_id));
    if (floorId === null) return;
    twin.setMode("isolate");
    await twin.openFloor(floorId, deviceId === null);
    hooks.set({ floor: floorId });
    if (deviceId !== null) await twin.focusDevice(deviceId, colourOf(catalogue, "alarm_severity", alarm.severity));
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

function renderCounters(element: HTMLElement, scene: Scene, alarms: Iterable<{ alarm: Alarm; path: string[] }>, catalogue: Parameters<typeof worstSeverity>[0]): void {
  const live = new Map<string, string[]>();
  for (const { alarm, path } of alarms) {
    const b = idFromPath(path, "building");
    if (b !== null) live.set(b, [...(live.get(b) ?? []), alarm.severity]);
  }
  replace(
    element,
    h("h3", {}, t("counters.title")),
    ...scene.buildings.map((b) => {
      const c = scene.counters[String(b.id)];
      const severities = live.get(String(b.id)) ?? [];
      const worst = worstSeverity(catalogue, [...severities, ...(c?.worst_severity ? [c.worst_severity] : [])]);
      const alarmCount = Math.max(c?.alarms ?? 0, severities.length);
      const rate = c?.payment_rate;
      return h(
        "div",
        { class: "counter", style: worst ? `--c:${colourOf(catalogue, "alarm_severity", worst)}` : "" },
        h("div", { class: "name" }, b.name),
        h(
          "div",
          { class: "figures" },
          figure(String(alarmCount), t("counters.alarms")),
          figure(String(c?.overdue_tickets ?? 0), t("counters.overdue")),
          figure(rate == null ? t("counters.none") : t("unit.percent", { n: Math.round(rate * 100) }), t("counters.payment")),
        ),
      );
    }),
  );
}

function figure(value: string, label: string): HTMLElement {
  return h("div", { class: "figure" }, h("b", {}, value), h("span", {}, label));
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
