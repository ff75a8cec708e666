import { describe, expect, it } from '@jest/globals';
import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import type { BGPAdvertisementSpec } from '../../../crds/bgpadvertisement.ts';
import { planAnnouncements } from '../../../speaker/bgp/announce.ts';
import type { AnnounceInput } from '../../../speaker/bgp/announce.ts';
import type { PeerConfig } from '../../../speaker/bgp/config.ts';

const node = (name: string, labels: Record<string, string> = {}): V1Node => ({
  metadata: { name, labels },
  status: {
    conditions: [{ type: 'Ready', status: 'True' }],
    addresses: [
      { type: 'InternalIP', address: name === 'n1' ? '10.0.0.11' : '10.0.0.12' },
      { type: 'InternalIP', address: name === 'n1' ? 'fd00::11' : 'fd00::12' },
    ],
  },
});

const peer = (name: string, over: Partial<PeerConfig['session']> = {}): PeerConfig => ({
  name,
  session: {
    localAs: 65005,
    peerAs: 65001,
    routerId: '10.0.0.11',
    peerAddress: `10.0.0.${name.length}`,
    ...over,
  },
});

const service = (
  name: string,
  ips: string[],
  etp: 'Cluster' | 'Local' = 'Cluster',
  labels = {},
): V1Service => ({
  metadata: { namespace: 'default', name, labels },
  spec: { type: 'LoadBalancer', externalTrafficPolicy: etp },
  status: { loadBalancer: { ingress: ips.map((ip) => ({ ip })) } },
});

const slice = (svc: string, endpoints: { node: string; ready?: boolean }[]): V1EndpointSlice => ({
  addressType: 'IPv4',
  metadata: { namespace: 'default', name: `${svc}-x`, labels: { 'kubernetes.io/service-name': svc } },
  endpoints: endpoints.map((e, i) => ({
    addresses: [`10.244.0.${i + 1}`],
    nodeName: e.node,
    conditions: { ready: e.ready ?? true },
  })),
});

const ad = (over: Partial<BGPAdvertisementSpec> = {}): BGPAdvertisementSpec => ({
  aggregationLength: 32,
  aggregationLengthV6: 128,
  ipAddressPoolSelectors: [],
  nodeSelectors: [],
  serviceSelectors: [],
  ...over,
});

const base = (over: Partial<AnnounceInput> = {}): AnnounceInput => ({
  node: node('n1'),
  peers: [peer('tor')],
  pools: [{ name: 'pool', addresses: ['192.0.2.0/24', '2001:db8::/120'] }],
  advertisements: [{ name: 'ad', spec: ad() }],
  communities: [],
  services: [service('web', ['192.0.2.10'])],
  endpointSlices: [slice('web', [{ node: 'n2' }])],
  ...over,
});

describe('BGP announcements for one node', () => {
  it('Cluster: announces when any endpoint anywhere is ready, with the node as next hop', () => {
    const plan = planAnnouncements(base());
    expect(plan.routes.get('tor')).toEqual([{ prefix: '192.0.2.10/32', nextHop: '10.0.0.11' }]);
    expect(plan.announcements).toEqual([
      { service: 'default/web', ip: '192.0.2.10', prefix: '192.0.2.10/32', peers: ['tor'] },
    ]);
  });

  it('Cluster: withdraws when no endpoint is ready, and when the Service is gone', () => {
    expect(
      planAnnouncements(base({ endpointSlices: [slice('web', [{ node: 'n2', ready: false }])] })).routes.get(
        'tor',
      ),
    ).toEqual([]);
    expect(planAnnouncements(base({ services: [] })).routes.get('tor')).toEqual([]);
  });

  it('Local: only a node with a ready local endpoint announces, so moving the pod moves the route', () => {
    const svc = service('web', ['192.0.2.10'], 'Local');
    const on = (where: string) =>
      base({ services: [svc], endpointSlices: [slice('web', [{ node: where }])] });
    expect(planAnnouncements(on('n2')).routes.get('tor')).toEqual([]);
    expect(planAnnouncements(on('n1')).routes.get('tor')).toEqual([
      { prefix: '192.0.2.10/32', nextHop: '10.0.0.11' },
    ]);
  });

  it('aggregates to the advertisement lengths and attaches communities and LOCAL_PREF', () => {
    const plan = planAnnouncements(
      base({
        advertisements: [
          {
            name: 'ad',
            spec: ad({
              aggregationLength: 24,
              aggregationLengthV6: 64,
              localPref: 200,
              communities: ['65005:1', 'edge', 'large:1:2:3'],
            }),
          },
        ],
        communities: [{ name: 'c', spec: { communities: [{ name: 'edge', value: '65005:2' }] } }],
        services: [service('web', ['192.0.2.10', '2001:db8::5']), service('api', ['192.0.2.20'])],
        endpointSlices: [slice('web', [{ node: 'n1' }]), slice('api', [{ node: 'n1' }])],
      }),
    );
    expect(plan.errors).toEqual([]);
    const attrs = {
      localPref: 200,
      communities: [65005 * 65536 + 1, 65005 * 65536 + 2],
      largeCommunities: [{ globalAdmin: 1, localData1: 2, localData2: 3 }],
    };
    expect(plan.routes.get('tor')).toEqual([
      { prefix: '192.0.2.0/24', nextHop: '10.0.0.11', ...attrs },
      { prefix: '2001:db8::/64', nextHop: 'fd00::11', ...attrs },
    ]);
  });

  it('sends only to the named peers, uses the session source address as next hop', () => {
    const plan = planAnnouncements(
      base({
        peers: [peer('tor', { localAddress: '10.1.1.11' }), peer('spine')],
        advertisements: [{ name: 'ad', spec: ad({ peers: ['tor'] }) }],
      }),
    );
    expect(plan.routes.get('tor')).toEqual([{ prefix: '192.0.2.10/32', nextHop: '10.1.1.11' }]);
    expect(plan.routes.get('spine')).toEqual([]);
  });

  it('honours pool, node and service selectors, and ignores addresses of no pool', () => {
    const sel = (over: Partial<BGPAdvertisementSpec>) =>
      planAnnouncements(base({ advertisements: [{ name: 'ad', spec: ad(over) }] })).routes.get('tor');
    expect(sel({ ipAddressPools: ['other'] })).toEqual([]);
    expect(sel({ nodeSelectors: [{ matchLabels: { rack: 'b' } }] })).toEqual([]);
    expect(sel({ serviceSelectors: [{ matchLabels: { app: 'x' } }] })).toEqual([]);
    expect(
      planAnnouncements(base({ services: [service('web', ['203.0.113.1'])] })).routes.get('tor'),
    ).toEqual([]);
  });

  it('an advertisement with an unknown alias announces nothing and names the field', () => {
    const plan = planAnnouncements(
      base({ advertisements: [{ name: 'ad', spec: ad({ communities: ['nope'] }) }] }),
    );
    expect(plan.routes.get('tor')).toEqual([]);
    expect(plan.errors).toEqual([
      {
        kind: 'BGPAdvertisement',
        name: 'ad',
        field: 'spec.communities[0]',
        message: 'unknown Community alias "nope"',
      },
    ]);
  });

  it('a node that is not Ready or is excluded announces nothing', () => {
    const excluded = node('n1', { 'node.kubernetes.io/exclude-from-external-load-balancers': '' });
    expect(planAnnouncements(base({ node: excluded })).routes.get('tor')).toEqual([]);
  });
});
