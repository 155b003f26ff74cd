/**
 * Chinese residential addresses: "3-2-1801" is building 3, entrance (单元) 2, room 1801,
 * whose first digits are the floor. The search box accepts the short form; labels show the
 * long one in the interface language.
 */
import { t } from "./i18n";

export interface UnitAddress {
  building: string;
  entrance: string | null;
  room: string;
}

const SHORT = /^([A-Za-z0-9]+)\s*-\s*(?:([A-Za-z0-9]+)\s*-\s*)?(\d{3,5})$/;
const LONG = /^([A-Za-z0-9]+)\s*(?:栋|幢|号楼)\s*(?:([A-Za-z0-9]+)\s*单元\s*)?(\d{3,5})\s*室?$/u;

/** Parse "3-2-1801", "3栋2单元1801室" or "3-1801"; null when it is not an address. */
export function parseAddress(text: string): UnitAddress | null {
  const trimmed = text.trim().replace(/[－—–]/g, "-");
  const m = SHORT.exec(trimmed) ?? LONG.exec(trimmed);
  if (!m) return null;
  const [, building, entrance, room] = m;
  if (!building || !room) return null;
  return { building, entrance: entrance ?? null, room };
}

/** Format an address in the current language: 3栋2单元1801室 / Bldg 3, Entrance 2, Room 1801. */
export function formatAddress(address: UnitAddress): string {
  if (address.entrance === null) return t("address.building_room", { building: address.building, room: address.room });
  return t("address.unit", { building: address.building, entrance: address.entrance, room: address.room });
}

/** Format a stored short address for display, leaving anything unparseable as it is. */
export function displayAddress(raw: string | null | undefined): string {
  if (!raw) return "";
  const parsed = parseAddress(raw);
  return parsed ? formatAddress(parsed) : raw;
}

/** Return the floor number a room number implies: 1801 is on floor 18, 302 on floor 3. */
export function floorOfRoom(room: string): number {
  return Math.floor(Number(room) / 100);
}

/** Name a floor by its level: 1 → 1层, -1 → 地下1层. */
export function floorName(level: number): string {
  return level < 0 ? t("floor.basement", { level: -level }) : t("floor.name", { level });
}
