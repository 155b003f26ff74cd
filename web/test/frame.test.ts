import { Group, Vector3 } from "three";
import { describe, expect, it } from "vitest";
import { FRAME_MATRIX, headingOf, toLocal, toThree } from "../src/frame";

describe("frame", () => {
  it("maps east, north, up to three.js x, -z, y", () => {
    expect(toThree(1, 0, 0)).toEqual([1, 0, -0]);
    expect(toThree(0, 1, 0)).toEqual([0, 0, -1]);
    expect(toThree(0, 0, 1)).toEqual([0, 1, -0]);
  });

  it("agrees with the group matrix for any point", () => {
    const group = new Group();
    group.matrixAutoUpdate = false;
    group.matrix.copy(FRAME_MATRIX);
    group.updateMatrixWorld(true);
    for (const [x, y, z] of [[12.5, -40, 3], [0, 0, 0], [-7, 99, 54.3]] as const) {
      const p = new Vector3(x, y, z).applyMatrix4(group.matrixWorld);
      const [ex, ey, ez] = toThree(x, y, z);
      expect(p.x).toBeCloseTo(ex);
      expect(p.y).toBeCloseTo(ey);
      expect(p.z).toBeCloseTo(ez);
      const back = toLocal(p);
      expect(back[0]).toBeCloseTo(x);
      expect(back[1]).toBeCloseTo(y);
      expect(back[2]).toBeCloseTo(z);
    }
  });

  it("is a rotation, so extruded faces keep their outward normals", () => {
    expect(FRAME_MATRIX.determinant()).toBeCloseTo(1);
  });

  it("gives compass headings clockwise from north", () => {
    expect(headingOf(new Vector3(...toThree(0, 1, 0)))).toBeCloseTo(0);
    expect(headingOf(new Vector3(...toThree(1, 0, 0)))).toBeCloseTo(90);
    expect(headingOf(new Vector3(...toThree(0, -1, 0)))).toBeCloseTo(180);
    expect(headingOf(new Vector3(...toThree(-1, 0, -5)))).toBeCloseTo(270);
  });
});
