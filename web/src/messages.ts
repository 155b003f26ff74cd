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
  devices: SnapshotDevice[];
  alarms: Alarm[];
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

/**
 * The last sequence number applied on each stream, counting every kind but telemetry.
 *
 * The server coalesces and rate-limits telemetry, so a reading may arrive with a sequence
 * number above an alarm still queued behind it: counting readings would make that alarm look
 * like a repeat. Readings are judged by their time instead (the store does it), and a resume
 * asks from the last non-telemetry number, so nothing that matters is skipped.
 */
export class Sequences {
  private readonly last = new Map<string, number>();

  /** Return whether an event is new, and remember it when it is. */
  accept(event: Pick<EventMessage, "stream" | "seq" | "kind">): boolean {
    if (event.kind === "telemetry") return true;
    const last = this.last.get(event.stream);
    if (last !== undefined && event.seq <= last) return false;
    this.last.set(event.stream, event.seq);
    return true;
  }

  /**
   * Take the number a snapshot or a resume starts from. It replaces what was held, even when
   * lower: a restarted server numbers its streams afresh, and its snapshot is the truth.
   */
  start(stream: string, seq: number): void {
    this.last.set(stream, seq);
  }

  get(stream: string): number | undefined {
    return this.last.get(stream);
  }

  clear(): void {
    this.last.clear();
  }

  get size(): number {
    return this.last.size;
  }
}
