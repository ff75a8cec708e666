import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { jsonEqual } from '../../../lib/json-equal.ts';

describe('jsonEqual', () => {
  it('ignores key order and treats undefined fields as absent', () => {
    expect(jsonEqual({ a: 1, b: [1, { c: 'x' }] }, { b: [1, { c: 'x' }], a: 1 })).toBe(true);
    expect(jsonEqual({ a: 1, b: undefined }, { a: 1 })).toBe(true);
  });

  it('tells different data apart', () => {
    expect(jsonEqual({ a: 1 }, { a: '1' })).toBe(false);
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
    expect(jsonEqual([], {})).toBe(false);
    expect(jsonEqual(null, {})).toBe(false);
    expect(jsonEqual({ a: [1] }, { a: [1, 2] })).toBe(false);
  });

  it('property: agrees with comparing canonical JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        expect(jsonEqual(a, structuredClone(a))).toBe(true);
        const canonical = (v: unknown): string =>
          JSON.stringify(v, (_k, x: unknown) =>
            x && typeof x === 'object' && !Array.isArray(x)
              ? Object.fromEntries(Object.entries(x).sort(([p], [q]) => (p < q ? -1 : 1)))
              : x,
          );
        expect(jsonEqual(a, b)).toBe(canonical(a) === canonical(b));
      }),
    );
  });
});
