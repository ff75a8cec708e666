import { describe, expect, it } from '@jest/globals';
import { ManualClock } from '../../../lib/clock.ts';
import { Informer } from '../../../lib/informer.ts';
import type { InformerOptions, WatchEvent } from '../../../lib/informer.ts';
import type { KubeObject } from '../../../lib/object-cache.ts';
import { flush, silentLogger } from './helpers.ts';

type Obj = KubeObject & { data?: string };

function obj(name: string, rv: number, data = ''): Obj {
  return { metadata: { name, namespace: 'ns', resourceVersion: String(rv), uid: name }, data };
}

interface OpenWatch {
  resourceVersion: string;
  emit(event: WatchEvent<Obj>): void;
  done(err?: unknown): void;
  aborted: boolean;
}

/** A scripted apiserver: the test decides what lists return and what watches say. */
class FakeApi {
  items = new Map<string, Obj>();
  rv = 100;
  listError: unknown;
  watchError: unknown;
  lists = 0;
  watches: OpenWatch[] = [];

  get current(): OpenWatch {
    const w = this.watches.at(-1);
    if (!w) throw new Error('no watch open');
    return w;
  }

  options(clock: ManualClock): InformerOptions<Obj> {
    return {
      name: 'test',
      clock,
      logger: silentLogger,
      random: () => 0,
      backoff: { baseMs: 100, capMs: 800 },
      watchdogMs: 10_000,
      list: async () => {
        this.lists++;
        if (this.listError) throw this.listError;
        return { items: [...this.items.values()], resourceVersion: String(this.rv) };
      },
      watch: async (resourceVersion, onEvent, onDone) => {
        if (this.watchError) throw this.watchError;
        const w: OpenWatch = { resourceVersion, emit: onEvent, done: onDone, aborted: false };
        this.watches.push(w);
        return { abort: () => (w.aborted = true) };
      },
    };
  }
}

function recorder(informer: Informer<Obj>): string[] {
  const seen: string[] = [];
  informer.addHandlers({
    add: (o) => seen.push(`add ${o.metadata?.name}@${o.metadata?.resourceVersion}`),
    update: (a, b) =>
      seen.push(`update ${b.metadata?.name}@${a.metadata?.resourceVersion}->${b.metadata?.resourceVersion}`),
    delete: (o) => seen.push(`delete ${o.metadata?.name}@${o.metadata?.resourceVersion}`),
  });
  return seen;
}

async function started(api: FakeApi) {
  const clock = new ManualClock();
  const informer = new Informer<Obj>(api.options(clock));
  const seen = recorder(informer);
  informer.start();
  await flush();
  return { clock, informer, seen };
}

/** Fires the next timer (a backoff sleep or watchdog) and lets the loop run. */
async function fireNextTimer(clock: ManualClock): Promise<number> {
  const due = clock.nextDue();
  if (due === undefined) throw new Error('no timer pending');
  const wait = due - clock.now();
  clock.advance(wait);
  await flush();
  return wait;
}

