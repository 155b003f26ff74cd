/**
 * `/respond`: what a fire-fighter needs from an emergency link. Per floor: the fire equipment
 * with health and last-seen, exits and stairs, the elevators' state, where the alarm is and
 * the walking route to it. Rooms are drawn by kind only: no names, no billing, no residents.
 */
import "../style.css";
import { ago, toMillis } from "../age";
import { floorName } from "../address";
import { colourOf, fireSafetyKinds, labelIn } from "../catalogue";
import { ApiError } from "../api";
import { liftWords } from "../lift";
import { h, must, replace } from "../dom";
import { hooks } from "../hooks";
import { t } from "../i18n";
import { patiently } from "../patience";
import { PlanView } from "../plan2d";
import { centreOf } from "../scene/geometry";
import { boot, languageButton, showError, type Shell } from "../shell";
import { idFromPath } from "../store";
import { ownAlarms } from "../storms";
import type { FloorPlan, PlacedDevice, Scene, XY } from "../types";

/** The server's walking route between two spaces (GET /api/routes). */
interface Route {
  length: number;
  steps: { space_id: number; floor_id: number | null; edge_kind: string | null }[];
}
import { pickSite } from "./site";

const EXIT_SPACES = new Set(["stair", "lobby"]);
const SHOWN_EXTRA = new Set(["elevator", "emergency_exit"]);

async function respond(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const key = params.get("key");
  const shell = await boot({
    page: "respond",
    authenticate: async (api) => {
      if (!key) throw new Error(t("emergency.invalid"));
      await api.emergency(key).catch(() => {
        throw new Error(t("emergency.invalid"));
      });
      // The key has done its job: keep it out of the history and of screenshots.
      params.delete("key");
      history.replaceState(null, "", `${location.pathname}${params.size ? `?${params.toString()}` : ""}`);
    },
  });
  const site = await pickSite(shell.api);
  const scene = await patiently(() => shell.api.scene(site.id));
  // Alarms site-wide to follow the fire; the shown floor's equipment through its own subscription.
  shell.live.subscribe(`site:${site.id}`, ["alarm"]);
  replace(must("#top"), h("div", { class: "brand" }, h("span", { class: "logo" }), `${t("respond.title")} · ${scene.site.name}`), h("span", { class: "crumbs" }), languageButton(), shell.indicator);
  const view = new ResponderView(shell, scene);
  shell.fallback.add(() => view.poll());
  shell.store.onAlarm(() => void view.follow().catch(showError));
  shell.store.onDevices(() => view.repaint());
  await view.follow();
}

class ResponderView {
  private floorId: string | null = null;
  private plan: FloorPlan | null = null;
  private planView: PlanView | null = null;
  private floorSub: string | null = null;
  private readonly fire: Set<string>;
  private entrances: { id: string; name: string }[] = [];
  private entranceId: string | null = null;
  private route: Route | null = null;

  constructor(
    private readonly shell: Shell,
    private readonly scene: Scene,
  ) {
    this.fire = fireSafetyKinds(shell.catalogue);
  }

  /** Show the floor of the newest fire alarm, or the first floor when all is quiet. */
  async follow(): Promise<void> {
    const alarm = this.alarm();
    const floorId = alarm ? idFromPath(alarm.path, "floor") : (this.floorId ?? firstFloor(this.scene));
    if (floorId !== null && floorId !== this.floorId) await this.show(floorId);
    else this.repaint();
  }

  /** While the live socket cannot connect, re-read the shown floor's device health. */
  async poll(): Promise<boolean> {
    const plan = this.plan;
    if (!plan || this.shell.live.state === "live") return false;
    const fresh = await this.shell.api.plan(String(plan.floor.id));
    if (this.plan !== plan) return false;
    const health = new Map(fresh.devices.map((d) => [String(d.id), d.health]));
    for (const device of plan.devices) device.health = health.get(String(device.id)) ?? device.health;
    this.repaint();
    return true;
  }

  repaint(): void {
    this.planView?.recolour();
    this.renderSide();
  }

  private alarm(): { path: string[]; deviceId: string | null } | null {
    const all = [...this.shell.store.alarms.values()];
    const found = all.find(({ alarm }) => alarm.severity === "critical") ?? all[0];
    if (!found) return null;
    return { path: found.path, deviceId: idFromPath(found.path, "device") ?? (found.alarm.device_id == null ? null : String(found.alarm.device_id)) };
  }

