import { describe, expect, it } from "vitest";
import { catalogueWith } from "./fakes";
import { LiveStore } from "../src/store";
import type { Catalogue, Scene } from "../src/types";
import { liveFigures } from "../src/wallcounts";

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
  it("count each building's live alarms, overdue tickets and payment rate", () => {
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
    const figures = liveFigures(scene, store, catalogue);
    expect(figures.get("3")).toEqual({ alarms: 2, worst: "critical", overdue: 0, rate: null });
    expect(figures.get("4")).toEqual({ alarms: 0, worst: null, overdue: 1, rate: 0.9 });
  });
});
