/**
 * The 3D twin as the pages use it: the site, one building opened into floors, one floor in
 * detail with its spaces and devices, live colours, picking and camera flights.
 */
import { Group } from "three";
import { type Api, ApiError } from "../api";
import { colourOf, worstSeverity } from "../catalogue";
import { hooks } from "../hooks";
import { type LayerName, layerMaxima, type SpaceStats, spaceColour } from "../layers";
import type { Fallback } from "../fallback";
import type { LiveClient, LiveKind } from "../live";
import { idFromPath, type LiveStore } from "../store";
import { foldStorms, ownAlarms } from "../storms";
import type { Catalogue, FloorPlan, FloorSummary, PlacedDevice, Scene, Space, XYZ } from "../types";
import { flyTo, viewOf } from "./camera";
import { DeviceLayer } from "./devices";
import { type FloorMode, FloorStack, stepFloor } from "./floors";
import { centreOf } from "./geometry";
import { Pulse } from "./pulse";
import { type BuildingView, buildSite, loadBim, type SiteView, tintBuilding } from "./site";
import { SpaceLayer } from "./spaces";
import { Viewer } from "./viewer";

export type Pick =
  | { type: "device"; device: PlacedDevice }
  | { type: "space"; space: Space }
  | { type: "building"; id: string };

interface FloorDetail {
  plan: FloorPlan;
  spaces: SpaceLayer;
  devices: DeviceLayer;
  group: Group;
  sub: string | null;
}

export interface TwinContext {
  api: Api;
  catalogue: Catalogue;
  store: LiveStore;
  live: LiveClient;
  fallback: Fallback;
  auth: { readonly token: string | null };
}

/** What a focused floor follows live: its devices, alarms, and the tickets and bills of its rooms. */
export const FLOOR_KINDS: LiveKind[] = ["telemetry", "status", "alarm", "ticket", "billing"];
/** Readings per device and second a floor asks for: more than a screen shows, far less than a storm. */
export const FLOOR_RATE = 2;

/** Everything the 3D pages share. */
export class TwinView {
  readonly viewer: Viewer;
  scene: Scene | null = null;
  site: SiteView | null = null;
  building: string | null = null;
  detail: FloorDetail | null = null;
  layer: LayerName = "kind";
  mode: FloorMode = "ghost";
  /** Which device kinds to draw; the responder shows only fire equipment. */
  deviceFilter: (device: PlacedDevice) => boolean = () => true;
  private readonly stacks = new Map<string, FloorStack>();
  private readonly plans = new Map<string, Promise<FloorPlan>>();
  /** Energy per room, which the hub does not carry; tickets and billing come from the store. */
  private energy: Record<string, SpaceStats> = {};
  private spacesDirty = false;
  /** The focused floor's per-room figures, recounted only after tickets, bills or the floor change. */
  private stats: Map<string, SpaceStats> | null = null;
  private pulse: Pulse | null = null;
  private readonly floorListeners = new Set<(floor: FloorSummary | null) => void>();
  private readonly refreshListeners = new Set<() => void>();

  constructor(
    container: HTMLElement,
    private readonly ctx: TwinContext,
  ) {
    this.viewer = new Viewer(container);
    hooks.set({ probe: (id) => this.probeDevice(id), spaceColours: () => this.detail?.spaces.painted() ?? {} });
    this.viewer.onFrame((now) => {
      if (this.pulse) {
        this.pulse.tick(now);
        this.viewer.invalidate();
      }
      // Ticket and billing events can come by the thousand (a payment import): paint once a frame.
      if (this.spacesDirty) this.recolourSpaces();
    });
    ctx.fallback.add(() => this.poll());
    ctx.store.ops.onChange(() => {
      this.stats = null;
      this.spacesDirty = true;
    });
    ctx.store.onDevices((changed) => {
      if (this.detail?.devices.recolour(changed)) this.viewer.invalidate();
    });
    ctx.store.onAlarm(() => {
      this.retint();
      this.detail?.devices.recolour();
      this.recolourSpaces();
    });
  }

