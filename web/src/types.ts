/**
 * The shapes the view works with. Where the server has a model, the type is that model, read
 * from the generated OpenAPI types (src/api/schema.d.ts): a field the server renames or drops
 * is a type error here, not an empty panel. What remains hand-written is the view's own form
 * (rings, seconds, maps) and the live hub's messages, which OpenAPI does not describe.
 */
import type { components } from "./api/schema";

type S = components["schemas"];

export type XY = [number, number];
export type XYZ = [number, number, number];

export type Label = S["LabelPublic"];
export type DeviceKindLabel = S["DeviceKindPublic"];
export type Catalogue = S["CataloguePublic"];
export type SiteSummary = S["PlacePublic"];
export type FloorSummary = S["SceneFloor"];
export type BuildingCounters = S["BuildingCounters"];
/** A space the plan draws: one without a polygon can be neither drawn nor picked, so the view drops it. */
export type Space = S["PlanSpace"] & { polygon: XY[] };
/** A device the plan pins: one not placed yet has no pin. */
export type PlacedDevice = S["PlanDevice"] & { position: XYZ };
/** `GET /api/floors/{id}/plan` as the view draws it (see `adaptPlan`). */
export interface FloorPlan {
  floor: S["PlanFloor"];
  spaces: Space[];
  devices: PlacedDevice[];
}
export type PathStep = S["PathItem"];
export type ActiveAlarm = S["ActiveAlarm"];
export type Ticket = S["TicketPublic"];
export type SpaceDetail = S["SpaceDetail"];
export type TokenPair = S["TokenPair"];

export interface Building {
  id: number;
  name: string;
  height: number;
  footprint: XY[];
  /** The storeys of its imported model, when they cover every floor; null draws the footprint. */
  glb: BimFile[] | null;
  floors: FloorSummary[];
}

/** One GLB of an imported model: the floor it draws and the model→site matrix (row-major, Z up). */
export interface BimFile {
  url: string;
  floorId: string | null;
  modelToSite: number[][] | null;
}

export interface Scene {
  site: S["SceneSite"];
  buildings: Building[];
  layers: { roads: XY[][]; green: XY[][]; zones: XY[][]; parking: XY[][]; water: XY[][]; boundary: XY[] | null };
  counters: Record<string, BuildingCounters>;
}

/** A latest value, from the device's state or the live hub. */
export interface Reading {
  value: number | string | boolean | null;
  unit: string | null;
  time: string | number;
}

/** An alarm as the live hub carries it (the server's `alarm_data`). */
export interface Alarm {
  id: number | string;
  device_id?: number | string | null;
  severity: string;
  state?: string;
  message?: string;
  rule?: string;
  raised_at?: string | number;
  /** When the condition first held (ISO 8601), as the hub sends it. */
  first_at?: string;
  /** The storm root this alarm is grouped under, if any. */
  parent_id?: number | string | null;
  /** The kind of the alarm's device, which the hub adds to a device's alarm. */
  device_kind?: string;
  path?: string[];
}

/** `GET /api/devices/{id}` with its `/state` merged in as a map of latest values. */
export type DeviceDetail = Omit<S["DeviceDetail"], "health"> & {
  health: string;
  state: Record<string, Reading>;
};

export interface History {
  quantity: string;
  unit: string | null;
  /** The window asked for, in epoch seconds: the time axis spans it even with one point. */
  from: number;
  to: number;
  points: [number, number | null, number | null, number | null][];
}

export type SearchType = "unit" | "device" | "building" | "floor";

export interface SearchHit {
  type: SearchType;
  id: number;
  name: string;
  path: PathStep[];
  floor_id: number | null;
  position: XYZ | null;
}
