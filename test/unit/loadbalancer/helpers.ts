// Builders for the LoadBalancer controller's unit tests (not a test file itself).
import { IPAllocator } from '../../../operator/allocator/index.ts';
import type { ServiceObject } from '../../../operator/controllers/loadbalancer/service.ts';
import { mkPool } from '../allocator/helpers.ts';

export { mkPool };

export const HOUR = 3_600_000;

/** A LoadBalancer Service as the apiserver would store it (IPv4 single-stack by default). */
export function svc(
  name: string,
  opts: {
    namespace?: string;
    uid?: string;
    created?: string;
    type?: string;
    class?: string;
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
    loadBalancerIP?: string;
    ipFamilies?: string[];
    ipFamilyPolicy?: string;
    ports?: { protocol?: string; port: number }[];
    externalTrafficPolicy?: string;
    selector?: Record<string, string>;
    ingress?: string[];
  } = {},
): ServiceObject {
  return {
    metadata: {
      name,
      namespace: opts.namespace ?? 'ns',
      uid: opts.uid ?? `uid-${name}`,
      creationTimestamp: opts.created ?? '2026-01-01T00:00:00Z',
      ...(opts.labels ? { labels: opts.labels } : {}),
      ...(opts.annotations ? { annotations: opts.annotations } : {}),
    },
    spec: {
      type: opts.type ?? 'LoadBalancer',
      ...(opts.class !== undefined ? { loadBalancerClass: opts.class } : {}),
      ...(opts.loadBalancerIP !== undefined ? { loadBalancerIP: opts.loadBalancerIP } : {}),
      ipFamilies: opts.ipFamilies ?? ['IPv4'],
      ipFamilyPolicy: opts.ipFamilyPolicy ?? 'SingleStack',
      ports: opts.ports ?? [{ protocol: 'TCP', port: 80 }],
      externalTrafficPolicy: opts.externalTrafficPolicy ?? 'Cluster',
      selector: opts.selector ?? { app: name },
    },
    status: {
      loadBalancer: opts.ingress ? { ingress: opts.ingress.map((ip) => ({ ip, ipMode: 'VIP' })) } : {},
    },
  };
}

/** An allocator on a settable clock with one pool. */
export function allocator(
  pools = [mkPool('p', { addresses: ['10.0.0.0/30', 'fd00::/126'] })],
  holdMs = 24 * HOUR,
): { alloc: IPAllocator; clock: { now: () => number; advance: (ms: number) => void } } {
  let t = Date.parse('2026-06-01T00:00:00Z');
  const clock = { now: () => t, advance: (ms: number) => void (t += ms) };
  const alloc = new IPAllocator({ now: clock.now, stickyHoldMs: holdMs });
  alloc.setPools(pools);
  return { alloc, clock };
}

export const CLASSES = { loadBalancerClass: 'portico.io/lb', isDefault: true };
