/**
 * Static geometry merged by material. A storey GLB holds one node per IFC element (slab, each
 * wall, each door): some fifty draw calls a storey, five thousand for the demo's 110 storeys,
 * which is what a frame cost on a software GPU. Nothing picks those nodes (the building's
 * invisible shell is the pick target), so their triangles are baked into one mesh per material.
 */
import { BufferAttribute, BufferGeometry, type Color, type Material, Matrix4, Mesh, type Object3D } from "three";
import { mergeGeometries } from "three/examples/jsm/utils/BufferGeometryUtils.js";

/**
 * Return one mesh per distinct material of the meshes under `root`, their vertices moved into
 * `root`'s frame. The source geometries are disposed: the merged copies replace them.
 */
export function mergeByMaterial(root: Object3D): Mesh[] {
  root.updateMatrixWorld(true);
  const toRoot = root.matrixWorld.clone().invert();
  const byMaterial = new Map<string, { material: Material; geometries: BufferGeometry[] }>();
  const sources: BufferGeometry[] = [];
  const local = new Matrix4();
  root.traverse((object) => {
    if (!(object instanceof Mesh) || Array.isArray(object.material) || !object.visible) return;
    const source = object.geometry as BufferGeometry;
    sources.push(source);
    local.multiplyMatrices(toRoot, object.matrixWorld);
    const baked = bare(source).applyMatrix4(local);
    // A mirroring placement turns the triangles inside out once baked: wind them back.
    if (local.determinant() < 0) reverseWinding(baked);
    const material = object.material as Material;
    const key = lookOf(material);
    const entry = byMaterial.get(key) ?? { material, geometries: [] };
    entry.geometries.push(baked);
    byMaterial.set(key, entry);
  });
  const merged: Mesh[] = [];
  for (const { material, geometries } of byMaterial.values()) {
    const geometry = geometries.length === 1 ? geometries[0] : mergeGeometries(geometries, false);
    if (!geometry) continue;
    geometry.computeBoundingSphere();
    merged.push(new Mesh(geometry, material));
    if (geometries.length > 1) for (const part of geometries) part.dispose();
  }
  for (const source of sources) source.dispose();
  return merged;
}

/**
 * Return what a material looks like, as a key: each GLB brings its own copy of the same few
 * materials (one per colour), and copies that look alike share one merged mesh.
 */
export function lookOf(material: Material): string {
  const m = material as Material & Partial<Record<"color" | "emissive", Color>> & Record<string, unknown>;
  const texture = (m.map as { uuid?: string } | null | undefined)?.uuid ?? "";
  return [m.type, m.color?.getHexString(), m.emissive?.getHexString(), m.opacity, m.transparent, m.side, m.depthWrite,
    m.roughness, m.metalness, m.vertexColors, texture].join("|");
}

/** Copy the position and normal of a geometry, always indexed, so that any two can be merged. */
function bare(source: BufferGeometry): BufferGeometry {
  const geometry = new BufferGeometry();
  const position = source.getAttribute("position");
  geometry.setAttribute("position", position.clone());
  const index = source.getIndex();
  if (index) geometry.setIndex(index.clone());
  else geometry.setIndex([...Array(position.count).keys()]);
  if (source.getAttribute("normal")) geometry.setAttribute("normal", source.getAttribute("normal").clone());
  else geometry.computeVertexNormals();
  return geometry;
}

/** Swap the last two corners of every triangle of an indexed geometry. */
function reverseWinding(geometry: BufferGeometry): void {
  const index = geometry.getIndex();
  if (!index) return;
  const values = index.array;
  for (let i = 0; i + 2 < values.length; i += 3) {
    const b = values[i + 1] ?? 0;
    values[i + 1] = values[i + 2] ?? 0;
    values[i + 2] = b;
  }
  (index as BufferAttribute).needsUpdate = true;
}
