/**
 * REST polling, only while the live socket cannot connect. Once the socket is live again the
 * timer stops, so a working page never polls; the indicator says when this is what feeds it.
 */
import type { Clock, LiveState } from "./live";

export type PollTask = () => Promise<boolean>;

const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export class Fallback {
  private timer: unknown = null;
  private running = false;
  private lastAt: number | null = null;
  private readonly tasks = new Set<PollTask>();
  private readonly listeners = new Set<(active: boolean) => void>();

  constructor(
    readonly everyMs: number,
    private readonly clock: Clock = realClock,
  ) {}

  /** Return whether the page is being fed by polling now (a page with nothing to poll is not). */
  get active(): boolean {
    return this.running && this.tasks.size > 0;
  }

  /** Add what to re-read; it answers whether it got fresh data. Returns the remover. */
  add(task: PollTask): () => void {
    this.tasks.add(task);
    if (this.running) {
      this.notify();
      void this.runOne(task);
    }
    return () => {
      this.tasks.delete(task);
      if (this.running) this.notify();
    };
  }

  /**
   * Follow the live socket: start at the first failure to connect (reconnecting), stop only
   * once it is live, so the attempts in between do not make the page flicker between both.
   */
  follow(state: LiveState): void {
    if (state === "live") this.stop();
    else if (state === "reconnecting") this.start();
  }

  /** Poll now and every `everyMs` until stopped (also when the hub refuses this role). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.notify();
    this.tick();
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.notify();
  }

  /** Return how old the newest polled data is, or null if polling never got any. */
  dataAgeMs(): number | null {
    return this.lastAt === null ? null : this.clock.now() - this.lastAt;
  }

  onChange(listener: (active: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private tick(): void {
    for (const task of this.tasks) void this.runOne(task);
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      if (this.running) this.tick();
    }, this.everyMs);
  }

  private async runOne(task: PollTask): Promise<void> {
    try {
      if ((await task()) && this.running) this.lastAt = this.clock.now();
    } catch {
      // A failed re-read leaves the data as old as it was; the indicator shows its age.
    }
  }

  private notify(): void {
    for (const listener of this.listeners) listener(this.active);
  }
}
