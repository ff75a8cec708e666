import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { IntervalSet, lowestFree } from '../../../operator/allocator/intervals.ts';

const U = 64; // small universe for the model checks

function members(s: IntervalSet): number[] {
  const out: number[] = [];
  for (const r of s.ranges) for (let x = r.lo; x <= r.hi; x++) out.push(Number(x));
  return out;
}

function fromModel(m: Set<number>): IntervalSet {
  return IntervalSet.fromPoints([...m].map(BigInt));
}

const range = fc
  .tuple(fc.integer({ min: 0, max: U - 1 }), fc.integer({ min: 0, max: U - 1 }))
  .map(([a, b]) => [BigInt(Math.min(a, b)), BigInt(Math.max(a, b))] as const);

const setArb = fc.array(range, { maxLength: 6 }).map((rs) => IntervalSet.of(...rs));

function modelOf(s: IntervalSet): Set<number> {
  return new Set(members(s));
}

function assertCanonical(s: IntervalSet): void {
  const rs = s.ranges;
  for (let i = 0; i < rs.length; i++) {
    const r = rs[i]!;
    expect(r.lo <= r.hi).toBe(true);
    if (i > 0) expect(rs[i - 1]!.hi + 1n < r.lo).toBe(true); // sorted, disjoint, not adjacent
  }
}

describe('IntervalSet', () => {
  it('normalises overlapping, adjacent and unsorted input', () => {
    const s = IntervalSet.of([10n, 20n], [5n, 9n], [30n, 40n], [15n, 25n], [50n, 49n]);
    expect(s.ranges).toEqual([
      { lo: 5n, hi: 25n },
      { lo: 30n, hi: 40n },
    ]);
    expect(s.size()).toBe(32n);
    expect(s.toString()).toBe('{5-25, 30-40}');
  });

  it('costs the same for a /64 as for a /30', () => {
    const big = IntervalSet.range(0n, (1n << 64n) - 1n);
    expect(big.ranges).toHaveLength(1);
    expect(big.size()).toBe(1n << 64n);
    const holes = big
      .remove(0n)
      .remove(5n)
      .remove((1n << 63n) + 7n);
    expect(holes.ranges).toHaveLength(3);
    expect(holes.size()).toBe((1n << 64n) - 3n);
    expect(holes.firstAtOrAfter(0n)).toBe(1n);
    expect(lowestFree(big, [IntervalSet.range(0n, 1n << 62n)])).toBe((1n << 62n) + 1n);
  });

  it('answers membership and range queries', () => {
    const s = IntervalSet.of([1n, 3n], [7n, 9n]);
    expect(s.contains(0n)).toBe(false);
    expect(s.contains(2n)).toBe(true);
    expect(s.contains(5n)).toBe(false);
    expect(s.containsRange(7n, 9n)).toBe(true);
    expect(s.containsRange(3n, 7n)).toBe(false);
    expect(s.overlapsRange(4n, 6n)).toBe(false);
    expect(s.overlapsRange(4n, 7n)).toBe(true);
    expect(s.firstAtOrAfter(4n)).toBe(7n);
    expect(s.firstAtOrAfter(10n)).toBeUndefined();
    expect(s.first()).toBe(1n);
    expect(s.last()).toBe(9n);
    expect(IntervalSet.EMPTY.first()).toBeUndefined();
    expect(IntervalSet.EMPTY.isEmpty).toBe(true);
  });

  it('never mutates: operations return new sets', () => {
    const s = IntervalSet.range(0n, 10n);
    const t = s.remove(5n);
    expect(s.size()).toBe(11n);
    expect(t.size()).toBe(10n);
    expect(Object.isFrozen(s.ranges[0])).toBe(true);
    expect(s.add(20n).ranges).toHaveLength(2);
    expect(s.ranges).toHaveLength(1);
  });

  it('matches a naive model for every operation (property)', () => {
    fc.assert(
      fc.property(setArb, setArb, range, fc.integer({ min: 0, max: U }), (a, b, [lo, hi], x) => {
        const ma = modelOf(a);
        const mb = modelOf(b);
        for (const s of [a, b]) assertCanonical(s);

        const add = a.add(lo, hi);
        const rem = a.remove(lo, hi);
        const uni = a.union(b);
        const int = a.intersect(b);
        const sub = a.subtract(b);
        for (const s of [add, rem, uni, int, sub]) assertCanonical(s);

        const span = new Set<number>();
        for (let i = Number(lo); i <= Number(hi); i++) span.add(i);
        expect(modelOf(add)).toEqual(new Set([...ma, ...span]));
        expect(modelOf(rem)).toEqual(new Set([...ma].filter((v) => !span.has(v))));
        expect(modelOf(uni)).toEqual(new Set([...ma, ...mb]));
        expect(modelOf(int)).toEqual(new Set([...ma].filter((v) => mb.has(v))));
        expect(modelOf(sub)).toEqual(new Set([...ma].filter((v) => !mb.has(v))));

        expect(a.size()).toBe(BigInt(ma.size));
        expect(a.contains(BigInt(x))).toBe(ma.has(x));
        expect(a.containsRange(lo, hi)).toBe([...span].every((v) => ma.has(v)));
        expect(a.overlapsRange(lo, hi)).toBe([...span].some((v) => ma.has(v)));
        expect(a.overlaps(b)).toBe([...ma].some((v) => mb.has(v)));
        const after = [...ma].filter((v) => v >= x).sort((p, q) => p - q)[0];
        expect(a.firstAtOrAfter(BigInt(x))).toBe(after === undefined ? undefined : BigInt(after));
        expect(a.equals(fromModel(ma))).toBe(true);
      }),
    );
  });
});

describe('lowestFree', () => {
  it('skips blocked intervals and skipped members', () => {
    const universe = IntervalSet.range(0n, 20n);
    expect(lowestFree(universe, [])).toBe(0n);
    expect(lowestFree(universe, [IntervalSet.range(0n, 4n)])).toBe(5n);
    expect(lowestFree(universe, [IntervalSet.range(0n, 4n), IntervalSet.of([5n, 6n], [8n, 8n])])).toBe(7n);
    expect(lowestFree(universe, [], { skip: (x) => x % 2n === 0n })).toBe(1n);
    expect(lowestFree(universe, [], { from: 11n })).toBe(11n);
    expect(lowestFree(universe, [IntervalSet.range(0n, 20n)])).toBeUndefined();
    expect(lowestFree(IntervalSet.EMPTY, [])).toBeUndefined();
  });

  it('is the minimum of universe minus blocked minus skipped (property)', () => {
    fc.assert(
      fc.property(
        setArb,
        fc.array(setArb, { maxLength: 3 }),
        fc.integer({ min: 0, max: 3 }),
        (u, blocked, mod) => {
          const skip = mod === 0 ? undefined : (x: bigint) => x % 4n === BigInt(mod);
          const expected = members(u)
            .filter((v) => !blocked.some((b) => b.contains(BigInt(v))))
            .filter((v) => skip === undefined || !skip(BigInt(v)))[0];
          const got = lowestFree(u, blocked, skip ? { skip } : {});
          expect(got).toBe(expected === undefined ? undefined : BigInt(expected));
        },
      ),
    );
  });
});