  private async show(floorId: string): Promise<void> {
    this.floorId = floorId;
    if (this.floorSub !== null) this.shell.live.unsubscribe(this.floorSub);
    this.floorSub = this.shell.live.subscribe(`floor:${floorId}`, ["telemetry", "status", "alarm"], { rate: 1 });
    const plan = await patiently(() => this.shell.api.plan(floorId));
    this.plan = plan;
    const { catalogue } = this.shell;
    this.planView = new PlanView(plan, {
      spaceColour: (s) => (EXIT_SPACES.has(s.kind) ? colourOf(catalogue, "space_kinds", s.kind) : "#243449"),
      deviceColour: (d) => this.deviceColour(d),
      kindColour: (k) => colourOf(catalogue, "device_kinds", k),
      filter: (d) => this.relevant(d),
      spaceLabel: (s) => (EXIT_SPACES.has(s.kind) ? labelIn(catalogue, "space_kinds", s.kind) : ""),
    });
    const alarm = this.alarm();
    const target = alarm?.deviceId ? plan.devices.find((d) => String(d.id) === alarm.deviceId) : undefined;
    this.planView.mark(target ? [target.position[0], target.position[1]] : null);
    this.route = null;
    if (target) await this.drawRoute(floorId, target);
    const building = this.scene.buildings.find((b) => b.floors.some((f) => String(f.id) === floorId));
    const tabs = (building?.floors ?? []).map((f) =>
      h("button", { type: "button", class: String(f.id) === floorId ? "seg active" : "seg", onclick: () => void this.show(String(f.id)).catch(showError) }, f.name || floorName(f.level)),
    );
    replace(must("#stage"), h("div", { class: "floor-tabs" }, ...tabs), this.planView.svg);
    hooks.set({ floor: floorId, devices: plan.devices.filter((d) => this.relevant(d)).length, spaces: plan.spaces.length });
    this.renderSide();
  }

  /** Draw the walk from the chosen entrance to the alarmed device: the route's rooms on this floor, then the device. */
  private async drawRoute(floorId: string, target: PlacedDevice): Promise<void> {
    const plan = this.plan;
    const entrance = await this.entrance(floorId);
    const goal = target.space_id ?? nearestSpace(plan, target);
    this.route = null;
    if (!plan || entrance === null || goal === null) {
      this.planView?.route([]);
      hooks.set({ route: 0 });
      return;
    }
    try {
      const query = { from: Number(entrance), to: Number(goal) };
      const { api } = this.shell;
      const route = await patiently(() => api.call("GET /api/routes", api.client.GET("/api/routes", { params: { query } })));
      const centres = new Map(plan.spaces.map((s) => [String(s.id), centreOf(s.polygon)]));
      const points = route.steps.filter((step) => String(step.floor_id) === floorId).map((step) => centres.get(String(step.space_id))).filter((p): p is XY => p !== undefined);
      points.push([target.position[0], target.position[1]]);
      this.route = route;
      this.planView?.route(points);
      hooks.set({ route: points.length });
    } catch (error) {
      // No walking graph to the alarm: the plan and the marked alarm still guide; say so beside it.
      if (!(error instanceof ApiError) || error.status !== 404) showError(error);
      this.planView?.route([]);
      hooks.set({ route: 0 });
    }
  }

  /** Return the chosen entrance (a lobby on the ground floor of the shown floor's building), as a space id. */
  private async entrance(floorId: string): Promise<string | null> {
    const building = this.scene.buildings.find((b) => b.floors.some((f) => String(f.id) === floorId));
    const ground = building?.floors.find((f) => f.level === 1) ?? building?.floors[0];
    if (!ground) return null;
    const plan = String(ground.id) === floorId && this.plan ? this.plan : await patiently(() => this.shell.api.plan(String(ground.id)));
    this.entrances = plan.spaces.filter((s) => s.kind === "lobby").map((s) => ({ id: String(s.id), name: s.name }));
    if (!this.entrances.some((e) => e.id === this.entranceId)) this.entranceId = this.entrances[0]?.id ?? null;
    return this.entranceId;
  }

  private entranceSelect(): HTMLElement | null {
    if (this.entrances.length === 0) return null;
    const select = h("select", { name: "entrance", "aria-label": t("respond.entrance") }, ...this.entrances.map((e) => h("option", { value: e.id, selected: e.id === this.entranceId }, e.name)));
    select.addEventListener("change", () => {
      this.entranceId = select.value;
      if (this.floorId !== null) void this.show(this.floorId).catch(showError);
    });
    return h("label", { class: "small" }, t("respond.entrance"), " ", select);
  }

