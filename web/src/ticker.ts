/**
 * The wall's alarm line: active alarms, worst first, each placed by building and floor.
 * Only the place and the kind of device are shown: never a resident's name or a message.
 */
import { colourOf, labelIn, severityRank } from "./catalogue";
import { h, replace } from "./dom";
import { t } from "./i18n";
import { idFromPath, type LiveStore } from "./store";
import type { Alarm, Catalogue, Scene } from "./types";

/** Name the place of an event path in the scene's words: "3号楼 · 18层". */
export function placeOf(scene: Scene, path: readonly string[]): string {
  const buildingId = idFromPath(path, "building");
  const floorId = idFromPath(path, "floor");
  const building = scene.buildings.find((b) => String(b.id) === buildingId);
  const floor = building?.floors.find((f) => String(f.id) === floorId);
  return [building?.name, floor?.name].filter(Boolean).join(" · ");
}

/** An alarm of the ticker: a storm's root stands for its grouped children, counted once. */
export interface TickerItem {
  alarm: Alarm;
  path: string[];
  children: number;
}

/** When an alarm was first raised, in epoch milliseconds (0 when the hub did not say). */
function raisedAt(alarm: Alarm): number {
  const at = alarm.first_at ?? alarm.raised_at;
  if (typeof at === "number") return at * 1000;
  const ms = at ? Date.parse(at) : NaN;
  return Number.isFinite(ms) ? ms : 0;
}

/** Return the active alarms, storms folded into their roots, the most severe first and, within a severity, the newest first. */
export function ordered(catalogue: Catalogue, store: LiveStore): TickerItem[] {
  const held = [...store.alarms.values()];
  const children = new Map<string, number>();
  for (const { alarm } of held) {
    if (alarm.parent_id != null) children.set(String(alarm.parent_id), (children.get(String(alarm.parent_id)) ?? 0) + 1);
  }
  const roots = held.filter(({ alarm }) => alarm.parent_id == null || !store.alarms.has(String(alarm.parent_id)));
  return roots
    .map(({ alarm, path }) => ({ alarm, path, children: children.get(String(alarm.id)) ?? 0 }))
    .sort(
      (a, b) =>
        severityRank(catalogue, b.alarm.severity) - severityRank(catalogue, a.alarm.severity) || raisedAt(b.alarm) - raisedAt(a.alarm),
    );
}

/** Redraw the ticker from the store. */
export function renderTicker(element: HTMLElement, catalogue: Catalogue, scene: Scene, store: LiveStore): void {
  const alarms = ordered(catalogue, store);
  if (alarms.length === 0) {
    replace(element, h("span", { class: "muted" }, t("wall.ticker.empty")));
    return;
  }
  replace(
    element,
    ...alarms.slice(0, 12).map(({ alarm, path, children }) => {
      const kind = (alarm as Alarm & { device_kind?: string }).device_kind;
      return h(
        "span",
        { class: "item", "data-alarm": String(alarm.id), "data-severity": alarm.severity },
        h("span", { class: "badge", style: `--c:${colourOf(catalogue, "alarm_severity", alarm.severity)}` }, labelIn(catalogue, "alarm_severity", alarm.severity)),
        t("alarm.at", { place: placeOf(scene, path), kind: kind ? labelIn(catalogue, "device_kinds", kind) : t("alarm.unknown_device") }),
        children > 0 ? t("ticker.storm", { n: children }) : null,
      );
    }),
  );
}
