/** The search box: a unit address, a device tag or a building, and the camera flies there. */
import type { Api } from "./api";
import { displayAddress, parseAddress } from "./address";
import { h, replace } from "./dom";
import { type MessageKey, t } from "./i18n";
import type { SearchHit } from "./types";

/** Return how a hit reads in the list: a unit's address in long form, else its name and path. */
export function hitLabel(hit: SearchHit): string {
  const path = typeof hit.path === "string" ? hit.path : hit.path.map((p) => p.name).join(" › ");
  const name = hit.type === "unit" && parseAddress(hit.name) ? displayAddress(hit.name) : hit.name;
  return path ? `${name} — ${path}` : name;
}

/** Return the box's hint: an address the site has (the scene's `example_address`), or none when it has no unit. */
export function searchHint(example: string | null | undefined): string {
  return example ? t("search.placeholder", { example }) : t("search.placeholder_no_unit");
}

/** Build the search box; `example` is a unit address of the site to offer, `onPick` receives the chosen hit. */
export function searchBox(api: Api, onPick: (hit: SearchHit) => void, example?: string | null): HTMLElement {
  const hint = searchHint(example);
  const input = h("input", { type: "search", class: "search-input", placeholder: hint, "aria-label": hint });
  const results = h("ul", { class: "search-results", hidden: true, role: "listbox" });
  let timer: ReturnType<typeof setTimeout> | undefined;
  let asked = "";
  const pick = (hit: SearchHit): void => {
    results.hidden = true;
    input.value = hitLabel(hit);
    onPick(hit);
  };
  const run = async (): Promise<void> => {
    const q = input.value.trim();
    asked = q;
    if (q.length === 0) {
      results.hidden = true;
      return;
    }
    let hits: SearchHit[];
    try {
      hits = await api.search(q);
    } catch (error) {
      // A refused or failed search says why where the answers would be, never "no results".
      if (asked === q) replace(results, h("li", { class: "error", role: "alert" }, (error as Error).message));
      results.hidden = false;
      return;
    }
    if (asked !== q) return;
    replace(
      results,
      ...(hits.length === 0
        ? [h("li", { class: "muted" }, t("search.none", { q }))]
        : hits.slice(0, 12).map((hit) =>
            h(
              "li",
              { class: "clickable", role: "option", onclick: () => pick(hit) },
              h("span", { class: `tag tag-${hit.type}` }, t(`search.type.${hit.type}` as MessageKey)),
              hitLabel(hit),
            ),
          )),
    );
    results.hidden = false;
  };
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => void run(), 250);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      clearTimeout(timer);
      void run().then(() => results.querySelector<HTMLElement>("li.clickable")?.click());
    }
    if (event.key === "Escape") results.hidden = true;
    event.stopPropagation();
  });
  return h("div", { class: "search" }, input, results);
}
