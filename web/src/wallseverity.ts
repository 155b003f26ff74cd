/**
 * Alarm severities on the wall. Their labels and colours are declared once on the server
 * (twin/alarms/severity.py) and served by `/api/alarms/legend`; a catalogue that does not
 * carry them yet is completed from there, so the wall's alarm colours never fall back to grey.
 */
import type { Api } from "./api";
import { severityRank } from "./catalogue";
import type { Catalogue, Label } from "./types";

interface Legend {
  /** Most urgent first, as the server declares them. */
  severities: Record<string, Label>;
}

/** Fill `catalogue.alarm_severity` from the legend when the catalogue came without it. */
export async function completeSeverities(api: Api, catalogue: Catalogue): Promise<void> {
  if (Object.keys(catalogue.alarm_severity).length > 0) return;
  const legend = await api.request<Legend>("GET", "/api/alarms/legend");
  // catalogue.ts ranks by position from least to most severe: the legend's order reversed.
  catalogue.alarm_severity = Object.fromEntries(Object.entries(legend.severities).reverse());
}

/** Tell whether a severity takes the wall over: the two most severe (critical and major). */
export function takesOver(catalogue: Catalogue, severity: string | null | undefined): boolean {
  const rank = severityRank(catalogue, severity);
  return rank >= 0 && rank >= Object.keys(catalogue.alarm_severity).length - 2;
}
