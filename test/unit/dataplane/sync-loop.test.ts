import { describe, expect, it } from '@jest/globals';
import { ManualClock } from '../../../lib/clock.ts';
import { SyncLoop } from '../../../speaker/dataplane/sync-loop.ts';

function setup(fail: (n: number) => boolean = () => false) {
  const clock = new ManualClock(0);
  const calls: { at: number; full: boolean }[] = [];
  const loop = new SyncLoop({
    minIntervalMs: 1000,
    fullIntervalMs: 60_000,
    maxRetryMs: 8000,
    clock,
    sync: async (full) => {
      calls.push({ at: clock.now(), full });
      if (fail(calls.length)) throw new Error('boom');
    },
  });
  // Let the sync's promise settle after each clock step.
  const step = async (ms: number): Promise<void> => {
    clock.advance(ms);
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  return { clock, calls, loop, step };
}

describe('SyncLoop', () => {
  it('starts with a full sync at once', async () => {
    const { calls, loop, step } = setup();
    loop.start();
    await step(0);
    expect(calls).toEqual([{ at: 0, full: true }]);
  });

  it('batches a burst of changes into one partial sync after the minimum interval', async () => {
    const { calls, loop, step } = setup();
    loop.start();
    await step(0);
    // 150 changes, one every 10 ms, from 0 to 1490.
    for (let i = 0; i < 150; i++) {
      loop.request();
      await step(10);
    }
    await step(1000);
    expect(calls).toEqual([
      { at: 0, full: true },
      { at: 1000, full: false },
      { at: 2000, full: false },
    ]);
  });

  it('runs a full sync every fullIntervalMs even without changes', async () => {
    const { calls, loop, step } = setup();
    loop.start();
    await step(0);
    await step(60_000);
    await step(60_000);
    expect(calls.map((c) => c.full)).toEqual([true, true, true]);
    expect(calls.map((c) => c.at)).toEqual([0, 60_000, 120_000]);
  });

  it('follows a failed sync with a full one, backing off, and resets after a success', async () => {
    const { calls, loop, step } = setup((n) => n === 2 || n === 3);
    loop.start();
    await step(0);
    loop.request();
    await step(1000); // #2 fails
    await step(1000); // #3 (full) fails
    await step(2000); // #4 (full) succeeds after a doubled wait
    loop.request();
    await step(1000); // #5 partial again
    expect(calls).toEqual([
      { at: 0, full: true },
      { at: 1000, full: false },
      { at: 2000, full: true },
      { at: 4000, full: true },
      { at: 5000, full: false },
    ]);
    expect(loop.failures).toBe(0);
  });

  it('does nothing after stop', async () => {
    const { calls, loop, step } = setup();
    loop.start();
    await step(0);
    loop.stop();
    loop.request();
    await step(120_000);
    expect(calls).toHaveLength(1);
    await loop.idle();
  });
});
