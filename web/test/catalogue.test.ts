import { describe, expect, it } from "vitest";
import { catalogueWith } from "./fakes";
import { colourOf, fireSafetyKinds, isCritical, labelIn, mix, rgb, UNKNOWN_COLOUR, worstSeverity } from "../src/catalogue";
import { setLang } from "../src/i18n";
import type { Catalogue } from "../src/types";

const catalogue: Catalogue = catalogueWith({
  device_kinds: {
    smoke_detector: { zh: "感烟探测器", en: "Smoke detector", colour: "#e4572e", fire_safety: true },
    water_meter: { zh: "水表", en: "Water meter", colour: "#33a1fd", fire_safety: false },
  },
  space_kinds: { unit: { zh: "住户", en: "Household unit", colour: "#dfe7fd" } },
  device_health: { online: { zh: "在线", en: "Online", colour: "#2a9d8f" } },
  alarm_severity: {
    info: { zh: "提示", en: "Info", colour: "#4ea8de" },
    major: { zh: "重要", en: "Major", colour: "#f4a261" },
    critical: { zh: "紧急", en: "Critical", colour: "#e63946" },
  },
});

describe("catalogue lookups", () => {
  it("takes colours from the server and greys out the unknown", () => {
    expect(colourOf(catalogue, "device_health", "online")).toBe("#2a9d8f");
    expect(colourOf(catalogue, "device_health", "exploded")).toBe(UNKNOWN_COLOUR);
    expect(colourOf(catalogue, "alarm_severity", null)).toBe(UNKNOWN_COLOUR);
  });

  it("labels in the interface language, falling back to the key", () => {
    setLang("zh", null);
    expect(labelIn(catalogue, "device_kinds", "smoke_detector")).toBe("感烟探测器");
    setLang("en", null);
    expect(labelIn(catalogue, "device_kinds", "smoke_detector")).toBe("Smoke detector");
    expect(labelIn(catalogue, "device_kinds", "teapot")).toBe("teapot");
    setLang("zh", null);
  });

  it("ranks severities in the catalogue's order", () => {
    expect(worstSeverity(catalogue, ["info", "critical", "major"])).toBe("critical");
    expect(worstSeverity(catalogue, [])).toBeNull();
    expect(isCritical(catalogue, "critical")).toBe(true);
    expect(isCritical(catalogue, "major")).toBe(false);
  });

  it("finds the fire-safety kinds", () => {
    expect([...fireSafetyKinds(catalogue)]).toEqual(["smoke_detector"]);
  });

  it("parses and mixes hex colours", () => {
    expect(rgb("#ff0000")).toEqual([1, 0, 0]);
    expect(mix("#000000", "#ffffff", 0.5)).toBe("#808080");
    expect(mix("#000000", "#ffffff", 7)).toBe("#ffffff");
  });
});
