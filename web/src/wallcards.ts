/**
 * The wall's building cards. A wall cannot scroll, so every building must be on screen: the
 * cards sit in a grid that `fitCards` sizes to the screen, trading details per card for room
 * (full cards with labelled figures, then one line per building under one header, then one
 * line with the overdue count left out) and adding columns until the last card is inside. A
 * card is as wide as its longest building name, so no name is cut short.
 * Sizes are in rem, and the wall's rem follows the viewport, so a 4K wall shows the same layout
 * twice as large.
 */
import { colourOf } from "./catalogue";
import { h, replace } from "./dom";
import { lang, t } from "./i18n";
import { unreachable } from "./storms";
import type { Catalogue, Scene } from "./types";
import type { Figures, Rates } from "./wallcounts";

export type Density = "full" | "compact" | "dense";

/** Layouts from the most detailed to the most compact; the first that fits is kept. */
const LAYOUTS: readonly [Density, number][] = [
  ["full", 1],
  ["full", 2],
  ["compact", 2],
  ["compact", 3],
  ["dense", 3],
  ["dense", 4],
  ["dense", 5],
  ["dense", 6],
];

/** The cards' part of the screen, built once; `renderCards` refills it. */
export interface Cards {
  readonly section: HTMLElement;
  readonly title: HTMLElement;
  readonly head: HTMLElement;
  readonly grid: HTMLElement;
}

export function createCards(): Cards {
  const title = h("h3", { class: "cards-title" });
  const head = h("div", { class: "cards-head", "aria-hidden": "true" });
  const grid = h("div", { class: "cards" });
  const section = h("section", { class: "counters", "aria-label": t("counters.title") }, title, head, grid);
  return { section, title, head, grid };
}

/** Name a billing month, `2026-12`, in the wall's language: 2026年12月, December 2026. */
export function monthName(period: string): string {
  const [year, month] = period.split("-").map(Number);
  if (!year || !month) return period;
  return new Date(year, month - 1, 1).toLocaleDateString(lang() === "zh" ? "zh-CN" : "en-GB", { year: "numeric", month: "long" });
}

/** Show a rate the way the billing page rounds it, to a tenth of a percent. */
export function percent(rate: number | null): string {
  return rate === null ? t("counters.none") : t("unit.percent", { n: (rate * 100).toFixed(1) });
}

/** Redraw every building's card; `alarming` holds the buildings a takeover points at. */
export function renderCards(cards: Cards, scene: Scene, figures: Figures, catalogue: Catalogue, rates: Rates, alarming: ReadonlySet<string>): void {
  const month = rates.period === null ? t("wall.no_bills") : monthName(rates.period);
  replace(cards.title, h("span", {}, t("counters.title")), h("span", { class: "period", "data-period": rates.period ?? "" }, t("wall.rate_month", { month })));
  replace(
    cards.grid,
    ...scene.buildings.map((b) => {
      const id = String(b.id);
      const f = figures.get(id);
      const style = f?.worst ? `--c:${colourOf(catalogue, "alarm_severity", f.worst)}` : undefined;
      return h(
        "div",
        { class: alarming.has(id) ? "counter alarming" : "counter", "data-building": id, "data-worst": f?.worst ?? undefined, style },
        h("div", { class: "name" }, b.name),
        figure(String(f?.alarms ?? 0), t("counters.alarms"), "alarms"),
        figure(String(f?.overdue ?? 0), t("counters.overdue"), "overdue"),
        figure(percent(f?.rate ?? null), t("counters.payment"), "payment"),
        f && f.grouped > 0 ? h("div", { class: "storm", "data-grouped": f.grouped }, unreachable(f.grouped)) : null,
      );
    }),
  );
}

function figure(value: string, label: string, name: string): HTMLElement {
  return h("div", { class: "figure", "data-figure": name }, h("b", {}, value), h("span", { class: "label" }, label));
}

/** Pick the most detailed layout under which every card is inside the section. */
export function fitCards(cards: Cards): Density {
  const { section } = cards;
  for (const [density, columns] of LAYOUTS) {
    apply(cards, density, columns);
    if (fits(section)) return density;
  }
  return section.dataset.density as Density;
}

function apply(cards: Cards, density: Density, columns: number): void {
  cards.section.dataset.density = density;
  cards.section.style.setProperty("--cols", String(columns));
  cards.section.style.setProperty("--name-w", `${Math.ceil(longestName(cards.grid)) + 1}px`);
  // One header per column names the figures once the cards drop their own labels.
  const names = [t("wall.building"), t("counters.alarms"), ...(density === "compact" ? [t("counters.overdue_short")] : []), t("counters.payment")];
  replace(cards.head, ...Array.from({ length: density === "full" ? 0 : columns }, () => h("div", { class: "card-head" }, ...names.map((n) => h("span", {}, n)))));
}

/** Return the width of the longest building name as drawn now, however wide its box is. */
function longestName(grid: HTMLElement): number {
  const range = document.createRange();
  let widest = 0;
  for (const name of grid.querySelectorAll(".name")) {
    range.selectNodeContents(name);
    widest = Math.max(widest, range.getBoundingClientRect().width);
  }
  return widest;
}

/** Whether the section shows all it holds, and leaves the 3D view most of the screen. */
function fits(section: HTMLElement): boolean {
  const last = section.querySelector(".cards")?.lastElementChild;
  const box = section.getBoundingClientRect();
  const inside = !last || last.getBoundingClientRect().bottom <= box.bottom + 0.5;
  const overflowing = section.scrollHeight > section.clientHeight + 0.5 || section.scrollWidth > section.clientWidth + 0.5;
  return inside && !overflowing && box.width <= window.innerWidth * 0.6;
}
