/**
 * Storms counted once. When a gateway, or a transformer or meter that feeds a place, goes
 * offline, the server groups the offline alarms of the devices behind it under the root's own
 * alarm (`parent_id`): one fault, one alarm. Every view that counts or tints by alarms (the
 * wall's cards and ticker, the 3D buildings, floors, rooms and devices) reads the live store
 * through `foldStorms`, so a storm's children never add a count or a colour of their own, exactly
 * as `GET /api/alarms/counts` counts active roots; the root carries how many of its children
 * are active, shown beside it ("网关离线 · 590 台设备不可达").
 *
 * A child whose root is not held (cleared, or outside the screen's scope) is still not counted:
 * the server does not count it either, and a figure that depended on the scope would differ
 * from one screen to the next.
 */
import { labelIn } from "./catalogue";
import { t } from "./i18n";
import type { Alarm, Catalogue } from "./types";

export interface HeldAlarm {
  alarm: Alarm;
  path: string[];
}

/** A root alarm and the number of active alarms grouped under it. */
export interface StormRoot extends HeldAlarm {
  children: number;
}

/** A child of a storm: counted in its root, not again on its own. */
export function isGrouped(alarm: Alarm): boolean {
  return alarm.parent_id !== undefined && alarm.parent_id !== null;
}

/** Return a device's alarms but those grouped under a storm's root, which stands for them. */
export function ownAlarms(alarms: readonly Alarm[]): Alarm[] {
  return alarms.filter((alarm) => !isGrouped(alarm));
}

/** Return the root alarms among those held, each with how many held alarms it groups. */
export function foldStorms(held: Iterable<HeldAlarm>): StormRoot[] {
  const roots: HeldAlarm[] = [];
  const children = new Map<string, number>();
  for (const entry of held) {
    const parent = entry.alarm.parent_id;
    if (parent === undefined || parent === null) roots.push(entry);
    else children.set(String(parent), (children.get(String(parent)) ?? 0) + 1);
  }
  return roots.map((root) => ({ ...root, children: children.get(String(root.alarm.id)) ?? 0 }));
}

/** Say how many devices a storm cut off: "590 台设备不可达", "590 devices unreachable". */
export function unreachable(n: number): string {
  return t(n === 1 ? "storm.unreachable_one" : "storm.unreachable", { n });
}

/** Name a storm root with its children: "网关离线 · 590 台设备不可达". */
export function stormTitle(catalogue: Catalogue, root: StormRoot): string {
  const kind = root.alarm.device_kind ? labelIn(catalogue, "device_kinds", root.alarm.device_kind) : t("alarm.unknown_device");
  return `${t("storm.offline", { kind })} · ${unreachable(root.children)}`;
}
