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

/** Return the active alarms, worst and newest first. */
export function ordered(catalogue: Catalogue, store: LiveStore): { alarm: Alarm; path: string[] }[] {
  return [...store.alarms.values()].sort(
    (a, b) =>
      severityRank(catalogue, b.alarm.severity) - severityRank(catalogue, a.alarm.severity) ||
      String(b.alarm.raised_at ?? "").localeCompare(String(a.alarm.raised_at ?? "")),
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
    ...alarms.slice(0, 12).map(({ alarm, path }) => {
      const kind = (alarm as Alarm & { device_kind?: string }).device_kind;
      return h(
        "span",
        { class: "item" },
        h("span", { class: "badge", style: `--c:${colourOf(catalogue, "alarm_severity", alarm.severity)}` }, labelIn(catalogue, "alarm_severity", alarm.severity)),
        t("alarm.at", { place: placeOf(scene, path), kind: kind ? labelIn(catalogue, "device_kinds", kind) : t("alarm.unknown_device") }),
      );
    }),
  );
}