describe('Informer', () => {
  it('lists, syncs, then watches from the list resourceVersion', async () => {
    const api = new FakeApi();
    api.items.set('ns/a', obj('a', 90));
    const { informer, seen } = await started(api);
    expect(informer.hasSynced()).toBe(true);
    await informer.waitForSync();
    expect(seen).toEqual(['add a@90']);
    expect(informer.get('ns/a')).toEqual(obj('a', 90));
    expect(api.current.resourceVersion).toBe('100');
    await informer.stop();
  });

  it('delivers watch events in order and tracks the resourceVersion', async () => {
    const api = new FakeApi();
    const { informer, seen } = await started(api);
    api.current.emit({ type: 'ADDED', object: obj('a', 101) });
    api.current.emit({ type: 'MODIFIED', object: obj('a', 102, 'x') });
    api.current.emit({ type: 'MODIFIED', object: obj('a', 102, 'x') }); // replay: no event
    api.current.emit({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '150' } } });
    api.current.emit({ type: 'DELETED', object: obj('a', 160) });
    expect(seen).toEqual(['add a@101', 'update a@101->102', 'delete a@160']);
    expect(informer.list()).toEqual([]);
    expect(informer.resourceVersion()).toBe('160');
    // A clean close after events is routine: rewatch at once from where we were.
    api.current.done();
    await flush();
    expect(api.watches).toHaveLength(2);
    expect(api.current.resourceVersion).toBe('160');
    expect(api.lists).toBe(1);
    await informer.stop();
  });

  it('relists on a 410 ERROR event and emits only the differences', async () => {
    const api = new FakeApi();
    api.items.set('ns/keep', obj('keep', 1));
    api.items.set('ns/change', obj('change', 2));
    api.items.set('ns/gone', obj('gone', 3));
    const { informer, seen } = await started(api);
    seen.length = 0;
    api.current.emit({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '120' } } });
    // Meanwhile, unseen by us: one object changed, one was deleted, one created.
    api.items.delete('ns/gone');
    api.items.set('ns/change', obj('change', 130));
    api.items.set('ns/new', obj('new', 131));
    api.rv = 140;
    api.current.emit({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } });
    await flush();
    expect(api.lists).toBe(2);
    expect(seen).toEqual(['delete gone@3', 'update change@2->130', 'add new@131']);
    expect(informer.keys().sort()).toEqual(['ns/change', 'ns/keep', 'ns/new']);
    expect(api.current.resourceVersion).toBe('140');
    expect(informer.stats()).toMatchObject({ lists: 2, gone: 1 });
    await informer.stop();
  });

  it('relists when the watch request itself answers 410', async () => {
    const api = new FakeApi();
    const { informer, clock } = await started(api);
    api.watchError = Object.assign(new Error('Gone'), { statusCode: 410 });
    api.current.done(new Error('socket hang up'));
    await flush();
    await fireNextTimer(clock); // backoff after the error; then the watch 410s
    api.watchError = undefined;
    // A 410 before any event right after a list is slowed down like a failure.
    await fireNextTimer(clock);
    expect(api.lists).toBe(2);
    expect(informer.stats().gone).toBe(1);
    await informer.stop();
  });

  it('reconnects after errors with growing, capped backoff and never gives up', async () => {
    const api = new FakeApi();
    const { informer, clock } = await started(api);
    api.watchError = new Error('connect ECONNREFUSED');
    api.current.done(new Error('socket hang up'));
    await flush();
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) waits.push(await fireNextTimer(clock));
    expect(waits).toEqual([100, 200, 400, 800, 800, 800, 800, 800]);
    api.watchError = undefined;
    const before = api.watches.length;
    await fireNextTimer(clock);
    expect(api.watches.length).toBe(before + 1);
    // A healthy watch resets the backoff.
    api.current.emit({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '200' } } });
    api.current.done(new Error('reset'));
    await flush();
    expect(await fireNextTimer(clock)).toBe(100);
    expect(informer.stats().errors).toBeGreaterThanOrEqual(9);
    await informer.stop();
  });

  it('retries a failing list until it succeeds', async () => {
    const api = new FakeApi();
    api.listError = Object.assign(new Error('Service Unavailable'), { code: 503 });
    const { informer, clock } = await started(api);
    expect(informer.hasSynced()).toBe(false);
    await fireNextTimer(clock);
    await fireNextTimer(clock);
    expect(api.lists).toBe(3);
    api.listError = undefined;
    await fireNextTimer(clock);
    expect(informer.hasSynced()).toBe(true);
    expect(api.watches).toHaveLength(1);
    await informer.stop();
  });

  it('restarts a watch that stays silent for the watchdog period', async () => {
    const api = new FakeApi();
    const { informer, clock } = await started(api);
    const first = api.current;
    clock.advance(6_000);
    first.emit({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '105' } } });
    clock.advance(6_000); // 12s since start, but only 6s since the bookmark
    await flush();
    expect(first.aborted).toBe(false);
    clock.advance(4_000);
    await flush();
    expect(first.aborted).toBe(true);
    expect(api.watches).toHaveLength(2);
    expect(api.current.resourceVersion).toBe('105');
    expect(informer.stats().silent).toBe(1);
    // Late events from the abandoned watch are ignored.
    first.emit({ type: 'ADDED', object: obj('late', 1) });
    expect(informer.get('ns/late')).toBeUndefined();
    await informer.stop();
  });

  it('keeps going when a handler throws, and replays the cache to late handlers', async () => {
    const api = new FakeApi();
    api.items.set('ns/a', obj('a', 1));
    const clock = new ManualClock();
    const informer = new Informer<Obj>(api.options(clock));
    informer.addHandlers({
      add: () => {
        throw new Error('handler bug');
      },
    });
    const early = recorder(informer);
    informer.start();
    await flush();
    api.current.emit({ type: 'ADDED', object: obj('b', 101) });
    expect(early).toEqual(['add a@1', 'add b@101']);
    const late = recorder(informer);
    expect(late.sort()).toEqual(['add a@1', 'add b@101']);
    await informer.stop();
  });

  it('stop ends the loop and aborts the open watch', async () => {
    const api = new FakeApi();
    const { informer, clock } = await started(api);
    const open = api.current;
    await informer.stop();
    expect(open.aborted).toBe(true);
    clock.advance(60_000);
    await flush();
    expect(api.watches).toHaveLength(1);
  });
});
