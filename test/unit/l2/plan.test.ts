import { describe, expect, it } from '@jest/globals';
import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import { elect } from '../../../speaker/l2/election.ts';
import { EXCLUDE_LABEL, nodeIneligible } from '../../../speaker/l2/eligibility.ts';
import { plan } from '../../../speaker/l2/plan.ts';
import type { AdvertisementInput, PlanInput } from '../../../speaker/l2/plan.ts';

function node(name: string, labels: Record<string, string> = {}, conditions?: [string, string][]): V1Node {
  return {
    metadata: { name, labels },
    status: {
      conditions: (conditions ?? [['Ready', 'True']]).map(([type, status]) => ({ type, status })),
      addresses: [{ type: 'InternalIP', address: `10.0.0.${name.slice(1)}` }],
    },
  };
}

function service(
  name: string,
  ips: string[],
  o: { local?: boolean; labels?: Record<string, string> } = {},
): V1Service {
  return {
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, labels: o.labels ?? {} },
    spec: { type: 'LoadBalancer', ...(o.local ? { externalTrafficPolicy: 'Local' } : {}) },
    status: { loadBalancer: { ingress: ips.map((ip) => ({ ip })) } },
  };
}

function slice(
  svc: string,
  endpoints: { node: string; ready?: boolean; serving?: boolean }[],
): V1EndpointSlice {
  return {
    metadata: { name: `${svc}-x`, namespace: 'ns', labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    endpoints: endpoints.map((e, i) => ({
      addresses: [`10.1.0.${i + 1}`],
      nodeName: e.node,
      conditions: { ready: e.ready ?? true, serving: e.serving ?? e.ready ?? true },
    })),
  };
}

const NODES = [node('n1', { zone: 'a' }), node('n2', { zone: 'a' }), node('n3', { zone: 'b' })];
const ALL = new Set(['n1', 'n2', 'n3']);

function input(o: Partial<PlanInput> = {}): PlanInput {
  return {
    nodes: NODES,
    live: ALL,
    pools: [
      { name: 'v4', labels: { tier: 'web' }, addresses: ['192.0.2.0/24'] },
      { name: 'v6', addresses: ['2001:db8::10-2001:db8::20'] },
      { name: 'other', addresses: ['198.51.100.0/24'] },
    ],
    advertisements: [{ name: 'all' }],
    services: [service('web', ['192.0.2.10', '2001:db8::10'])],
    endpointSlices: [],
    ...o,
  };
}

describe('L2 plan', () => {
  it('elects one winner per IP among all live eligible nodes; an empty advertisement selects every pool', () => {
    const p = plan(input());
    expect(p.map((a) => [a.ip, a.pool, a.candidates])).toEqual([
      ['192.0.2.10', 'v4', ['n1', 'n2', 'n3']],
      ['2001:db8::10', 'v6', ['n1', 'n2', 'n3']],
    ]);
    for (const a of p)
      expect(a.winner).toBe(
        elect(
          a.ip,
          [...ALL].map((node) => ({ node })),
        ),
      );
    expect(p[0]!.service).toEqual({ namespace: 'ns', name: 'web', uid: 'uid-web' });
  });

  it('skips IPs outside Portico pools, IPs no advertisement selects, and non-LoadBalancer Services', () => {
    const svc = service('x', ['203.0.113.5', '198.51.100.7']);
    const cluster = { ...service('c', ['192.0.2.11']), spec: { type: 'ClusterIP' } };
    const p = plan(
      input({ services: [svc, cluster], advertisements: [{ name: 'a', ipAddressPools: ['v4'] }] }),
    );
    expect(p).toEqual([]);
  });

  it('selects pools by name and by label selector', () => {
    const byName = plan(input({ advertisements: [{ name: 'a', ipAddressPools: ['v6'] }] }));
    expect(byName.map((a) => a.ip)).toEqual(['2001:db8::10']);
    const bySel = plan(
      input({ advertisements: [{ name: 'a', ipAddressPoolSelectors: [{ matchLabels: { tier: 'web' } }] }] }),
    );
    expect(bySel.map((a) => a.ip)).toEqual(['192.0.2.10']);
  });

  it('limits candidates with nodeSelectors and reports the winner interfaces', () => {
    const ads: AdvertisementInput[] = [
      { name: 'a', nodeSelectors: [{ matchLabels: { zone: 'b' } }], interfaces: ['eth1'] },
    ];
    const p = plan(input({ advertisements: ads }));
    for (const a of p) {
      expect(a.candidates).toEqual(['n3']);
      expect(a.winner).toBe('n3');
      expect(a.interfaces).toEqual(['eth1']);
    }
  });

  it('unions interfaces over matching advertisements; one without interfaces means all', () => {
    const two: AdvertisementInput[] = [
      { name: 'a', interfaces: ['eth1'] },
      { name: 'b', interfaces: ['eth0'] },
    ];
    expect(plan(input({ advertisements: two }))[0]!.interfaces).toEqual(['eth0', 'eth1']);
    expect(plan(input({ advertisements: [...two, { name: 'c' }] }))[0]!.interfaces).toEqual([]);
  });

  it('never picks excluded, NotReady or NetworkUnavailable nodes, nor dead speakers', () => {
    const nodes = [
      node('n1', { [EXCLUDE_LABEL]: '' }),
      node('n2', {}, [['Ready', 'False']]),
      node('n3', {}, [
        ['Ready', 'True'],
        ['NetworkUnavailable', 'True'],
      ]),
      node('n4'),
      node('n5'),
    ];
    expect(nodeIneligible(nodes[0]!)).toMatch(/exclude/);
    const p = plan(input({ nodes, live: new Set(['n1', 'n2', 'n3', 'n4']) }));
    for (const a of p) {
      expect(a.candidates).toEqual(['n4']);
      expect(a.winner).toBe('n4');
    }
    const none = plan(input({ nodes, live: new Set(['n1', 'n5']) }));
    expect(none.map((a) => a.winner)).toEqual(['n5', 'n5']);
    const dead = plan(input({ nodes, live: new Set(['n1']) }));
    expect(dead[0]!.winner).toBeUndefined();
    expect(dead[0]!.reason).toBe('no live eligible node');
  });

  it('with externalTrafficPolicy Local, only nodes with a ready or serving local endpoint', () => {
    const svc = service('web', ['192.0.2.10'], { local: true });
    const p = plan(
      input({
        services: [svc],
        endpointSlices: [slice('web', [{ node: 'n2' }, { node: 'n1', ready: false, serving: false }])],
      }),
    );
    expect(p[0]).toMatchObject({ candidates: ['n2'], winner: 'n2' });
    const serving = plan(
      input({
        services: [svc],
        endpointSlices: [slice('web', [{ node: 'n3', ready: false, serving: true }])],
      }),
    );
    expect(serving[0]).toMatchObject({ candidates: ['n3'], winner: 'n3' });
    const none = plan(input({ services: [svc] }));
    expect(none[0]!.winner).toBeUndefined();
    expect(none[0]!.reason).toMatch(/local endpoint/);
  });

  it('honours serviceSelectors and preferredNodeSelectors', () => {
    const ads: AdvertisementInput[] = [
      {
        name: 'a',
        serviceSelectors: [{ matchLabels: { app: 'web' } }],
        preferredNodeSelectors: [{ weight: 50, preference: { matchLabels: { zone: 'b' } } }],
      },
    ];
    expect(plan(input({ advertisements: ads }))).toEqual([]);
    const p = plan(
      input({ advertisements: ads, services: [service('web', ['192.0.2.10'], { labels: { app: 'web' } })] }),
    );
    expect(p[0]!.winner).toBe('n3');
  });
});
