import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { ManualClock } from '../../../lib/clock.ts';
import { WorkQueue } from '../../../lib/workqueue.ts';
import type { Reconciler, WorkQueueOptions } from '../../../lib/workqueue.ts';
import { deferred, flush, silentLogger } from './helpers.ts';
import type { Deferred } from './helpers.ts';

function makeQueue(reconcile: Reconciler, options: Partial<WorkQueueOptions> = {}) {
  const clock = new ManualClock(1_000);
  const queue = new WorkQueue(
    { name: 'test', clock, logger: silentLogger, backoff: { baseMs: 100, capMs: 1_000 }, ...options },
    reconcile,
  );
  return { clock, queue };
}

/** A reconciler whose runs block until the test releases them. */
function gatedReconciler() {
  const runs: Array<{ key: string; gate: Deferred }> = [];
  const reconcile: Reconciler = async (key) => {
    const gate = deferred();
    runs.push({ key, gate });
    await gate.promise;
  };
  return { runs, reconcile };
}

describe('WorkQueue', () => {
  it('runs a key once however often it was added while waiting', async () => {
    const { runs, reconcile } = gatedReconciler();
    const { queue } = makeQueue(reconcile);
    queue.add('a'); // starts at once
    queue.add('b');
    queue.add('b');
    queue.add('b');
    expect(queue.length).toBe(1);
    runs[0]?.gate.resolve();
    await flush();
    expect(runs.map((r) => r.key)).toEqual(['a', 'b']);
    runs[1]?.gate.resolve();
    await flush();
    expect(runs).toHaveLength(2);
  });

  it('never runs one key concurrently; adds during a run cause exactly one more run', async () => {
    const { runs, reconcile } = gatedReconciler();
    const { queue } = makeQueue(reconcile, { concurrency: 4 });
    queue.add('a');
    queue.add('a');
    queue.add('a');
    await flush();
    expect(runs).toHaveLength(1);
    expect(queue.processing()).toEqual(['a']);
    runs[0]?.gate.resolve();
    await flush();
    expect(runs).toHaveLength(2);
    runs[1]?.gate.resolve();
    await flush();
    expect(runs).toHaveLength(2);
    expect(queue.processing()).toEqual([]);
  });

  it('runs different keys in parallel up to the concurrency limit, in FIFO order', async () => {
    const { runs, reconcile } = gatedReconciler();
    const { queue } = makeQueue(reconcile, { concurrency: 2 });
    for (const key of ['a', 'b', 'c', 'd']) queue.add(key);
    await flush();
    expect(runs.map((r) => r.key)).toEqual(['a', 'b']);
    runs[1]?.gate.resolve();
    await flush();
    expect(runs.map((r) => r.key)).toEqual(['a', 'b', 'c']);
    runs[0]?.gate.resolve();
    await flush();
    expect(runs.map((r) => r.key)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('retries failures with doubling delays up to the cap', async () => {
    const attempts: number[] = [];
    const { clock, queue } = makeQueue(() => {
      attempts.push(clock.now());
      throw new Error('boom');
    });
    queue.add('a');
    await flush();
    for (let i = 0; i < 7; i++) {
      const due = clock.nextDue();
      expect(due).toBeDefined();
      clock.advance((due as number) - clock.now());
      await flush();
    }
    const gaps = attempts.slice(1).map((t, i) => t - (attempts[i] as number));
    expect(gaps).toEqual([100, 200, 400, 800, 1_000, 1_000, 1_000]);
    expect(queue.numRequeues('a')).toBe(8);
  });

  it('forgets the failure count after a success', async () => {
    let fail = true;
    const { clock, queue } = makeQueue(() => {
      if (fail) throw new Error('boom');
    });
    queue.add('a');
    await flush();
    clock.advance(100);
    await flush();
    expect(queue.numRequeues('a')).toBe(2);
    fail = false;
    clock.advance(200);
    await flush();
    expect(queue.numRequeues('a')).toBe(0);
    expect(queue.waiting()).toEqual([]);
    fail = true;
    queue.add('a');
    await flush();
    expect(clock.nextDue()).toBe(clock.now() + 100);
  });

  it('does not wait out the backoff when the key is added again', async () => {
    const calls: string[] = [];
    let fail = true;
    const { clock, queue } = makeQueue((key) => {
      calls.push(key);
      if (fail) throw new Error('boom');
    });
    queue.add('a');
    await flush();
    expect(queue.waiting()).toEqual(['a']);
    fail = false;
    queue.add('a');
    await flush();
    expect(calls).toEqual(['a', 'a']);
    expect(queue.waiting()).toEqual([]);
    expect(clock.pending()).toBe(0);
  });

  it('honours requeueAfter from a successful reconcile', async () => {
    const calls: number[] = [];
    const { clock, queue } = makeQueue(() => {
      calls.push(clock.now());
      return calls.length < 3 ? { requeueAfterMs: 5_000 } : undefined;
    });
    queue.add('a');
    await flush();
    clock.advance(5_000);
    await flush();
    clock.advance(5_000);
    await flush();
    clock.advance(50_000);
    await flush();
    expect(calls).toEqual([1_000, 6_000, 11_000]);
  });

  it('keeps the earlier of two delayed adds', async () => {
    const calls: number[] = [];
    const { clock, queue } = makeQueue(() => {
      calls.push(clock.now());
    });
    queue.addAfter('a', 500);
    queue.addAfter('a', 2_000);
    queue.addAfter('a', 300);
    clock.advance(5_000);
    await flush();
    expect(calls).toEqual([1_300]);
  });

  it('shutdown waits for running reconciles and drops the rest', async () => {
    const { runs, reconcile } = gatedReconciler();
    const { clock, queue } = makeQueue(reconcile);
    queue.add('a');
    queue.add('b');
    queue.addAfter('c', 100);
    let done = false;
    const stopping = queue.shutdown().then(() => {
      done = true;
    });
    await flush();
    expect(done).toBe(false);
    runs[0]?.gate.resolve();
    await stopping;
    expect(done).toBe(true);
    queue.add('d');
    clock.advance(1_000);
    await flush();
    expect(runs.map((r) => r.key)).toEqual(['a']);
    expect(clock.pending()).toBe(0);
  });

  it('exports depth, adds, retries and duration labelled by queue name', async () => {
    const registry = new Registry();
    const { runs, reconcile } = gatedReconciler();
    const clock = new ManualClock();
    const q1 = new WorkQueue({ name: 'one', registry, clock, logger: silentLogger }, reconcile);
    const q2 = new WorkQueue({ name: 'two', registry, clock, logger: silentLogger }, () => {
      throw new Error('no');
    });
    q1.add('a');
    q1.add('b');
    q1.add('b');
    q2.add('x');
    await flush();
    const value = async (metric: string, name: string) => {
      const data = await registry.getSingleMetric(metric)?.get();
      return data?.values.find((v) => v.labels['name'] === name && !('le' in v.labels))?.value;
    };
    expect(await value('portico_workqueue_depth', 'one')).toBe(1);
    expect(await value('portico_workqueue_adds_total', 'one')).toBe(2);
    expect(await value('portico_workqueue_retries_total', 'two')).toBe(1);
    runs[0]?.gate.resolve();
    await flush();
    expect(await value('portico_workqueue_depth', 'one')).toBe(0);
    const text = await registry.metrics();
    expect(text).toContain('portico_workqueue_work_duration_seconds_count{name="one"} 1');
    expect(text).toContain('portico_workqueue_work_duration_seconds_count{name="two"} 1');
    runs[1]?.gate.resolve();
    await q1.shutdown();
    await q2.shutdown();
  });
});
