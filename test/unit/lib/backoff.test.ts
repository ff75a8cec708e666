import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { backoffDelay, withJitter } from '../../../lib/backoff.ts';

describe('backoff', () => {
  it('doubles from the base and stops at the cap', () => {
    const opts = { baseMs: 5, capMs: 100 };
    expect([0, 1, 2, 3, 4, 5, 6, 2000].map((a) => backoffDelay(a, opts))).toEqual([
      5, 10, 20, 40, 80, 100, 100, 100,
    ]);
  });

  it('property: never decreases and never exceeds the cap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 0, max: 1_000 }),
        (base, attempt) => {
          const opts = { baseMs: base, capMs: base * 50 };
          const d = backoffDelay(attempt, opts);
          expect(d).toBeLessThanOrEqual(opts.capMs);
          expect(backoffDelay(attempt + 1, opts)).toBeGreaterThanOrEqual(d);
        },
      ),
    );
  });

  it('jitter only shortens, by at most the fraction', () => {
    expect(withJitter(1000, 0.2, () => 0)).toBe(1000);
    expect(withJitter(1000, 0.2, () => 1)).toBe(800);
  });
});
