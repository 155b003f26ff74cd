/**
 * The wall's per-building figures: open root alarms and their worst severity, overdue tickets
 * and the payment rate. Alarms and tickets live from the hub (alarms site-wide, tickets per
 * building); while the socket cannot connect, from the REST counts the fallback re-reads. Counts
 * only: no names.
 *
 * A storm (an alarm grouping children under its root) counts once, in its root's building, as
 * `/api/alarms/counts` counts it (`storms.ts`); `grouped` says how many devices the building's
 * storms cut off, wherever those devices are. The payment rate is `/api/billing/rates`' own
 * figure (paid over due) for its latest month, named on the wall: the hub's snapshot carries a
 * different one (the share of households that paid), which no screen should show beside the
 * billing page's.
 */
import type { Api } from "./api";
import { worstSeverity } from "./catalogue";
import { idFromPath, type LiveStore } from "./store";
import { foldStorms } from "./storms";
import type { Catalogue, Scene } from "./types";

export interface BuildingFigures {
  /** Active root alarms: a storm is one. */
  alarms: number;
  /** Active alarms grouped under those roots. */
  grouped: number;
  worst: string | null;
  overdue: number;
  rate: number | null;
}

export type Figures = Map<string, BuildingFigures>;

/** Each building's payment rate (0..1) for one month, as `/api/billing/rates` answers. */
export interface Rates {
  /** The month the rates are for, `YYYY-MM`, or null when nothing is billed. */
  period: string | null;
  byBuilding: Map<string, number | null>;
}

export const NO_RATES: Rates = { period: null, byBuilding: new Map() };

/** Return each building's figures from the live store and the rates last read. */
export function liveFigures(scene: Scene, store: LiveStore, catalogue: Catalogue, rates: Rates): Figures {
  const severities = new Map<string, string[]>();
  const grouped = new Map<string, number>();
  for (const { alarm, path, children } of foldStorms(store.alarms.values())) {
    const building = idFromPath(path, "building");
    if (building === null) continue;
    severities.set(building, [...(severities.get(building) ?? []), alarm.severity]);
    grouped.set(building, (grouped.get(building) ?? 0) + children);
  }
  const figures: Figures = new Map();
  for (const b of scene.buildings) {
    const id = String(b.id);
    const own = severities.get(id) ?? [];
    figures.set(id, {
      alarms: own.length,
      grouped: grouped.get(id) ?? 0,
      worst: worstSeverity(catalogue, own),
      overdue: store.ops.overdueIn(`building:${id}`),
      rate: rates.byBuilding.get(id) ?? null,
    });
  }
  return figures;
}

/**
 * Read each building's payment rate for the latest month billed up to this one. The server
 * sends the exact rate as a decimal string; the wall only shows it, so a number will do.
 */
export async function fetchRates(api: Api, siteId: number | string): Promise<Rates> {
  const query = { under: Number(siteId), by: "building" as const };
  const answer = await api.call("GET /api/billing/rates", api.client.GET("/api/billing/rates", { params: { query } }));
  const period = answer.items.reduce<string | null>((latest, p) => (latest === null || p.period > latest ? p.period : latest), null);
  const byBuilding = new Map<string, number | null>();
  for (const point of answer.items) {
    if (point.period !== period) continue;
    const rate = point.rate === null ? null : Number(point.rate);
    byBuilding.set(String(point.place_id), rate !== null && Number.isFinite(rate) ? rate : null);
  }
  return { period, byBuilding };
}

/** Read the same figures by REST: active root alarms and their grouped ones, overdue tickets, the rates given. */
export async function polledFigures(api: Api, scene: Scene, catalogue: Catalogue, rates: Rates): Promise<Figures> {
  const under = Number(scene.site.id);
  const [alarms, tickets] = await Promise.all([
    api.call("GET /api/alarms/counts", api.client.GET("/api/alarms/counts", { params: { query: { under } } })),
    api.call("GET /api/tickets/counts", api.client.GET("/api/tickets/counts", { params: { query: { under, by: "building" } } })),
  ]);
  const figures: Figures = new Map();
  for (const b of scene.buildings) {
    const id = String(b.id);
    figures.set(id, { alarms: 0, grouped: 0, worst: null, overdue: 0, rate: rates.byBuilding.get(id) ?? null });
  }
  for (const count of alarms) {
    const entry = figures.get(String(count.place_id));
    if (!entry || count.level !== "building") continue;
    entry.alarms = Object.values(count.counts).reduce((a, n) => a + n, 0);
    entry.grouped = count.grouped;
    entry.worst = worstSeverity(catalogue, Object.keys(count.counts).filter((s) => (count.counts[s] ?? 0) > 0));
  }
  for (const count of tickets.items) {
    const entry = figures.get(String(count.place_id));
    if (entry) entry.overdue = count.overdue ?? 0;
  }
  return figures;
}
