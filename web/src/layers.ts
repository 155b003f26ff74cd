/**
 * What colour a space takes under each thematic layer. Status colours come from the
 * catalogue; counts and energy use a ramp from the floor's own colour to a warm accent,
 * because a ramp is a scale, not a status.
 */
import { colourOf, mix, severityRank, UNKNOWN_COLOUR } from "./catalogue";
import type { Catalogue, Space } from "./types";

export type LayerName = "kind" | "alarms" | "tickets" | "billing" | "health" | "energy";
export const LAYERS: LayerName[] = ["kind", "alarms", "tickets", "billing", "health", "energy"];

export type BillingState = "paid" | "partial" | "overdue";

/** Per-space figures the server reports for the non-live layers. */
export interface SpaceStats {
  open_tickets?: number;
  billing?: BillingState | null;
  energy_kwh?: number | null;
}

/** What the view knows about one space when it paints it. */
export interface SpaceFacts {
  space: Space;
  alarmSeverities: string[];
  deviceHealth: string[];
  stats: SpaceStats | undefined;
}

export const RAMP_LOW = "#24344d";
export const RAMP_HIGH = "#ff8c42";
/** A neutral fill for spaces that carry nothing on the chosen layer. */
export const QUIET = "#2b3a52";

const BILLING_RAMP: Record<BillingState, number> = { paid: 0, partial: 0.5, overdue: 1 };
/** The catalogue's word for each layer state: the protocol's `partial` is the catalogue's `partly_paid`. */
const BILLING_STATUS: Record<BillingState, string> = { paid: "paid", partial: "partly_paid", overdue: "overdue" };

/** Rank health from alive to silent, so a space shows its least healthy device. */
const HEALTH_ORDER = ["online", "unknown", "stale", "unreachable", "offline"];

/** Return the colour of a space under `layer`; `max` scales counts and energy across the floor. */
export function spaceColour(
  catalogue: Catalogue,
  layer: LayerName,
  facts: SpaceFacts,
  max: { tickets: number; energy: number },
): string {
  switch (layer) {
    case "kind":
      return colourOf(catalogue, "space_kinds", facts.space.kind);
    case "alarms": {
      const worst = [...facts.alarmSeverities].sort((a, b) => severityRank(catalogue, b) - severityRank(catalogue, a))[0];
      return worst === undefined ? QUIET : colourOf(catalogue, "alarm_severity", worst);
    }
    case "tickets": {
      const n = facts.stats?.open_tickets ?? 0;
      return n === 0 ? QUIET : mix(RAMP_LOW, RAMP_HIGH, n / Math.max(1, max.tickets));
    }
    case "billing": {
      const state = facts.stats?.billing;
      if (state == null) return QUIET;
      const declared = catalogue.billing_status?.[BILLING_STATUS[state]]?.colour;
      return declared ?? mix("#2a9d8f", "#e63946", BILLING_RAMP[state]);
    }
    case "health": {
      const worst = worstHealth(facts.deviceHealth);
      return worst === null ? QUIET : colourOf(catalogue, "device_health", worst);
    }
    case "energy": {
      const kwh = facts.stats?.energy_kwh;
      return kwh == null ? QUIET : mix(RAMP_LOW, RAMP_HIGH, kwh / Math.max(1e-9, max.energy));
    }
    default:
      return UNKNOWN_COLOUR;
  }
}

/** Return the least healthy of several health states, or null for none. */
export function worstHealth(states: Iterable<string>): string | null {
  let worst: string | null = null;
  let rank = -1;
  for (const state of states) {
    const r = HEALTH_ORDER.indexOf(state);
    if (r > rank) {
      rank = r;
      worst = state;
    }
  }
  return worst;
}

/** Return the largest ticket count and energy use of a floor, for the ramps. */
export function layerMaxima(stats: Iterable<SpaceStats>): { tickets: number; energy: number } {
  let tickets = 0;
  let energy = 0;
  for (const s of stats) {
    tickets = Math.max(tickets, s.open_tickets ?? 0);
    energy = Math.max(energy, s.energy_kwh ?? 0);
  }
  return { tickets, energy };
}
