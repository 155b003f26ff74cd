/**
 * The wall's alarm line: active root alarms, worst first, each placed by building and floor; a
 * storm is one item with the number of devices it cut off. Only the place and the kind of device
 * are shown: never a resident's name or a message.
 */
import { colourOf, labelIn, severityRank } from "./catalogue";
import { h, replace } from "./dom";
import { t } from "./i18n";
import { idFromPath, type LiveStore } from "./store";
import { foldStorms, type StormRoot, stormTitle } from "./storms";
import type { Alarm, Catalogue, Scene } from "./types";

/** Name the place of an event path in the scene's words: "3号楼 · 18层". */
export function placeOf(scene: Scene, path: readonly string[]): string {
  const buildingId = idFromPath(path, "building");
  const floorId = idFromPath(path, "floor");
  const building = scene.buildings.find((b) => String(b.id) === buildingId);
  const floor = building?.floors.find((f) => String(f.id) === floorId);
  return [building?.name, floor?.name].filter(Boolean).join(" · ");
}

/** When an alarm was first raised, in epoch milliseconds (0 when the hub did not say). */
function raisedAt(alarm: Alarm): number {
  const at = alarm.first_at ?? alarm.raised_at;
  if (typeof at === "number") return at * 1000;
  const ms = at ? Date.parse(at) : NaN;
  return Number.isFinite(ms) ? ms : 0;
}

/** Return the active root alarms, the most severe first and, within a severity, the newest first. */
export function ordered(catalogue: Catalogue, store: LiveStore): StormRoot[] {
  return foldStorms(store.alarms.values()).sort(
    (a, b) => severityRank(catalogue, b.alarm.severity) - severityRank(catalogue, a.alarm.severity) || raisedAt(b.alarm) - raisedAt(a.alarm),
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
    ...alarms.slice(0, 12).map((root) => {
      const { alarm, path, children } = root;
      const kind = alarm.device_kind ? labelIn(catalogue, "device_kinds", alarm.device_kind) : t("alarm.unknown_device");
      const place = placeOf(scene, path);
      return h(
        "span",
        { class: "item", "data-alarm": String(alarm.id), "data-severity": alarm.severity, "data-children": children },
        h("span", { class: "badge", style: `--c:${colourOf(catalogue, "alarm_severity", alarm.severity)}` }, labelIn(catalogue, "alarm_severity", alarm.severity)),
        children > 0 ? `${place} · ${stormTitle(catalogue, root)}` : t("alarm.at", { place, kind }),
      );
    }),
  );
}
