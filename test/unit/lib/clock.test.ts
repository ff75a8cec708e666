import { describe, expect, it } from '@jest/globals';
import { ManualClock, sleep } from '../../../lib/clock.ts';
import { flush } from './helpers.ts';

describe('ManualClock', () => {
  it('fires due timers in time order, ties in creation order', () => {
    const clock = new ManualClock(10);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => fired.push(`a@${clock.now()}`), 5);
    clock.setTimeout(() => fired.push(`c@${clock.now()}`), 20);
    const cancelled = clock.setTimeout(() => fired.push('x'), 1);
    clock.clearTimeout(cancelled);
    clock.advance(15);
    expect(fired).toEqual(['a@15']);
    clock.advance(100);
    expect(fired).toEqual(['a@15', 'b@30', 'c@30']);
    expect(clock.now()).toBe(125);
    expect(clock.pending()).toBe(0);
  });

  it('fires timers scheduled by timers within the same advance', () => {
    const clock = new ManualClock();
    const fired: number[] = [];
    clock.setTimeout(() => clock.setTimeout(() => fired.push(clock.now()), 10), 10);
    clock.advance(25);
    expect(fired).toEqual([20]);
  });

  it('sleep resolves on time or early on abort', async () => {
    const clock = new ManualClock();
    let woke = false;
    void sleep(clock, 100).then(() => (woke = true));
    clock.advance(99);
    await flush();
    expect(woke).toBe(false);
    clock.advance(1);
    await flush();
    expect(woke).toBe(true);

    const abort = new AbortController();
    let aborted = false;
    void sleep(clock, 1_000, abort.signal).then(() => (aborted = true));
    abort.abort();
    await flush();
    expect(aborted).toBe(true);
    expect(clock.pending()).toBe(0);
  });
});
