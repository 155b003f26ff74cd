import { describe, expect, it } from "vitest";
import { catalogueWith } from "./fakes";
import { ago, toMillis } from "../src/age";
import type { FloorSummary } from "../src/types";
import type { Catalogue, Space } from "../src/types";
import { QUIET, spaceColour, worstHealth, layerMaxima } from "../src/layers";
import { slabLooks, stepFloor } from "../src/scene/floors";
import { ribbon, bounds } from "../src/scene/geometry";
import { beat } from "../src/scene/pulse";
import { ease, viewOf } from "../src/scene/camera";
import { isSoftwareGl } from "../src/scene/viewer";
import { toThree } from "../src/frame";
import { formatValue } from "../src/values";
import { ageText, stateText } from "../src/indicator";
import { setLang } from "../src/i18n";

const floors: FloorSummary[] = [
  { id: 3, name: "3F", level: 3, elevation: 6, height: 3 },
  { id: 1, name: "1F", level: 1, elevation: 0, height: 3 },
  { id: 2, name: "2F", level: 2, elevation: 3, height: 3 },
];

const catalogue: Catalogue = catalogueWith({
  device_kinds: {},
  space_kinds: { unit: { zh: "住户", en: "Unit", colour: "#dfe7fd" } },
  device_health: { online: { zh: "在线", en: "Online", colour: "#2a9d8f" }, offline: { zh: "离线", en: "Offline", colour: "#6c757d" } },
  alarm_severity: { major: { zh: "重要", en: "Major", colour: "#f4a261" }, critical: { zh: "紧急", en: "Critical", colour: "#e63946" } },
});
const space: Space = { id: 77, kind: "unit", name: "1801", address: "3-2-1801", area: null, polygon: [[0, 0], [1, 0], [1, 1]] };

describe("floor stacks", () => {
  it("isolates, ghosts and explodes around the focused floor", () => {
    const isolate = slabLooks(floors, "2", "isolate");
    expect(isolate.get("1")?.visible).toBe(false);
    expect(isolate.get("2")?.visible).toBe(true);
    expect(slabLooks(floors, "2", "ghost").get("3")?.opacity).toBeLessThan(0.1);
    const exploded = slabLooks(floors, "2", "exploded", 10);
    expect([1, 2, 3].map((id) => exploded.get(String(id))?.offset)).toEqual([0, 10, 20]);
    // Stacked lifts off the floors above the focus so it can be seen.
    const stacked = slabLooks(floors, "2", "stacked");
    expect(stacked.get("3")?.visible).toBe(false);
    expect(stacked.get("1")?.visible).toBe(true);
  });

  it("steps between floors by level and stops at the ends", () => {
    expect(stepFloor(floors, "1", 1)).toBe("2");
    expect(stepFloor(floors, "3", 1)).toBe("3");
    expect(stepFloor(floors, "1", -1)).toBe("1");
    expect(stepFloor(floors, null, -1)).toBe("3");
    expect(stepFloor([], null, 1)).toBeNull();
  });
});

describe("space layers", () => {
  const facts = { space, alarmSeverities: [] as string[], deviceHealth: [] as string[], stats: undefined };
  const max = { tickets: 4, energy: 100 };

  it("paints kinds, alarms and health from the catalogue", () => {
    expect(spaceColour(catalogue, "kind", facts, max)).toBe("#dfe7fd");
    expect(spaceColour(catalogue, "alarms", { ...facts, alarmSeverities: ["major", "critical"] }, max)).toBe("#e63946");
    expect(spaceColour(catalogue, "alarms", facts, max)).toBe(QUIET);
    expect(spaceColour(catalogue, "health", { ...facts, deviceHealth: ["online", "offline"] }, max)).toBe("#6c757d");
  });

  it("ramps tickets and energy and keeps billing states apart", () => {
    const low = spaceColour(catalogue, "tickets", { ...facts, stats: { open_tickets: 1 } }, max);
    const high = spaceColour(catalogue, "tickets", { ...facts, stats: { open_tickets: 4 } }, max);
    expect(low).not.toBe(high);
    const paid = spaceColour(catalogue, "billing", { ...facts, stats: { billing: "paid" } }, max);
    const overdue = spaceColour(catalogue, "billing", { ...facts, stats: { billing: "overdue" } }, max);
    expect(paid).not.toBe(overdue);
    expect(spaceColour(catalogue, "energy", { ...facts, stats: { energy_kwh: null } }, max)).toBe(QUIET);
  });

  it("paints each billing state the catalogue's colour of the server's status", () => {
    const billed = catalogueWith({
      billing_status: {
        paid: { zh: "已缴清", en: "Paid", colour: "#2a9d8f" },
        partly_paid: { zh: "部分缴纳", en: "Partly paid", colour: "#e9c46a" },
        overdue: { zh: "欠费", en: "Overdue", colour: "#e63946" },
      },
    });
    const painted = (billing: "paid" | "partial" | "overdue" | null): string => spaceColour(billed, "billing", { ...facts, stats: { billing } }, max);
    expect([painted("paid"), painted("partial"), painted("overdue"), painted(null)]).toEqual(["#2a9d8f", "#e9c46a", "#e63946", QUIET]);
    expect(layerMaxima([{ open_tickets: 2, energy_kwh: 5 }, { open_tickets: 7 }])).toEqual({ tickets: 7, energy: 5 });
    expect(worstHealth(["online", "stale"])).toBe("stale");
  });
});

describe("geometry and motion", () => {
  it("builds a road ribbon of two triangles per segment", () => {
    const g = ribbon([[0, 0], [10, 0], [10, 0], [10, 10]], 4, 0.1);
    expect(g.getAttribute("position").count).toBe(12);
    expect(bounds([[[0, 0], [10, 5]], [[-3, 2]]])).toEqual([-3, 0, 10, 5]);
  });

  it("eases from 0 to 1 and places the eye south of the target at heading 0", () => {
    expect(ease(0)).toBe(0);
    expect(ease(1)).toBe(1);
    expect(ease(0.5)).toBeCloseTo(0.5);
    const view = viewOf([0, 0, 0], 100, 0, 0);
    expect(view.position.toArray().map((v) => Math.round(v))).toEqual(toThree(0, -100, 0).map((v) => Math.round(v) + 0));
    const b = beat(500);
    expect(b.opacity).toBeCloseTo(0.5);
  });
});

describe("words", () => {
  it("formats readings, ages and connection states", () => {
    setLang("zh", null);
    expect(formatValue(21.456)).toBe("21.46");
    expect(formatValue(3)).toBe("3");
    expect(formatValue(null)).toBe("—");
    expect(toMillis(1_700_000_000)).toBe(1_700_000_000_000);
    expect(toMillis("not a time")).toBeNull();
    expect(ago(0, 90_000)).toBe("1 分钟前");
    expect(ageText(null)).toBe("尚无数据");
    expect(ageText(15_000)).toBe("15 秒前更新");
    expect(stateText("reconnecting", 4_200)).toBe("重连中（5 秒后）");
    setLang("en", null);
    expect(stateText("live", null)).toBe("Live");
    setLang("zh", null);
  });
});

describe("software GL", () => {
  it("is told from a GPU by the renderer's name", () => {
    expect(isSoftwareGl("ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)")).toBe(true);
    expect(isSoftwareGl("llvmpipe (LLVM 15.0.6, 256 bits)")).toBe(true);
    expect(isSoftwareGl("ANGLE (NVIDIA, NVIDIA GeForce RTX 3060 Direct3D11 vs_5_0 ps_5_0, D3D11)")).toBe(false);
    expect(isSoftwareGl("Apple M2")).toBe(false);
  });
});
