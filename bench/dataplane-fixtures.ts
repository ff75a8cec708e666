// Shared by the data-path benchmarks: N ClusterIP Services with 10 endpoints
// each, as API objects (what the informers would cache), and timing helpers.
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { performance } from 'node:perf_hooks';
import { buildDesiredState } from '../speaker/dataplane/model.ts';
import type { DesiredState } from '../speaker/dataplane/types.ts';

export const ENDPOINTS_PER_SERVICE = 10;

export interface Fixture {
  readonly services: V1Service[];
  readonly slices: V1EndpointSlice[];
}

/** Service i has ClusterIP 10.0.x.y and endpoints 10.128+.x.y:8080. */
export function makeFixture(count: number): Fixture {
  const services: V1Service[] = [];
  const slices: V1EndpointSlice[] = [];
  for (let i = 0; i < count; i++) {
    const name = `svc-${i}`;
    const vip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    services.push({
      metadata: { name, namespace: 'bench' },
      spec: { clusterIP: vip, clusterIPs: [vip], ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
    });
    const endpoints = Array.from({ length: ENDPOINTS_PER_SERVICE }, (_, j) => {
      const n = i * ENDPOINTS_PER_SERVICE + j;
      return {
        addresses: [`10.${128 + ((n >> 16) & 127)}.${(n >> 8) & 255}.${n & 255}`],
        conditions: { ready: true },
      };
    });
    slices.push({
      addressType: 'IPv4',
      metadata: { name: `${name}-x`, namespace: 'bench', labels: { 'kubernetes.io/service-name': name } },
      endpoints,
      ports: [{ name: 'http', port: 8080 }],
    });
  }
  return { services, slices };
}

/** The same fixture with one endpoint of service 0 replaced (an incremental change). */
export function withOneEndpointChanged(f: Fixture): Fixture {
  const [first, ...rest] = f.slices;
  if (!first) return f;
  const endpoints = [...(first.endpoints ?? [])];
  endpoints[0] = { addresses: ['10.255.255.254'], conditions: { ready: true } };
  return { services: f.services, slices: [{ ...first, endpoints }, ...rest] };
}

export function stateOf(f: Fixture): DesiredState {
  return buildDesiredState({
    services: f.services,
    endpointSlices: f.slices,
    node: { name: 'bench-node', addresses: [] },
  }).state;
}

export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

/**
 * One size of a sync benchmark: the state with all `count` Services, the same
 * with one endpoint changed, and where the timings (ms) go: the backend's full
 * and incremental syncs, each beside its floor.
 */
export interface SyncCase {
  readonly state: DesiredState;
  readonly changed: DesiredState;
  readonly full: number[];
  readonly fullFloor: number[];
  readonly inc: number[];
  readonly incFloor: number[];
}

export function syncCase(count: number): SyncCase {
  const fixture = makeFixture(count);
  return {
    state: stateOf(fixture),
    changed: stateOf(withOneEndpointChanged(fixture)),
    full: [],
    fullFloor: [],
    inc: [],
    incFloor: [],
  };
}
