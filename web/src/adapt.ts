/**
 * The server's answers as the view uses them. The API speaks GeoJSON, ISO times and lists
 * of latest values; the view wants rings, seconds and maps. Converting here, in one place,
 * keeps the drawing code simple and lets a vocabulary or layer the server does not send yet
 * arrive as an empty one instead of a crash.
 */
import type {
  BimFile,
  Building,
  BuildingCounters,
  Catalogue,
  DeviceDetail,
  History,
  Reading,
  Scene,
  SearchHit,
  SearchType,
  XY,
} from "./types";

type Json = Record<string, unknown>;

const VOCABULARIES = ["device_kinds", "space_kinds", "device_health", "alarm_severity"] as const;

/** Fill every vocabulary the view looks up, empty where the server has none yet. */
export function adaptCatalogue(raw: Json): Catalogue {
  const catalogue = { ...raw } as Json;
  for (const name of VOCABULARIES) if (!isObject(catalogue[name])) catalogue[name] = {};
  return catalogue as unknown as Catalogue;
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
export function adaptScene(raw: Json, models: Json | null = null): Scene {
  const layers = isObject(raw.layers) ? raw.layers : {};
  const ground = (name: string): XY[][] => (Array.isArray(layers[name]) ? layers[name].flatMap(ringsOf) : []);
  const counters: Record<string, BuildingCounters> = {};
  for (const [id, value] of Object.entries(isObject(raw.counters) ? raw.counters : {})) {
    const c = isObject(value) ? value : {};
    counters[id] = {
      alarms: num(c.alarms) ?? 0,
      worst_severity: typeof c.worst_severity === "string" ? c.worst_severity : null,
      overdue_tickets: num(c.overdue_tickets) ?? 0,
      payment_rate: num(c.payment_rate),
      devices: num(c.devices),
      offline: num(c.offline),
    };
  }
  const files = bimFiles(models);
  const buildings: Building[] = (Array.isArray(raw.buildings) ? raw.buildings : []).filter(isObject).map((b) => {
    const floors = Array.isArray(b.floors) ? (b.floors as Building["floors"]) : [];
    const own = files.get(String(b.id)) ?? [];
    const covered = new Set(own.map((f) => f.floorId));
    const complete = own.length > 0 && (covered.has(null) || floors.every((f) => covered.has(String(f.id))));
    return {
      id: b.id as Building["id"],
      name: String(b.name ?? b.id),
      height: num(b.height) ?? Math.max(3, ...floors.map((f) => f.elevation + f.height)),
      footprint: ringsOf(b.footprint)[0] ?? [],
      glb: complete ? own : null,
      floors,
    };
  });
  const site = isObject(raw.site) ? raw.site : {};
  return {
    site: { id: site.id as Scene["site"]["id"], name: String(site.name ?? ""), origin: site.origin as Scene["site"]["origin"] },
    buildings,
    layers: {
      roads: ground("roads"),
      green: [...ground("green"), ...ground("parks")],
      zones: [...ground("zones"), ...ground("parcels")],
      parking: ground("parking"),
      water: ground("water"),
      boundary: ringsOf(layers.boundary)[0] ?? null,
    },
    counters,
  };
}

/** Group `GET /api/sites/{id}/models` by building: each storey's GLB and where it goes. */
export function bimFiles(models: Json | null): Map<string, BimFile[]> {
  const result = new Map<string, BimFile[]>();
  const items = models && Array.isArray(models.items) ? models.items.filter(isObject) : [];
  for (const item of items) {
    for (const file of (Array.isArray(item.files) ? item.files : []).filter(isObject)) {
      if (typeof file.url !== "string" || file.building_id == null) continue;
      const key = String(file.building_id);
      const matrix = Array.isArray(file.model_to_site) ? (file.model_to_site as number[][]) : null;
      const entry: BimFile = { url: file.url, floorId: file.floor_id == null ? null : String(file.floor_id), modelToSite: matrix };
      result.set(key, [...(result.get(key) ?? []), entry]);
    }
  }
  return result;
}

/** Merge `GET /api/devices/{id}` with its `/state` into the panel's device. */
export function adaptDevice(raw: Json, state: Json | null): DeviceDetail {
  const values: Record<string, Reading> = {};
  const list = state && Array.isArray(state.values) ? state.values.filter(isObject) : [];
  for (const v of list) {
    if (typeof v.quantity !== "string") continue;
    values[v.quantity] = { value: v.value as Reading["value"], unit: typeof v.unit === "string" ? v.unit : null, time: v.time as Reading["time"] };
  }
  if (isObject(raw.state)) Object.assign(values, raw.state);
  return {
    id: raw.id as DeviceDetail["id"],
    kind: String(raw.kind ?? ""),
    name: String(raw.name ?? raw.tag ?? raw.id),
    tag: String(raw.tag ?? ""),
    path: Array.isArray(raw.path) ? (raw.path as DeviceDetail["path"]) : [],
    health: String(state?.health ?? raw.health ?? "unknown"),
    last_seen: (state?.last_seen ?? raw.last_seen ?? null) as DeviceDetail["last_seen"],
    state: values,
    alarms: Array.isArray(raw.alarms) ? (raw.alarms as DeviceDetail["alarms"]) : [],
    tickets: Array.isArray(raw.tickets) ? (raw.tickets as DeviceDetail["tickets"]) : [],
  };
}

/** Turn the history buckets (`t`, `avg`, `min`, `max`) into chart rows in epoch seconds. */
export function adaptHistory(raw: Json, unit: string | null): History {
  const points: History["points"] = [];
  for (const p of (Array.isArray(raw.points) ? raw.points : []).filter(isObject)) {
    const time = typeof p.t === "number" ? p.t : Date.parse(String(p.t)) / 1000;
    if (Number.isFinite(time)) points.push([time, num(p.avg), num(p.min), num(p.max)]);
  }
  return { quantity: String(raw.quantity ?? ""), unit: typeof raw.unit === "string" ? raw.unit : unit, points };
}

/** Return a history step the server accepts for a span and a wanted number of seconds. */
export function stepText(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${Math.max(1, Math.round(seconds))}s`;
}

/** Name a search hit's type as the view does: a space with an address is a unit. */
export function adaptHit(raw: Json): SearchHit {
  const type = String(raw.type ?? "");
  const known: SearchType[] = ["unit", "device", "building", "floor"];
  const hitType: SearchType = known.includes(type as SearchType) ? (type as SearchType) : "unit";
  const position = Array.isArray(raw.position) && raw.position.length >= 2 ? (raw.position as SearchHit["position"]) : null;
  return {
    type: hitType,
    id: raw.id as SearchHit["id"],
    name: String(raw.name ?? ""),
    path: (raw.path ?? "") as SearchHit["path"],
    floor_id: (raw.floor_id ?? null) as SearchHit["floor_id"],
    position,
  };
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

function num(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}
