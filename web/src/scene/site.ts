/**
 * The site at a glance: the ground, green areas, roads, the boundary and every building,
 * as its BIM model where one was imported, an extruded footprint otherwise.
 */
import {
  BufferGeometry,
  Color,
  DoubleSide,
  EdgesGeometry,
  Float32BufferAttribute,
  Group,
  Line,
  LineBasicMaterial,
  LineSegments,
  Matrix4,
  Mesh,
  MeshStandardMaterial,
  PlaneGeometry,
} from "three";
import { GLTFLoader } from "three/examples/jsm/loaders/GLTFLoader.js";
import { colourOf, mix } from "../catalogue";
import { FRAME_MATRIX } from "../frame";
import type { Building, Catalogue, Scene, XY } from "../types";
import { bounds, centreOf, flat, prism, ribbon } from "./geometry";
import { mergeByMaterial } from "./merge";

const BUILDING = "#5c7fa8";
const GROUND = "#111b2c";
const ROAD = "#26344a";
const GREEN = "#1f4a3a";
const EDGE = "#9fd3ff";
const ZONE = "#e9c46a";
const PARKING = "#2a3446";
const WATER = "#1b4f72";

export interface BuildingView {
  data: Building;
  group: Group;
  shell: Mesh;
  edges: LineSegments;
  centre: XY;
}

export interface SiteView {
  group: Group;
  buildings: Map<string, BuildingView>;
  extent: [number, number, number, number];
}

/** Build the site's meshes under a new group in the local frame. */
export function buildSite(scene: Scene, catalogue: Catalogue): SiteView {
  const group = new Group();
  group.name = "site";
  const rings: XY[][] = scene.buildings.map((b) => b.footprint);
  rings.push(...scene.layers.roads, ...scene.layers.green, ...scene.layers.zones);
  if (scene.layers.boundary) rings.push(scene.layers.boundary);
  const extent = bounds(rings);
  group.add(ground(extent));

  for (const zone of scene.layers.zones) if (zone.length >= 3) group.add(outline(zone, 0.08, ZONE));
  const parkingMaterial = new MeshStandardMaterial({ color: PARKING, roughness: 1 });
  for (const area of scene.layers.parking) if (area.length >= 3) group.add(new Mesh(flat(area, 0.02), parkingMaterial));
  const waterMaterial = new MeshStandardMaterial({ color: WATER, roughness: 0.3 });
  for (const area of scene.layers.water) if (area.length >= 3) group.add(new Mesh(flat(area, 0.025), waterMaterial));
  const greenMaterial = new MeshStandardMaterial({ color: GREEN, roughness: 1 });
  for (const area of scene.layers.green) if (area.length >= 3) group.add(new Mesh(flat(area, 0.03), greenMaterial));
  const roadMaterial = new MeshStandardMaterial({ color: ROAD, roughness: 0.9, side: DoubleSide });
  for (const road of scene.layers.roads) if (road.length >= 2) group.add(new Mesh(ribbon(road, 7, 0.06), roadMaterial));
  if (scene.layers.boundary) group.add(outline(scene.layers.boundary, 0.1, "#3d8bfd"));

  const buildings = new Map<string, BuildingView>();
  for (const building of scene.buildings) {
    if (building.footprint.length < 3) continue;
    const view = buildingView(building);
    tintBuilding(view, catalogue, scene.counters[String(building.id)]?.worst_severity ?? null);
    buildings.set(String(building.id), view);
    group.add(view.group);
  }
  return { group, buildings, extent };
}

/** Tint a building by its worst active alarm, or give it back its resting colour. */
export function tintBuilding(view: BuildingView, catalogue: Catalogue, severity: string | null): void {
  const material = view.shell.material as MeshStandardMaterial;
  const colour = severity === null ? BUILDING : mix(BUILDING, colourOf(catalogue, "alarm_severity", severity), 0.75);
  material.color.set(colour);
  material.emissive.set(severity === null ? "#000000" : colour);
  material.emissiveIntensity = severity === null ? 0 : 0.35;
}

/**
 * Load a building's storeys from its imported model in place of the extruded shell. A GLB is
 * Y-up in its model's frame: undo glTF's axes, then apply the building's model→site matrix.
 * The shell stays as an invisible pick target so clicking the model still opens the building.
 */
