// Our speaker against FRR's bgpd, each in its own network namespace joined by
// a veth: eBGP over IPv4 and over IPv6 (we connect), iBGP with FRR as the
// active side carrying LOCAL_PREF, attributes read from vtysh's JSON, and
// withdrawals.
import { describe, expect, it } from '@jest/globals';
import { waitFor } from '../../harness/processes.ts';
import { FAST_RETRY, ebgpToFrr, frrFixture, requireFrr } from './frr-fixture.ts';

const community = (asn: number, value: number) => asn * 65536 + value;

await requireFrr('FRR');

describe('BGP against FRR bgpd', () => {
  const fx = frrFixture({
    tmpPrefix: 'portico-frr-',
    // 10.0.0.3 is the speaker's iBGP address, so FRR sees two distinct peers.
    speakerAddresses: ['10.0.0.3/24'],
    bgpd: `router bgp 65001
 bgp router-id 10.0.0.2
 no bgp ebgp-requires-policy
 no bgp default ipv4-unicast
 neighbor 10.0.0.1 remote-as 65005
 neighbor 10.0.0.1 passive
 neighbor fd00::1 remote-as 65005
 neighbor fd00::1 passive
 neighbor 10.0.0.3 remote-as 65001
 neighbor 10.0.0.3 timers connect 1
 address-family ipv4 unicast
  neighbor 10.0.0.1 activate
  neighbor 10.0.0.3 activate
 exit-address-family
 address-family ipv6 unicast
  neighbor fd00::1 activate
 exit-address-family
`,
    speaker: {
      listen: { host: '::', port: 179 },
      sessions: {
        ebgp4: ebgpToFrr(),
        ebgp6: ebgpToFrr({ peerAddress: 'fd00::2', localAddress: 'fd00::1', families: ['ipv6-unicast'] }),
        ibgp: {
          ...FAST_RETRY,
          localAs: 65001,
          peerAs: 65001,
          routerId: '10.0.0.3',
          peerAddress: '10.0.0.2',
          passive: true,
          families: ['ipv4-unicast'],
        },
      },
    },
  });

  it('eBGP over IPv4 reaches Established and FRR shows next hop, communities and large communities', async () => {
    fx.speaker.setRoutes('ebgp4', [
      {
        prefix: '192.0.2.50/32',
        nextHop: '10.0.0.1',
        communities: [community(65005, 100), community(65005, 200)],
        largeCommunities: [{ globalAdmin: 65005, localData1: 1, localData2: 2 }],
      },
      { prefix: '192.0.2.64/26', nextHop: '10.0.0.1' },
    ]);
    await fx.speaker.waitState('ebgp4', 'Established');
    await waitFor(
      'FRR Established',
      async () => (await fx.frr.peerState('10.0.0.1')) === 'Established',
      30_000,
    );
    await waitFor(
      'both routes',
      async () => (await fx.frr.prefixes('ipv4', '10.0.0.1')).length === 2,
      20_000,
    );
    expect(await fx.frr.prefixes('ipv4', '10.0.0.1')).toEqual(['192.0.2.50/32', '192.0.2.64/26']);
    const [path] = await fx.frr.paths('ipv4', '192.0.2.50/32');
    expect(path).toMatchObject({
      valid: true,
      aspath: { string: '65005' },
      community: { string: '65005:100 65005:200' },
      largeCommunity: { string: '65005:1:2' },
      nexthops: [expect.objectContaining({ ip: '10.0.0.1' })],
    });
  }, 60_000);

  it('eBGP over IPv6 carries an IPv6 prefix with its global next hop', async () => {
    fx.speaker.setRoutes('ebgp6', [
      {
        prefix: '2001:db8:50::/64',
        nextHop: 'fd00::1',
        largeCommunities: [{ globalAdmin: 65005, localData1: 3, localData2: 4 }],
      },
    ]);
    await fx.speaker.waitState('ebgp6', 'Established');
    await waitFor('IPv6 route', async () => (await fx.frr.prefixes('ipv6', 'fd00::1')).length === 1, 30_000);
    const [path] = await fx.frr.paths('ipv6', '2001:db8:50::/64');
    expect(path).toMatchObject({
      aspath: { string: '65005' },
      largeCommunity: { string: '65005:3:4' },
      nexthops: [expect.objectContaining({ ip: 'fd00::1' })],
    });
  }, 60_000);

  it('withdrawals remove the routes from FRR and the session stays up', async () => {
    fx.speaker.setRoutes('ebgp4', [{ prefix: '192.0.2.64/26', nextHop: '10.0.0.1' }]);
    await waitFor(
      'one withdrawn',
      async () => (await fx.frr.prefixes('ipv4', '10.0.0.1')).join() === '192.0.2.64/26',
      20_000,
    );
    fx.speaker.setRoutes('ebgp4', []);
    await waitFor(
      'all withdrawn',
      async () => (await fx.frr.prefixes('ipv4', '10.0.0.1')).length === 0,
      20_000,
    );
    expect(await fx.frr.peerState('10.0.0.1')).toBe('Established');
  }, 30_000);

  it('iBGP with FRR as the active side carries LOCAL_PREF and an empty AS path', async () => {
    fx.speaker.setRoutes('ibgp', [{ prefix: '192.0.2.60/32', nextHop: '10.0.0.3', localPref: 250 }]);
    await fx.speaker.waitState('ibgp', 'Established');
    await waitFor('iBGP route', async () => (await fx.frr.prefixes('ipv4', '10.0.0.3')).length === 1, 30_000);
    const [path] = await fx.frr.paths('ipv4', '192.0.2.60/32');
    expect(path).toMatchObject({
      locPrf: 250,
      // FRR prints an empty AS path as "Local".
      aspath: { string: 'Local', length: 0 },
      nexthops: [expect.objectContaining({ ip: '10.0.0.3' })],
    });
  }, 60_000);
});
