// An immutable set of bigints stored as sorted, disjoint, non-adjacent closed
// intervals [lo, hi]. Every operation costs O(number of intervals), never
// O(number of members): an IPv6 /64 is one interval, exactly like a /30.
//
// Operations return new sets and never mutate; an unchanged result may be the
// same instance. add/remove cost one array copy (O(intervals)) plus a binary
// search; set operations are linear merges.

export interface Interval {
  readonly lo: bigint;
  readonly hi: bigint;
}

type IntervalLike = Interval | readonly [bigint, bigint];

function iv(lo: bigint, hi: bigint): Interval {
  return Object.freeze({ lo, hi });
}

function toInterval(x: IntervalLike): Interval {
  if ('lo' in x) return { lo: x.lo, hi: x.hi };
  return { lo: x[0], hi: x[1] };
}

/** Sort and merge overlapping or adjacent intervals; drops empty ones (lo > hi). */
function normalize(list: Interval[]): Interval[] {
  const sorted = list.filter((i) => i.lo <= i.hi).sort((a, b) => (a.lo < b.lo ? -1 : a.lo > b.lo ? 1 : 0));
  const out: Interval[] = [];
  for (const cur of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && cur.lo <= last.hi + 1n) {
      if (cur.hi > last.hi) out[out.length - 1] = { lo: last.lo, hi: cur.hi };
    } else {
      out.push({ lo: cur.lo, hi: cur.hi });
    }
  }
  return out.map((r) => iv(r.lo, r.hi));
}

export class IntervalSet {
  readonly #ranges: readonly Interval[];

  /**
   * `ranges` must be normalised already and is owned by the new set from here
   * on. Interval objects are frozen and shared between sets; the array itself
   * is not frozen (freezing large arrays is slow) but is never exposed mutably.
   */
  private constructor(ranges: Interval[]) {
    this.#ranges = ranges;
  }

  static readonly EMPTY: IntervalSet = new IntervalSet([]);

