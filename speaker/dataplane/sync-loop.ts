// When the data path syncs. Changes ask for a sync; the loop runs at most one
// sync per `minIntervalMs`, so a burst of changes (a rollout touching many
// EndpointSlices) becomes one sync. A full sync runs every
// `fullIntervalMs` to repair drift, and a failed sync is retried as a full
// one, with backoff. Syncs never overlap. Time comes from an injected clock,
// so the rules are tested without sleeping.
import { backoffDelay } from '../../lib/backoff.ts';
import type { Clock, TimerHandle } from '../../lib/clock.ts';

export interface SyncLoopOptions {
  readonly minIntervalMs: number;
  readonly fullIntervalMs: number;
  /** Backoff cap after failures (the base is minIntervalMs). */
  readonly maxRetryMs?: number;
  readonly clock: Clock;
  /** Does one sync; rejects when it failed. */
  readonly sync: (full: boolean) => Promise<void>;
}

export class SyncLoop {
  readonly #o: SyncLoopOptions;
  #dirty = false;
  #fullWanted = false;
  #running = false;
  #stopped = true;
  #lastStart = -Infinity;
  #lastFull = -Infinity;
  #failures = 0;
  #timer: TimerHandle | undefined;
  #timerDue = Infinity;
  #idleWaiters: Array<() => void> = [];

  constructor(options: SyncLoopOptions) {
    this.#o = options;
  }

  /** Starts with a full sync at once. */
  start(): void {
    this.#stopped = false;
    this.request(true);
  }

  stop(): void {
    this.#stopped = true;
    this.#clearTimer();
    if (!this.#running) for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  /** Asks for a sync (a full one when `full`); it runs as soon as the minimum interval allows. */
  request(full = false): void {
    this.#dirty = true;
    if (full) this.#fullWanted = true;
    this.#schedule();
  }

  /** Resolves when no sync is running or pending (for tests and shutdown). */
  idle(): Promise<void> {
    if (!this.#running && (!this.#dirty || this.#stopped)) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  get failures(): number {
    return this.#failures;
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerDue = Infinity;
  }

  #at(due: number): void {
    if (this.#timer !== undefined && this.#timerDue <= due) return;
    this.#clearTimer();
    this.#timerDue = due;
    this.#timer = this.#o.clock.setTimeout(
      () => {
        this.#timer = undefined;
        this.#timerDue = Infinity;
        this.#tick();
      },
      Math.max(0, due - this.#o.clock.now()),
    );
  }

  #schedule(): void {
    if (this.#stopped || this.#running) return;
    const now = this.#o.clock.now();
    if (this.#dirty) {
      const wait =
        this.#failures > 0
          ? backoffDelay(this.#failures - 1, {
              baseMs: this.#o.minIntervalMs,
              capMs: this.#o.maxRetryMs ?? 30_000,
            })
          : this.#o.minIntervalMs;
      this.#at(Math.max(now, this.#lastStart + wait));
    } else {
      this.#at(this.#lastFull + this.#o.fullIntervalMs);
    }
  }

  #tick(): void {
    if (this.#stopped || this.#running) return;
    const now = this.#o.clock.now();
    if (!this.#dirty && now >= this.#lastFull + this.#o.fullIntervalMs) {
      this.#dirty = true;
      this.#fullWanted = true;
    }
    if (!this.#dirty) return this.#schedule();
    const full = this.#fullWanted;
    this.#dirty = false;
    this.#fullWanted = false;
    this.#running = true;
    this.#lastStart = now;
    this.#o.sync(full).then(
      () => {
        this.#failures = 0;
        if (full) this.#lastFull = now;
        this.#finish();
      },
      () => {
        this.#failures++;
        // The kernel may hold anything after a failure: read it back next time.
        this.#dirty = true;
        this.#fullWanted = true;
        this.#finish();
      },
    );
  }

  #finish(): void {
    this.#running = false;
    if (!this.#dirty || this.#stopped) for (const resolve of this.#idleWaiters.splice(0)) resolve();
    this.#schedule();
  }
}
