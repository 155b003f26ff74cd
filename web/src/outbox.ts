/**
 * The inspector's outbox: stop results kept on the tablet until the server has them.
 *
 * A round is walked through basements and stairwells where the network comes and goes, so a
 * result is written to localStorage the moment it is submitted and sent from there, in order.
 * Each carries a key made on the tablet: when an answer is lost on the way and the result is sent
 * again, the server recognises the key and answers the visit it already holds (one visit, one
 * ticket). A photo follows its defect's ticket; the server keeps one copy of the same bytes.
 * A server error or a dropped connection leaves the entry queued and retries it later; only a
 * refusal (4xx) takes it out, handed to the page so it can say so and put the note back.
 */
import { attachPhoto } from "./actions";
import { ApiError, type Api } from "./api";

const STORAGE_KEY = "twin.inspect.outbox";

/** What the inspector found at one stop, as the server's visit body takes it. */
export interface StopResult {
  outcome: "ok" | "defect";
  note: string | null;
  at: string;
  key: string;
}

/** One queued result: whose, which stop, the body, and a photo (a data URL) for the defect's ticket. */
export interface Entry {
  /** Who recorded it: a tablet handed to the next inspector never sends a result in their name. */
  user: string;
  roundId: number;
  stopId: number;
  body: StopResult;
  photo: string | null;
  /** Set once the visit is recorded, so only the photo is left to send. */
  ticketId?: number | null;
  visited?: boolean;
}

export type KeyStore = Pick<Storage, "getItem" | "setItem">;

/** Tell whether a failure may pass by itself (network down, server error, overload) and is worth retrying. */
export function transient(error: unknown): boolean {
  if (!(error instanceof ApiError)) return true;
  return error.status === 0 || error.status === 401 || error.status === 408 || error.status === 429 || error.status >= 500;
}

/** Make a key for one result: random, so two tablets never share one. */
export function newKey(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A persistent, ordered queue of stop results, and the loop that sends it. */
export class Outbox {
  private sending: Promise<void> | null = null;
  private readonly listeners = new Set<() => void>();
  private readonly sentListeners = new Set<(entry: Entry) => void>();
  private readonly refusedListeners = new Set<(entry: Entry, error: unknown) => void>();

  constructor(
    private readonly api: Api,
    private readonly user: string,
    private readonly storage: KeyStore = localStorage,
  ) {}

  /** Return the signed-in user's queued entries, oldest first. */
  entries(): Entry[] {
    return this.all().filter((e) => e.user === this.user);
  }

  private all(): Entry[] {
    try {
      const raw = this.storage.getItem(STORAGE_KEY);
      return raw ? (JSON.parse(raw) as Entry[]) : [];
    } catch {
      return [];
    }
  }

  /** Tell whether a stop has a result waiting to be sent. */
  has(stopId: number): boolean {
    return this.entries().some((e) => e.stopId === stopId);
  }

  /** Queue a result (written before anything is sent); the caller then flushes. */
  add(entry: Entry): void {
    this.save([...this.entries().filter((e) => e.body.key !== entry.body.key), entry]);
  }

  /** Call `listener` whenever the queue changes. */
  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  /** Call `listener` with each entry the server refused (4xx), after taking it out of the queue. */
  onRefused(listener: (entry: Entry, error: unknown) => void): void {
    this.refusedListeners.add(listener);
  }

  /** Call `listener` with each entry once the server holds all of it. */
  onSent(listener: (entry: Entry) => void): void {
    this.sentListeners.add(listener);
  }

  /** Send the queue in order until it is empty or a transient failure stops it (rethrown for the page's notice). */
  flush(): Promise<void> {
    this.sending ??= this.drain().finally(() => (this.sending = null));
    return this.sending;
  }

  private async drain(): Promise<void> {
    for (let entry = this.entries()[0]; entry; entry = this.entries()[0]) {
      const done = entry;
      let refusal: unknown = null;
      try {
        await this.send(done);
      } catch (error) {
        if (transient(error)) throw error;
        refusal = error;
      }
      this.save(this.entries().filter((e) => e.body.key !== done.body.key));
      if (refusal === null) for (const listener of this.sentListeners) listener(done);
      else for (const listener of this.refusedListeners) listener(done, refusal);
    }
  }

  private async send(entry: Entry): Promise<void> {
    if (!entry.visited) {
      const path = { round_id: entry.roundId, stop_id: entry.stopId };
      const visit = await this.api.call(
        `POST /api/inspections/rounds/${entry.roundId}/stops/${entry.stopId}`,
        this.api.client.POST("/api/inspections/rounds/{round_id}/stops/{stop_id}", { params: { path }, body: { priority: "normal", ...entry.body } }),
      );
      entry.visited = true;
      entry.ticketId = visit.ticket_id;
      this.update(entry);
    }
    if (entry.photo && entry.ticketId) await attachPhoto(this.api, entry.ticketId, blobOf(entry.photo));
  }

  private update(entry: Entry): void {
    this.save(this.entries().map((e) => (e.body.key === entry.body.key ? entry : e)));
  }

  /** Write the user's entries back, keeping those of anyone else who used this tablet. */
  private save(entries: Entry[]): void {
    const others = this.all().filter((e) => e.user !== this.user);
    this.storage.setItem(STORAGE_KEY, JSON.stringify([...others, ...entries]));
    for (const listener of this.listeners) listener();
  }
}

/** Decode a base64 data URL in place: the page's connect-src does not let it be fetched. */
export function blobOf(dataUrl: string): Blob {
  const [head, data = ""] = dataUrl.split(",", 2);
  const type = /^data:([^;,]+)/.exec(head ?? "")?.[1] ?? "application/octet-stream";
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  return new Blob([bytes], { type });
}
