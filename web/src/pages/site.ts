/** Which community a page shows: `?site=` when given, else the first the server lists. */
import type { Api } from "../api";
import { t } from "../i18n";
import type { SiteSummary } from "../types";

/** Return the site the page should show, or fail with a message a person understands. */
export async function pickSite(api: Api): Promise<SiteSummary> {
  const sites = await api.sites();
  const wanted = new URLSearchParams(location.search).get("site");
  const site = (wanted === null ? undefined : sites.find((s) => String(s.id) === wanted)) ?? sites[0];
  if (!site) throw new Error(t("error.no_site"));
  return site;
}
