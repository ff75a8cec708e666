import { describe, expect, it } from '@jest/globals';
import type { PoolObject } from '../../../operator/controllers/pools/status.ts';
import type { AdmissionRequest, AdmissionResult } from '../../../operator/webhook/admission.ts';
import { desiredConfiguration } from '../../../operator/webhook/configuration.ts';
import {
  Reservations,
  ServiceMutator,
  serviceWebhookDefinition,
  usablePortPools,
} from '../../../operator/webhook/mutate-service.ts';
import type {
  NodePortPoolResource,
  ServiceResource,
  ServiceWebhookSources,
} from '../../../operator/webhook/mutate-service.ts';
import { needsNodePorts, wantedFamilies } from '../../../operator/webhook/service-plan.ts';

const ipPool = (
  name: string,
  addresses: string[],
  namespaces: string[],
  usage = 'ClusterIP',
): PoolObject => ({
  metadata: { name, creationTimestamp: '2030-01-01T00:00:00Z' },
  spec: { addresses, usage, serviceAllocation: { namespaces } },
});
const portPool = (name: string, ports: string[], namespaces: string[]): NodePortPoolResource => ({
  metadata: { name, creationTimestamp: '2030-01-01T00:00:00Z' },
  spec: { ports, serviceAllocation: { namespaces } },
});

function sources(o: {
  services?: ServiceResource[];
  ipPools?: PoolObject[];
  portPools?: NodePortPoolResource[];
  ipAddresses?: string[];
  synced?: boolean;
}): ServiceWebhookSources {
  return {
    services: { list: () => o.services ?? [] },
    namespaces: { get: (name) => ({ metadata: { name, labels: { team: name } } }) },
    ipPools: { list: () => o.ipPools ?? [] },
    portPools: { list: () => o.portPools ?? [] },
    ipAddresses: { list: () => (o.ipAddresses ?? []).map((name) => ({ metadata: { name } })) },
    hasSynced: () => o.synced ?? true,
  };
}

const request = (
  object: ServiceResource,
  namespace = 'team-a',
  operation: 'CREATE' | 'UPDATE' = 'CREATE',
  oldObject?: ServiceResource,
): AdmissionRequest =>
  ({
    uid: 'u1',
    kind: { group: '', version: 'v1', kind: 'Service' },
    resource: { group: '', version: 'v1', resource: 'services' },
    namespace,
    name: object.metadata?.name,
    operation,
    object,
    ...(oldObject ? { oldObject } : {}),
  }) as unknown as AdmissionRequest;

const svc = (name: string, spec: ServiceResource['spec'] = {}): ServiceResource => ({
  metadata: { name, namespace: 'team-a' },
  spec: { ports: [{ port: 80, protocol: 'TCP' }], ...spec },
});

const patchOf = (r: AdmissionResult) => (r.allowed ? (r.patch ?? []) : []);
const firstValue = (r: AdmissionResult): unknown => {
  const op = patchOf(r)[0];
  return op && 'value' in op ? op.value : undefined;
};

const standard = {
  ipPools: [ipPool('tenant-a', ['10.96.200.0/24', 'fd00:10:96::c800/120'], ['team-a'])],
  portPools: [portPool('ports-a', ['31000-31099'], ['team-a'])],
};

