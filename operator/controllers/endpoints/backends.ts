// Pure: from the declared backends plus what DNS and the health checks have
// observed, to the addresses to publish (with readiness) and what each
// backend entry stands for.
import { publishableIP } from '../../../crds/index.ts';
import type { Backend } from '../../../crds/index.ts';
import { parseIP, formatIP } from '../../allocator/index.ts';
import { isHealthy } from './health.ts';
import type { HealthState } from './health.ts';
import { addressesOf } from './resolution.ts';
import type { AddressFamily, ResolutionState } from './resolution.ts';

export interface Observations {
  /** By host name. Missing: not looked up yet. */
  resolution: ReadonlyMap<string, ResolutionState>;
  /** By address. Missing: not probed yet. */
  health: ReadonlyMap<string, HealthState>;
  /** Whether health checks decide readiness; without them every address is ready. */
  probing: boolean;
}

export interface ExpandedBackend {
  index: number;
  backend: Backend;
  /** Canonical addresses this entry publishes. */
  addresses: string[];
  /** Addresses left out, with why (e.g. a name resolving to 127.0.0.1). */
  skipped: { address: string; why: string }[];
  /** For host names: the resolution state, if any lookup ran. */
  resolution?: ResolutionState;
}

export interface DesiredEndpoint {
  address: string;
  family: AddressFamily;
  ready: boolean;
}

function canonical(address: string): { address: string; family: AddressFamily } | undefined {
  const r = parseIP(address);
  return r.ok ? { address: formatIP(r.value), family: r.value.family } : undefined;
}

export function expandBackends(backends: readonly Backend[], obs: Observations): ExpandedBackend[] {
  return backends.map((backend, index) => {
    const resolution = backend.hostname === undefined ? undefined : obs.resolution.get(backend.hostname);
    const raw = backend.ip !== undefined ? [backend.ip] : resolution ? addressesOf(resolution) : [];
    const addresses: string[] = [];
    const skipped: { address: string; why: string }[] = [];
    for (const a of raw) {
      const c = canonical(a);
      if (!c) skipped.push({ address: a, why: 'not an IP address' });
      else if (!publishableIP(c.address))
        skipped.push({ address: c.address, why: 'loopback, unspecified or link-local' });
      else if (!addresses.includes(c.address)) addresses.push(c.address);
    }
    return { index, backend, addresses, skipped, ...(resolution ? { resolution } : {}) };
  });
}

export const addressReady = (address: string, obs: Observations): boolean =>
  !obs.probing || isHealthy(obs.health.get(address));

/** Every published address once, sorted by family then address. */
export function desiredEndpoints(expanded: readonly ExpandedBackend[], obs: Observations): DesiredEndpoint[] {
  const seen = new Map<string, DesiredEndpoint>();
  for (const e of expanded) {
    for (const address of e.addresses) {
      if (seen.has(address)) continue;
      const family = canonical(address)?.family ?? 'IPv4';
      seen.set(address, { address, family, ready: addressReady(address, obs) });
    }
  }
  return [...seen.values()].sort(
    (a, b) => a.family.localeCompare(b.family) || compareAddress(a.address, b.address),
  );
}

/** Numeric order within a family (10.0.0.9 before 10.0.0.10). */
export function compareAddress(a: string, b: string): number {
  const pa = parseIP(a);
  const pb = parseIP(b);
  if (!pa.ok || !pb.ok) return a.localeCompare(b);
  return pa.value.value < pb.value.value ? -1 : pa.value.value > pb.value.value ? 1 : 0;
}

/** The distinct addresses to probe. */
export function probeTargets(expanded: readonly ExpandedBackend[]): string[] {
  return [...new Set(expanded.flatMap((e) => e.addresses))];
}
