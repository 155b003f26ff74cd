/**
 * Which alarm severities take the wall over. Their labels, colours and order (least to most
 * severe) are declared once on the server (twin/alarms/severity.py) and come with the catalogue.
 */
import { severityRank } from "./catalogue";
import type { Catalogue } from "./types";
/** Tell whether a severity takes the wall over: the two most severe (critical and major). */
export function takesOver(catalogue: Catalogue, severity: string | null | undefined): boolean {
  const rank = severityRank(catalogue, severity);
  return rank >= 0 && rank >= Object.keys(catalogue.alarm_severity).length - 2;
}
