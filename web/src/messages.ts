/**
 * The messages of the live protocol (docs: "The live protocol" in the design), as the client
 * reads them, and the two rules that decide whether an event is new: telemetry by its time,
 * everything else by its sequence number.
 */
import type { Alarm, Reading } from "./types";

export type LiveKind = "telemetry" | "status" | "alarm" | "ticket" | "billing" | "import" | "inspection";

export interface SnapshotDevice {
  id: string | number;
  kind?: string;
  name?: string;
  health?: string;
  state?: Record<string, Reading>;
  last_seen?: string | number | null;
}

/** An open ticket as the hub carries it: enough to colour a room and count what is overdue. */
export interface LiveTicket {
  id: string | number;
  title?: string;
  status?: string;
  priority?: string;
  category?: string;
  place_id?: string | number | null;
  device_id?: string | number | null;
  path?: string[];
  overdue?: boolean;
}

export interface BillingUnit {
  id: string | number;
  status: string | null;
  overdue_days?: number | null;
  overdue_amount?: number | string | null;
}

export interface SnapshotMessage {
  type: "snapshot";
  sub: string;
  /** The subscribed scope; older servers leave it out, and then nothing is pruned by scope. */
  scope?: string;
  stream: string;
  seq: number;
  kinds?: string[];
  /** Kinds the role may not see (billing for a responder): the page hides what depends on them. */
  denied?: string[];
  /** Each part comes only with the kinds that need it (devices with telemetry or status). */
  devices?: SnapshotDevice[];
  alarms?: Alarm[];
  tickets?: LiveTicket[];
  billing?: { units: BillingUnit[]; rate: number | null } | null;
}

export interface ResumedMessage {
  type: "resumed";
  sub: string;
  stream: string;
  seq: number;
}

export interface EventMessage {
  type: "event";
  stream: string;
  seq: number;
  kind: LiveKind | string;
  path: string[];
  data: Record<string, unknown>;
}

export type ServerMessage = { type?: unknown } & Record<string, unknown>;

/** Return the messages of one frame: the server sends one object, or an array of them under load. */
export function parseFrame(raw: unknown): ServerMessage[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(String(raw));
  } catch {
    return [];
  }
  const items = Array.isArray(parsed) ? parsed : [parsed];
  return items.filter((m): m is ServerMessage => typeof m === "object" && m !== null && !Array.isArray(m));
}

/** How many recent sequence numbers of a stream are remembered to recognise a repeat. */
export const SEEN_WINDOW = 4096;

interface StreamSeen {
  max: number;
  seen: Set<number>;
  order: number[];
  /** Anything at or below this fell out of the window and counts as seen. */
  floor: number;
}

/**
 * Which events of each stream were applied, telemetry aside.
 *
 * The server coalesces and rate-limits telemetry, so a reading may arrive with a sequence
 * number above an alarm still queued behind it: counting readings would make that alarm look
 * like a repeat. Readings are judged by their time instead (the store does it). The other
 * kinds are repeats only when their very number was seen: one stream serves every
 * subscription of a site, and the events held for a new subscription while its snapshot is
 * read may come after higher-numbered ones of another subscription.
 */
export class Sequences {
  private readonly streams = new Map<string, StreamSeen>();

  /** Return whether an event is new, and remember it when it is. */
  accept(event: Pick<EventMessage, "stream" | "seq" | "kind">): boolean {
    if (event.kind === "telemetry") return true;
    const s = this.of(event.stream);
    if (event.seq <= s.floor || s.seen.has(event.seq)) return false;
    s.seen.add(event.seq);
    s.order.push(event.seq);
    if (s.order.length > SEEN_WINDOW) {
      const oldest = s.order.shift() as number;
      s.seen.delete(oldest);
      s.floor = Math.max(s.floor, oldest);
    }
    s.max = Math.max(s.max, event.seq);
    return true;
  }

  /** Take the number a snapshot or a resume starts from (a server run names its own streams). */
  start(stream: string, seq: number): void {
    const s = this.of(stream);
    s.max = Math.max(s.max, seq);
  }

  /** Return the number to resume a stream from: the highest applied (telemetry aside). */
  get(stream: string): number | undefined {
    return this.streams.get(stream)?.max;
  }

  clear(): void {
    this.streams.clear();
  }

  get size(): number {
    return this.streams.size;
  }

  private of(stream: string): StreamSeen {
    let s = this.streams.get(stream);
    if (!s) {
      s = { max: -Infinity, seen: new Set(), order: [], floor: -Infinity };
      this.streams.set(stream, s);
    }
    return s;
  }
}
