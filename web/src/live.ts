/**
 * The live client: one WebSocket per page, an explicit state machine around it.
 *
 * idle → connecting → authenticating → live, and from any of them → reconnecting (backoff,
 * then connecting again) when the socket drops or falls silent, or → closed when the page
 * stops it or the server refuses the token. On reconnection every subscription is sent again
 * with the last sequence number seen on its stream, so the server replays what was missed;
 * after a resync (message, or close 4000) they are sent without it and snapshots start over.
 */
import {
  type EventMessage,
  type LiveKind,
  parseFrame,
  type ResumedMessage,
  Sequences,
  type ServerMessage,
  type SnapshotMessage,
} from "./messages";

export type { EventMessage, LiveKind, ResumedMessage, SnapshotMessage } from "./messages";

export type LiveState = "idle" | "connecting" | "authenticating" | "live" | "reconnecting" | "closed";
export const ALL_KINDS: LiveKind[] = ["telemetry", "status", "alarm", "ticket", "billing"];

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
  /** The server kept the stream: the events it missed follow, no snapshot. */
  resumed?(message: ResumedMessage): void;
  event?(message: EventMessage): void;
  /** The server lost track of this client: drop every live value before the new snapshots. */
  resync?(): void;
  state?(state: LiveState, retryInMs: number | null): void;
  unauthorized?(): void;
  /** The role may not use the live hub at all (close 4403): the page falls back to REST. */
  forbidden?(): void;
  /** The server refused one subscription (403, 404, 422); it is not sent again. */
  refused?(sub: string, scope: string, code: number, message: string): void;
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
  /** With no message (not even a ping) for this long, the socket is presumed dead; default three heartbeats. */
  silenceMs?: number;
}

export interface SubscribeOptions {
  /** At most this many readings per device and second: the server coalesces the rest. */
  rate?: number;
}

interface Subscription {
  sub: string;
  scope: string;
  kinds: LiveKind[];
  rate: number | undefined;
  stream: string | null;
}

/** Close codes of the hub (application range, modelled on HTTP statuses). */
export const CLOSE = { unauthorized: 4401, forbidden: 4403, tooMany: 4429, idle: 4408, resync: 4000 } as const;

/** The heartbeat the server announces unless `ready` says otherwise. */
const DEFAULT_HEARTBEAT_S = 15;

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
  private heartbeatS = DEFAULT_HEARTBEAT_S;
  private nextSub = 1;
  private readonly subs = new Map<string, Subscription>();
  private readonly seqs = new Sequences();
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

  /** Return the last sequence number applied on each stream (telemetry aside). */
  get sequences(): Pick<Sequences, "get" | "size"> {
    return this.seqs;
  }

  /** Return the scopes subscribed to now, by subscription id. */
  get scopes(): ReadonlyMap<string, string> {
    return new Map([...this.subs.values()].map((s) => [s.sub, s.scope]));
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
  subscribe(scope: string, kinds: LiveKind[] = ALL_KINDS, options: SubscribeOptions = {}): string {
    const sub = `s${this.nextSub++}`;
    const subscription: Subscription = { sub, scope, kinds, rate: options.rate, stream: null };
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
      this.refusedToken();
      return;
    }
    this.setState("authenticating", null);
    this.armWatchdog();
    this.send({ type: "auth", token });
  }

  private received(socket: SocketLike, raw: unknown): void {
    if (socket !== this.socket) return;
    this.armWatchdog();
    for (const message of parseFrame(raw)) {
      // A batch may end the connection half-way (resync, refused token): ignore the rest.
      if (socket !== this.socket) return;
      this.dispatch(message);
    }
  }

  private dispatch(message: ServerMessage): void {
    switch (message.type) {
      case "ready":
        this.ready(message);
        break;
      case "ping":
        this.send({ type: "pong" });
        break;
      case "snapshot":
        this.snapshot(message as unknown as SnapshotMessage);
        break;
      case "resumed":
        this.resumed(message as unknown as ResumedMessage);
        break;
      case "event":
        this.event(message as unknown as EventMessage);
        break;
      case "resync":
        this.resync();
        break;
      case "error":
        this.error(message);
        break;
      default:
        break;
    }
  }

  private ready(message: ServerMessage): void {
    const heartbeat = Number(message.heartbeat_s);
    this.heartbeatS = Number.isFinite(heartbeat) && heartbeat > 0 ? heartbeat : DEFAULT_HEARTBEAT_S;
    this.armWatchdog();
    this.attempt = 0;
    this.setState("live", null);
    for (const subscription of this.subs.values()) this.sendSubscribe(subscription);
  }

  private snapshot(message: SnapshotMessage): void {
    const subscription = this.subs.get(message.sub);
    if (!subscription) return;
    subscription.stream = message.stream;
    this.seqs.start(message.stream, message.seq);
    this.lastDataAt = this.clock.now();
    this.options.handlers.snapshot?.(message);
  }

  private resumed(message: ResumedMessage): void {
    const subscription = this.subs.get(message.sub);
    if (!subscription) return;
    subscription.stream = message.stream;
    this.seqs.start(message.stream, message.seq);
    this.lastDataAt = this.clock.now();
    this.options.handlers.resumed?.(message);
  }

  private event(message: EventMessage): void {
    // A replay after resuming may repeat what was already applied: the sequence tells.
    if (!this.seqs.accept(message)) return;
    this.lastDataAt = this.clock.now();
    this.options.handlers.event?.(message);
  }

  private error(message: ServerMessage): void {
    const code = Number(message.code);
    const text = String(message.message ?? "");
    if (typeof message.sub === "string") {
      const subscription = this.subs.get(message.sub);
      if (!subscription) return;
      this.subs.delete(message.sub);
      this.options.handlers.refused?.(message.sub, subscription.scope, code, text);
      return;
    }
    if (code === 401) this.refusedToken();
  }

  /** Forget every stream so the next subscriptions ask for fresh snapshots, then reconnect. */
  private resync(): void {
    this.forgetStreams();
    const socket = this.socket;
    this.socket = null;
    this.clearWatchdog();
    socket?.close(1000, "resync");
    this.attempt = 0;
    this.scheduleReconnect();
  }

  private forgetStreams(): void {
    this.seqs.clear();
    for (const subscription of this.subs.values()) subscription.stream = null;
    this.options.handlers.resync?.();
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
    if (subscription.rate !== undefined) message.rate = subscription.rate;
    this.send(message);
  }

  private dropped(socket: SocketLike, code: number): void {
    if (socket !== this.socket) return;
    this.socket = null;
    this.clearWatchdog();
    if (code === CLOSE.unauthorized) {
      this.refusedToken();
      return;
    }
    if (code === CLOSE.forbidden) {
      this.setState("closed", null);
      this.options.handlers.forbidden?.();
      return;
    }
    if (this.current === "closed") return;
    if (code === CLOSE.resync) this.forgetStreams();
    // Too many screens for this user: waiting longer is the only thing that can help.
    if (code === CLOSE.tooMany) this.attempt = Math.max(this.attempt, 4);
    this.scheduleReconnect();
  }

  private refusedToken(): void {
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
      socket.close(1000, "silent");
      this.scheduleReconnect();
    }, this.options.silenceMs ?? this.heartbeatS * 3000);
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