  /** Draw a site and frame it. */
  showScene(scene: Scene): void {
    if (this.site) this.viewer.root.remove(this.site.group);
    this.scene = scene;
    this.site = buildSite(scene, this.ctx.catalogue);
    this.viewer.root.add(this.site.group);
    this.viewer.invalidate();
    hooks.set({ buildings: this.site.buildings.size });
    void this.flyHome(0);
    void this.loadModels(this.site);
  }

  /** Be told when the fallback polling has refreshed the focused floor's device health. */
  onRefresh(listener: () => void): () => void {
    this.refreshListeners.add(listener);
    return () => this.refreshListeners.delete(listener);
  }

  /**
   * While the live socket cannot connect, re-read the focused floor's plan and repaint its
   * devices by their health; answers whether it got fresh data.
   */
  async poll(): Promise<boolean> {
    const detail = this.detail;
    if (!detail || this.ctx.live.state === "live") return false;
    const floorId = String(detail.plan.floor.id);
    const fresh = await this.ctx.api.plan(floorId);
    if (this.detail !== detail) return false;
    const byId = new Map(fresh.devices.map((d) => [String(d.id), d]));
    for (const device of detail.plan.devices) {
      const update = byId.get(String(device.id));
      if (update) device.health = update.health;
    }
    detail.devices.recolour();
    this.recolourSpaces();
    this.viewer.invalidate();
    hooks.set({ polls: hooks.state.polls + 1 });
    for (const listener of this.refreshListeners) listener();
    return true;
  }

  private async loadModels(site: SiteView): Promise<void> {
    const views = [...site.buildings.values()].filter((view) => view.data.glb);
    const storeys = views.reduce((sum, view) => sum + (view.data.glb?.length ?? 0), 0);
    hooks.set({ storeys, storeysLoaded: 0, storeysMs: null });
    const load = async (view: BuildingView): Promise<void> => {
      await loadBim(view, this.ctx.auth.token);
      this.viewer.invalidate();
      hooks.set({ storeysLoaded: hooks.state.storeysLoaded + (view.data.glb?.length ?? 0) });
    };
    const results = await Promise.allSettled(views.map(load));
    const failed = results.filter((r) => r.status === "rejected").length;
    // A building whose model fails keeps its extruded footprint: worth a warning, not an error.
    hooks.set({ models: results.length - failed, modelsFailed: failed });
    await this.viewer.nextDrawn();
    hooks.set({ storeysMs: Math.round(performance.now()) });
    if (failed > 0) console.warn(`${failed} building model(s) could not be loaded; their footprints are drawn instead`);
  }

  /**
   * Tint each building and each opened floor by its worst active root alarm (a storm's children
   * tint nothing of their own: their root does). While the socket is live the store knows every
   * alarm; before that, the scene's counters stand in for the buildings.
   */
  retint(): void {
    if (!this.scene || !this.site) return;
    const live = this.ctx.live.state === "live";
    const under = new Map<string, string[]>();
    for (const { alarm, path } of foldStorms(this.ctx.store.alarms.values())) {
      for (const place of [idFromPath(path, "building"), idFromPath(path, "floor")]) {
        if (place !== null) under.set(place, [...(under.get(place) ?? []), alarm.severity]);
      }
    }
    const catalogue = this.ctx.catalogue;
    for (const [id, view] of this.site.buildings) {
      const known = live ? null : this.scene.counters[id]?.worst_severity;
      const severities = [...(under.get(id) ?? []), ...(known ? [known] : [])];
      tintBuilding(view, catalogue, worstSeverity(catalogue, severities));
    }
    for (const [, stack] of this.stacks) {
      const colours = new Map<string, string>();
      for (const floor of stack.building.data.floors) {
        const worst = worstSeverity(catalogue, under.get(String(floor.id)) ?? []);
        if (worst !== null) colours.set(String(floor.id), colourOf(catalogue, "alarm_severity", worst));
      }
      stack.tint(colours);
    }
    this.viewer.invalidate();
  }