describe('ServiceMutator', () => {
  it('fills clusterIP(s) from the selecting ClusterIP pool', () => {
    const m = new ServiceMutator({ sources: sources(standard) });
    const r = m.handle(request(svc('s1')));
    expect(patchOf(r)).toEqual([
      { op: 'add', path: '/spec/clusterIP', value: '10.96.200.0' },
      { op: 'add', path: '/spec/clusterIPs', value: ['10.96.200.0'] },
    ]);
  });

  it('fills both families for RequireDualStack, primary family first', () => {
    const m = new ServiceMutator({ sources: sources(standard) });
    const r = m.handle(
      request(svc('s1', { ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv6', 'IPv4'] })),
    );
    expect(patchOf(r)[1]).toEqual({
      op: 'add',
      path: '/spec/clusterIPs',
      value: ['fd00:10:96::c800', '10.96.200.0'],
    });
  });

  it('skips addresses used by Services, IPAddress objects and recent reservations', () => {
    const m = new ServiceMutator({
      sources: sources({
        ...standard,
        services: [svc('old', { clusterIP: '10.96.200.0', clusterIPs: ['10.96.200.0'] })],
        ipAddresses: ['10.96.200.1'],
      }),
    });
    expect(firstValue(m.handle(request(svc('s1'))))).toBe('10.96.200.2');
    expect(firstValue(m.handle(request(svc('s2'))))).toBe('10.96.200.3');
  });

  it('lets reservations expire after their TTL', () => {
    let now = 0;
    const m = new ServiceMutator({ sources: sources(standard), reservationTtlMs: 1000, now: () => now });
    expect(firstValue(m.handle(request(svc('s1'))))).toBe('10.96.200.0');
    now = 2000;
    expect(firstValue(m.handle(request(svc('s2'))))).toBe('10.96.200.0');
  });

  it('fills nodePorts for NodePort and LoadBalancer Services, not when allocateLoadBalancerNodePorts is false', () => {
    const m = new ServiceMutator({ sources: sources({ portPools: standard.portPools }) });
    const np = m.handle(
      request(svc('np', { type: 'NodePort', ports: [{ port: 80 }, { port: 443, nodePort: 31000 }] })),
    );
    expect(patchOf(np)).toEqual([{ op: 'add', path: '/spec/ports/0/nodePort', value: 31001 }]);
    const lb = m.handle(request(svc('lb', { type: 'LoadBalancer' })));
    expect(patchOf(lb)).toEqual([{ op: 'add', path: '/spec/ports/0/nodePort', value: 31000 }]);
    const noPorts = m.handle(
      request(svc('lb2', { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false })),
    );
    expect(patchOf(noPorts)).toEqual([]);
  });

  it('keeps user values and warns when they are outside the pool', () => {
    const m = new ServiceMutator({ sources: sources(standard) });
    const r = m.handle(
      request(svc('s', { type: 'NodePort', clusterIP: '10.96.5.5', ports: [{ port: 80, nodePort: 30500 }] })),
    );
    expect(r.allowed).toBe(true);
    expect(patchOf(r)).toEqual([]);
    expect(r.warnings?.join('\n')).toMatch(/10\.96\.5\.5 is outside IPAddressPool "tenant-a"/);
    expect(r.warnings?.join('\n')).toMatch(/30500 is outside NodePortPool "ports-a"/);
  });

  it('passes headless, ExternalName and unselected Services through untouched', () => {
    const m = new ServiceMutator({ sources: sources(standard) });
    expect(patchOf(m.handle(request(svc('h', { clusterIP: 'None' }))))).toEqual([]);
    expect(patchOf(m.handle(request(svc('e', { type: 'ExternalName' }))))).toEqual([]);
    expect(patchOf(m.handle(request(svc('o', { type: 'NodePort' }), 'team-b')))).toEqual([]);
  });

  it('ignores LoadBalancer-usage pools', () => {
    const m = new ServiceMutator({
      sources: sources({ ipPools: [ipPool('lb', ['192.0.2.0/24'], ['team-a'], 'LoadBalancer')] }),
    });
    expect(patchOf(m.handle(request(svc('s'))))).toEqual([]);
  });

  it('denies with a message naming the exhausted pool', () => {
    const m = new ServiceMutator({
      sources: sources({
        ipPools: [ipPool('tiny', ['10.96.201.0/31'], ['team-a'])],
        portPools: [portPool('few', ['31500'], ['team-a'])],
      }),
    });
    expect(m.handle(request(svc('a'))).allowed).toBe(true);
    expect(m.handle(request(svc('b'))).allowed).toBe(true);
    const r = m.handle(request(svc('c')));
    expect(r.allowed).toBe(false);
    if (!r.allowed) expect(r.status.message).toMatch(/IPAddressPool "tiny".*no free IPv4 address.*team-a\/c/);
    const p = m.handle(
      request(svc('d', { type: 'NodePort', clusterIP: '10.96.201.0', ports: [{ port: 1 }, { port: 2 }] })),
    );
    expect(p.allowed).toBe(false);
    if (!p.allowed) expect(p.status.message).toMatch(/NodePortPool "few" has no free port/);
  });

  it('on UPDATE leaves stored values to the apiserver and fills only newly needed nodePorts', () => {
    const m = new ServiceMutator({ sources: sources(standard) });
    const old = svc('s', { clusterIP: '10.96.200.9', clusterIPs: ['10.96.200.9'] });
    const updated = svc('s', {
      type: 'NodePort',
      clusterIP: '10.96.200.9',
      clusterIPs: ['10.96.200.9'],
      ports: [{ port: 80 }],
    });
    expect(patchOf(m.handle(request(updated, 'team-a', 'UPDATE', old)))).toEqual([
      { op: 'add', path: '/spec/ports/0/nodePort', value: 31000 },
    ]);
    const oldNp = svc('s', { type: 'NodePort', ports: [{ port: 80, protocol: 'TCP', nodePort: 31050 }] });
    const applied = svc('s', {
      type: 'NodePort',
      clusterIP: '10.96.200.9',
      ports: [{ port: 80, protocol: 'TCP' }],
    });
    expect(patchOf(m.handle(request(applied, 'team-a', 'UPDATE', oldNp)))).toEqual([]);
  });

  it('admits untouched with a warning until its caches are synced', () => {
    const m = new ServiceMutator({ sources: sources({ ...standard, synced: false }) });
    const r = m.handle(request(svc('s')));
    expect(patchOf(r)).toEqual([]);
    expect(r.warnings?.[0]).toMatch(/not loaded/);
  });
});

describe('helpers', () => {
  it('wantedFamilies follows ipFamilyPolicy and ipFamilies', () => {
    expect(wantedFamilies({}, 'IPv4')).toEqual(['IPv4']);
    expect(wantedFamilies({ ipFamilies: ['IPv6'] }, 'IPv4')).toEqual(['IPv6']);
    expect(wantedFamilies({ ipFamilyPolicy: 'PreferDualStack' }, 'IPv4')).toEqual(['IPv4', 'IPv6']);
  });

  it('needsNodePorts', () => {
    expect(needsNodePorts({ type: 'ClusterIP' })).toBe(false);
    expect(needsNodePorts({ type: 'NodePort' })).toBe(true);
    expect(needsNodePorts({ type: 'LoadBalancer' })).toBe(true);
    expect(needsNodePorts({ type: 'LoadBalancer', allocateLoadBalancerNodePorts: false })).toBe(false);
  });

  it('usablePortPools drops invalid pools and the newer of two overlapping ones', () => {
    const a = portPool('a', ['31000-31010'], ['x']);
    const b = {
      ...portPool('b', ['31005'], ['x']),
      metadata: { name: 'b', creationTimestamp: '2031-01-01T00:00:00Z' },
    };
    const bad = portPool('bad', ['20000'], ['x']);
    expect(usablePortPools([b, a, bad]).map((p) => p.name)).toEqual(['a']);
  });

  it('Reservations drop expired keys', () => {
    let now = 0;
    const r = new Reservations<number>(10, () => now);
    r.hold(1);
    expect(r.size).toBe(1);
    now = 10;
    expect(r.keys()).toEqual([]);
  });

  it('the definition excludes kube-system and the Portico namespace, fails open', () => {
    const config = desiredConfiguration({
      type: 'mutating',
      name: 'm',
      definitions: [serviceWebhookDefinition],
      target: { url: 'https://127.0.0.1:1' },
      caBundle: 'x',
      namespace: 'portico-system',
    });
    expect(config.webhooks?.[0]).toMatchObject({
      failurePolicy: 'Ignore',
      timeoutSeconds: 10,
      rules: [{ resources: ['services'], operations: ['CREATE', 'UPDATE'] }],
      namespaceSelector: {
        matchExpressions: [
          {
            key: 'kubernetes.io/metadata.name',
            operator: 'NotIn',
            values: ['kube-system', 'portico-system'],
          },
        ],
      },
    });
  });
});
