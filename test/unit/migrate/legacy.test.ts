// MetalLB's configuration from before its CRDs: the `config` ConfigMap and
// the AddressPool kind become the objects MetalLB's own CRDs would hold.
import { describe, expect, it } from '@jest/globals';
import { convertYaml, find, issueLines } from './helpers.ts';

const configMap = (config: string) => `
apiVersion: v1
kind: ConfigMap
metadata: {name: config, namespace: metallb-system}
data:
  config: |
${config
  .trim()
  .split('\n')
  .map((l) => `    ${l}`)
  .join('\n')}
`;

describe('migrate-metallb: legacy configuration', () => {
  it('turns a layer2 address pool into an IPAddressPool and its L2Advertisement', () => {
    const r = convertYaml(
      configMap(`
address-pools:
- name: default
  protocol: layer2
  addresses:
  - 192.168.1.240-192.168.1.250
`),
    );
    expect(r.complete).toBe(true);
    expect(find(r, 'IPAddressPool', 'default')?.spec).toEqual({ addresses: ['192.168.1.240-192.168.1.250'] });
    expect(find(r, 'L2Advertisement', 'default')?.spec).toEqual({ ipAddressPools: ['default'] });
  });

  it('turns peers, bgp pools with advertisements, communities and BFD profiles into their kinds', () => {
    const r = convertYaml(
      configMap(`
peers:
- peer-address: 10.0.0.1
  peer-asn: 64501
  my-asn: 64500
  hold-time: 120s
  router-id: 10.0.0.254
  bfd-profile: fast
  node-selectors:
  - match-labels:
      rack: frontend
    match-expressions:
    - key: network-speed
      operator: NotIn
      values: [slow]
bgp-communities:
  no-advertise: 65535:65282
bfd-profiles:
- name: fast
  receive-interval: 179
  transmit-interval: 180
  passive-mode: true
address-pools:
- name: bgp-space
  protocol: bgp
  avoid-buggy-ips: true
  auto-assign: false
  addresses:
  - 198.51.100.0/24
  bgp-advertisements:
  - aggregation-length: 32
    localpref: 100
    communities: [no-advertise]
  - aggregation-length: 24
`),
    );
    expect(issueLines(r.issues)).toEqual([]);
    expect(find(r, 'BGPPeer', 'peer-1')?.spec).toEqual({
      peerAddress: '10.0.0.1',
      peerASN: 64501,
      myASN: 64500,
      holdTime: '120s',
      routerID: '10.0.0.254',
      bfdProfile: 'fast',
      nodeSelectors: [
        {
          matchLabels: { rack: 'frontend' },
          matchExpressions: [{ key: 'network-speed', operator: 'NotIn', values: ['slow'] }],
        },
      ],
    });
    expect(find(r, 'BFDProfile', 'fast')?.spec).toEqual({
      receiveInterval: 179,
      transmitInterval: 180,
      passiveMode: true,
    });
    expect(find(r, 'Community', 'config-communities')?.spec).toEqual({
      communities: [{ name: 'no-advertise', value: '65535:65282' }],
    });
    expect(find(r, 'IPAddressPool', 'bgp-space')?.spec).toEqual({
      addresses: ['198.51.100.0/24'],
      avoidBuggyIPs: true,
      autoAssign: false,
    });
    expect(find(r, 'BGPAdvertisement', 'bgp-space-1')?.spec).toEqual({
      aggregationLength: 32,
      localPref: 100,
      communities: ['no-advertise'],
      ipAddressPools: ['bgp-space'],
    });
    expect(find(r, 'BGPAdvertisement', 'bgp-space-2')?.spec).toEqual({
      aggregationLength: 24,
      ipAddressPools: ['bgp-space'],
    });
  });

  it('reports settings it does not know and pools of an unknown protocol, naming the ConfigMap path', () => {
    const r = convertYaml(
      configMap(`
address-pools:
- name: odd
  protocol: ospf
  addresses: [10.1.0.0/24]
  colour: blue
peers:
- peer-address: 10.0.0.1
  peer-asn: 64501
  my-asn: 64500
  hold-timer: 3s
`),
    );
    expect(issueLines(r.issues)).toEqual([
      'error ConfigMap metallb-system/config data.config.address-pools[0].colour: unknown MetalLB setting; left out',
      'error ConfigMap metallb-system/config data.config.address-pools[0].protocol: protocol "ospf" is neither layer2 nor bgp: the pool is converted but not announced',
      'error ConfigMap metallb-system/config data.config.peers[0].hold-timer: unknown MetalLB setting; left out',
    ]);
    expect(find(r, 'IPAddressPool', 'odd')?.spec).toEqual({ addresses: ['10.1.0.0/24'] });
  });

  it('names the ConfigMap path of a reference to something it does not define', () => {
    const r = convertYaml(
      configMap(`
peers:
- peer-address: 10.0.0.1
  peer-asn: 64501
  my-asn: 64500
  bfd-profile: nowhere
address-pools:
- name: p
  protocol: bgp
  addresses: [10.2.0.0/24]
  bgp-advertisements:
  - communities: [undefined-alias]
`),
    );
    expect(issueLines(r.issues)).toEqual([
      'error ConfigMap metallb-system/config data.config.peers[0].bfdProfile: BFDProfile "nowhere" is not among the converted objects',
      'error ConfigMap metallb-system/config data.config.address-pools[0].bgp-advertisements[0].communities[0]: "undefined-alias" is neither a community value nor an alias defined by a converted Community',
    ]);
  });

  it('expands the deprecated AddressPool kind like a legacy pool', () => {
    const r = convertYaml(`
apiVersion: metallb.io/v1beta1
kind: AddressPool
metadata: {name: old, namespace: metallb-system}
spec:
  protocol: bgp
  addresses: [203.0.113.0/28]
  bgpAdvertisements:
  - aggregationLength: 28
    localPref: 50
`);
    expect(r.complete).toBe(true);
    expect(find(r, 'IPAddressPool', 'old')?.spec).toEqual({ addresses: ['203.0.113.0/28'] });
    expect(find(r, 'BGPAdvertisement', 'old')?.spec).toEqual({
      aggregationLength: 28,
      localPref: 50,
      ipAddressPools: ['old'],
    });
  });
});
