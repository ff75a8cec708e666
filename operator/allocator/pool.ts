// IPAddressPool spec -> validated Pool with per-family interval sets.
//
// Decisions:
// - `addresses` entries are a CIDR ("10.0.0.0/24"), a range
//   ("10.0.0.1-10.0.0.9", spaces around "-" allowed as in MetalLB) or a single
//   address ("10.0.0.7", which MetalLB does not accept; it means a /32 or /128).
// - A CIDR with host bits set is accepted as its network, as MetalLB (Go's
//   net.ParseCIDR) does, and a warning names the entry.
// - Entries must not overlap, within a pool or (validatePools) across pools.
// - avoidBuggyIPs excludes every IPv4 address whose last octet is 0 or 255, as
//   MetalLB does. The exclusion is applied arithmetically (counting) and by a
//   predicate (allocation); it is never materialised, so a /8 stays one interval.
// - Size: nothing in the allocator enumerates addresses, so an IPv6 /64 (or
//   ::/0) is as cheap as a /30 and no size limit is needed. `maxEntrySize` is
//   available for callers that want one anyway (for example if a consumer must
//   list every address); it is off by default.

import { err, fieldError, ok, quote } from './errors.ts';
import type { FieldError, Result } from './errors.ts';
import { IntervalSet } from './intervals.ts';
import { formatIPValue, IP_FAMILIES, parseCIDR, parseIP, rangeAsCIDR } from './ip.ts';
import type { CIDR, IPAddress, IPFamily } from './ip.ts';
import { parseServiceAllocation } from './service-allocation.ts';
import type { ServiceAllocation, ServiceAllocationSpec } from './service-allocation.ts';

export type PoolUsage = 'LoadBalancer' | 'ClusterIP';
export const POOL_USAGES: readonly PoolUsage[] = ['LoadBalancer', 'ClusterIP'];

export interface IPAddressPoolSpec {
  readonly addresses?: readonly string[];
  readonly autoAssign?: boolean;
  readonly avoidBuggyIPs?: boolean;
  readonly serviceAllocation?: ServiceAllocationSpec;
  readonly usage?: PoolUsage;
}

export type PoolEntryKind = 'cidr' | 'range' | 'ip';

export interface PoolEntry {
  /** Index in spec.addresses. */
  readonly index: number;
  /** The text as written. */
  readonly text: string;
  readonly kind: PoolEntryKind;
  readonly family: IPFamily;
  readonly lo: bigint;
  readonly hi: bigint;
}

export interface Pool {
  readonly name: string;
  readonly usage: PoolUsage;
  readonly autoAssign: boolean;
  readonly avoidBuggyIPs: boolean;
  readonly serviceAllocation: ServiceAllocation | undefined;
  readonly entries: readonly PoolEntry[];
  readonly ranges: Readonly<Record<IPFamily, IntervalSet>>;
  /** Usable addresses per family (after avoidBuggyIPs). */
  readonly total: Readonly<Record<IPFamily, bigint>>;
  /** Accepted, but worth telling the user (host bits set, nothing usable, ...). */
  readonly warnings: readonly FieldError[];
}

export interface ParsePoolOptions {
  /** Reject an entry with more addresses than this. Default: no limit. */
  readonly maxEntrySize?: bigint;
}

