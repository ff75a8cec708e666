import { describe, expect, it } from '@jest/globals';
import type { V1Node, V1Secret } from '@kubernetes/client-node';
import type { BGPPeerSpec } from '../../../crds/bgppeer.ts';
import { buildPeerConfigs, formatConfigError, resolveCommunities } from '../../../speaker/bgp/config.ts';
import type { ConfigInput } from '../../../speaker/bgp/config.ts';

const node: V1Node = {
  metadata: { name: 'n1', labels: { rack: 'a' } },
  status: {
    addresses: [
      { type: 'InternalIP', address: '10.0.0.11' },
      { type: 'InternalIP', address: 'fd00::11' },
    ],
  },
};

const peer = (over: Partial<BGPPeerSpec> = {}): BGPPeerSpec => ({
  myASN: 65005,
  peerASN: 65001,
  peerAddress: '10.0.0.1',
  peerPort: 179,
  nodeSelectors: [],
  disableMP: false,
  dualStackAddressFamily: false,
  ...over,
});

const input = (peers: ConfigInput['peers'], over: Partial<ConfigInput> = {}): ConfigInput => ({
  node,
  peers,
  bfdProfiles: [],
  secrets: new Map(),
  restarting: false,
  ...over,
});

describe('BGPPeer to session settings', () => {
  it('maps the spec: ASNs, timers, router ID from the node, family of the peer address', () => {
    const { peers, errors } = buildPeerConfigs(
      input([
        {
          name: 'tor',
          spec: peer({
            holdTime: '90s',
            keepaliveTime: '30s',
            connectTime: '5s',
            sourceAddress: '10.0.0.11',
          }),
        },
      ]),
    );
    expect(errors).toEqual([]);
    expect(peers).toEqual([
      {
        name: 'tor',
        session: {
          localAs: 65005,
          peerAs: 65001,
          routerId: '10.0.0.11',
          peerAddress: '10.0.0.1',
          peerPort: 179,
          families: ['ipv4-unicast'],
          localAddress: '10.0.0.11',
          holdTimeSec: 90,
          keepaliveSec: 30,
          connectRetrySec: 5,
        },
      },
    ]);
  });

  it('carries localASN, dynamicASN, multihop TTL, dual stack and graceful restart', () => {
    const { peers } = buildPeerConfigs(
      input(
        [
          {
            name: 'p',
            spec: peer({
              peerASN: undefined,
              dynamicASN: 'external',
              localASN: 64999,
              ebgpMultiHop: true,
              dualStackAddressFamily: true,
              enableGracefulRestart: true,
              routerID: '1.2.3.4',
            }),
          },
        ],
        { restarting: true },
      ),
    );
    expect(peers[0]?.session).toMatchObject({
      localAs: 64999,
      peerAs: 'external',
      routerId: '1.2.3.4',
      ttl: 255,
      families: ['ipv4-unicast', 'ipv6-unicast'],
      gracefulRestart: { restartTimeSec: 120, restarting: true, forwardingPreserved: true },
    });
  });

  it('keeps only the peers whose nodeSelectors match this node', () => {
    const { peers } = buildPeerConfigs(
      input([
        { name: 'a', spec: peer({ nodeSelectors: [{ matchLabels: { rack: 'a' } }] }) },
        {
          name: 'b',
          spec: peer({ peerAddress: '10.0.0.2', nodeSelectors: [{ matchLabels: { rack: 'b' } }] }),
        },
      ]),
    );
    expect(peers.map((p) => p.name)).toEqual(['a']);
  });

  it('reads the password from the Secret, and names the field when it cannot', () => {
    const secret: V1Secret = { data: { password: Buffer.from('s3cret').toString('base64') } };
    const ok = buildPeerConfigs(
      input([{ name: 'p', spec: peer({ passwordSecret: { name: 'bgp' } }) }], {
        secrets: new Map([['bgp', secret]]),
      }),
    );
    expect(ok.peers[0]?.session.password).toBe('s3cret');
    const missing = buildPeerConfigs(
      input([{ name: 'p', spec: peer({ passwordSecret: { name: 'nope' } }) }]),
    );
    expect(missing.peers).toEqual([]);
    expect(missing.errors.map(formatConfigError)).toEqual([
      `BGPPeer "p": spec.passwordSecret: Secret "nope" not found in Portico's namespace`,
    ]);
    const noKey = buildPeerConfigs(
      input([{ name: 'p', spec: peer({ passwordSecret: { name: 'bgp' } }) }], {
        secrets: new Map([['bgp', { data: {} }]]),
      }),
    );
    expect(noKey.errors[0]).toMatchObject({ field: 'spec.passwordSecret', message: /no "password" key/ });
  });

  it('takes BFD settings from the profile, with defaults, and reports a missing profile', () => {
    const { peers } = buildPeerConfigs(
      input([{ name: 'p', spec: peer({ bfdProfile: 'fast' }) }], {
        bfdProfiles: [{ name: 'fast', spec: { transmitInterval: 100, passiveMode: true } }],
      }),
    );
    expect(peers[0]?.bfd).toEqual({
      desiredMinTxMs: 100,
      requiredMinRxMs: 300,
      detectMultiplier: 3,
      passive: true,
    });
    const missing = buildPeerConfigs(input([{ name: 'p', spec: peer({ bfdProfile: 'gone' }) }]));
    expect(missing.errors).toEqual([
      { kind: 'BGPPeer', name: 'p', field: 'spec.bfdProfile', message: 'BFDProfile "gone" not found' },
    ]);
  });

  it('refuses what the speaker cannot do and a second session to the same address', () => {
    const { peers, errors } = buildPeerConfigs(
      input([
        { name: 'a', spec: peer() },
        { name: 'b', spec: peer() },
        { name: 'c', spec: peer({ peerAddress: undefined, interface: 'eth0' }) },
        { name: 'd', spec: peer({ peerAddress: '10.0.0.9', vrf: 'red' }) },
      ]),
    );
    expect(peers.map((p) => p.name)).toEqual(['a']);
    expect(errors.map((e) => `${e.name} ${e.field}`)).toEqual([
      'b spec.peerAddress',
      'c spec.interface',
      'd spec.vrf',
    ]);
  });

  it('needs a router ID when the node has no IPv4 address', () => {
    const v6only: V1Node = {
      metadata: { name: 'n' },
      status: { addresses: [{ type: 'InternalIP', address: 'fd00::1' }] },
    };
    const { errors } = buildPeerConfigs(
      input([{ name: 'p', spec: peer({ peerAddress: 'fd00::2' }) }], { node: v6only }),
    );
    expect(errors[0]).toMatchObject({ field: 'spec.routerID' });
  });
});

describe('communities', () => {
  it('resolves values and aliases to standard and large communities', () => {
    const { resolved, errors } = resolveCommunities(
      ['65005:100', 'no-export', 'large:1:2:3', 'big'],
      [
        {
          name: 'c',
          spec: {
            communities: [
              { name: 'no-export', value: '65535:65281' },
              { name: 'big', value: 'large:4:5:6' },
            ],
          },
        },
      ],
      { kind: 'BGPAdvertisement', name: 'ad', field: 'spec.communities' },
    );
    expect(errors).toEqual([]);
    expect(resolved).toEqual({
      communities: [65005 * 65536 + 100, 65535 * 65536 + 65281],
      largeCommunities: [
        { globalAdmin: 1, localData1: 2, localData2: 3 },
        { globalAdmin: 4, localData1: 5, localData2: 6 },
      ],
    });
  });

  it('names the entry of an unknown alias', () => {
    const { errors } = resolveCommunities(['65005:1', 'typo'], [], {
      kind: 'BGPAdvertisement',
      name: 'ad',
      field: 'spec.communities',
    });
    expect(errors.map(formatConfigError)).toEqual([
      'BGPAdvertisement "ad": spec.communities[1]: unknown Community alias "typo"',
    ]);
  });
});
