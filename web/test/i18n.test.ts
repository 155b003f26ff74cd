import { describe, expect, it } from "vitest";
import { format, initLang, MESSAGES, setLang, t } from "../src/i18n";

const placeholders = (s: string): string[] => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? "").sort();

describe("i18n", () => {
  it("has the same keys in every language", () => {
    expect(Object.keys(MESSAGES.en).sort()).toEqual(Object.keys(MESSAGES.zh).sort());
  });

  it("has the same placeholders in every translation", () => {
    for (const [key, zh] of Object.entries(MESSAGES.zh)) {
      expect(placeholders(MESSAGES.en[key as keyof typeof MESSAGES.en]), key).toEqual(placeholders(zh));
    }
  });

  it("has no empty string and no Chinese left in English", () => {
    for (const [key, text] of Object.entries(MESSAGES.en)) {
      expect(text.trim(), key).not.toBe("");
      // The language switch names the other language in its own script, on purpose.
      if (key !== "app.language") expect(text, key).not.toMatch(/[\u4e00-\u9fff]/);
    }
    for (const [key, text] of Object.entries(MESSAGES.zh)) expect(text.trim(), key).not.toBe("");
  });

  it("defaults to Chinese and honours ?lang= and the remembered choice", () => {
    const memory = new Map<string, string>();
    const storage = { getItem: (k: string) => memory.get(k) ?? null, setItem: (k: string, v: string) => void memory.set(k, v) };
    expect(initLang("", storage)).toBe("zh");
    expect(t("live.live")).toBe("实时");
    expect(initLang("?lang=en", storage)).toBe("en");
    expect(t("live.live")).toBe("Live");
    expect(initLang("", storage)).toBe("en");
    setLang("zh", storage);
  });

  it("keeps an unknown placeholder visible", () => {
    expect(format("{a} and {b}", { a: 1 })).toBe("1 and {b}");
  });
});
