/** The rooms of the focused floor: flat fills coloured by the chosen layer, with low wall lines. */
import { type BufferGeometry, DoubleSide, EdgesGeometry, Group, LineBasicMaterial, LineSegments, Mesh, MeshStandardMaterial, type Raycaster } from "three";
import type { Space } from "../types";
import { mergeGeometries } from "three/examples/jsm/utils/BufferGeometryUtils.js";
import { flat, prism } from "./geometry";

/** The spaces of one floor, drawn and pickable. */
export class SpaceLayer {
  readonly group = new Group();
  private readonly fills = new Map<string, Mesh>();

  constructor(
    readonly spaces: readonly Space[],
    elevation: number,
    colourOf: (space: Space) => string,
  ) {
    const walls: BufferGeometry[] = [];
    for (const space of spaces) {
      if (space.polygon.length < 3) continue;
      const fill = new Mesh(
        flat(space.polygon, elevation + 0.05),
        new MeshStandardMaterial({ color: colourOf(space), roughness: 0.8, transparent: true, opacity: 0.9, side: DoubleSide }),
      );
      fill.userData.spaceId = String(space.id);
      this.fills.set(String(space.id), fill);
      walls.push(new EdgesGeometry(prism(space.polygon, elevation + 0.05, 1.2), 30));
      this.group.add(fill);
    }
    // Every room's low walls in one line set: one draw call for the floor, not one per room.
    const merged = walls.length > 0 ? mergeGeometries(walls, false) : null;
    if (merged) this.group.add(new LineSegments(merged, new LineBasicMaterial({ color: "#cfe6ff", transparent: true, opacity: 0.55 })));
    for (const part of walls) part.dispose();
  }

  /** Repaint every space, after a layer change or live news; return whether any colour changed. */
  recolour(colourOf: (space: Space) => string): boolean {
    let changed = false;
    for (const space of this.spaces) {
      const fill = this.fills.get(String(space.id));
      if (!fill) continue;
      const colour = (fill.material as MeshStandardMaterial).color;
      const before = colour.getHex();
      colour.set(colourOf(space));
      changed ||= colour.getHex() !== before;
    }
    return changed;
  }

  /** Return the colour each space's fill is painted now (as #rrggbb), for the browser tests. */
  painted(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [id, fill] of this.fills) out[id] = `#${(fill.material as MeshStandardMaterial).color.getHexString()}`;
    return out;
  }

  /** Return the space under a ray, if any. */
  pick(raycaster: Raycaster): Space | null {
    const hit = raycaster.intersectObjects([...this.fills.values()], false)[0];
    const id = hit?.object.userData.spaceId as string | undefined;
    return id === undefined ? null : (this.spaces.find((s) => String(s.id) === id) ?? null);
  }
}
