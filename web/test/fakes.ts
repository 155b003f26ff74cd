/** Small fakes for the live client: a socket the test drives and a clock it advances. */
import { VOCABULARIES } from "../src/adapt";
import type { Catalogue } from "../src/types";
import { type Clock, type EventMessage, LiveClient, type LiveOptions, type LiveState, type SocketLike } from "../src/live";

export class FakeSocket implements SocketLike {
  readonly sent: Record<string, unknown>[] = [];
  closed: { code?: number; reason?: string } | null = null;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason?: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;

  constructor(readonly url: string) {}

  send(data: string): void {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }

  close(code?: number, reason?: string): void {
    this.closed = { code, reason };
  }

  open(): void {
    this.onopen?.({});
  }

  /** Deliver one frame: a message, or an array of them as the server batches under load. */
  receive(message: Record<string, unknown> | Record<string, unknown>[]): void {
    this.onmessage?.({ data: JSON.stringify(message) });
  }

  drop(code = 1006): void {
    this.onclose?.({ code });
  }
}

export class FakeClock implements Clock {
  private time = 1_000_000;
  private nextId = 1;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + ms, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Move time on, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.time = due[1].at;
      due[1].fn();
    }
    this.time = end;
  }

  pending(): number[] {
    return [...this.timers.values()].map((t) => t.at - this.time);
  }
}

/** A live client wired to fake sockets and a fake clock, recording what its handlers heard. */
export function liveHarness(token: string | null = "tok", extra: Partial<LiveOptions> = {}) {
  const sockets: FakeSocket[] = [];
  const clock = new FakeClock();
  const states: [LiveState, number | null][] = [];
  const seen = {
    snapshots: 0,
    resumed: 0,
    events: [] as number[],
    eventMessages: [] as EventMessage[],
    resyncs: 0,
    unauthorized: 0,
    forbidden: 0,
    refused: [] as [string, string, number][],
  };
  const client = new LiveClient({
    url: "ws://twin/ws",
    token: () => token,
    socket: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    clock,
    random: () => 1,
    baseDelayMs: 500,
    maxDelayMs: 8000,
    silenceMs: 30_000,
    handlers: {
      snapshot: () => void (seen.snapshots += 1),
      resumed: () => void (seen.resumed += 1),
      event: (e) => {
        seen.events.push(e.seq);
        seen.eventMessages.push(e);
      },
      resync: () => void (seen.resyncs += 1),
      state: (s, retry) => void states.push([s, retry]),
      unauthorized: () => void (seen.unauthorized += 1),
      forbidden: () => void (seen.forbidden += 1),
      refused: (sub, scope, code) => void seen.refused.push([sub, scope, code]),
    },
    ...extra,
  });
  const last = (): FakeSocket => {
    const s = sockets[sockets.length - 1];
    if (!s) throw new Error("no socket opened");
    return s;
  };
  return { client, sockets, clock, states, seen, last };
}

/** Open a fake socket and let the server say it is ready. */
export function goLive(s: FakeSocket, ready: Record<string, unknown> = {}): void {
  s.open();
  s.receive({ type: "ready", user: "u", roles: ["operator"], heartbeat_s: 15, ...ready });
}

/** A catalogue with the given vocabularies and every other one empty, for tests of the lookups. */
export function catalogueWith(parts: Partial<Catalogue>): Catalogue {
  const empty = Object.fromEntries(VOCABULARIES.map((name) => [name, {}])) as unknown as Catalogue;
  return { ...empty, ...parts };
}
