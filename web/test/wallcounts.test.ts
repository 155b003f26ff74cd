import { describe, expect, it } from "vitest";
import { catalogueWith } from "./fakes";
import { LiveStore } from "../src/store";
import type { Catalogue, Scene } from "../src/types";
import { setLang } from "../src/i18n";
import { foldStorms, stormTitle, unreachable } from "../src/storms";
import { liveFigures, NO_RATES, type Rates } from "../src/wallcounts";
import { takesOver } from "../src/wallseverity";

const catalogue: Catalogue = catalogueWith({
  device_kinds: {},
  space_kinds: {},
  device_health: {},
  alarm_severity: {
    warning: { zh: "提示", en: "Warning", colour: "#999999" },
    major: { zh: "重要", en: "Major", colour: "#f4a261" },
    critical: { zh: "紧急", en: "Critical", colour: "#e63946" },
  },
});
const building = (id: number) => ({ id, name: `${id}号楼`, height: 30, footprint: [], glb: null, floors: [] });
const scene: Scene = {
  site: { id: 1, name: "S", origin: { lat: 0, lon: 0, height: 0 } },
  buildings: [building(3), building(4)],
  layers: { roads: [], green: [], zones: [], parking: [], water: [], boundary: null },
  counters: {},
};

describe("wall counters", () => {
  it("count each building's live alarms and overdue tickets, and show the rates read by REST", () => {
    const store = new LiveStore();
    store.applySnapshot({
      type: "snapshot",
      sub: "s1",
      scope: "site:1",
      stream: "site:1@r",
      seq: 1,
      alarms: [
        { id: 1, severity: "CRITICAL", state: "raised", path: ["site:1", "building:3", "floor:12", "device:9"] },
        { id: 2, severity: "warning", state: "acknowledged", path: ["site:1", "building:3", "floor:13"] },
      ],
      tickets: [
        { id: 7, status: "open", overdue: true, path: ["site:1", "building:4", "floor:20", "space:40"] },
        { id: 8, status: "open", overdue: false, path: ["site:1", "building:4", "floor:20", "space:41"] },
      ],
    });
    store.applySnapshot({ type: "snapshot", sub: "s2", scope: "building:4", stream: "site:1@r", seq: 1, billing: { units: [], rate: 0.9 } });
    // The hub's own rate (households that paid) is not the one shown: /api/billing/rates' is.
    const rates: Rates = { period: "2026-11", byBuilding: new Map([["4", 0.954]]) };
    const figures = liveFigures(scene, store, catalogue, rates);
    expect(figures.get("3")).toEqual({ alarms: 2, grouped: 0, worst: "critical", overdue: 0, rate: null });
    expect(figures.get("4")).toEqual({ alarms: 0, grouped: 0, worst: null, overdue: 1, rate: 0.954 });
  });

  it("count a storm once, in its root's building, and say how many devices it cut off", () => {
    const store = new LiveStore();
    // A gateway of building 3 and the devices behind it, three in building 3 and two in building 4.
    const root = { id: 10, severity: "major", state: "raised", parent_id: null, path: ["site:1", "building:3", "device:9"] };
    const child = (id: number, building: number) => ({ id, severity: "major", state: "raised", parent_id: 10, path: ["site:1", `building:${building}`, `device:${id}`] });
    const smoke = { id: 20, severity: "critical", state: "raised", path: ["site:1", "building:4", "device:30"] };
    store.applySnapshot({
      type: "snapshot",
      sub: "s1",
      scope: "site:1",
      stream: "site:1@r",
      seq: 1,
      alarms: [root, child(11, 3), child(12, 3), child(13, 3), child(14, 4), child(15, 4), smoke],
    });
    const figures = () => liveFigures(scene, store, catalogue, NO_RATES);
    expect([figures().get("3"), figures().get("4")].map((f) => [f?.alarms, f?.grouped, f?.worst])).toEqual([
      [1, 5, "major"],
      [1, 0, "critical"],
    ]);
    // A new child, live: the storm's line grows, its count does not.
    store.applyEvent({ type: "event", stream: "site:1@r", seq: 2, kind: "alarm", path: ["site:1", "building:4", "device:16"], data: child(16, 4) });
    expect([figures().get("3")?.alarms, figures().get("3")?.grouped, figures().get("4")?.alarms]).toEqual([1, 6, 1]);
    // Children back online leave the storm; the root cleared takes its children's line with it.
    store.applyEvent({ type: "event", stream: "site:1@r", seq: 3, kind: "alarm", path: child(11, 3).path, data: { ...child(11, 3), state: "cleared" } });
    expect(figures().get("3")?.grouped).toBe(5);
    store.applyEvent({ type: "event", stream: "site:1@r", seq: 4, kind: "alarm", path: root.path, data: { ...root, state: "cleared" } });
    expect([figures().get("3")?.alarms, figures().get("3")?.grouped, figures().get("4")?.alarms]).toEqual([0, 0, 1]);
  });

  it("name a storm's root with the devices it cut off, in either language", () => {
    const held = [
      { alarm: { id: 1, severity: "major", device_kind: "gateway" }, path: [] },
      ...[2, 3].map((id) => ({ alarm: { id, severity: "major", parent_id: 1 }, path: [] })),
    ];
    const [root, ...others] = foldStorms(held);
    expect(others).toEqual([]);
    const kinds = catalogueWith({ device_kinds: { gateway: { zh: "网关", en: "Gateway", colour: "#000000", fire_safety: false } } });
    setLang("zh", null);
    expect(root && stormTitle(kinds, root)).toBe("网关离线 · 2 台设备不可达");
    setLang("en", null);
    expect(root && stormTitle(kinds, root)).toBe("Gateway offline · 2 devices unreachable");
    expect(unreachable(1)).toBe("1 device unreachable");
    setLang("zh", null);
  });

  it("let the two most severe levels take the wall over", () => {
    expect(["warning", "major", "critical", "unknown"].map((s) => takesOver(catalogue, s))).toEqual([false, true, true, false]);
  });
});
