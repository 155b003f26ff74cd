/**
 * The one place where the site's local frame (x east, y north, z up, metres) meets three.js,
 * which is Y-up. Everything else builds geometry in the local frame under a group carrying
 * `FRAME_MATRIX`, or converts single points with `toThree`, so the axes cannot disagree.
 */
import { Matrix4, Vector3 } from "three";

/** Map a local (east, north, up) point to three.js coordinates: (x, z, -y). */
export function toThree(x: number, y: number, z: number): [number, number, number] {
  return [x, z, -y];
}

function basis(x: number, y: number, z: number): Vector3 {
  return new Vector3(...toThree(x, y, z));
}

/** The rotation that `toThree` is, as a matrix for a group holding local-frame geometry. */
export const FRAME_MATRIX: Matrix4 = new Matrix4().makeBasis(basis(1, 0, 0), basis(0, 1, 0), basis(0, 0, 1));

const INVERSE = FRAME_MATRIX.clone().invert();

/** Map a three.js point (a pick, a camera position) back to the local frame. */
export function toLocal(v: { x: number; y: number; z: number }): [number, number, number] {
  const p = new Vector3(v.x, v.y, v.z).applyMatrix4(INVERSE);
  return [p.x, p.y, p.z];
}

/** Return the compass heading in degrees (0 = north, 90 = east) of a direction in three.js space. */
export function headingOf(direction: { x: number; y: number; z: number }): number {
  const [east, north] = toLocal(direction);
  const degrees = (Math.atan2(east, north) * 180) / Math.PI;
  return (degrees + 360) % 360;
}