export async function loadBim(view: BuildingView, token: string | null): Promise<void> {
  const files = view.data.glb;
  if (!files || files.length === 0) return;
  const loader = new GLTFLoader();
  if (token) loader.setRequestHeader({ Authorization: `Bearer ${token}` });
  const models = await Promise.all(files.map((file) => loader.loadAsync(file.url)));
  const placed = new Group();
  models.forEach((model, i) => {
    const storey = new Group();
    storey.matrixAutoUpdate = false;
    storey.matrix.copy(placement(files[i]?.modelToSite ?? null).multiply(FRAME_MATRIX.clone().invert()));
    storey.add(model.scene);
    placed.add(storey);
  });
  // Every storey's elements in one mesh per material: a few draw calls a building, not thousands.
  const holder = new Group();
  holder.name = `bim:${view.data.id}`;
  holder.add(...mergeByMaterial(placed));
  view.group.add(holder);
  (view.shell.material as MeshStandardMaterial).visible = false;
  view.edges.visible = false;
  view.group.userData.bim = holder;
}

/** Return a row-major 4×4 placement as a matrix, or the identity when there is none. */
export function placement(rows: number[][] | null): Matrix4 {
  const m = new Matrix4();
  if (!rows || rows.length !== 4 || rows.some((r) => r.length !== 4)) return m;
  const v = rows.flat();
  return m.set(...(v as [number, number, number, number, number, number, number, number, number, number, number, number, number, number, number, number]));
}

function buildingView(building: Building): BuildingView {
  const group = new Group();
  group.name = `building:${building.id}`;
  const geometry = prism(building.footprint, 0, building.height);
  const shell = new Mesh(
    geometry,
    new MeshStandardMaterial({ color: BUILDING, roughness: 0.55, metalness: 0.15, transparent: true, opacity: 0.96 }),
  );
  shell.userData.buildingId = String(building.id);
  const edges = new LineSegments(
    new EdgesGeometry(geometry, 20),
    new LineBasicMaterial({ color: EDGE, transparent: true, opacity: 0.45 }),
  );
  group.add(shell, edges);
  group.add(floorLines(building));
  return { data: building, group, shell, edges, centre: centreOf(building.footprint) };
}

/** Thin rings at each floor line give a tower its scale from far away: one draw for all of them. */
function floorLines(building: Building): LineSegments {
  const points: number[] = [];
  const ring = building.footprint;
  for (const floor of building.floors) {
    if (floor.elevation <= 0.5 || floor.elevation >= building.height - 0.5) continue;
    ring.forEach(([x, y], i) => {
      const [nx, ny] = ring[(i + 1) % ring.length] ?? [x, y];
      points.push(x, y, floor.elevation, nx, ny, floor.elevation);
    });
  }
  const geometry = new BufferGeometry();
  geometry.setAttribute("position", new Float32BufferAttribute(points, 3));
  return new LineSegments(geometry, new LineBasicMaterial({ color: EDGE, transparent: true, opacity: 0.18 }));
}

function ground(extent: [number, number, number, number]): Group {
  const [minX, minY, maxX, maxY] = extent;
  const size = Math.max(maxX - minX, maxY - minY) * 3 + 400;
  const plane = new Mesh(new PlaneGeometry(size, size), new MeshStandardMaterial({ color: GROUND, roughness: 1 }));
  plane.position.set((minX + maxX) / 2, (minY + maxY) / 2, 0);
  plane.name = "ground";
  const holder = new Group();
  holder.add(plane, gridLines(extent, 50));
  return holder;
}

function gridLines(extent: [number, number, number, number], step: number): LineSegments {
  const [minX, minY, maxX, maxY] = extent.map((v, i) => (i < 2 ? Math.floor(v / step) * step - step * 4 : Math.ceil(v / step) * step + step * 4)) as [
    number,
    number,
    number,
    number,
  ];
  const points: number[] = [];
  for (let x = minX; x <= maxX; x += step) points.push(x, minY, 0.01, x, maxY, 0.01);
  for (let y = minY; y <= maxY; y += step) points.push(minX, y, 0.01, maxX, y, 0.01);
  const geometry = new BufferGeometry();
  geometry.setAttribute("position", new Float32BufferAttribute(points, 3));
  return new LineSegments(geometry, new LineBasicMaterial({ color: new Color("#1d2b42"), transparent: true, opacity: 0.8 }));
}

function outline(ring: readonly XY[], z: number, colour: string): Line {
  const points: number[] = [];
  for (const [x, y] of ring) points.push(x, y, z);
  const first = ring[0];
  if (first) points.push(first[0], first[1], z);
  const geometry = new BufferGeometry();
  geometry.setAttribute("position", new Float32BufferAttribute(points, 3));
  return new Line(geometry, new LineBasicMaterial({ color: colour }));
}