  /** Return the camera to the whole site. */
  flyHome(durationMs = 1200): Promise<void> {
    this.closeBuilding();
    const [minX, minY, maxX, maxY] = this.site?.extent ?? [-100, -100, 100, 100];
    const size = Math.max(maxX - minX, maxY - minY, 60);
    return flyTo(this.viewer, viewOf([(minX + maxX) / 2, (minY + maxY) / 2, 0], size * 1.1, 25, 38), durationMs);
  }

  /** Return the floor summary and building id of a floor id. */
  floorById(floorId: string): { floor: FloorSummary; buildingId: string } | null {
    for (const b of this.scene?.buildings ?? []) {
      const floor = b.floors.find((f) => String(f.id) === floorId);
      if (floor) return { floor, buildingId: String(b.id) };
    }
    return null;
  }

  /** Open a building: its floors replace its shell; the camera frames it. */
  openBuilding(buildingId: string, fly = true): void {
    if (this.building === buildingId) return;
    this.closeBuilding();
    const view = this.site?.buildings.get(buildingId);
    if (!view) return;
    let stack = this.stacks.get(buildingId);
    if (!stack) {
      stack = new FloorStack(view);
      this.stacks.set(buildingId, stack);
    }
    stack.mode = this.mode;
    stack.open();
    this.viewer.invalidate();
    this.building = buildingId;
    this.retint();
    for (const listener of this.floorListeners) listener(null);
    if (fly) {
      const [x, y] = view.centre;
      void flyTo(this.viewer, viewOf([x, y, view.data.height / 2], Math.max(60, view.data.height * 1.6), 30, 25));
    }
  }

  /** Focus a floor: load its plan if needed, draw its rooms and devices, subscribe to it. */
  async openFloor(floorId: string, fly = true): Promise<FloorPlan | null> {
    const found = this.floorById(floorId);
    if (!found) return null;
    this.openBuilding(found.buildingId, false);
    const plan = await this.plan(floorId);
    if (this.detail?.plan.floor.id === plan.floor.id) return plan;
    this.clearDetail();
    const stack = this.stacks.get(found.buildingId);
    stack?.focus(floorId);
    const elevation = plan.floor.elevation;
    const spaces = new SpaceLayer(plan.spaces, elevation, (s) => this.spaceColour(s));
    const shown = plan.devices.filter((d) => this.deviceFilter(d));
    const devices = new DeviceLayer(
      shown,
      (kind) => colourOf(this.ctx.catalogue, "device_kinds", kind),
      (d) => this.deviceColour(d),
      elevation,
    );
    const group = new Group();
    group.add(spaces.group, devices.group);
    group.position.z = stack?.offsetOf(floorId) ?? 0;
    this.site?.buildings.get(found.buildingId)?.group.add(group);
    const sub = this.ctx.live.subscribe(`floor:${floorId}`, FLOOR_KINDS, { rate: FLOOR_RATE });
    this.detail = { plan, spaces, devices, group, sub };
    this.viewer.invalidate();
    // The rooms were first painted before the floor was the focused one: paint them again.
    this.stats = null;
    this.spacesDirty = true;
    hooks.set({ devices: devices.count, spaces: plan.spaces.length, floor: floorId });
    void this.loadEnergy(floorId);
    for (const listener of this.floorListeners) listener(found.floor);
    if (fly) await this.flyToFloor(found.buildingId, found.floor);
    return plan;
  }

  /** Fly to frame a floor of the scene. */
  async frameFloor(floorId: string): Promise<void> {
    const found = this.floorById(floorId);
    if (found) await this.flyToFloor(found.buildingId, found.floor);
  }

  /** Move the focus one floor up or down. */
  async step(direction: 1 | -1): Promise<void> {
    const building = this.scene?.buildings.find((b) => String(b.id) === this.building);
    if (!building) return;
    const next = stepFloor(building.floors, this.detail ? String(this.detail.plan.floor.id) : null, direction);
    if (next) await this.openFloor(next);
  }

