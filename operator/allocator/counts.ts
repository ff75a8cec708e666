// Per-pool, per-family address counts, and their rendering for status.
//
// Counts are bigints: an IPv6 /64 has 2^64 addresses. Kubernetes status
// integers are int64 and JSON numbers read by JavaScript are exact only up to
// 2^53 - 1, so rendering saturates at Number.MAX_SAFE_INTEGER and also gives
// the exact values as decimal strings.

import type { IPFamily } from './ip.ts';

export interface FamilyCounts {
  /** Usable addresses in the pool (after avoidBuggyIPs). */
  readonly total: bigint;
  /** Distinct addresses in use (a shared address counts once). */
  readonly assigned: bigint;
  /** Free addresses held by a sticky reservation. */
  readonly reserved: bigint;
  /** total - assigned - reserved. */
  readonly available: bigint;
}

export interface PoolCounts {
  readonly pool: string;
  readonly IPv4: FamilyCounts;
  readonly IPv6: FamilyCounts;
}

export function familyCounts(total: bigint, assigned: bigint, reserved = 0n): FamilyCounts {
  const available = total - assigned - reserved;
  return { total, assigned, reserved, available: available < 0n ? 0n : available };
}

/** A pool is exhausted when every family it has is fully used. Empty pools are not exhausted. */
export function isExhausted(c: PoolCounts): boolean {
  const families = (['IPv4', 'IPv6'] as const).filter((f: IPFamily) => c[f].total > 0n);
  return families.length > 0 && families.every((f) => c[f].available === 0n);
}

/**
 * Status counts of one family: integers saturated at 2^53 - 1 (exact below
 * that), plus the exact values as decimal strings. This is the shape of
 * crds/ipaddresspool.ts's familyCountsSchema.
 */
export interface FamilyStatusCounts {
  readonly total: number;
  readonly assigned: number;
  readonly available: number;
  readonly totalExact: string;
  readonly availableExact: string;
}

export interface PoolStatusCounts {
  readonly ipv4: FamilyStatusCounts;
  readonly ipv6: FamilyStatusCounts;
}

const MAX = BigInt(Number.MAX_SAFE_INTEGER);

/** A bigint as a JSON-safe number, clamped to [0, Number.MAX_SAFE_INTEGER]. */
export function clampCount(n: bigint): number {
  if (n < 0n) return 0;
  return n > MAX ? Number.MAX_SAFE_INTEGER : Number(n);
}

export function renderFamilyCounts(c: FamilyCounts): FamilyStatusCounts {
  return {
    total: clampCount(c.total),
    assigned: clampCount(c.assigned),
    available: clampCount(c.available),
    totalExact: c.total.toString(),
    availableExact: c.available.toString(),
  };
}

export function renderStatusCounts(c: PoolCounts): PoolStatusCounts {
  return { ipv4: renderFamilyCounts(c.IPv4), ipv6: renderFamilyCounts(c.IPv6) };
}

/** Whether renderStatusCounts had to clamp anything. */
export function isClamped(c: PoolCounts): boolean {
  return [c.IPv4, c.IPv6].some((f) => f.total > MAX || f.assigned > MAX || f.available > MAX);
}

/** Short human form for messages and printer columns: exact below 2^53, else 2^k style. */
export function formatCount(n: bigint): string {
  if (n <= MAX) return n.toString();
  let k = 0;
  while (1n << BigInt(k + 1) <= n) k++;
  return 1n << BigInt(k) === n ? `2^${k}` : `~2^${k}`;
}

/** Counts for a NodePortPool (ports never exceed 65535, so plain numbers; names as in its status). */
export interface PortPoolCounts {
  readonly pool: string;
  readonly total: number;
  readonly used: number;
  readonly available: number;
}
