// List-then-watch with a local cache, built to never give up: the stock
// client-node informer stops on errors it does not know, and an operator whose
// informer silently stopped keeps running on stale data.
//
// The loop: list (fill the cache, emit deltas) -> watch from the list's
// resourceVersion -> on 410 Gone relist and emit the differences -> on any
// other error or end, reconnect with backoff -> a watchdog restarts a watch
// that has been silent (no event, no bookmark) for too long.
import { backoffDelay, withJitter } from './backoff.ts';
import type { BackoffOptions } from './backoff.ts';
import { sleep, systemClock } from './clock.ts';
import type { Clock, TimerHandle } from './clock.ts';
import { describeError, isGone, statusCode } from './errors.ts';
import type { KubeStatus } from './errors.ts';
import { childLogger } from './logger.ts';
import type { Logger } from './logger.ts';
import { getOrCreateCounter } from './metrics.ts';
import type { Counter, Registry } from 'prom-client';
import { ObjectCache } from './object-cache.ts';
import type { CacheDelta, KubeObject } from './object-cache.ts';

export interface ListResult<T> {
  items: T[];
  /** The collection's resourceVersion; the watch starts from here. */
  resourceVersion: string;
}

/** Lists the whole collection (all pages) as one consistent snapshot. */
export type Lister<T> = () => Promise<ListResult<T>>;

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent<T> {
  type: WatchEventType;
  /** The object, or for ERROR a Status. */
  object: T | KubeStatus;
}

export interface WatchHandle {
  abort(): void;
}

/**
 * Opens a watch from `resourceVersion`. `onDone` is called once when the stream
 * ends: with no argument for a clean close, with the error otherwise. The
 * returned promise may also reject (e.g. connection refused).
 */
export type Watcher<T> = (
  resourceVersion: string,
  onEvent: (event: WatchEvent<T>) => void,
  onDone: (err?: unknown) => void,
) => Promise<WatchHandle>;

export interface InformerHandlers<T> {
  add?(obj: T): void;
  update?(oldObj: T, newObj: T): void;
  delete?(obj: T): void;
}

export interface InformerOptions<T> {
  /** Used in logs and metric labels, e.g. "services". */
  name: string;
  list: Lister<T>;
  watch: Watcher<T>;
  /** Reconnect backoff after failures; default 500ms doubling to 30s. */
  backoff?: BackoffOptions;
  /** Restart a watch that delivered nothing for this long; default 90s (bookmarks come about once a minute). */
  watchdogMs?: number;
  logger?: Logger;
  clock?: Clock;
  registry?: Registry;
  /** For reconnect jitter; injectable for tests. */
  random?: () => number;
}

export interface InformerStats {
  /** Successful lists, the first one included. */
  lists: number;
  /** Watches opened. */
  watches: number;
  /** 410 Gone seen (HTTP status or ERROR event). */
  gone: number;
  /** Watches restarted because they were silent for the watchdog period. */
  silent: number;
  /** List or watch failures other than 410. */
  errors: number;
}

type WatchOutcome =
  | { kind: 'stopped' }
  | { kind: 'gone'; received: boolean }
  | { kind: 'closed'; received: boolean }
  | { kind: 'silent' }
  | { kind: 'error'; error: unknown; received: boolean };

const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, capMs: 30_000 };
export const DEFAULT_WATCHDOG_MS = 90_000;

export class Informer<T extends KubeObject> {
  readonly name: string;
  readonly #options: InformerOptions<T>;
  readonly #cache = new ObjectCache<T>();
  readonly #handlers = new Set<InformerHandlers<T>>();
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #stats: InformerStats = { lists: 0, watches: 0, gone: 0, silent: 0, errors: 0 };
  readonly #restarts: Counter<'informer' | 'reason'> | undefined;
  #resourceVersion = '';
  #synced = false;
  #syncWaiters: Array<() => void> = [];
  #abort: AbortController | undefined;
  #running: Promise<void> | undefined;
  #cancelWatch: (() => void) | undefined;