/** An IPv4 address ending in .0 or .255 (MetalLB's "buggy" addresses). */
export function isBuggyIPv4(value: bigint): boolean {
  const last = value & 0xffn;
  return last === 0n || last === 0xffn;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/** How many x in [lo, hi] have x mod m == r. */
function countCongruent(lo: bigint, hi: bigint, r: bigint, m: bigint): bigint {
  if (lo > hi) return 0n;
  return floorDiv(hi - r, m) - floorDiv(lo - 1n - r, m);
}

/** Number of buggy (.0 / .255) IPv4 addresses in a set. */
export function buggyCount(set: IntervalSet): bigint {
  let n = 0n;
  for (const { lo, hi } of set.ranges)
    n += countCongruent(lo, hi, 0n, 256n) + countCongruent(lo, hi, 255n, 256n);
  return n;
}

/** Usable addresses of a family in a set, honouring avoidBuggyIPs. */
export function usableCount(set: IntervalSet, family: IPFamily, avoidBuggyIPs: boolean): bigint {
  const size = set.size();
  return avoidBuggyIPs && family === 'IPv4' ? size - buggyCount(set) : size;
}

/** Whether the pool can hand out this address (in range, not avoided). */
export function poolContains(pool: Pool, addr: IPAddress): boolean {
  if (!pool.ranges[addr.family].contains(addr.value)) return false;
  return !(pool.avoidBuggyIPs && addr.family === 'IPv4' && isBuggyIPv4(addr.value));
}

/** The allocation predicate for a pool's family: addresses to pass over. */
export function skipFor(pool: Pool, family: IPFamily): ((x: bigint) => boolean) | undefined {
  return pool.avoidBuggyIPs && family === 'IPv4' ? isBuggyIPv4 : undefined;
}

/** Canonical text of an entry: a CIDR when it is one, else `first-last`. */
export function formatEntry(e: Pick<PoolEntry, 'family' | 'lo' | 'hi'>): string {
  const c = rangeAsCIDR(e.family, e.lo, e.hi);
  if (c !== undefined) return `${formatIPValue(e.family, c.first)}/${c.prefixLength}`;
  return `${formatIPValue(e.family, e.lo)}-${formatIPValue(e.family, e.hi)}`;
}

type EntryParse =
  | { ok: true; kind: PoolEntryKind; family: IPFamily; lo: bigint; hi: bigint; warning?: string }
  | { ok: false; message: string };

/** Parse one `addresses` entry (CIDR, range or single address). */
export function parseAddressEntry(text: string): EntryParse {
  if (typeof text !== 'string') return { ok: false, message: `${quote(text)} must be a string` };
  if (text === '') return { ok: false, message: 'must not be empty' };
  if (text.includes('/')) {
    const c = parseCIDR(text);
    if (!c.ok) return { ok: false, message: c.error.message };
    const cidr: CIDR = c.value;
    return {
      ok: true,
      kind: 'cidr',
      family: cidr.family,
      lo: cidr.first,
      hi: cidr.last,
      ...(cidr.hostBitsSet
        ? {
            warning: `${quote(text)} has host bits set; it is used as ${formatIPValue(cidr.family, cidr.first)}/${cidr.prefixLength}`,
          }
        : {}),
    };
  }
  if (text.includes('-')) {
    const dash = text.indexOf('-');
    const startText = text.slice(0, dash).trim();
    const endText = text.slice(dash + 1).trim();
    const start = parseIP(startText);
    if (!start.ok)
      return { ok: false, message: `${quote(text)} has an invalid start: ${start.error.message}` };
    const end = parseIP(endText);
    if (!end.ok) return { ok: false, message: `${quote(text)} has an invalid end: ${end.error.message}` };
    if (start.value.family !== end.value.family) {
      return {
        ok: false,
        message: `${quote(text)} mixes an ${start.value.family} start and an ${end.value.family} end`,
      };
    }
    if (start.value.value > end.value.value)
      return { ok: false, message: `${quote(text)} is a reversed range` };
    return {
      ok: true,
      kind: 'range',
      family: start.value.family,
      lo: start.value.value,
      hi: end.value.value,
    };
  }
  const a = parseIP(text);
  if (!a.ok) {
    return {
      ok: false,
      message: `${quote(text)} is not a CIDR, a start-end range or an address: ${a.error.message}`,
    };
  }
  return { ok: true, kind: 'ip', family: a.value.family, lo: a.value.value, hi: a.value.value };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function entryLabel(e: PoolEntry): string {
  return `spec.addresses[${e.index}] (${quote(e.text)})`;
}

/** Parse and validate an IPAddressPool spec. Every problem is reported, each naming its field. */
export function parsePool(
  name: string,
  spec: unknown,
  options: ParsePoolOptions = {},
): Result<Pool, FieldError[]> {
  const errors: FieldError[] = [];
  const warnings: FieldError[] = [];
  if (typeof name !== 'string' || name === '') errors.push(fieldError('metadata.name', 'must not be empty'));
  if (!isPlainObject(spec)) return err([...errors, fieldError('spec', 'must be an object')]);

  const entries: PoolEntry[] = [];
  const addresses = spec.addresses;
  if (!Array.isArray(addresses) || addresses.length === 0) {
    errors.push(fieldError('spec.addresses', 'must list at least one CIDR, range or address'));
  } else {
    addresses.forEach((text: unknown, index) => {
      const path = `spec.addresses[${index}]`;
      const parsed = parseAddressEntry(text as string);
      if (!parsed.ok) {
        errors.push(fieldError(path, parsed.message));
        return;
      }
      const entry: PoolEntry = {
        index,
        text: text as string,
        kind: parsed.kind,
        family: parsed.family,
        lo: parsed.lo,
        hi: parsed.hi,
      };
      if (parsed.warning !== undefined) warnings.push(fieldError(path, parsed.warning));
      const size = entry.hi - entry.lo + 1n;
      if (options.maxEntrySize !== undefined && size > options.maxEntrySize) {
        errors.push(
          fieldError(
            path,
            `${quote(entry.text)} has ${size} addresses, more than the limit of ${options.maxEntrySize}`,
          ),
        );
        return;
      }
      const clash = entries.find((o) => o.family === entry.family && o.lo <= entry.hi && entry.lo <= o.hi);
      if (clash !== undefined) {
        errors.push(fieldError(path, `${quote(entry.text)} overlaps ${entryLabel(clash)}`));
        return;
      }
      entries.push(entry);
    });
  }

  const bool = (field: 'autoAssign' | 'avoidBuggyIPs', dflt: boolean): boolean => {
    const v = spec[field];
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'boolean') {
      errors.push(fieldError(`spec.${field}`, `${quote(v)} must be true or false`));
      return dflt;
    }
    return v;
  };
  const autoAssign = bool('autoAssign', true);
  const avoidBuggyIPs = bool('avoidBuggyIPs', false);

  let usage: PoolUsage = 'LoadBalancer';
  if (spec.usage !== undefined && spec.usage !== null) {
    if (!POOL_USAGES.includes(spec.usage as PoolUsage)) {
      errors.push(fieldError('spec.usage', `${quote(spec.usage)} is not one of ${POOL_USAGES.join(', ')}`));
    } else {
      usage = spec.usage as PoolUsage;
    }
  }

  const sa = parseServiceAllocation(spec.serviceAllocation, 'spec.serviceAllocation');
  if (!sa.ok) errors.push(...sa.error);

  if (errors.length > 0 || !sa.ok) return err(errors);

  const ranges: Record<IPFamily, IntervalSet> = { IPv4: IntervalSet.EMPTY, IPv6: IntervalSet.EMPTY };
  for (const e of entries) ranges[e.family] = ranges[e.family].add(e.lo, e.hi);
  const total: Record<IPFamily, bigint> = {
    IPv4: usableCount(ranges.IPv4, 'IPv4', avoidBuggyIPs),
    IPv6: usableCount(ranges.IPv6, 'IPv6', avoidBuggyIPs),
  };
  if (avoidBuggyIPs) {
    for (const e of entries) {
      if (e.family === 'IPv4' && usableCount(IntervalSet.range(e.lo, e.hi), 'IPv4', true) === 0n) {
        warnings.push(
          fieldError(
            `spec.addresses[${e.index}]`,
            `${quote(e.text)} has no usable address with avoidBuggyIPs`,
          ),
        );
      }
    }
  }
  return ok({
    name,
    usage,
    autoAssign,
    avoidBuggyIPs,
    serviceAllocation: sa.value,
    entries,
    ranges,
    total,
    warnings,
  });
}

/** One overlap between two pools (or a duplicate name). */
export interface PoolConflict {
  /** The pool that was rejected. */
  readonly pool: string;
  /** The pool it clashes with (accepted earlier). */
  readonly otherPool: string;
  readonly error: FieldError;
}

export interface PoolSetValidation<P> {
  /** Pools that can be used, in input order. */
  readonly accepted: P[];
  /** Pools that clash with an earlier accepted pool, with every clash found. */
  readonly rejected: { readonly pool: P; readonly errors: FieldError[] }[];
  readonly conflicts: PoolConflict[];
}

/**
 * Check a set of pools against each other. Pools are taken in the order given
 * (callers pass oldest first, e.g. by creationTimestamp then name): a pool that
 * overlaps an earlier accepted pool, or repeats its name, is rejected and the
 * earlier one keeps working. Errors name both pools and the addresses fields.
 */
export function validatePools(pools: readonly Pool[]): PoolSetValidation<Pool> {
  const accepted: Pool[] = [];
  const rejected: { pool: Pool; errors: FieldError[] }[] = [];
  const conflicts: PoolConflict[] = [];
  const byName = new Set<string>();
  const union: Record<IPFamily, IntervalSet> = { IPv4: IntervalSet.EMPTY, IPv6: IntervalSet.EMPTY };
  for (const pool of pools) {
    const errors: FieldError[] = [];
    if (byName.has(pool.name)) {
      const e = fieldError('metadata.name', `IPAddressPool ${quote(pool.name)} is defined more than once`);
      errors.push(e);
      conflicts.push({ pool: pool.name, otherPool: pool.name, error: e });
    } else {
      for (const entry of pool.entries) {
        if (!union[entry.family].overlapsRange(entry.lo, entry.hi)) continue;
        for (const other of accepted) {
          for (const o of other.entries) {
            if (o.family !== entry.family || o.hi < entry.lo || entry.hi < o.lo) continue;
            const e = fieldError(
              `spec.addresses[${entry.index}]`,
              `${quote(entry.text)} overlaps ${entryLabel(o)} of IPAddressPool ${quote(other.name)}`,
            );
            errors.push(e);
            conflicts.push({ pool: pool.name, otherPool: other.name, error: e });
          }
        }
      }
    }
    if (errors.length > 0) {
      rejected.push({ pool, errors });
      continue;
    }
    byName.add(pool.name);
    accepted.push(pool);
    for (const f of IP_FAMILIES) union[f] = union[f].union(pool.ranges[f]);
  }
  return { accepted, rejected, conflicts };
}

/**
 * For a ClusterIP pool: every entry must lie inside one of the cluster's
 * Service CIDRs (of its family). Returns one error per entry that does not.
 */
export function checkWithinServiceCIDRs(pool: Pool, serviceCIDRs: readonly string[]): FieldError[] {
  const inside: Record<IPFamily, IntervalSet> = { IPv4: IntervalSet.EMPTY, IPv6: IntervalSet.EMPTY };
  for (const text of serviceCIDRs) {
    const c = parseCIDR(text);
    if (c.ok) inside[c.value.family] = inside[c.value.family].add(c.value.first, c.value.last);
  }
  const errors: FieldError[] = [];
  for (const e of pool.entries) {
    if (!inside[e.family].containsRange(e.lo, e.hi)) {
      const list = serviceCIDRs.length === 0 ? 'none is known' : serviceCIDRs.join(', ');
      errors.push(
        fieldError(
          `spec.addresses[${e.index}]`,
          `${quote(e.text)} is not inside a Service CIDR of the cluster (${list})`,
        ),
      );
    }
  }
  return errors;
}
