/**
 * The server's answers as the view uses them. The API speaks GeoJSON, ISO times and lists
 * of latest values; the view wants rings, seconds and maps. Converting here, in one place,
 * keeps the drawing code simple. The answers are typed by the server's OpenAPI document, so
 * nothing here invents a missing field: a vocabulary the catalogue lacks is an error, shown.
 */
import type { Schemas } from "./api";
import { t } from "./i18n";
import type { BimFile, Building, Catalogue, DeviceDetail, FloorPlan, History, PlacedDevice, Reading, Scene, SearchHit, SearchType, Space, XY } from "./types";

type Json = Record<string, unknown>;

/** The vocabularies the pages look up: the catalogue must serve every one. */
export const VOCABULARIES = [
  "device_kinds",
  "space_kinds",
  "device_health",
  "alarm_severity",
  "alarm_state",
  "ticket_status",
  "ticket_priority",
  "ticket_category",
  "billing_status",
  "inspection_outcome",
] as const satisfies readonly (keyof Catalogue)[];

/** Check that the catalogue serves every vocabulary; a missing one is a broken contract, not an empty one. */
export function adaptCatalogue(raw: Catalogue): Catalogue {
  const missing = VOCABULARIES.filter((name) => !isObject(raw[name]));
  if (missing.length > 0) {
    console.error(`GET /api/catalogue lacks ${missing.join(", ")}`);
    throw new Error(t("error.contract", { what: `GET /api/catalogue: ${missing.join(", ")}` }));
  }
  return raw;
}

/** Return the rings of a GeoJSON geometry: outer rings of polygons, the points of lines. */
export function ringsOf(geometry: unknown): XY[][] {
  if (!isObject(geometry)) return Array.isArray(geometry) && isRing(geometry) ? [toRing(geometry)] : [];
  const c = geometry.coordinates as unknown;
  switch (geometry.type) {
    case "LineString":
      return isRing(c) ? [toRing(c)] : [];
    case "MultiLineString":
    case "Polygon":
      return Array.isArray(c) ? pick(geometry.type === "Polygon" ? c.slice(0, 1) : c) : [];
    case "MultiPolygon":
      return Array.isArray(c) ? pick(c.map((polygon: unknown) => (Array.isArray(polygon) ? polygon[0] : null))) : [];
    case "GeometryCollection":
      return Array.isArray(geometry.geometries) ? geometry.geometries.flatMap(ringsOf) : [];
    case "Feature":
      return ringsOf(geometry.geometry);
    default:
      return [];
  }
}

/** Turn `GET /api/sites/{id}/scene` into the view's scene; `models` adds the GLB storeys. */
export function adaptScene(raw: Schemas["Scene"], models: Schemas["ModelList"]): Scene {
  const ground = (geometries: Json[]): XY[][] => geometries.flatMap(ringsOf);
  const files = bimFiles(models);
  const buildings: Building[] = raw.buildings.map((b) => {
    const own = files.get(String(b.id)) ?? [];
    const covered = new Set(own.map((f) => f.floorId));
    const complete = own.length > 0 && (covered.has(null) || b.floors.every((f) => covered.has(String(f.id))));
    return {
      id: b.id,
      name: b.name,
      height: b.height ?? Math.max(3, ...b.floors.map((f) => f.elevation + f.height)),
      footprint: b.footprint ?? [],
      glb: complete ? own : null,
      floors: b.floors,
    };
  });
  const layers = raw.layers;
  return {
    site: raw.site,
    buildings,
    layers: {
      roads: ground(layers.roads),
      green: ground(layers.green),
      zones: [...ground(layers.zones), ...ground(layers.parcels)],
      parking: ground(layers.parking),
      water: ground(layers.water),
      boundary: ringsOf(layers.boundary)[0] ?? null,
    },
    counters: raw.counters,
  };
}

/** Group `GET /api/sites/{id}/models` by building: each storey's GLB and where it goes. */
export function bimFiles(models: Schemas["ModelList"]): Map<string, BimFile[]> {
  const result = new Map<string, BimFile[]>();
  for (const item of models.items) {
    for (const file of item.files) {
      if (file.building_id == null) continue;
      const key = String(file.building_id);
      const entry: BimFile = { url: file.url, floorId: file.floor_id == null ? null : String(file.floor_id), modelToSite: file.model_to_site ?? null };
      result.set(key, [...(result.get(key) ?? []), entry]);
    }
  }
  return result;
}

/** Keep what a floor plan can draw: spaces with a polygon, devices with a position. */
export function adaptPlan(raw: Schemas["FloorPlan"]): FloorPlan {
  const spaces = raw.spaces.filter((s): s is Space => s.polygon !== null);
  const devices = raw.devices.filter((d): d is PlacedDevice => d.position !== null);
  return { floor: raw.floor, spaces, devices };
}

/** Merge `GET /api/devices/{id}` with its `/state` into the panel's device. */
export function adaptDevice(raw: Schemas["DeviceDetail"], state: Schemas["DeviceStatePublic"]): DeviceDetail {
  const values: Record<string, Reading> = {};
  for (const v of state.values) values[v.quantity] = { value: v.value, unit: v.unit, time: v.time };
  return { ...raw, health: state.health, last_seen: state.last_seen ?? raw.last_seen, state: values };
}

/** Turn the history buckets (`t`, `avg`, `min`, `max`) into chart rows in epoch seconds. */
export function adaptHistory(raw: Schemas["HistoryPublic"], unit: string | null): History {
  const points: History["points"] = [];
  for (const p of raw.points) {
    const time = Date.parse(p.t) / 1000;
    if (Number.isFinite(time)) points.push([time, p.avg ?? null, p.min ?? null, p.max ?? null]);
  }
  return { quantity: raw.quantity, unit, from: Date.parse(raw.from) / 1000, to: Date.parse(raw.to) / 1000, points };
}

/** Return a history step the server accepts for a span and a wanted number of seconds. */
export function stepText(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${Math.max(1, Math.round(seconds))}s`;
}

/** Name a search hit's type as the view does: a space (with an address or not) is a unit, a site a building. */
export function adaptHit(raw: Schemas["SearchHit"]): SearchHit {
  const hitType: SearchType = raw.type === "space" ? "unit" : raw.type === "site" ? "building" : raw.type;
  return { type: hitType, id: raw.id, name: raw.name, path: raw.path, floor_id: raw.floor_id ?? null, position: raw.position ?? null };
}

function pick(candidates: unknown[]): XY[][] {
  return candidates.filter(isRing).map(toRing);
}

function isRing(value: unknown): value is unknown[][] {
  return Array.isArray(value) && value.length >= 2 && value.every((p) => Array.isArray(p) && typeof p[0] === "number" && typeof p[1] === "number");
}

function toRing(points: unknown[][]): XY[] {
  return points.map((p) => [p[0] as number, p[1] as number]);
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
