/** The shapes the twin server's REST API returns; coordinates are in the site's local frame. */

export type XY = [number, number];
export type XYZ = [number, number, number];

export interface Label {
  zh: string;
  en: string;
  colour: string;
}

export interface DeviceKindLabel extends Label {
  fire_safety: boolean;
}

export interface Catalogue {
  device_kinds: Record<string, DeviceKindLabel>;
  space_kinds: Record<string, Label>;
  device_health: Record<string, Label>;
  alarm_severity: Record<string, Label>;
  /** Not in the first contract: used when the server sends it, a neutral ramp otherwise. */
  billing_status?: Record<string, Label>;
}

export interface Origin {
  lat: number;
  lon: number;
  height: number;
}

export interface SiteSummary {
  id: number | string;
  name: string;
  origin: Origin;
}

export interface FloorSummary {
  id: number | string;
  name: string;
  level: number;
  elevation: number;
  height: number;
}

export interface Building {
  id: number | string;
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

export interface BuildingCounters {
  alarms: number;
  worst_severity: string | null;
  overdue_tickets: number;
  payment_rate: number | null;
  devices?: number | null;
  offline?: number | null;
}

export interface Scene {
  site: SiteSummary;
  buildings: Building[];
  layers: { roads: XY[][]; green: XY[][]; zones: XY[][]; parking: XY[][]; water: XY[][]; boundary: XY[] | null };
  counters: Record<string, BuildingCounters>;
}

export interface Space {
  id: number | string;
  kind: string;
  name: string;
  address: string | null;
  polygon: XY[];
}

export interface PlacedDevice {
  id: number | string;
  kind: string;
  name: string;
  tag: string;
  position: XYZ;
  health: string;
  space_id: number | string | null;
}

export interface FloorPlan {
  floor: FloorSummary & { building_id: number | string };
  spaces: Space[];
  devices: PlacedDevice[];
}

export interface Reading {
  value: number | string | boolean | null;
  unit: string | null;
  time: string | number;
}

export interface Alarm {
  id: number | string;
  device_id?: number | string;
  severity: string;
  state?: string;
  message?: string;
  rule?: string;
  raised_at?: string | number;
  /** When the condition first held (ISO 8601), as the hub sends it. */
  first_at?: string;
  path?: string[];
}

export interface Ticket {
  id: number | string;
  title?: string;
  status?: string;
  due?: string | null;
}

export interface PathStep {
  kind: string;
  id: number | string;
  name: string;
}

export interface DeviceDetail {
  id: number | string;
  kind: string;
  name: string;
  tag: string;
  path: PathStep[];
  health: string;
  last_seen: string | number | null;
  state: Record<string, Reading>;
  alarms: Alarm[];
  tickets: Ticket[];
}

export interface History {
  quantity: string;
  unit: string | null;
  points: [number, number | null, number | null, number | null][];
}

export type SearchType = "unit" | "device" | "building" | "floor";

export interface SearchHit {
  type: SearchType;
  id: number | string;
  name: string;
  path: string | PathStep[];
  floor_id: number | string | null;
  position: XYZ | null;
}

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  expires_in: number;
}
