// The Service webhook's bookkeeping around its picks: collisions inferred from
// the caches, dry runs that hold nothing, and pools flagged outside every
// ServiceCIDR that it leaves alone.
import { describe, expect, it } from '@jest/globals';
import type { Registry } from 'prom-client';
import { createRegistry } from '../../../lib/metrics.ts';
import type { PoolObject } from '../../../operator/controllers/pools/status.ts';
import type { AdmissionRequest, AdmissionResult } from '../../../operator/webhook/admission.ts';
import { ServiceMutator } from '../../../operator/webhook/mutate-service.ts';
import type { IPAddressResource, ServiceResource } from '../../../operator/webhook/mutate-service.ts';

const pool: PoolObject = {
  metadata: { name: 'tenant', creationTimestamp: '2030-01-01T00:00:00Z' },
  spec: { addresses: ['10.96.200.0/24'], usage: 'ClusterIP', serviceAllocation: { namespaces: ['team-a'] } },
};
const portPool = {
  metadata: { name: 'ports', creationTimestamp: '2030-01-01T00:00:00Z' },
  spec: { ports: ['31000-31099'], serviceAllocation: { namespaces: ['team-a'] } },
};

function setup(o: { ipPools?: PoolObject[] } = {}) {
  const services: ServiceResource[] = [];
  const ipAddresses: IPAddressResource[] = [];
  const registry = createRegistry({ defaultMetrics: false });
  const mutator = new ServiceMutator({
    sources: {
      services: { list: () => services },
      namespaces: { get: () => undefined },
      ipPools: { list: () => o.ipPools ?? [pool] },
      portPools: { list: () => [portPool] },
      ipAddresses: { list: () => ipAddresses },
      hasSynced: () => true,
    },
    registry,
  });
  return { services, ipAddresses, registry, mutator };
}

const svc = (name: string, spec: ServiceResource['spec'] = {}): ServiceResource => ({
  metadata: { name, namespace: 'team-a' },
  spec: { ports: [{ port: 80, protocol: 'TCP' }], ...spec },
});
const request = (object: ServiceResource, dryRun = false): AdmissionRequest =>
  ({
    uid: 'u',
    kind: { group: '', version: 'v1', kind: 'Service' },
    resource: { group: '', version: 'v1', resource: 'services' },
    namespace: 'team-a',
    name: object.metadata?.name,
    operation: 'CREATE',
    object,
    dryRun,
  }) as unknown as AdmissionRequest;
const clusterIP = (r: AdmissionResult) => {
  const op = r.allowed ? r.patch?.[0] : undefined;
  return op && 'value' in op ? op.value : undefined;
};
async function collisions(registry: Registry): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric('portico_service_webhook_collisions_total')?.get();
  return Object.fromEntries(
    (metric?.values ?? []).map((v) => [`${v.labels.pool}/${v.labels.field}`, v.value]),
  );
}

describe('Service webhook collisions', () => {
  it('counts a pick that another Service shows up holding', async () => {
    const { mutator, registry } = setup();
    expect(clusterIP(mutator.handle(request(svc('a'))))).toBe('10.96.200.0');
    mutator.observeService(svc('b', { clusterIP: '10.96.200.0', clusterIPs: ['10.96.200.0'] }));
    expect(await collisions(registry)).toEqual({ 'tenant/clusterIP': 1 });
  });

  it('does not count a pick its own Service shows up holding', async () => {
    const { mutator, registry } = setup();
    mutator.handle(request(svc('a', { type: 'NodePort' })));
    mutator.observeService(
      svc('a', { type: 'NodePort', clusterIPs: ['10.96.200.0'], ports: [{ port: 80, nodePort: 31000 }] }),
    );
    // A later holder of the released values is no collision either.
    mutator.observeService(svc('b', { clusterIPs: ['10.96.200.0'], ports: [{ port: 80, nodePort: 31000 }] }));
    expect(await collisions(registry)).toEqual({});
  });

  it('counts a nodePort collision when the same Service is created again', async () => {
    const { mutator, registry, services } = setup();
    const first = mutator.handle(request(svc('a', { type: 'NodePort' })));
    expect(first.allowed && first.patch?.some((op) => op.path === '/spec/ports/0/nodePort')).toBe(true);
    // Another Service got the port (the cache shows it only now, without an event reaching the ledger).
    services.push(
      svc('b', { type: 'NodePort', clusterIPs: ['10.96.9.9'], ports: [{ port: 80, nodePort: 31000 }] }),
    );
    const retry = mutator.handle(request(svc('a', { type: 'NodePort' })));
    expect(retry.allowed).toBe(true);
    expect(await collisions(registry)).toEqual({ 'ports/nodePort': 1 });
  });

  it('counts an IPAddress allocated to another Service', async () => {
    const { mutator, registry } = setup();
    mutator.handle(request(svc('a')));
    mutator.observeIPAddress({
      metadata: { name: '10.96.200.0' },
      spec: { parentRef: { group: '', resource: 'services', namespace: 'team-a', name: 'a' } },
    });
    expect(await collisions(registry)).toEqual({});
    mutator.handle(request(svc('c')));
    mutator.observeIPAddress({
      metadata: { name: '10.96.200.1' },
      spec: { parentRef: { group: '', resource: 'services', namespace: 'other', name: 'x' } },
    });
    expect(await collisions(registry)).toEqual({ 'tenant/clusterIP': 1 });
  });

  it('holds nothing for a dry run', () => {
    const { mutator } = setup();
    expect(clusterIP(mutator.handle(request(svc('a'), true)))).toBe('10.96.200.0');
    expect(clusterIP(mutator.handle(request(svc('a'))))).toBe('10.96.200.0');
  });

  it('leaves a pool flagged OutsideServiceCIDR alone', () => {
    const flagged: PoolObject = {
      ...pool,
      status: {
        conditions: [
          {
            type: 'OutsideServiceCIDR',
            status: 'True',
            reason: 'OutsideServiceCIDR',
            message: '',
            lastTransitionTime: '2030-01-01T00:00:00Z',
          },
        ],
      },
    };
    const { mutator } = setup({ ipPools: [flagged] });
    const r = mutator.handle(request(svc('a')));
    expect(r.allowed && (r.patch ?? []).length).toBe(0);
  });
});
