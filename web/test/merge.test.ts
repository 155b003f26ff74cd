import { describe, expect, it } from "vitest";
import { BoxGeometry, Group, Mesh, MeshStandardMaterial, Vector3 } from "three";
import { lookOf, mergeByMaterial } from "../src/scene/merge";

/** Two storeys as two GLBs bring them: each its own copy of the same wall material. */
function storeys(): Group {
  const root = new Group();
  for (const z of [0, 3]) {
    const storey = new Group();
    storey.position.set(10, 0, z);
    const wall = new Mesh(new BoxGeometry(1, 1, 1), new MeshStandardMaterial({ color: "#999999", roughness: 0.9 }));
    wall.position.x = 2;
    const glass = new Mesh(new BoxGeometry(1, 1, 1), new MeshStandardMaterial({ color: "#bbccbb", transparent: true, opacity: 0.7 }));
    storey.add(wall, glass);
    root.add(storey);
  }
  return root;
}

describe("static geometry merged by material", () => {
  it("draws every element of every storey in one mesh per look, where it stood", () => {
    const merged = mergeByMaterial(storeys());
    expect(merged).toHaveLength(2);
    const wall = merged.find((m) => !(m.material as MeshStandardMaterial).transparent);
    expect(wall?.geometry.getAttribute("position").count).toBe(2 * 24);
    wall?.geometry.computeBoundingBox();
    const box = wall?.geometry.boundingBox;
    // The walls stood at x = 12 in both storeys, one at z = 0 and one at z = 3.
    expect(box?.min.toArray()).toEqual([11.5, -0.5, -0.5]);
    expect(box?.max.toArray()).toEqual([12.5, 0.5, 3.5]);
  });

  it("tells looks apart by what is drawn, not by which copy of a material it is", () => {
    const a = new MeshStandardMaterial({ color: "#999999" });
    expect(lookOf(a)).toBe(lookOf(a.clone()));
    expect(lookOf(a)).not.toBe(lookOf(new MeshStandardMaterial({ color: "#999999", transparent: true, opacity: 0.7 })));
  });

  it("keeps the triangles facing outwards under a mirroring placement", () => {
    const root = new Group();
    const mesh = new Mesh(new BoxGeometry(1, 1, 1), new MeshStandardMaterial());
    mesh.scale.set(-1, 1, 1);
    root.add(mesh);
    const [merged] = mergeByMaterial(root);
    const position = merged?.geometry.getAttribute("position");
    const index = merged?.geometry.getIndex();
    if (!position || !index) throw new Error("nothing merged");
    // Each triangle's normal (by its winding) still points away from the box's centre.
    for (let i = 0; i < index.count; i += 3) {
      const [a, b, c] = [0, 1, 2].map((k) => new Vector3().fromBufferAttribute(position, index.getX(i + k)));
      if (!a || !b || !c) continue;
      const normal = new Vector3().crossVectors(b.clone().sub(a), c.clone().sub(a));
      const centre = a.clone().add(b).add(c).divideScalar(3);
      expect(normal.dot(centre)).toBeGreaterThan(0);
    }
  });
});
