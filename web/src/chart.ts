/**
 * A device's history as a uPlot chart: the average as a line, min–max as a band. The axes are
 * named in the page's language, times are written the zh-CN or English way, and the value axis
 * carries the quantity and its unit.
 */
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { lang, t } from "./i18n";
import type { History } from "./types";

/** Write the time axis's ticks as the page's language does (24-hour clock, day and month for long spans). */
export function timeTicks(ticks: readonly number[], language: "zh" | "en"): string[] {
  const locale = language === "zh" ? "zh-CN" : "en-GB";
  const span = ticks.length > 1 ? (ticks[ticks.length - 1] ?? 0) - (ticks[0] ?? 0) : 0;
  const format = new Intl.DateTimeFormat(
    locale,
    span > 2 * 86_400 ? { month: "numeric", day: "numeric" } : { hour: "2-digit", minute: "2-digit", hour12: false },
  );
  return ticks.map((s) => format.format(new Date(s * 1000)));
}

/** Split history points into uPlot's columns, leaving gaps where the server had no data. */
export function columns(history: History): [number[], (number | null)[], (number | null)[], (number | null)[]] {
  const xs: number[] = [];
  const avg: (number | null)[] = [];
  const min: (number | null)[] = [];
  const max: (number | null)[] = [];
  for (const [time, a, lo, hi] of history.points) {
    xs.push(time);
    avg.push(a);
    min.push(lo);
    max.push(hi);
  }
  return [xs, avg, min, max];
}

/** Draw a history chart into `container`, as wide as it is. */
export function historyChart(container: HTMLElement, history: History, colour: string): uPlot {
  const width = Math.max(260, container.clientWidth || 320);
  const unit = history.unit ? ` ${history.unit}` : "";
  const axis = { stroke: "#9fb3c8", grid: { stroke: "#1e2d44", width: 1 }, ticks: { stroke: "#1e2d44" }, labelSize: 18 };
  const language = lang();
  return new uPlot(
    {
      width,
      height: 170,
      legend: { show: false },
      cursor: { drag: { x: true, y: false } },
      scales: { x: { time: true, range: [history.from, history.to] } },
      axes: [
        { ...axis, label: t("chart.time"), values: (_u, ticks) => timeTicks(ticks, language) },
        { ...axis, label: `${history.quantity}${history.unit ? ` (${history.unit})` : ""}`, values: (_u, ticks) => ticks.map((v) => `${v}${unit}`), size: 64 },
      ],
      series: [
        { label: t("chart.time") },
        { label: t("chart.avg"), stroke: colour, width: 2, spanGaps: false },
        { label: t("chart.range"), stroke: "transparent" },
        { label: t("chart.range"), stroke: "transparent" },
      ],
      bands: [{ series: [3, 2], fill: `${colour}33` }],
    },
    columns(history) as uPlot.AlignedData,
    container,
  );
}
