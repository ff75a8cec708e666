// Pure: what we know about one host name from DNS, and when to ask again.
//
// - A and AAAA are looked up separately. A family that answers replaces its
//   addresses; "no such name" or "no data" is an answer (no addresses); any
//   other error (timeout, refused, server failure) keeps that family's last
//   good addresses.
// - A lookup that yields no address at all keeps the last good addresses too:
//   a DNS outage or a broken zone must not empty a Service.
// - The next lookup follows the smallest TTL, clamped to [minMs, maxMs];
//   after a failure it backs off from minMs, doubling up to maxMs.

export type AddressFamily = 'IPv4' | 'IPv6';

export interface Answer {
  address: string;
  /** Seconds. */
  ttl: number;
}

/** The outcome of one query (one family). */
export type FamilyLookup =
  { kind: 'answers'; answers: Answer[] } | { kind: 'nodata' } | { kind: 'error'; code: string };

export interface Lookup {
  IPv4: FamilyLookup;
  IPv6: FamilyLookup;
}

export interface RefreshBounds {
  minMs: number;
  maxMs: number;
}

export interface ResolutionState {
  /** Last good addresses per family, sorted; undefined until the first success. */
  readonly IPv4?: readonly string[];
  readonly IPv6?: readonly string[];
  /** Whether any lookup has succeeded yet. */
  readonly resolved: boolean;
  /** Failed lookups in a row. */
  readonly failures: number;
  /** Why the latest lookup failed; undefined when it succeeded. */
  readonly error?: string;
  /** When to look up again (ms). */
  readonly nextMs: number;
}

export const INITIAL_RESOLUTION: ResolutionState = { resolved: false, failures: 0, nextMs: 0 };

const FAMILIES: readonly AddressFamily[] = ['IPv4', 'IPv6'];

/**
 * The addresses published before this process started (from status), due
 * for a lookup at once: a restart neither withdraws them while the first
 * lookup runs nor loses them when DNS is down at that moment.
 */
export function carriedOverResolution(addresses: readonly string[]): ResolutionState {
  const v6 = addresses.filter((a) => a.includes(':')).sort();
  const v4 = addresses.filter((a) => !a.includes(':')).sort();
  return { IPv4: v4, IPv6: v6, resolved: true, failures: 0, nextMs: 0 };
}

const clamp = (v: number, b: RefreshBounds): number => Math.min(b.maxMs, Math.max(b.minMs, v));

export function retryDelay(failures: number, bounds: RefreshBounds): number {
  const exp = Math.min(30, Math.max(0, failures - 1));
  return clamp(bounds.minMs * 2 ** exp, bounds);
}

/** All last good addresses, IPv4 first. */
export function addressesOf(state: ResolutionState): string[] {
  return [...(state.IPv4 ?? []), ...(state.IPv6 ?? [])];
}

export function isDue(state: ResolutionState, nowMs: number): boolean {
  return nowMs >= state.nextMs;
}

/** The state after a lookup completed. */
export function applyLookup(
  state: ResolutionState,
  lookup: Lookup,
  nowMs: number,
  bounds: RefreshBounds,
): ResolutionState {
  const next: { IPv4?: readonly string[]; IPv6?: readonly string[] } = {
    IPv4: state.IPv4,
    IPv6: state.IPv6,
  };
  const errors: string[] = [];
  let minTtl = Infinity;
  for (const family of FAMILIES) {
    const r = lookup[family];
    if (r.kind === 'error') {
      errors.push(`${family === 'IPv4' ? 'A' : 'AAAA'} lookup failed: ${r.code}`);
      continue;
    }
    const answers = r.kind === 'answers' ? r.answers : [];
    next[family] = [...new Set(answers.map((a) => a.address))].sort();
    for (const a of answers) minTtl = Math.min(minTtl, a.ttl);
  }
  const total = (next.IPv4?.length ?? 0) + (next.IPv6?.length ?? 0);
  if (errors.length === 0 && total === 0) errors.push('the name has no A or AAAA records');
  if (errors.length > 0) {
    const failures = state.failures + 1;
    // Families that did answer still update, unless that would leave nothing.
    const keep = total === 0 ? { IPv4: state.IPv4, IPv6: state.IPv6 } : next;
    return {
      ...keep,
      resolved: state.resolved || total > 0,
      failures,
      error: errors.join('; '),
      nextMs: nowMs + retryDelay(failures, bounds),
    };
  }
  const ttlMs = Number.isFinite(minTtl) ? minTtl * 1000 : bounds.minMs;
  return { ...next, resolved: true, failures: 0, nextMs: nowMs + clamp(ttlMs, bounds) };
}

/** Whether two states differ in what is published or shown on status. */
export function resolutionChanged(a: ResolutionState, b: ResolutionState): boolean {
  const same = (x?: readonly string[], y?: readonly string[]) =>
    (x ?? []).length === (y ?? []).length && (x ?? []).every((v, i) => v === (y ?? [])[i]);
  return !same(a.IPv4, b.IPv4) || !same(a.IPv6, b.IPv6) || a.error !== b.error || a.resolved !== b.resolved;
}
