// Properties of diff/applyBatch over random states drawn from a small pool of
// keys and endpoints, so that random pairs overlap a lot.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { applyBatch, diff, isEmptyBatch } from '../../../speaker/dataplane/diff.ts';
import { stateArb } from './arbitraries.ts';

describe('diff properties', () => {
  it('diff(a, a) is empty', () => {
    fc.assert(fc.property(stateArb, (a) => isEmptyBatch(diff(a, structuredClone(a)))));
  });

  it('applying diff(a, b) to b gives a', () => {
    fc.assert(
      fc.property(stateArb, stateArb, (a, b) => {
        expect(applyBatch(b, diff(a, b))).toEqual(a);
      }),
    );
  });

  it('the batch is minimal: every entry is a real difference, each key at most once', () => {
    fc.assert(
      fc.property(stateArb, stateArb, (a, b) => {
        const batch = diff(a, b);
        const bKeys = new Map(b.services.map((vs) => [vs.key, vs]));
        const aKeys = new Set(a.services.map((vs) => vs.key));
        for (const vs of batch.add) expect(bKeys.has(vs.key)).toBe(false);
        for (const vs of batch.remove) expect(aKeys.has(vs.key)).toBe(false);
        for (const u of batch.update) {
          expect(bKeys.get(u.service.key)).not.toEqual(u.service);
          const eps = u.endpoints;
          expect(u.attributesChanged || eps.add.length + eps.update.length + eps.remove.length > 0).toBe(
            true,
          );
        }
        const all = [...batch.add, ...batch.update.map((u) => u.service), ...batch.remove].map(
          (vs) => vs.key,
        );
        expect(new Set(all).size).toBe(all.length);
        // Unchanged services are untouched.
        const touched = new Set(all);
        for (const vs of a.services) {
          const old = bKeys.get(vs.key);
          if (old && JSON.stringify(old) === JSON.stringify(vs)) expect(touched.has(vs.key)).toBe(false);
        }
      }),
    );
  });

  it('diffs compose: b -> c after a -> b ends at c', () => {
    fc.assert(
      fc.property(stateArb, stateArb, stateArb, (a, b, c) => {
        const mid = applyBatch(a, diff(b, a));
        expect(applyBatch(mid, diff(c, mid))).toEqual(c);
      }),
    );
  });
});
