/**
 * A building opened up: its floors as slabs, one of them focused. Four ways to show the
 * others: stacked (all solid), isolate (others hidden), ghost (others faint) and exploded
 * (floors pulled apart vertically so each can be seen from the side).
 */
import { EdgesGeometry, Group, LineBasicMaterial, LineSegments, Mesh, MeshStandardMaterial } from "three";
import type { FloorSummary } from "../types";
import { mix } from "../catalogue";
import { prism } from "./geometry";
import type { BuildingView } from "./site";

/** A floor slab's resting colour. */
const SLAB = "#6d8fbf";

export type FloorMode = "stacked" | "isolate" | "ghost" | "exploded";
export const FLOOR_MODES: FloorMode[] = ["stacked", "isolate", "ghost", "exploded"];

export interface SlabLook {
  visible: boolean;
  opacity: number;
  offset: number;
}

/** Return the floors from the lowest level up. */
export function sortFloors<T extends { level: number; elevation: number }>(floors: readonly T[]): T[] {
  return [...floors].sort((a, b) => a.level - b.level || a.elevation - b.elevation);
}

/** Decide how each floor looks under a mode; the focused floor is always fully shown. */
export function slabLooks(
  floors: readonly FloorSummary[],
  focusedId: string | null,
  mode: FloorMode,
  gap = 8,
): Map<string, SlabLook> {
  const looks = new Map<string, SlabLook>();
  sortFloors(floors).forEach((floor, index) => {
    const id = String(floor.id);
    const focused = id === focusedId;
    const offset = mode === "exploded" ? index * gap : 0;
    if (focused || focusedId === null) looks.set(id, { visible: true, opacity: focused ? 0.25 : 0.85, offset });
    else if (mode === "isolate") looks.set(id, { visible: false, opacity: 0, offset });
    else if (mode === "ghost") looks.set(id, { visible: true, opacity: 0.07, offset });
    else looks.set(id, { visible: true, opacity: mode === "exploded" ? 0.6 : 0.85, offset });
  });
  if (focusedId !== null && mode === "stacked") {
    // Floors above the focused one would hide it: lift them off like a lid.
    const levelOf = new Map(floors.map((f) => [String(f.id), f.level]));
    const focusLevel = levelOf.get(focusedId) ?? 0;
    for (const [id, look] of looks) if ((levelOf.get(id) ?? 0) > focusLevel) look.visible = false;
  }
  return looks;
}

/** Return the floor after (+1) or before (-1) the current one, staying at the ends. */
export function stepFloor(floors: readonly FloorSummary[], currentId: string | null, step: 1 | -1): string | null {
  const sorted = sortFloors(floors);
  if (sorted.length === 0) return null;
  const index = sorted.findIndex((f) => String(f.id) === currentId);
  if (index < 0) return String(sorted[step > 0 ? 0 : sorted.length - 1]?.id);
  const next = sorted[Math.min(sorted.length - 1, Math.max(0, index + step))];
  return next ? String(next.id) : null;
}

/** The slabs of one building and which floor is in focus. */
export class FloorStack {
  readonly group = new Group();
  private readonly slabs = new Map<string, { mesh: Mesh; edges: LineSegments }>();
  mode: FloorMode = "ghost";
  focused: string | null = null;

  constructor(readonly building: BuildingView) {
    this.group.name = `floors:${building.data.id}`;
    for (const floor of building.data.floors) {
      const geometry = prism(building.data.footprint, floor.elevation, Math.max(0.3, floor.height * 0.9));
      const mesh = new Mesh(
        geometry,
        new MeshStandardMaterial({ color: SLAB, roughness: 0.6, transparent: true, opacity: 0.85, depthWrite: false }),
      );
      mesh.userData.floorId = String(floor.id);
      const edges = new LineSegments(
        new EdgesGeometry(geometry, 20),
        new LineBasicMaterial({ color: "#9fd3ff", transparent: true, opacity: 0.5 }),
      );
      this.slabs.set(String(floor.id), { mesh, edges });
      this.group.add(mesh, edges);
    }
  }

  /** Tint each floor by the colour of its worst active alarm (absent: its resting colour). */
  tint(colours: ReadonlyMap<string, string>): void {
    for (const [id, { mesh }] of this.slabs) {
      const colour = colours.get(id);
      const material = mesh.material as MeshStandardMaterial;
      material.color.set(colour === undefined ? SLAB : mix(SLAB, colour, 0.8));
      material.emissive.set(colour === undefined ? "#000000" : colour);
      material.emissiveIntensity = colour === undefined ? 0 : 0.4;
    }
  }

  /** Show the floors in place of the building's shell. */
  open(): void {
    this.building.shell.visible = false;
    this.building.edges.visible = false;
    const bim = this.building.group.userData.bim as Group | undefined;
    if (bim) bim.visible = false;
    this.building.group.add(this.group);
    this.apply();
  }

  /** Put the shell back. */
  close(): void {
    this.building.group.remove(this.group);
    const bim = this.building.group.userData.bim as Group | undefined;
    this.building.shell.visible = true;
    if (bim) bim.visible = true;
    else this.building.edges.visible = true;
  }

  /** Focus a floor (or none) and redraw the slabs. */
  focus(floorId: string | null): void {
    this.focused = floorId;
    this.apply();
  }

  /** Change how the other floors are shown. */
  setMode(mode: FloorMode): void {
    this.mode = mode;
    this.apply();
  }

  /** Return the vertical shift of a floor in the current mode (non-zero when exploded). */
  offsetOf(floorId: string): number {
    return slabLooks(this.building.data.floors, this.focused, this.mode).get(floorId)?.offset ?? 0;
  }

  private apply(): void {
    const looks = slabLooks(this.building.data.floors, this.focused, this.mode);
    for (const [id, { mesh, edges }] of this.slabs) {
      const look = looks.get(id);
      if (!look) continue;
      const material = mesh.material as MeshStandardMaterial;
      const focused = id === this.focused;
      mesh.visible = look.visible && !focused;
      edges.visible = look.visible;
      material.opacity = look.opacity;
      (edges.material as LineBasicMaterial).opacity = focused ? 0.9 : Math.min(0.5, look.opacity + 0.1);
      mesh.position.z = look.offset;
      edges.position.z = look.offset;
    }
  }
}
