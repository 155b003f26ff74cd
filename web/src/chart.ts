/** A device's history as a uPlot chart: the average as a line, min–max as a band. */
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { History } from "./types";

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
  const axis = { stroke: "#9fb3c8", grid: { stroke: "#1e2d44", width: 1 }, ticks: { stroke: "#1e2d44" } };
  return new uPlot(
    {
      width,
      height: 170,
      legend: { show: false },
      cursor: { drag: { x: true, y: false } },
      scales: { x: { time: true } },
      axes: [axis, { ...axis, values: (_u, ticks) => ticks.map((v) => `${v}${unit}`), size: 60 }],
      series: [
        {},
        { stroke: colour, width: 2, spanGaps: false },
        { stroke: "transparent" },
        { stroke: "transparent" },
      ],
      bands: [{ series: [3, 2], fill: `${colour}33` }],
    },
    columns(history) as uPlot.AlignedData,
    container,
  );
}