  /** Show the other floors another way. */
  setMode(mode: FloorMode): void {
    this.mode = mode;
    const stack = this.building ? this.stacks.get(this.building) : undefined;
    stack?.setMode(mode);
    if (stack && this.detail) this.detail.group.position.z = stack.offsetOf(String(this.detail.plan.floor.id));
    this.viewer.invalidate();
  }

  /** Colour the rooms by another layer. */
  setLayer(layer: LayerName): void {
    this.layer = layer;
    this.recolourSpaces();
  }

  /** Find what is under the pointer: a device first, then a room, then a building. */
  pick(clientX: number, clientY: number): Pick | null {
    const ray = this.viewer.raycaster(clientX, clientY);
    const device = this.detail?.devices.pick(ray);
    if (device) return { type: "device", device };
    const space = this.detail?.spaces.pick(ray);
    if (space) return { type: "space", space };
    const shells = [...(this.site?.buildings.values() ?? [])].map((b) => b.shell).filter((s) => s.visible);
    const hit = ray.intersectObjects(shells, false)[0];
    const id = hit?.object.userData.buildingId as string | undefined;
    return id ? { type: "building", id } : null;
  }

  /** Fly to a device of the focused floor and mark it with a pulse. */
  async focusDevice(deviceId: string, pulseColour?: string): Promise<void> {
    const at = this.markDevice(deviceId, pulseColour);
    if (!at || !this.detail) return;
    await flyTo(this.viewer, viewOf([at[0], at[1], at[2] + this.detail.group.position.z], 35, 30, 50));
  }

  /** Pulse a device of the focused floor where it is drawn; returns where, or null if it is not. */
  markDevice(deviceId: string, colour?: string): XYZ | null {
    if (!this.detail) return null;
    const elevation = this.detail.plan.floor.elevation;
    const at = this.detail.devices.positionOf(deviceId, elevation);
    if (at) this.markAt([at[0], at[1], elevation], colour);
    return at;
  }

  /** Pulse a place of the focused floor, or stop pulsing with null. */
  markAt(at: XYZ | null, colour = "#ff3b3b"): void {
    if (this.pulse) this.pulse.mesh.removeFromParent();
    this.pulse = null;
    this.viewer.invalidate();
    if (!at || !this.detail) return;
    this.pulse = new Pulse(at, colour);
    this.detail.group.add(this.pulse.mesh);
  }

  /** Fly to a point of the site (a search hit). */
  flyToPoint(at: XYZ, distance = 40): Promise<void> {
    return flyTo(this.viewer, viewOf(at, distance, 30, 45));
  }

  /** Be told when the focused floor changes. */
  onFloor(listener: (floor: FloorSummary | null) => void): () => void {
    this.floorListeners.add(listener);
    return () => this.floorListeners.delete(listener);
  }

  /** Return the colour a device of the focused floor is painted and where on the page. */
  probeDevice(id: string): { colour: string; x: number; y: number } | null {
    const probe = this.detail?.devices.probe(id);
    const screen = probe ? this.viewer.screenOf(probe.world) : null;
    return probe && screen ? { colour: probe.colour, x: screen[0], y: screen[1] } : null;
  }

  /** Return the colour of a device: its worst alarm of its own (not a storm's), else its live health. */
  deviceColour(device: PlacedDevice): string {
    const id = String(device.id);
    const severities = ownAlarms(this.ctx.store.alarmsOf(id)).map((a) => a.severity);
    const worst = worstSeverity(this.ctx.catalogue, severities);
    if (worst !== null) return colourOf(this.ctx.catalogue, "alarm_severity", worst);
    const health = this.ctx.store.devices.get(id)?.health ?? device.health;
    return colourOf(this.ctx.catalogue, "device_health", health);
  }

