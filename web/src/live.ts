/**
 * The live client: one WebSocket per page, an explicit state machine around it.
 *
 * idle → connecting → authenticating → live, and from any of them → reconnecting (backoff,
 * then connecting again) when the socket drops or falls silent, or → closed when the page
 * stops it or the server refuses the token. On reconnection every subscription is sent again
 * with the last sequence number seen on its stream, so the server replays what was missed.
 */
import type { Alarm, Reading } from "./types";

export type LiveState = "idle" | "connecting" | "authenticating" | "live" | "reconnecting" | "closed";
export type LiveKind = "telemetry" | "status" | "alarm" | "ticket" | "billing";
export const ALL_KINDS: LiveKind[] = ["telemetry", "status", "alarm", "ticket", "billing"];

export interface SnapshotDevice {
  id: string | number;
  health?: string;
  state?: Record<string, Reading>;
  last_seen?: string | number | null;
}

export interface SnapshotMessage {
  type: "snapshot";
  sub: string;
  stream: string;
  seq: number;
  devices: SnapshotDevice[];
  alarms: Alarm[];
}

export interface EventMessage {
  type: "event";
  stream: string;
  seq: number;
  kind: LiveKind | string;
  path: string[];
  data: Record<string, unknown>;
}

/** The part of a browser WebSocket the client uses, so tests can hand it a fake. */
export interface SocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason?: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface LiveHandlers {
  snapshot?(message: SnapshotMessage): void;
  event?(message: EventMessage): void;
  /** The server lost track of this client: drop every live value before the new snapshots. */
  resync?(): void;
  state?(state: LiveState, retryInMs: number | null): void;
  unauthorized?(): void;
}

export interface LiveOptions {
  url: string;
  token: () => string | null;
  socket: (url: string) => SocketLike;
  handlers: LiveHandlers;
  clock?: Clock;
  random?: () => number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** With no message (not even a ping) for this long, the socket is presumed dead. */
  silenceMs?: number;
}

interface Subscription {
  sub: string;
  scope: string;
  kinds: LiveKind[];
  stream: string | null;
}

/** Close codes with which the server refuses the token (application range, like HTTP 401/403). */
const AUTH_CLOSE_CODES = new Set([4401, 4403]);

const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Return the delay before reconnection attempt `attempt` (0-based): doubling, capped, jittered. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** attempt);
  return Math.round(ceiling * (0.5 + random() / 2));
}

/** Keeps one WebSocket alive and its subscriptions current. */
export class LiveClient {
  private socket: SocketLike | null = null;
  private current: LiveState = "idle";
  private attempt = 0;
  private timer: unknown = null;
  private watchdog: unknown = null;
  private nextSub = 1;
  private readonly subs = new Map<string, Subscription>();
  private readonly seqs = new Map<string, number>();
  private lastDataAt: number | null = null;
  private readonly clock: Clock;
  private readonly random: () => number;

  constructor(private readonly options: LiveOptions) {
    this.clock = options.clock ?? realClock;
    this.random = options.random ?? Math.random;
  }

  /** Return the state of the connection. */
  get state(): LiveState {
    return this.current;
  }

  /** Return the last sequence number seen on each stream. */
  get sequences(): ReadonlyMap<string, number> {
    return this.seqs;
  }

  /** Return how old the newest live data is, in milliseconds, or null before any arrived. */
  dataAgeMs(): number | null {
    return this.lastDataAt === null ? null : this.clock.now() - this.lastDataAt;
  }

  /** Open the connection (again, after `close`). */
  connect(): void {
    if (this.current !== "idle" && this.current !== "closed" && this.current !== "reconnecting") return;
    this.clearTimer();
    this.setState("connecting", null);
    const socket = this.options.socket(this.options.url);
    this.socket = socket;
    socket.onopen = () => this.opened(socket);
    socket.onmessage = (ev) => this.received(socket, ev.data);
    socket.onclose = (ev) => this.dropped(socket, ev.code);
    socket.onerror = () => undefined;
  }

