/** How readings read on screen, shared by the panel and the responder's lists. */
import type { Reading } from "./types";

/** Show a reading compactly: numbers to at most two decimals. */
export function formatValue(value: Reading["value"]): string {
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toFixed(2).replace(/0$/, "");
  if (value === null) return "—";
  return String(value);
}
