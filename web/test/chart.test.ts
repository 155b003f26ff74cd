import { describe, expect, it } from "vitest";
import { timeTicks } from "../src/chart";

describe("the history chart's time axis", () => {
  it("writes days the zh-CN way in Chinese and the English way in English", () => {
    const days = [Date.UTC(2026, 11, 5, 12) / 1000, Date.UTC(2026, 11, 9, 12) / 1000];
    expect(timeTicks(days, "zh")[1]).toMatch(/^12\/9$/);
    expect(timeTicks(days, "en")[1]).toMatch(/^09\/12$/);
  });
});