  /** Stop for good: no reconnection until `connect` is called again. */
  close(): void {
    this.clearTimer();
    this.clearWatchdog();
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000, "page closed");
    this.setState("closed", null);
  }

  /** Subscribe to a scope (site:1, building:3, floor:12, device:901); returns the subscription id. */
  subscribe(scope: string, kinds: LiveKind[] = ALL_KINDS): string {
    const sub = `s${this.nextSub++}`;
    const subscription: Subscription = { sub, scope, kinds, stream: null };
    this.subs.set(sub, subscription);
    if (this.current === "live") this.sendSubscribe(subscription);
    return sub;
  }

  /** Stop a subscription; the server is told so that it stops sending. */
  unsubscribe(sub: string): void {
    if (!this.subs.delete(sub)) return;
    if (this.current === "live") this.send({ type: "unsubscribe", sub });
  }

  private opened(socket: SocketLike): void {
    if (socket !== this.socket) return;
    const token = this.options.token();
    if (!token) {
      this.refused();
      return;
    }
    this.setState("authenticating", null);
    this.armWatchdog();
    this.send({ type: "auth", token });
  }

  private received(socket: SocketLike, raw: unknown): void {
    if (socket !== this.socket) return;
    this.armWatchdog();
    let message: { type?: unknown } & Record<string, unknown>;
    try {
      message = JSON.parse(String(raw)) as typeof message;
    } catch {
      return;
    }
    switch (message.type) {
      case "ready":
        this.ready();
        break;
      case "ping":
        this.send({ type: "pong" });
        break;
      case "snapshot":
        this.snapshot(message as unknown as SnapshotMessage);
        break;
      case "event":
        this.event(message as unknown as EventMessage);
        break;
      case "resync":
        this.resync();
        break;
      case "error":
        if (message.code === 401 || message.code === 403) this.refused();
        break;
      default:
        break;
    }
  }

  private ready(): void {
    this.attempt = 0;
    this.setState("live", null);
    for (const subscription of this.subs.values()) this.sendSubscribe(subscription);
  }

  private snapshot(message: SnapshotMessage): void {
    const subscription = this.subs.get(message.sub);
    if (!subscription) return;
    subscription.stream = message.stream;
    this.seqs.set(message.stream, Math.max(message.seq, this.seqs.get(message.stream) ?? -Infinity));
    this.lastDataAt = this.clock.now();
    this.options.handlers.snapshot?.(message);
  }

  private event(message: EventMessage): void {
    const last = this.seqs.get(message.stream);
    // A replay after resuming may repeat what was already applied: the sequence tells.
    if (last !== undefined && message.seq <= last) return;
    this.seqs.set(message.stream, message.seq);
    this.lastDataAt = this.clock.now();
    this.options.handlers.event?.(message);
  }

  private resync(): void {
    this.seqs.clear();
    for (const subscription of this.subs.values()) subscription.stream = null;
    this.options.handlers.resync?.();
    for (const subscription of this.subs.values()) this.sendSubscribe(subscription);
  }

  private sendSubscribe(subscription: Subscription): void {
    const message: Record<string, unknown> = {
      type: "subscribe",
      sub: subscription.sub,
      scope: subscription.scope,
      kinds: subscription.kinds,
    };
    const seq = subscription.stream === null ? undefined : this.seqs.get(subscription.stream);
    if (subscription.stream !== null && seq !== undefined) message.resume = { stream: subscription.stream, seq };
    this.send(message);
  }

  private dropped(socket: SocketLike, code: number): void {
    if (socket !== this.socket) return;
    this.socket = null;
    this.clearWatchdog();
    if (AUTH_CLOSE_CODES.has(code)) {
      this.refused();
      return;
    }
    if (this.current === "closed") return;
    this.scheduleReconnect();
  }

  private refused(): void {
    const socket = this.socket;
    this.socket = null;
    this.clearWatchdog();
    socket?.close(1000, "unauthorized");
    this.setState("closed", null);
    this.options.handlers.unauthorized?.();
  }

  private scheduleReconnect(): void {
    const delay = backoffDelay(
      this.attempt,
      this.options.baseDelayMs ?? 500,
      this.options.maxDelayMs ?? 30_000,
      this.random,
    );
    this.attempt += 1;
    this.setState("reconnecting", delay);
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      this.connect();
    }, delay);
  }

  private armWatchdog(): void {
    this.clearWatchdog();
    const socket = this.socket;
    this.watchdog = this.clock.setTimeout(() => {
      this.watchdog = null;
      if (socket !== this.socket || socket === null) return;
      this.socket = null;
      socket.close(4000, "silent");
      this.scheduleReconnect();
    }, this.options.silenceMs ?? 45_000);
  }

  private clearWatchdog(): void {
    if (this.watchdog !== null) this.clock.clearTimeout(this.watchdog);
    this.watchdog = null;
  }

  private clearTimer(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  private send(message: Record<string, unknown>): void {
    this.socket?.send(JSON.stringify(message));
  }

  private setState(state: LiveState, retryInMs: number | null): void {
    this.current = state;
    this.options.handlers.state?.(state, retryInMs);
  }
}

/** Return the page's live socket address: same host, ws or wss as the page. */
export function liveUrl(location: Pick<Location, "protocol" | "host">): string {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
}
