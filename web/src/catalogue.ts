/**
 * Colours and labels come from the server's catalogue (declared once in twin/catalogue.py);
 * this module only looks them up, and paints anything unknown in one visible neutral grey.
 */
import { labelOf } from "./i18n";
import type { Catalogue, Label } from "./types";

export const UNKNOWN_COLOUR = "#8a94a6";

/** Every vocabulary the server's catalogue serves (the type is generated from its OpenAPI document). */
export type Vocabulary = keyof Catalogue;

/** Return the colour of `key` in one vocabulary, or the neutral grey when it is not declared. */
export function colourOf(catalogue: Catalogue, vocabulary: Vocabulary, key: string | null | undefined): string {
  if (key == null) return UNKNOWN_COLOUR;
  const entry: Label | undefined = catalogue[vocabulary][key];
  return entry?.colour ?? UNKNOWN_COLOUR;
}

/** Return the label of `key` in the current language, or the key itself when undeclared. */
export function labelIn(catalogue: Catalogue, vocabulary: Vocabulary, key: string | null | undefined): string {
  if (key == null) return "";
  return labelOf(catalogue[vocabulary][key], key);
}

/** Return the device kinds that matter in a fire, as the server declares them. */
export function fireSafetyKinds(catalogue: Catalogue): Set<string> {
  return new Set(
    Object.entries(catalogue.device_kinds)
      .filter(([, info]) => info.fire_safety)
      .map(([kind]) => kind),
  );
}

/**
 * Rank alarm severities from least to most severe.
 *
 * The server lists severities in rising order (as twin/catalogue.py declares its enums), so
 * the position in the catalogue is the rank; an unknown severity ranks below all.
 */
export function severityRank(catalogue: Catalogue, severity: string | null | undefined): number {
  if (severity == null) return -1;
  return Object.keys(catalogue.alarm_severity).indexOf(severity);
}

/** Return the most severe of several severities, or null for none. */
export function worstSeverity(catalogue: Catalogue, severities: Iterable<string>): string | null {
  let worst: string | null = null;
  for (const s of severities) {
    if (severityRank(catalogue, s) > severityRank(catalogue, worst)) worst = s;
  }
  return worst;
}

/** Tell whether a severity is the top one, which takes over the wall display. */
export function isCritical(catalogue: Catalogue, severity: string | null | undefined): boolean {
  if (severity == null) return false;
  const keys = Object.keys(catalogue.alarm_severity);
  return severity === "critical" || (keys.length > 0 && keys[keys.length - 1] === severity);
}

/** Parse `#rrggbb` into 0..1 channels for WebGL colours. */
export function rgb(hex: string): [number, number, number] {
  const m = /^#?([0-9a-f]{6})$/i.exec(hex.trim());
  const n = parseInt(m?.[1] ?? UNKNOWN_COLOUR.slice(1), 16);
  return [((n >> 16) & 255) / 255, ((n >> 8) & 255) / 255, (n & 255) / 255];
}

/** Blend two `#rrggbb` colours; `t` = 0 gives `a`, 1 gives `b`. */
export function mix(a: string, b: string, t: number): string {
  const [ar, ag, ab] = rgb(a);
  const [br, bg, bb] = rgb(b);
  const k = Math.min(1, Math.max(0, t));
  const channel = (x: number, y: number): string =>
    Math.round((x + (y - x) * k) * 255)
      .toString(16)
      .padStart(2, "0");
  return `#${channel(ar, br)}${channel(ag, bg)}${channel(ab, bb)}`;
}
