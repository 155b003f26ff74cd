/** A ring that swells and fades at a place that needs eyes: the alarm the wall flew to. */
import { DoubleSide, Mesh, MeshBasicMaterial, RingGeometry } from "three";
import type { XYZ } from "../types";

/** Return a ring's scale and opacity `ms` into its one-second beat. */
export function beat(ms: number): { scale: number; opacity: number } {
  const phase = (ms % 1000) / 1000;
  return { scale: 1 + phase * 5, opacity: 1 - phase };
}

/** A pulsing ring lying at a local-frame point; add it under the site group. */
export class Pulse {
  readonly mesh: Mesh;
  private started: number | null = null;

  constructor(at: XYZ, colour: string) {
    this.mesh = new Mesh(
      new RingGeometry(0.9, 1.3, 40),
      new MeshBasicMaterial({ color: colour, transparent: true, side: DoubleSide, depthTest: false }),
    );
    this.mesh.position.set(at[0], at[1], at[2] + 0.1);
    this.mesh.renderOrder = 10;
  }

  /** Advance the animation to `now` (ms). */
  tick(now: number): void {
    this.started ??= now;
    const { scale, opacity } = beat(now - this.started);
    this.mesh.scale.setScalar(scale);
    (this.mesh.material as MeshBasicMaterial).opacity = opacity;
  }
}