  constructor(options: InformerOptions<T>) {
    this.name = options.name;
    this.#options = options;
    this.#log = options.logger ?? childLogger(`informer/${options.name}`);
    this.#clock = options.clock ?? systemClock;
    this.#restarts = options.registry
      ? getOrCreateCounter(options.registry, {
          name: 'portico_informer_restarts_total',
          help: 'Informer relists and watch restarts, by reason (gone, closed, silent, error).',
          labelNames: ['informer', 'reason'],
        })
      : undefined;
  }

  /** True once the first list has been loaded and its adds delivered. */
  hasSynced(): boolean {
    return this.#synced;
  }

  /** Resolves once hasSynced() is true. */
  waitForSync(): Promise<void> {
    if (this.#synced) return Promise.resolve();
    return new Promise((resolve) => this.#syncWaiters.push(resolve));
  }

  /** The cached objects. They are shared, not copied: treat them as read-only. */
  list(): T[] {
    return this.#cache.list();
  }

  /** By key: "namespace/name", or "name" for cluster-scoped objects. */
  get(key: string): T | undefined {
    return this.#cache.get(key);
  }

  keys(): string[] {
    return this.#cache.keys();
  }

  /** The last resourceVersion seen (list, event or bookmark). */
  resourceVersion(): string {
    return this.#resourceVersion;
  }

  stats(): Readonly<InformerStats> {
    return { ...this.#stats };
  }

  /**
   * Subscribes to changes; returns the unsubscribe function. A handler added
   * after sync first gets an add for every cached object, so late subscribers
   * see the same world as early ones.
   */
  addHandlers(handlers: InformerHandlers<T>): () => void {
    this.#handlers.add(handlers);
    if (this.#synced) {
      for (const obj of this.#cache.list()) this.#call(handlers, { type: 'add', object: obj });
    }
    return () => this.#handlers.delete(handlers);
  }

  start(): void {
    if (this.#running) return;
    const abort = new AbortController();
    this.#abort = abort;
    this.#running = this.#run(abort.signal);
  }

  /** Stops watching and resolves when the loop has exited. The cache is kept. */
  async stop(): Promise<void> {
    this.#abort?.abort();
    this.#cancelWatch?.();
    await this.#running;
    this.#running = undefined;
  }

  async #run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    let needList = true;
    const delay = (): number =>
      withJitter(
        backoffDelay(failures++, this.#options.backoff ?? DEFAULT_BACKOFF),
        0.2,
        this.#options.random ?? Math.random,
      );

    while (!signal.aborted) {
      if (needList) {
        try {
          await this.#relist();
          needList = false;
        } catch (err) {
          if (signal.aborted) break;
          this.#stats.errors++;
          this.#restarts?.inc({ informer: this.name, reason: 'error' });
          const wait = delay();
          this.#log.warn({ err: describeError(err), retryInMs: Math.round(wait) }, 'list failed');
          await sleep(this.#clock, wait, signal);
          continue;
        }
      }

      const outcome = await this.#watchOnce(signal);
      if (outcome.kind !== 'stopped') this.#restarts?.inc({ informer: this.name, reason: outcome.kind });
      switch (outcome.kind) {
        case 'stopped':
          return;
        case 'gone':
          this.#stats.gone++;
          this.#log.info({ resourceVersion: this.#resourceVersion }, 'watch expired (410 Gone); relisting');
          needList = true;
          // A watch that 410s before delivering anything right after a list
          // would otherwise spin list/watch; slow it down like a failure.
          if (!outcome.received) await sleep(this.#clock, delay(), signal);
          else failures = 0;
          break;
        case 'closed':
          // The apiserver ends watches on its own timeout; that is routine.
          this.#log.debug('watch closed by server; rewatching');
          if (outcome.received) failures = 0;
          else await sleep(this.#clock, delay(), signal);
          break;
        case 'silent':
          this.#stats.silent++;
          this.#log.info({ watchdogMs: this.#watchdogMs() }, 'watch silent too long; restarting it');
          break;
        case 'error': {
          this.#stats.errors++;
          // A watch that was working before it broke starts the backoff afresh.
          if (outcome.received) failures = 0;
          const wait = delay();
          this.#log.warn({ err: describeError(outcome.error), retryInMs: Math.round(wait) }, 'watch failed');
          await sleep(this.#clock, wait, signal);
          break;
        }
      }
    }
  }

  async #relist(): Promise<void> {
    const { items, resourceVersion } = await this.#options.list();
    const deltas = this.#cache.replace(items);
    this.#resourceVersion = resourceVersion;
    this.#stats.lists++;
    this.#log.debug({ items: items.length, changes: deltas.length, resourceVersion }, 'listed');
    for (const delta of deltas) this.#emit(delta);
    if (!this.#synced) {
      this.#synced = true;
      for (const resolve of this.#syncWaiters.splice(0)) resolve();
    }
  }

  #watchdogMs(): number {
    return this.#options.watchdogMs ?? DEFAULT_WATCHDOG_MS;
  }

  /** One watch connection, resolved with why it ended. Late callbacks of an ended watch are ignored. */
  #watchOnce(signal: AbortSignal): Promise<WatchOutcome> {
    if (signal.aborted) return Promise.resolve({ kind: 'stopped' });
    this.#stats.watches++;
    return new Promise<WatchOutcome>((resolve) => {
      const clock = this.#clock;
      const watchdogMs = this.#watchdogMs();
      let ended = false;
      let received = false;
      let lastActivity = clock.now();
      let handle: WatchHandle | undefined;
      let watchdog: TimerHandle | undefined;

      const finish = (outcome: WatchOutcome): void => {
        if (ended) return;
        ended = true;
        if (watchdog !== undefined) clock.clearTimeout(watchdog);
        this.#cancelWatch = undefined;
        handle?.abort();
        resolve(outcome);
      };
      const armWatchdog = (ms: number): void => {
        watchdog = clock.setTimeout(() => {
          const idle = clock.now() - lastActivity;
          if (idle >= watchdogMs) finish({ kind: 'silent' });
          else armWatchdog(watchdogMs - idle);
        }, ms);
      };
      this.#cancelWatch = () => finish({ kind: 'stopped' });
      armWatchdog(watchdogMs);

      const onEvent = (event: WatchEvent<T>): void => {
        if (ended) return;
        lastActivity = clock.now();
        received = true;
        if (event.type === 'ERROR') {
          const status = event.object as KubeStatus;
          if (statusCode(status) === 410) finish({ kind: 'gone', received });
          else finish({ kind: 'error', error: status, received });
          return;
        }
        this.#applyEvent(event);
      };
      const onDone = (err?: unknown): void => {
        if (ended) return;
        if (signal.aborted) finish({ kind: 'stopped' });
        else if (err === undefined || err === null) finish({ kind: 'closed', received });
        else if (isGone(err)) finish({ kind: 'gone', received });
        // client-node's Watch aborts a connection idle for its own timeout: same as our watchdog.
        else if (err instanceof Error && err.name === 'TimeoutError') finish({ kind: 'silent' });
        else finish({ kind: 'error', error: err, received });
      };

      this.#options
        .watch(this.#resourceVersion, onEvent, onDone)
        .then((h) => {
          handle = h;
          if (ended) h.abort();
        })
        .catch(onDone);
    });
  }

  #applyEvent(event: WatchEvent<T>): void {
    const obj = event.object as T;
    const rv = obj.metadata?.resourceVersion;
    if (rv) this.#resourceVersion = rv;
    let delta: CacheDelta<T> | undefined;
    switch (event.type) {
      case 'ADDED':
      case 'MODIFIED':
        delta = this.#cache.upsert(obj);
        break;
      case 'DELETED':
        delta = this.#cache.remove(obj);
        break;
      case 'BOOKMARK':
        return;
      default:
        this.#log.debug({ type: event.type }, 'ignoring unknown watch event type');
        return;
    }
    if (delta) this.#emit(delta);
  }

  #emit(delta: CacheDelta<T>): void {
    for (const handlers of this.#handlers) this.#call(handlers, delta);
  }

  // A throwing handler must not break the informer or starve other handlers.
  #call(handlers: InformerHandlers<T>, delta: CacheDelta<T>): void {
    try {
      if (delta.type === 'add') handlers.add?.(delta.object);
      else if (delta.type === 'update') handlers.update?.(delta.oldObject, delta.object);
      else handlers.delete?.(delta.object);
    } catch (err) {
      this.#log.error({ err, change: delta.type }, 'informer handler threw');
    }
  }
}
