import { afterEach, describe, expect, it } from "vitest";
import { setLang } from "../src/i18n";
import { searchHint } from "../src/search";

afterEach(() => setLang("zh", null));

describe("search hint", () => {
  it("offers the address the site has, not a fixed one", () => {
    setLang("en", null);
    expect(searchHint("3-1-1801")).toBe("Search unit 3-1-1801 / device tag / building");
    expect(searchHint("1-1-101")).toContain("1-1-101");
  });

  it("offers no address when the site has no unit", () => {
    expect(searchHint(null)).toBe("搜索 设备位号 / 楼栋");
    expect(searchHint(undefined)).toBe(searchHint(null));
  });
});
