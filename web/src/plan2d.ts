/**
 * The floor as a 2D plan (SVG), for tablets: the same rooms, colours and pins as the 3D view,
 * north up, and optionally a route drawn across it.
 */
import type { FloorPlan, PlacedDevice, Space, XY } from "./types";
import { bounds } from "./scene/geometry";

const SVG = "http://www.w3.org/2000/svg";

export interface PlanOptions {
  spaceColour: (space: Space) => string;
  deviceColour: (device: PlacedDevice) => string;
  kindColour: (kind: string) => string;
  onDevice?: (device: PlacedDevice) => void;
  onSpace?: (space: Space) => void;
  /** Which devices get a pin. */
  filter?: (device: PlacedDevice) => boolean;
  /** What to write in each room; nothing by default. */
  spaceLabel?: (space: Space) => string;
}

/** Return the SVG `points` of a ring, flipping y so north is up. */
export function svgPoints(ring: readonly XY[]): string {
  return ring.map(([x, y]) => `${round(x)},${round(-y)}`).join(" ");
}

/** Return the viewBox that frames a plan with a margin. */
export function viewBoxOf(plan: FloorPlan, margin = 3): string {
  const [minX, minY, maxX, maxY] = bounds([...plan.spaces.map((s) => s.polygon), ...plan.devices.map((d): XY[] => [[d.position[0], d.position[1]]])]);
  return `${round(minX - margin)} ${round(-maxY - margin)} ${round(maxX - minX + 2 * margin)} ${round(maxY - minY + 2 * margin)}`;
}

/** A drawn plan that can repaint itself and carry a route. */
export class PlanView {
  readonly svg: SVGSVGElement;
  private readonly fills = new Map<string, SVGPolygonElement>();
  private readonly pins = new Map<string, SVGCircleElement>();
  private readonly overlay: SVGGElement;

  constructor(
    readonly plan: FloorPlan,
    private readonly options: PlanOptions,
  ) {
    this.svg = document.createElementNS(SVG, "svg");
    this.svg.setAttribute("viewBox", viewBoxOf(plan));
    this.svg.setAttribute("class", "plan2d");
    this.svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
    const rooms = el("g", { class: "rooms" });
    for (const space of plan.spaces) {
      if (space.polygon.length < 3) continue;
      const polygon = el("polygon", { points: svgPoints(space.polygon), class: "room", "data-space": String(space.id) }) as SVGPolygonElement;
      polygon.addEventListener("click", () => options.onSpace?.(space));
      this.fills.set(String(space.id), polygon);
      rooms.appendChild(polygon);
      const label = options.spaceLabel?.(space);
      if (label) {
        const [cx, cy] = centre(space.polygon);
        const text = el("text", { x: round(cx), y: round(-cy), class: "room-label" });
        text.textContent = label;
        rooms.appendChild(text);
      }
    }
    this.overlay = el("g", { class: "route" }) as SVGGElement;
    const pins = el("g", { class: "pins" });
    for (const device of plan.devices) {
      if (options.filter && !options.filter(device)) continue;
      const [x, y] = device.position;
      const group = el("g", { class: "pin", "data-device": String(device.id), transform: `translate(${round(x)},${round(-y)})` });
      group.appendChild(el("circle", { r: 0.95, class: "pin-kind", fill: options.kindColour(device.kind) }));
      const dot = el("circle", { r: 0.6, class: "pin-status" }) as SVGCircleElement;
      group.appendChild(dot);
      const title = el("title", {});
      title.textContent = `${device.name} ${device.tag}`;
      group.appendChild(title);
      group.addEventListener("click", (event) => {
        event.stopPropagation();
        options.onDevice?.(device);
      });
      this.pins.set(String(device.id), dot);
      pins.appendChild(group);
    }
    this.svg.append(rooms, this.overlay, pins);
    this.recolour();
  }

  /** Repaint rooms and pins from the current colours. */
  recolour(): void {
    for (const space of this.plan.spaces) this.fills.get(String(space.id))?.setAttribute("fill", this.options.spaceColour(space));
    for (const device of this.plan.devices) this.pins.get(String(device.id))?.setAttribute("fill", this.options.deviceColour(device));
  }

  /** Draw a route (local-frame points) with numbered stops, or clear it with an empty list. */
  route(points: readonly XY[], stops: readonly XY[] = [], activeStop = -1): void {
    this.overlay.replaceChildren();
    if (points.length >= 2) this.overlay.appendChild(el("polyline", { points: svgPoints(points), class: "route-line" }));
    stops.forEach(([x, y], i) => {
      const g = el("g", { transform: `translate(${round(x)},${round(-y)})`, class: i === activeStop ? "stop active" : "stop" });
      g.appendChild(el("circle", { r: 1.6 }));
      const label = el("text", { y: 0.6 });
      label.textContent = String(i + 1);
      g.appendChild(label);
      this.overlay.appendChild(g);
    });
  }

  /** Mark one place (an alarm) with a pulsing ring. */
  mark(at: XY | null): void {
    this.svg.querySelector(".mark")?.remove();
    if (!at) return;
    this.svg.appendChild(el("circle", { cx: round(at[0]), cy: round(-at[1]), r: 2.5, class: "mark" }));
  }
}

function el(tag: string, attrs: Record<string, string | number>): SVGElement {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

function centre(ring: readonly XY[]): XY {
  const [minX, minY, maxX, maxY] = bounds([ring]);
  return [(minX + maxX) / 2, (minY + maxY) / 2];
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}
