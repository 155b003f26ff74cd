import { describe, expect, it } from "vitest";
import { catalogueWith } from "./fakes";
import { LiveStore } from "../src/store";
import type { Catalogue, Scene } from "../src/types";
import { liveFigures, type Rates } from "../src/wallcounts";
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
    expect(figures.get("3")).toEqual({ alarms: 2, worst: "critical", overdue: 0, rate: null });
    expect(figures.get("4")).toEqual({ alarms: 0, worst: null, overdue: 1, rate: 0.954 });
  });

  it("count a storm once: its grouped children are in their root", () => {
    const store = new LiveStore();
    const root = { id: 10, severity: "major", state: "raised", parent_id: null, path: ["site:1", "building:3", "device:9"] };
    const children = [11, 12, 13].map((id) => ({ id, severity: "major", state: "raised", parent_id: 10, path: ["site:1", "building:3", `device:${id}`] }));
    store.applySnapshot({
      type: "snapshot",
      sub: "s1",
      scope: "site:1",
      stream: "site:1@r",
      seq: 1,
      alarms: [root, ...children],
    });
    expect(liveFigures(scene, store, catalogue, { period: null, byBuilding: new Map() }).get("3")?.alarms).toBe(1);
  });

  it("let the two most severe levels take the wall over", () => {
    expect(["warning", "major", "critical", "unknown"].map((s) => takesOver(catalogue, s))).toEqual([false, true, true, false]);
  });
});
