/** How long ago something happened, in words, for last-seen times and the data age. */
import { t } from "./i18n";

/** Turn a server time (ISO string or epoch seconds) into epoch milliseconds. */
export function toMillis(time: string | number | null | undefined): number | null {
  if (time == null) return null;
  if (typeof time === "number") return time < 1e12 ? time * 1000 : time;
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? null : ms;
}

/** Say how long ago `thenMs` was, relative to `nowMs`. */
export function ago(thenMs: number, nowMs: number): string {
  const s = Math.max(0, Math.round((nowMs - thenMs) / 1000));
  if (s < 60) return t("time.ago.seconds", { n: s });
  if (s < 3600) return t("time.ago.minutes", { n: Math.floor(s / 60) });
  if (s < 86400) return t("time.ago.hours", { n: Math.floor(s / 3600) });
  return t("time.ago.days", { n: Math.floor(s / 86400) });
}