  private relevant(device: PlacedDevice): boolean {
    return this.fire.has(device.kind) || SHOWN_EXTRA.has(device.kind);
  }

  private deviceColour(device: PlacedDevice): string {
    const { catalogue, store } = this.shell;
    const alarms = ownAlarms(store.alarmsOf(String(device.id)));
    if (alarms[0]) return colourOf(catalogue, "alarm_severity", alarms[0].severity);
    return colourOf(catalogue, "device_health", store.devices.get(String(device.id))?.health ?? device.health);
  }

  private renderSide(): void {
    const plan = this.plan;
    if (!plan) return;
    const { catalogue, store } = this.shell;
    const alarm = this.alarm();
    const now = Date.now();
    const row = (d: PlacedDevice): HTMLElement => {
      const live = store.devices.get(String(d.id));
      const seen = toMillis(live?.lastSeen ?? null);
      const health = live?.health ?? d.health;
      return h(
        "li",
        {},
        h("span", { class: "swatch", style: `--c:${this.deviceColour(d)}` }),
        `${labelIn(catalogue, "device_kinds", d.kind)} ${d.tag} `,
        h("span", { class: "badge", style: `--c:${colourOf(catalogue, "device_health", health)}` }, labelIn(catalogue, "device_health", health)),
        h("span", { class: "muted small" }, ` ${seen === null ? "" : ago(seen, now)}`),
      );
    };
    const fireDevices = plan.devices.filter((d) => this.fire.has(d.kind) && d.kind !== "emergency_exit");
    const exits = [
      ...plan.spaces.filter((s) => EXIT_SPACES.has(s.kind)).map((s) => h("li", {}, labelIn(catalogue, "space_kinds", s.kind))),
      ...plan.devices.filter((d) => d.kind === "emergency_exit").map((d) => h("li", {}, `${labelIn(catalogue, "device_kinds", d.kind)} ${d.tag}`)),
    ];
    const elevators = plan.devices.filter((d) => d.kind === "elevator").map((d) => {
      const live = store.devices.get(String(d.id));
      return h("li", {}, row(d), h("div", { class: "muted small", "data-lift": String(d.id) }, liftWords(live?.state ?? {}, live?.health ?? d.health)));
    });
    const route = this.route;
    const routeText = !alarm ? "" : route ? t("respond.route_length", { metres: Math.round(route.length), floors: new Set(route.steps.map((s) => s.floor_id)).size }) : t("respond.route_missing");
    replace(
      must("#side"),
      h("div", { class: "alert-box" }, alarm ? `${t("respond.alarm_at")}: ${placeName(this.scene, alarm.path)}` : t("respond.no_alarm")),
      alarm ? this.entranceSelect() : null,
      h("p", { class: "muted small", "data-route": route ? String(route.length) : "" }, alarm ? `${t("respond.route")} · ${routeText}` : ""),
      h("h3", {}, t("respond.fire_devices")),
      h("ul", { class: "list" }, ...fireDevices.map(row)),
      h("h3", {}, t("respond.exits")),
      h("ul", { class: "list" }, ...exits),
      h("h3", {}, t("respond.elevators")),
      h("ul", { class: "list" }, ...elevators),
    );
  }
}

function placeName(scene: Scene, path: readonly string[]): string {
  const building = scene.buildings.find((b) => String(b.id) === idFromPath(path, "building"));
  const floor = building?.floors.find((f) => String(f.id) === idFromPath(path, "floor"));
  return [building?.name, floor ? floor.name || floorName(floor.level) : null].filter(Boolean).join(" · ");
}

/** Return the space whose centre is nearest a device that names none. */
function nearestSpace(plan: FloorPlan | null, device: PlacedDevice): string | null {
  let best: { id: string; d: number } | null = null;
  for (const space of plan?.spaces ?? []) {
    const [x, y] = centreOf(space.polygon);
    const d = Math.hypot(x - device.position[0], y - device.position[1]);
    if (!best || d < best.d) best = { id: String(space.id), d };
  }
  return best?.id ?? null;
}

function firstFloor(scene: Scene): string | null {
  const floors = scene.buildings[0]?.floors ?? [];
  const ground = floors.find((f) => f.level === 1) ?? floors[0];
  return ground ? String(ground.id) : null;
}

respond().catch(showError);
