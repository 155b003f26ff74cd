import { describe, expect, it } from "vitest";
import { setLang } from "../src/i18n";
import { LiveStore } from "../src/store";
import { ordered } from "../src/ticker";
import { catalogueWith } from "./fakes";

// In rising order, as GET /api/catalogue serves alarm severities.
const catalogue = catalogueWith({
  alarm_severity: {
    warning: { zh: "提示", en: "Warning", colour: "#3f88c5" },
    major: { zh: "重要", en: "Major", colour: "#f48c06" },
    critical: { zh: "紧急", en: "Critical", colour: "#d00000" },
  },
});

describe("the ticker's order", () => {
  it("puts the most severe first, the newest first within a severity, and counts a storm once", () => {
    setLang("zh", null);
    const store = new LiveStore();
    store.applySnapshot({
      type: "snapshot",
      sub: "s",
      stream: "site:1",
      seq: 1,
      alarms: [
        { id: 1, severity: "major", state: "raised", first_at: "2026-12-07T10:00:00Z" },
        { id: 2, severity: "critical", state: "raised", first_at: "2026-12-07T09:00:00Z" },
        { id: 3, severity: "major", state: "acknowledged", first_at: "2026-12-07T11:00:00Z" },
        { id: 4, severity: "warning", state: "raised", first_at: "2026-12-07T12:00:00Z" },
        { id: 5, severity: "critical", state: "raised", first_at: "2026-12-07T09:01:00Z", parent_id: 2 },
        { id: 6, severity: "critical", state: "raised", first_at: "2026-12-07T09:02:00Z", parent_id: 2 },
      ],
    });
    const items = ordered(catalogue, store);
    expect(items.map((i) => i.alarm.id)).toEqual([2, 3, 1, 4]);
    expect(items[0]?.children).toBe(2);
  });

  it("leaves out a storm's child whose root is gone, as the server's counts do", () => {
    const store = new LiveStore();
    store.applySnapshot({
      type: "snapshot",
      sub: "s",
      stream: "site:1",
      seq: 1,
      alarms: [
        { id: 1, severity: "major", state: "raised" },
        { id: 2, severity: "major", state: "raised", parent_id: 9 },
      ],
    });
    expect(ordered(catalogue, store).map((i) => [i.alarm.id, i.children])).toEqual([[1, 0]]);
  });
});
