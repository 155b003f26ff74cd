/**
 * The connection light: the live state, whether REST polling stands in for the socket, and
 * how old the newest data is, always in a corner.
 */
import { h } from "./dom";
import type { Fallback } from "./fallback";
import { hooks } from "./hooks";
import { type MessageKey, t } from "./i18n";
import type { LiveClient, LiveState } from "./live";

/** Return the words for the age of the data. */
export function ageText(ageMs: number | null): string {
  if (ageMs === null) return t("live.age.none");
  const s = Math.floor(ageMs / 1000);
  if (s < 2) return t("live.age.now");
  if (s < 120) return t("live.age.seconds", { n: s });
  return t("live.age.minutes", { n: Math.floor(s / 60) });
}

/** Return the words for a connection state. */
export function stateText(state: LiveState, retryInMs: number | null): string {
  if (state === "reconnecting") return t("live.reconnecting", { seconds: Math.ceil((retryInMs ?? 0) / 1000) });
  return t(`live.${state}` as MessageKey);
}

/** Return the age of the newest data, live or polled, or null when there is none. */
export function newestAge(...ages: (number | null)[]): number | null {
  const known = ages.filter((a): a is number => a !== null);
  return known.length === 0 ? null : Math.min(...known);
}

/** Build the indicator and keep it current. */
export function indicator(live: LiveClient, fallback: Fallback): { element: HTMLElement; state: (s: LiveState, retry: number | null) => void } {
  const dot = h("span", { class: "dot" });
  const label = h("span", { class: "state" });
  const polling = h("span", { class: "polling", hidden: true }, t("live.polling", { seconds: Math.round(fallback.everyMs / 1000) }));
  const age = h("span", { class: "age" });
  const element = h("div", { class: "indicator", "data-state": "idle", "data-fallback": "false", role: "status" }, dot, label, polling, age);
  const tick = (): void => {
    const ageMs = newestAge(live.dataAgeMs(), fallback.dataAgeMs());
    age.textContent = ageText(ageMs);
    element.dataset.stale = String(ageMs !== null && ageMs > 60_000);
    hooks.set({ dataAgeMs: ageMs });
  };
  fallback.onChange((active) => {
    polling.hidden = !active;
    element.dataset.fallback = String(active);
    hooks.set({ polling: active });
    tick();
  });
  setInterval(tick, 1000);
  return {
    element,
    state: (s, retry) => {
      element.dataset.state = s;
      label.textContent = stateText(s, retry);
      hooks.set({ connection: s });
      tick();
    },
  };
}
