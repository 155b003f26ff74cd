/**
 * The wall's per-building figures: active alarms and their worst severity, overdue tickets and
 * the payment rate. Live from the hub (alarms site-wide, tickets and bills per building); while
 * the socket cannot connect, from the REST counts the fallback re-reads. Counts only: no names.
 */
import type { Api } from "./api";
import { worstSeverity } from "./catalogue";
import { idFromPath, type LiveStore } from "./store";
import type { Catalogue, Scene } from "./types";

export interface BuildingFigures {
  alarms: number;
  worst: string | null;
  overdue: number;
  rate: number | null;
}

export type Figures = Map<string, BuildingFigures>;

/** Return each building's figures from the live store. */
export function liveFigures(scene: Scene, store: LiveStore, catalogue: Catalogue): Figures {
  const severities = new Map<string, string[]>();
  for (const { alarm, path } of store.alarms.values()) {
    const building = idFromPath(path, "building");
    if (building !== null) severities.set(building, [...(severities.get(building) ?? []), alarm.severity]);
  }
  const figures: Figures = new Map();
  for (const b of scene.buildings) {
    const id = String(b.id);
    const own = severities.get(id) ?? [];
    figures.set(id, {
      alarms: own.length,
      worst: worstSeverity(catalogue, own),
      overdue: store.ops.overdueIn(`building:${id}`),
      rate: store.ops.rates.get(`building:${id}`) ?? null,
    });
  }
  return figures;
}

interface AlarmCount {
  place_id: number | string;
  level: string;
  counts: Record<string, number>;
}

interface TicketCount {
  place_id: number | string;
  overdue?: number;
}

interface RatePoint {
  place_id: number | string;
  period: string;
  households: number;
  households_paid: number;
}

/**
 * Read the same figures by REST. The rate is the share of billed households that paid this
 * month, as the hub counts it (the REST rate itself weighs amounts).
 */
export async function polledFigures(api: Api, scene: Scene, catalogue: Catalogue): Promise<Figures> {
  const site = encodeURIComponent(String(scene.site.id));
  const [alarms, tickets, rates] = await Promise.all([
    api.request<AlarmCount[]>("GET", `/api/alarms/counts?under=${site}`),
    api.request<{ items: TicketCount[] }>("GET", `/api/tickets/counts?under=${site}&by=building`),
    api.request<{ items: RatePoint[] }>("GET", `/api/billing/rates?under=${site}&by=building`).catch(() => ({ items: [] as RatePoint[] })),
  ]);
  const figures: Figures = new Map();
  for (const b of scene.buildings) figures.set(String(b.id), { alarms: 0, worst: null, overdue: 0, rate: null });
  for (const count of alarms) {
    const entry = figures.get(String(count.place_id));
    if (!entry || count.level !== "building") continue;
    entry.alarms = Object.values(count.counts).reduce((a, n) => a + n, 0);
    entry.worst = worstSeverity(catalogue, Object.keys(count.counts).filter((s) => (count.counts[s] ?? 0) > 0));
  }
  for (const count of tickets.items) {
    const entry = figures.get(String(count.place_id));
    if (entry) entry.overdue = count.overdue ?? 0;
  }
  const latest = new Map<string, RatePoint>();
  for (const point of rates.items) {
    const id = String(point.place_id);
    const held = latest.get(id);
    if (!held || point.period > held.period) latest.set(id, point);
  }
  for (const [id, point] of latest) {
    const entry = figures.get(id);
    if (entry) entry.rate = point.households > 0 ? point.households_paid / point.households : null;
  }
  return figures;
}
