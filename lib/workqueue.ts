// The keyed work queue between informers and reconcilers, with client-go's
// guarantees: a key waits in the queue at most once, one key is never
// reconciled twice at the same time (an add during processing runs again
// afterwards), failures retry with per-key exponential backoff, and success
// resets that backoff.
import { backoffDelay } from './backoff.ts';
import type { BackoffOptions } from './backoff.ts';
import { systemClock } from './clock.ts';
import type { Clock, TimerHandle } from './clock.ts';
import { childLogger } from './logger.ts';
import type { Logger } from './logger.ts';
import { getOrCreateCounter, getOrCreateGauge, getOrCreateHistogram } from './metrics.ts';
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** What a reconcile may ask for besides success or failure (a thrown error). */
export type ReconcileResult = void | { requeueAfterMs?: number };

export type Reconciler = (key: string) => Promise<ReconcileResult> | ReconcileResult;

export interface WorkQueueOptions {
  /** Metric label and log name, e.g. "loadbalancer". */
  name: string;
  /** How many different keys may be processed at once; default 1. */
  concurrency?: number;
  /** Retry backoff per key; default 100ms doubling to 5 minutes. */
  backoff?: BackoffOptions;
  registry?: Registry;
  clock?: Clock;
  logger?: Logger;
}

const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 100, capMs: 5 * 60_000 };

interface QueueMetrics {
  depth: Gauge<'name'>;
  adds: Counter<'name'>;
  retries: Counter<'name'>;
  duration: Histogram<'name'>;
}

function queueMetrics(registry: Registry): QueueMetrics {
  return {
    depth: getOrCreateGauge(registry, {
      name: 'portico_workqueue_depth',
      help: 'Keys waiting in the work queue (not counting keys in backoff).',
      labelNames: ['name'],
    }),
    adds: getOrCreateCounter(registry, {
      name: 'portico_workqueue_adds_total',
      help: 'Keys put into the work queue (duplicates of waiting keys are not counted).',
      labelNames: ['name'],
    }),
    retries: getOrCreateCounter(registry, {
      name: 'portico_workqueue_retries_total',
      help: 'Failed reconciles scheduled for a retry.',
      labelNames: ['name'],
    }),
    duration: getOrCreateHistogram(registry, {
      name: 'portico_workqueue_work_duration_seconds',
      help: 'Time spent reconciling one key.',
      labelNames: ['name'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60],
    }),
  };
}

export class WorkQueue {
  readonly name: string;
  readonly #reconcile: Reconciler;
  readonly #concurrency: number;
  readonly #backoff: BackoffOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #metrics: QueueMetrics | undefined;

  /** FIFO of keys ready to run; `#queued` mirrors it for O(1) dedup. */
  #queue: string[] = [];
  #queued = new Set<string>();
  #processing = new Set<string>();
  /** Keys added while being processed: run again once the current run ends. */
  #dirty = new Set<string>();
  /** Keys waiting for a delay (retry backoff or requeueAfter). */
  #waiting = new Map<string, { due: number; timer: TimerHandle }>();
  #failures = new Map<string, number>();
  #inFlight = new Set<Promise<void>>();
  #shuttingDown = false;

  constructor(options: WorkQueueOptions, reconcile: Reconciler) {
    this.name = options.name;
    this.#reconcile = reconcile;
    this.#concurrency = Math.max(1, options.concurrency ?? 1);
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.logger ?? childLogger(`workqueue/${options.name}`);
    this.#metrics = options.registry ? queueMetrics(options.registry) : undefined;
  }

  /** Queues a key now. A pending delayed add of the same key is superseded. */
  add(key: string): void {
    if (this.#shuttingDown) return;
    this.#cancelWaiting(key);
    if (this.#processing.has(key)) {
      this.#dirty.add(key);
      return;
    }
    if (this.#queued.has(key)) return;
    this.#queue.push(key);
    this.#queued.add(key);
    this.#metrics?.adds.inc({ name: this.name });
    this.#updateDepth();
    this.#pump();
  }

  /** Queues a key after a delay; an earlier pending delay for it is kept. */
  addAfter(key: string, delayMs: number): void {
    if (this.#shuttingDown) return;
    if (delayMs <= 0) return this.add(key);
    if (this.#queued.has(key)) return;
    const due = this.#clock.now() + delayMs;
    const pending = this.#waiting.get(key);
    if (pending && pending.due <= due) return;
    if (pending) this.#clock.clearTimeout(pending.timer);
    const timer = this.#clock.setTimeout(() => {
      this.#waiting.delete(key);
      this.add(key);
    }, delayMs);
    this.#waiting.set(key, { due, timer });
  }

  /** Resets the retry backoff of a key (done automatically after a successful reconcile). */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  /** Consecutive failures of a key so far. */
  numRequeues(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** Keys ready to run (not counting keys in backoff or being processed). */
  get length(): number {
    return this.#queue.length;
  }

  /** Keys being processed right now. */
  processing(): string[] {
    return [...this.#processing];
  }

  /** Keys waiting for a delay to pass. */
  waiting(): string[] {
    return [...this.#waiting.keys()];
  }

  /**
   * Stops taking keys, drops what is queued or waiting, and resolves when the
   * reconciles already running have finished.
   */
  async shutdown(): Promise<void> {
    this.#shuttingDown = true;
    for (const { timer } of this.#waiting.values()) this.#clock.clearTimeout(timer);
    this.#waiting.clear();
    this.#queue = [];
    this.#queued.clear();
    this.#dirty.clear();
    this.#updateDepth();
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  #pump(): void {
    while (!this.#shuttingDown && this.#processing.size < this.#concurrency && this.#queue.length > 0) {
      const key = this.#queue.shift() as string;
      this.#queued.delete(key);
      this.#processing.add(key);
      this.#updateDepth();
      const run = this.#process(key);
      this.#inFlight.add(run);
      void run.finally(() => this.#inFlight.delete(run));
    }
  }

  async #process(key: string): Promise<void> {
    const started = this.#clock.now();
    let retryInMs: number | undefined;
    try {
      const result = await this.#reconcile(key);
      this.forget(key);
      if (result && result.requeueAfterMs !== undefined) retryInMs = result.requeueAfterMs;
    } catch (err) {
      const failures = (this.#failures.get(key) ?? 0) + 1;
      this.#failures.set(key, failures);
      retryInMs = backoffDelay(failures - 1, this.#backoff);
      this.#metrics?.retries.inc({ name: this.name });
      this.#log.warn({ key, err, failures, retryInMs }, 'reconcile failed; will retry');
    } finally {
      this.#metrics?.duration.observe({ name: this.name }, (this.#clock.now() - started) / 1000);
      this.#processing.delete(key);
    }
    if (this.#dirty.delete(key)) {
      // New information arrived during the run: run again now rather than after a backoff.
      this.add(key);
    } else if (retryInMs !== undefined) {
      this.addAfter(key, retryInMs);
    }
    this.#pump();
  }

  #cancelWaiting(key: string): void {
    const pending = this.#waiting.get(key);
    if (!pending) return;
    this.#clock.clearTimeout(pending.timer);
    this.#waiting.delete(key);
  }

  #updateDepth(): void {
    this.#metrics?.depth.set({ name: this.name }, this.#queue.length);
  }
}