  static #make(ranges: Interval[]): IntervalSet {
    return ranges.length === 0 ? IntervalSet.EMPTY : new IntervalSet(ranges);
  }

  /** A set from any intervals (they may overlap, touch or come unsorted; empty ones are dropped). */
  static of(...intervals: readonly IntervalLike[]): IntervalSet {
    return IntervalSet.#make(normalize(intervals.map(toInterval)));
  }

  static range(lo: bigint, hi: bigint): IntervalSet {
    return lo > hi ? IntervalSet.EMPTY : new IntervalSet([iv(lo, hi)]);
  }

  static point(x: bigint): IntervalSet {
    return new IntervalSet([iv(x, x)]);
  }

  static fromPoints(points: Iterable<bigint>): IntervalSet {
    const list: Interval[] = [];
    for (const p of points) list.push({ lo: p, hi: p });
    return IntervalSet.#make(normalize(list));
  }

  /** The disjoint, sorted, non-adjacent intervals. */
  get ranges(): readonly Interval[] {
    return this.#ranges;
  }

  get isEmpty(): boolean {
    return this.#ranges.length === 0;
  }

  /** Number of members. */
  size(): bigint {
    let n = 0n;
    for (const r of this.#ranges) n += r.hi - r.lo + 1n;
    return n;
  }

  /** Index of the last interval with lo <= x, or -1. */
  #indexAtOrBefore(x: bigint): number {
    let lo = 0;
    let hi = this.#ranges.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = this.#ranges[mid] as Interval;
      if (r.lo <= x) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /** The interval holding x, if x is a member. */
  intervalContaining(x: bigint): Interval | undefined {
    const r = this.#ranges[this.#indexAtOrBefore(x)];
    return r !== undefined && x <= r.hi ? r : undefined;
  }

  contains(x: bigint): boolean {
    return this.intervalContaining(x) !== undefined;
  }

  /** Every member of [lo, hi] is in the set. */
  containsRange(lo: bigint, hi: bigint): boolean {
    if (lo > hi) return true;
    const r = this.intervalContaining(lo);
    return r !== undefined && hi <= r.hi;
  }

  /** Some member of [lo, hi] is in the set. */
  overlapsRange(lo: bigint, hi: bigint): boolean {
    if (lo > hi) return false;
    const first = this.firstAtOrAfter(lo);
    return first !== undefined && first <= hi;
  }

  overlaps(other: IntervalSet): boolean {
    const a = this.#ranges;
    const b = other.#ranges;
    let i = 0;
    let j = 0;
    while (i < a.length && j < b.length) {
      const x = a[i] as Interval;
      const y = b[j] as Interval;
      if (x.hi < y.lo) i++;
      else if (y.hi < x.lo) j++;
      else return true;
    }
    return false;
  }

  first(): bigint | undefined {
    return this.#ranges[0]?.lo;
  }

  last(): bigint | undefined {
    return this.#ranges[this.#ranges.length - 1]?.hi;
  }

  /** The smallest member >= x. */
  firstAtOrAfter(x: bigint): bigint | undefined {
    const i = this.#indexAtOrBefore(x);
    const r = this.#ranges[i];
    if (r !== undefined && x <= r.hi) return x;
    return this.#ranges[i + 1]?.lo;
  }

  /** Index of the first interval with hi >= x (ranges.length if none). */
  #firstEndingAtOrAfter(x: bigint): number {
    let lo = 0;
    let hi = this.#ranges.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.#ranges[mid] as Interval).hi < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  add(lo: bigint, hi: bigint = lo): IntervalSet {
    if (lo > hi || this.containsRange(lo, hi)) return this;
    const rs = this.#ranges;
    // Intervals i..j-1 overlap or touch [lo, hi] and merge with it.
    const i = this.#firstEndingAtOrAfter(lo - 1n);
    let j = i;
    let mlo = lo;
    let mhi = hi;
    while (j < rs.length && (rs[j] as Interval).lo <= hi + 1n) {
      const r = rs[j] as Interval;
      if (r.lo < mlo) mlo = r.lo;
      if (r.hi > mhi) mhi = r.hi;
      j++;
    }
    const out = rs.slice();
    out.splice(i, j - i, iv(mlo, mhi));
    return new IntervalSet(out);
  }

  remove(lo: bigint, hi: bigint = lo): IntervalSet {
    if (lo > hi || !this.overlapsRange(lo, hi)) return this;
    const rs = this.#ranges;
    const i = this.#firstEndingAtOrAfter(lo);
    let j = i;
    const middle: Interval[] = [];
    while (j < rs.length && (rs[j] as Interval).lo <= hi) {
      const r = rs[j] as Interval;
      if (r.lo < lo) middle.push(iv(r.lo, lo - 1n));
      if (r.hi > hi) middle.push(iv(hi + 1n, r.hi));
      j++;
    }
    const out = rs.slice();
    out.splice(i, j - i, ...middle);
    return IntervalSet.#make(out);
  }

  union(other: IntervalSet): IntervalSet {
    if (other.isEmpty) return this;
    if (this.isEmpty) return other;
    return IntervalSet.#make(normalize([...this.#ranges, ...other.#ranges]));
  }

  intersect(other: IntervalSet): IntervalSet {
    const a = this.#ranges;
    const b = other.#ranges;
    const out: Interval[] = [];
    let i = 0;
    let j = 0;
    while (i < a.length && j < b.length) {
      const x = a[i] as Interval;
      const y = b[j] as Interval;
      const lo = x.lo > y.lo ? x.lo : y.lo;
      const hi = x.hi < y.hi ? x.hi : y.hi;
      if (lo <= hi) out.push(iv(lo, hi));
      if (x.hi < y.hi) i++;
      else j++;
    }
    return IntervalSet.#make(out);
  }

  subtract(other: IntervalSet): IntervalSet {
    if (other.isEmpty || this.isEmpty || !this.overlaps(other)) return this;
    const b = other.#ranges;
    const out: Interval[] = [];
    let j = 0;
    for (const r of this.#ranges) {
      let lo = r.lo;
      while (j < b.length && (b[j] as Interval).hi < lo) j++;
      let k = j;
      while (k < b.length && (b[k] as Interval).lo <= r.hi) {
        const y = b[k] as Interval;
        if (y.lo > lo) out.push(iv(lo, y.lo - 1n));
        lo = y.hi + 1n;
        if (lo > r.hi) break;
        k++;
      }
      if (lo <= r.hi) out.push(lo === r.lo ? r : iv(lo, r.hi));
    }
    return IntervalSet.#make(out);
  }

  equals(other: IntervalSet): boolean {
    if (this.#ranges.length !== other.#ranges.length) return false;
    return this.#ranges.every((r, i) => r.lo === other.#ranges[i]?.lo && r.hi === other.#ranges[i]?.hi);
  }

  toString(): string {
    return `{${this.#ranges.map((r) => (r.lo === r.hi ? `${r.lo}` : `${r.lo}-${r.hi}`)).join(', ')}}`;
  }
}

export interface LowestFreeOptions {
  /** Start the search here (inclusive). Defaults to the universe's first member. */
  readonly from?: bigint;
  /**
   * Members for which this returns true are passed over. It is called once per
   * candidate, so it must reject only sparse members (such as IPv4 .0/.255),
   * never long runs.
   */
  readonly skip?: (x: bigint) => boolean;
}

/**
 * The smallest member of `universe` that is in none of the `blocked` sets and
 * is not skipped, or undefined. Blocked intervals are jumped over whole, so the
 * cost depends on how fragmented the blocked sets are, not on their size.
 */
export function lowestFree(
  universe: IntervalSet,
  blocked: readonly IntervalSet[],
  options: LowestFreeOptions = {},
): bigint | undefined {
  let c = options.from === undefined ? universe.first() : universe.firstAtOrAfter(options.from);
  outer: while (c !== undefined) {
    for (const b of blocked) {
      const hit = b.intervalContaining(c);
      if (hit !== undefined) {
        c = universe.firstAtOrAfter(hit.hi + 1n);
        continue outer;
      }
    }
    if (options.skip?.(c) === true) {
      c = universe.firstAtOrAfter(c + 1n);
      continue;
    }
    return c;
  }
  return undefined;
}