  /** Return the colour of a room under the current layer. */
  spaceColour(space: Space): string {
    const devices = (this.detail?.plan.devices ?? []).filter((d) => String(d.space_id) === String(space.id));
    const alarmSeverities = devices.flatMap((d) => ownAlarms(this.ctx.store.alarmsOf(String(d.id))).map((a) => a.severity));
    const deviceHealth = devices.map((d) => this.ctx.store.devices.get(String(d.id))?.health ?? d.health);
    const stats = this.floorStats();
    const facts = { space, alarmSeverities, deviceHealth, stats: stats.get(String(space.id)) };
    return spaceColour(this.ctx.catalogue, this.layer, facts, layerMaxima(stats.values()));
  }

  /** Return the most energy a room of the focused floor used (kWh), the top of the ramp; null without meters. */
  energyTop(): number | null {
    const used = [...this.floorStats().values()].map((s) => s.energy_kwh).filter((kwh): kwh is number => kwh != null);
    return used.length ? Math.max(...used) : null;
  }

  /** Return the per-room figures of the focused floor: live tickets and billing, energy by REST. */
  private floorStats(): Map<string, SpaceStats> {
    if (this.stats) return this.stats;
    const stats = new Map<string, SpaceStats>();
    const tickets = this.ctx.store.ops.openTicketsByPlace();
    for (const space of this.detail?.plan.spaces ?? []) {
      const id = String(space.id);
      stats.set(id, {
        open_tickets: tickets.get(id) ?? 0,
        billing: this.ctx.store.ops.billing.get(id)?.status ?? null,
        energy_kwh: this.energy[id]?.energy_kwh ?? null,
      });
    }
    this.stats = stats;
    return stats;
  }

  private recolourSpaces(): void {
    this.spacesDirty = false;
    if (this.detail?.spaces.recolour((s) => this.spaceColour(s))) this.viewer.invalidate();
  }

  private async loadEnergy(floorId: string): Promise<void> {
    try {
      const floor_id = Number(floorId);
      const api = this.ctx.api;
      const answer = await api.call(`GET /api/floors/${floor_id}/layers`, api.client.GET("/api/floors/{floor_id}/layers", { params: { path: { floor_id } } }));
      if (this.detail && String(this.detail.plan.floor.id) === floorId) {
        this.energy = answer.spaces;
        this.stats = null;
        this.recolourSpaces();
        for (const listener of this.refreshListeners) listener();
      }
    } catch (error) {
      // Without the figures (the request failed) the energy layer stays quiet rather than wrong;
      // a route the server lacks is a broken contract, not a quiet layer.
      this.energy = {};
      if (error instanceof ApiError && error.missingRoute) throw error;
    }
  }

  private plan(floorId: string): Promise<FloorPlan> {
    let plan = this.plans.get(floorId);
    if (!plan) {
      plan = this.ctx.api.plan(floorId);
      plan.catch(() => this.plans.delete(floorId));
      this.plans.set(floorId, plan);
    }
    return plan;
  }

  private async flyToFloor(buildingId: string, floor: FloorSummary): Promise<void> {
    const view = this.site?.buildings.get(buildingId);
    if (!view) return;
    const [x, y] = centreOf(view.data.footprint);
    const z = floor.elevation + (this.stacks.get(buildingId)?.offsetOf(String(floor.id)) ?? 0);
    const radius = Math.max(25, ...view.data.footprint.map(([px, py]) => Math.hypot(px - x, py - y)));
    await flyTo(this.viewer, viewOf([x, y, z], radius * 2.2, 20, 55));
  }

  private clearDetail(): void {
    if (!this.detail) return;
    this.detail.group.removeFromParent();
    this.viewer.invalidate();
    if (this.detail.sub) this.ctx.live.unsubscribe(this.detail.sub);
    this.detail = null;
    this.pulse = null;
    hooks.set({ devices: 0, spaces: 0, floor: null });
  }

  private closeBuilding(): void {
    this.clearDetail();
    if (this.building) this.stacks.get(this.building)?.close();
    this.viewer.invalidate();
    if (this.building) for (const listener of this.floorListeners) listener(null);
    this.building = null;
  }
}
