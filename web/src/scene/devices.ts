/**
 * Device icons: one instanced mesh for the icons, coloured by status, and one for the discs
 * under them, coloured by kind, so a floor of hundreds of devices costs two draw calls.
 */
import { CircleGeometry, Color, DynamicDrawUsage, Group, InstancedMesh, Matrix4, MeshBasicMaterial, MeshStandardMaterial, OctahedronGeometry, type Raycaster, Vector3 } from "three";
import type { PlacedDevice, XYZ } from "../types";

const ICON_SIZE = 0.55;
const LIFT = 1.1;

/** The devices of one floor, drawn and pickable. */
export class DeviceLayer {
  readonly group = new Group();
  private readonly icons: InstancedMesh;
  private readonly discs: InstancedMesh;
  private readonly index = new Map<string, number>();
  private readonly colour = new Color();
  private readonly held = new Color();

  constructor(
    readonly devices: readonly PlacedDevice[],
    kindColour: (kind: string) => string,
    private readonly statusColour: (device: PlacedDevice) => string,
    floorElevation: number,
  ) {
    const n = Math.max(1, devices.length);
    this.icons = new InstancedMesh(
      new OctahedronGeometry(ICON_SIZE, 0),
      new MeshStandardMaterial({ roughness: 0.35, metalness: 0.1, emissive: "#ffffff", emissiveIntensity: 0.15 }),
      n,
    );
    this.discs = new InstancedMesh(new CircleGeometry(ICON_SIZE * 1.3, 20), new MeshBasicMaterial({ transparent: true, opacity: 0.85 }), n);
    this.icons.instanceMatrix.setUsage(DynamicDrawUsage);
    const m = new Matrix4();
    devices.forEach((device, i) => {
      const [x, y, z] = placeOf(device.position, floorElevation);
      this.index.set(String(device.id), i);
      this.icons.setMatrixAt(i, m.makeTranslation(x, y, z + LIFT));
      this.discs.setMatrixAt(i, m.makeTranslation(x, y, floorElevation + 0.08));
      this.discs.setColorAt(i, this.colour.set(kindColour(device.kind)));
      this.icons.setColorAt(i, this.colour.set(statusColour(device)));
    });
    this.icons.count = devices.length;
    this.discs.count = devices.length;
    this.icons.computeBoundingSphere();
    this.group.add(this.discs, this.icons);
  }

  /**
   * Repaint the icons of some devices (all when `ids` is omitted); return whether any colour
   * changed. Most readings change no colour, and then there is nothing to upload or draw.
   */
  recolour(ids?: Iterable<string>): boolean {
    const list = ids ? [...ids] : this.devices.map((d) => String(d.id));
    let changed = false;
    for (const id of list) {
      const i = this.index.get(id);
      const device = i === undefined ? undefined : this.devices[i];
      if (i === undefined || !device) continue;
      this.icons.getColorAt(i, this.held);
      this.colour.set(this.statusColour(device));
      if (this.colour.equals(this.held)) continue;
      this.icons.setColorAt(i, this.colour);
      changed = true;
    }
    if (changed && this.icons.instanceColor) this.icons.instanceColor.needsUpdate = true;
    return changed;
  }

  /** Return the colour an icon is painted now and where it is in the world (for the browser tests). */
  probe(id: string): { colour: string; world: Vector3 } | null {
    const i = this.index.get(id);
    if (i === undefined) return null;
    const painted = new Color();
    this.icons.getColorAt(i, painted);
    const at = new Matrix4();
    this.icons.getMatrixAt(i, at);
    this.icons.updateWorldMatrix(true, false);
    return { colour: `#${painted.getHexString()}`, world: new Vector3().setFromMatrixPosition(at).applyMatrix4(this.icons.matrixWorld) };
  }

  /** Return the device under a ray, if any. */
  pick(raycaster: Raycaster): PlacedDevice | null {
    const hit = raycaster.intersectObject(this.icons, false)[0];
    if (hit?.instanceId === undefined) return null;
    return this.devices[hit.instanceId] ?? null;
  }

  /** Return where an icon is drawn, in the local frame. */
  positionOf(id: string, floorElevation: number): XYZ | null {
    const i = this.index.get(id);
    const device = i === undefined ? undefined : this.devices[i];
    if (!device) return null;
    const [x, y, z] = placeOf(device.position, floorElevation);
    return [x, y, z + LIFT];
  }

  /** Return how many devices are drawn. */
  get count(): number {
    return this.devices.length;
  }
}

/** Keep a device on its floor even when its height is given relative to the floor or missing. */
export function placeOf(position: XYZ, floorElevation: number): XYZ {
  const [x, y, z] = position;
  return [x, y, z < floorElevation - 0.5 ? floorElevation + z : z];
}
