/** The rooms of the focused floor: flat fills coloured by the chosen layer, with low wall lines. */
import { DoubleSide, EdgesGeometry, Group, LineBasicMaterial, LineSegments, Mesh, MeshStandardMaterial, type Raycaster } from "three";
import type { Space } from "../types";
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
    const wallMaterial = new LineBasicMaterial({ color: "#cfe6ff", transparent: true, opacity: 0.55 });
    for (const space of spaces) {
      if (space.polygon.length < 3) continue;
      const fill = new Mesh(
        flat(space.polygon, elevation + 0.05),
        new MeshStandardMaterial({ color: colourOf(space), roughness: 0.8, transparent: true, opacity: 0.9, side: DoubleSide }),
      );
      fill.userData.spaceId = String(space.id);
      this.fills.set(String(space.id), fill);
      const walls = new LineSegments(new EdgesGeometry(prism(space.polygon, elevation + 0.05, 1.2), 30), wallMaterial);
      this.group.add(fill, walls);
    }
  }

  /** Repaint every space, after a layer change or live news. */
  recolour(colourOf: (space: Space) => string): void {
    for (const space of this.spaces) {
      const fill = this.fills.get(String(space.id));
      if (fill) (fill.material as MeshStandardMaterial).color.set(colourOf(space));
    }
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
