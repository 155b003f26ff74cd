/**
 * Every visible string goes through `t`, so a page switches language without a reload
 * and a missing translation is a compile error rather than a blank label.
 */
import { en } from "./en";
import { type MessageKey, zh } from "./zh";

export type { MessageKey };
export type Lang = "zh" | "en";

export const MESSAGES: Record<Lang, Record<MessageKey, string>> = { zh, en };

const STORAGE_KEY = "twin.lang";
let current: Lang = "zh";
const listeners = new Set<(lang: Lang) => void>();

/** Substitute `{name}` placeholders; a missing parameter stays visible so it is noticed. */
export function format(template: string, params: Record<string, string | number> = {}): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}

/** Translate a key in the current language. */
export function t(key: MessageKey, params?: Record<string, string | number>): string {
  return format(MESSAGES[current][key], params);
}

/** Return the current interface language. */
export function lang(): Lang {
  return current;
}

/** Switch the language, remember it for the next visit and let every view relabel itself. */
export function setLang(next: Lang, storage: Pick<Storage, "setItem"> | null = safeStorage()): void {
  current = next;
  storage?.setItem(STORAGE_KEY, next);
  if (typeof document !== "undefined") document.documentElement.lang = next === "zh" ? "zh-CN" : "en";
  for (const listener of listeners) listener(next);
}

/** Pick the language from `?lang=`, then the remembered choice, then zh-CN. */
export function initLang(search: string, storage: Pick<Storage, "getItem" | "setItem"> | null = safeStorage()): Lang {
  const asked = new URLSearchParams(search).get("lang") ?? storage?.getItem(STORAGE_KEY) ?? "zh";
  setLang(asked === "en" ? "en" : "zh", storage);
  return current;
}

/** Call `listener` after every language change; returns the function that stops it. */
export function onLangChange(listener: (lang: Lang) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Pick the label of a catalogue entry in the current language. */
export function labelOf(entry: { zh: string; en: string } | undefined, fallback: string): string {
  if (!entry) return fallback;
  return current === "zh" ? entry.zh : entry.en;
}

function safeStorage(): Storage | null {
  try {
    return typeof localStorage === "undefined" ? null : localStorage;
  } catch {
    return null;
  }
}
