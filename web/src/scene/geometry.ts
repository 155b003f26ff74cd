/** Turn local-frame polygons and polylines into three.js geometry (all in the local frame). */
import { BufferGeometry, ExtrudeGeometry, Float32BufferAttribute, Shape, ShapeGeometry, Vector2 } from "three";
import type { XY } from "../types";

/** Build a shape from a ring, dropping the closing point that repeats the first. */
export function shapeOf(ring: readonly XY[]): Shape {
  const points = ring.map(([x, y]) => new Vector2(x, y));
  const first = points[0];
  const last = points[points.length - 1];
  if (points.length > 1 && first && last && first.equals(last)) points.pop();
  return new Shape(points);
}

/** Extrude a ring upwards from `base` by `height` metres. */
export function prism(ring: readonly XY[], base: number, height: number): ExtrudeGeometry {
  const geometry = new ExtrudeGeometry(shapeOf(ring), { depth: Math.max(0.01, height), bevelEnabled: false });
  geometry.translate(0, 0, base);
  return geometry;
}

/** A flat polygon lying at height `z`. */
export function flat(ring: readonly XY[], z: number): ShapeGeometry {
  const geometry = new ShapeGeometry(shapeOf(ring));
  geometry.translate(0, 0, z);
  return geometry;
}

/** A flat band `width` metres wide along a polyline, for roads. */
export function ribbon(line: readonly XY[], width: number, z: number): BufferGeometry {
  const half = width / 2;
  const positions: number[] = [];
  for (let i = 0; i + 1 < line.length; i++) {
    const a = line[i];
    const b = line[i + 1];
    if (!a || !b) continue;
    const dx = b[0] - a[0];
    const dy = b[1] - a[1];
    const length = Math.hypot(dx, dy);
    if (length === 0) continue;
    const nx = (-dy / length) * half;
    const ny = (dx / length) * half;
    const quad = [
      [a[0] + nx, a[1] + ny], [a[0] - nx, a[1] - ny], [b[0] - nx, b[1] - ny],
      [a[0] + nx, a[1] + ny], [b[0] - nx, b[1] - ny], [b[0] + nx, b[1] + ny],
    ];
    for (const [x, y] of quad) positions.push(x ?? 0, y ?? 0, z);
  }
  const geometry = new BufferGeometry();
  geometry.setAttribute("position", new Float32BufferAttribute(positions, 3));
  geometry.computeVertexNormals();
  return geometry;
}

/** Return the bounding box of some rings, as [minX, minY, maxX, maxY]. */
export function bounds(rings: Iterable<readonly XY[]>): [number, number, number, number] {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const ring of rings) {
    for (const [x, y] of ring) {
      minX = Math.min(minX, x);
      minY = Math.min(minY, y);
      maxX = Math.max(maxX, x);
      maxY = Math.max(maxY, y);
    }
  }
  if (minX === Infinity) return [-100, -100, 100, 100];
  return [minX, minY, maxX, maxY];
}

/** Return the centroid of a ring's vertices: good enough to aim a camera or place a label. */
export function centreOf(ring: readonly XY[]): XY {
  if (ring.length === 0) return [0, 0];
  let x = 0;
  let y = 0;
  for (const [px, py] of ring) {
    x += px;
    y += py;
  }
  return [x / ring.length, y / ring.length];
}
