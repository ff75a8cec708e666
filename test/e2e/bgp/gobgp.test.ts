// Our speaker against a real GoBGP (Debian's gobgpd) on loopback: sessions
// reach Established, gobgpd's RIB shows what we announced with its
// attributes, and withdrawals remove it. gobgpd is started on random ports
// with a config in a temp dir and killed by pid afterwards.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../../lib/logger.ts';
import { BgpListener } from '../../../speaker/bgp/listener.ts';
import { BgpSession } from '../../../speaker/bgp/session.ts';
import type { BgpSessionOptions } from '../../../speaker/bgp/session.ts';
import type { OutboundRoute } from '../../../speaker/bgp/rib-out.ts';
import { freePort, waitFor } from '../../harness/processes.ts';
import { attr, GOBGP_ESTABLISHED, GoBgpDaemon, haveBinaries } from './gobgp-daemon.ts';

const community = (asn: number, value: number) => asn * 65536 + value;
const logger = createLogger({ level: process.env['PORTICO_LOG_LEVEL'] ?? 'silent' });

const GOBGP_AS = 65001;
const V4_ROUTES: OutboundRoute[] = [
  {
    prefix: '192.0.2.10/32',
    nextHop: '198.51.100.2',
    communities: [community(65002, 100), community(65002, 200)],
    largeCommunities: [{ globalAdmin: 65002, localData1: 1, localData2: 2 }],
  },
  {
    prefix: '192.0.2.11/32',
    nextHop: '198.51.100.2',
    communities: [community(65002, 100), community(65002, 200)],
    largeCommunities: [{ globalAdmin: 65002, localData1: 1, localData2: 2 }],
  },
];
const V6_ROUTE: OutboundRoute = {
  prefix: '2001:db8:10::1/128',
  nextHop: '2001:db8::2',
  communities: [community(65002, 300)],
  largeCommunities: [{ globalAdmin: 65002, localData1: 3, localData2: 4 }],
};

// test/run-all.sh installs the daemon; without it these tests fail with the
// reason rather than skip, so a missing peer is never mistaken for a pass.
if (!haveBinaries('gobgpd', 'gobgp'))
  throw new Error(`BGP e2e tests need gobgpd, gobgp (apt-get install them)`);
const suite = describe;

suite('BGP against gobgpd', () => {
  let dir: string;
  let gobgpd: GoBgpDaemon;
  let listener: BgpListener;
  /** eBGP, we connect from 127.0.0.2, IPv4 and IPv6 unicast over an IPv4 session. */
  let ebgp: BgpSession;
  /** eBGP over an IPv6 session (::1), hold time 3. */
  let ebgp6: BgpSession;
  /** iBGP, gobgpd connects to our listener on 127.0.0.3. */
  let ibgp: BgpSession;

  const session = (o: Omit<BgpSessionOptions, 'logger' | 'connectRetrySec' | 'idleHoldSec'>) =>
    new BgpSession({
      connectRetrySec: 1,
      connectRetryMaxSec: 2,
      idleHoldSec: 1,
      idleHoldMaxSec: 2,
      logger,
      ...o,
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portico-gobgp-'));
    const [bgpPort, apiPort, ourPort] = [await freePort(), await freePort(), await freePort()];
    listener = new BgpListener(logger);
    await listener.listen(ourPort, '127.0.0.3');
    gobgpd = new GoBgpDaemon(dir, {
      asn: GOBGP_AS,
      routerId: '10.255.0.1',
      port: bgpPort,
      apiPort,
      listenAddresses: ['127.0.0.1', '::1'],
      neighbors: [
        { address: '127.0.0.2', peerAs: 65002, families: ['ipv4-unicast', 'ipv6-unicast'], passive: true },
        { address: '::1', peerAs: 65003, families: ['ipv6-unicast'], passive: true },
        {
          address: '127.0.0.3',
          peerAs: GOBGP_AS,
          families: ['ipv4-unicast'],
          remotePort: ourPort,
          localAddress: '127.0.0.1',
        },
      ],
    });
    await gobgpd.start();

    ebgp = session({
      localAs: 65002,
      peerAs: GOBGP_AS,
      routerId: '10.255.0.2',
      peerAddress: '127.0.0.1',
      peerPort: bgpPort,
      localAddress: '127.0.0.2',
    });
    ebgp6 = session({
      localAs: 65003,
      peerAs: GOBGP_AS,
      routerId: '10.255.0.4',
      peerAddress: '::1',
      peerPort: bgpPort,
      localAddress: '::1',
      holdTimeSec: 3,
      families: ['ipv6-unicast'],
    });
    ibgp = session({
      localAs: GOBGP_AS,
      peerAs: GOBGP_AS,
      routerId: '10.255.0.3',
      peerAddress: '127.0.0.1',
      passive: true,
    });
    listener.add(ibgp);
    for (const s of [ebgp, ebgp6, ibgp]) s.start();
  }, 60_000);

  afterAll(async () => {
    await Promise.all([ebgp, ebgp6, ibgp].filter(Boolean).map((s) => s.stop()));
    await listener?.close();
    await gobgpd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  const established = async (s: BgpSession, neighbor: string) =>
    s.state === 'Established' && (await gobgpd.sessionState(neighbor)) === GOBGP_ESTABLISHED;

  it('eBGP over IPv4 reaches Established with IPv4 and IPv6 unicast', async () => {
    await waitFor('eBGP session', () => established(ebgp, '127.0.0.2'), 30_000);
    expect(ebgp.negotiated).toMatchObject({
      peerAs: GOBGP_AS,
      ibgp: false,
      fourOctetAs: true,
      holdTimeSec: 90,
      keepaliveSec: 30,
      families: ['ipv4-unicast', 'ipv6-unicast'],
      routeRefresh: true,
    });
  }, 40_000);

  it("gobgpd's RIB shows our IPv4 prefixes with next hop, AS path, communities and large communities", async () => {
    ebgp.setRoutes([...V4_ROUTES, V6_ROUTE]);
    await waitFor(
      'IPv4 routes in gobgpd',
      async () => (await gobgpd.rib('ipv4', '127.0.0.2')).size === 2,
      20_000,
    );
    const rib = await gobgpd.rib('ipv4', '127.0.0.2');
    expect([...rib.keys()].sort()).toEqual(['192.0.2.10/32', '192.0.2.11/32']);
    const path = rib.get('192.0.2.10/32');
    expect(attr(path, 1)).toMatchObject({ value: 0 }); // ORIGIN IGP
    expect(attr(path, 2)).toMatchObject({ as_paths: [{ segment_type: 2, asns: [65002] }] });
    expect(attr(path, 3)).toMatchObject({ nexthop: '198.51.100.2' });
    expect(attr(path, 8)).toMatchObject({ communities: [community(65002, 100), community(65002, 200)] });
    expect(attr(path, 32)).toMatchObject({ value: [{ ASN: 65002, LocalData1: 1, LocalData2: 2 }] });
    // eBGP: no LOCAL_PREF on the wire (RFC 4271 5.1.5).
    expect(attr(path, 5)).toBeUndefined();
  }, 30_000);

  it('and our IPv6 prefix through MP_REACH_NLRI with its IPv6 next hop', async () => {
    await waitFor(
      'IPv6 route in gobgpd',
      async () => (await gobgpd.rib('ipv6', '127.0.0.2')).size === 1,
      20_000,
    );
    const path = (await gobgpd.rib('ipv6', '127.0.0.2')).get('2001:db8:10::1/128');
    expect(attr(path, 14)).toMatchObject({ nexthop: '2001:db8::2', afi: 2, safi: 1 });
    expect(attr(path, 8)).toMatchObject({ communities: [community(65002, 300)] });
    expect(attr(path, 32)).toMatchObject({ value: [{ ASN: 65002, LocalData1: 3, LocalData2: 4 }] });
  }, 30_000);

  it('withdrawals remove the prefixes from gobgpd', async () => {
    ebgp.setRoutes([V4_ROUTES[0] as OutboundRoute]);
    await waitFor(
      'partial withdraw',
      async () =>
        [...(await gobgpd.rib('ipv4', '127.0.0.2')).keys()].join() === '192.0.2.10/32' &&
        (await gobgpd.rib('ipv6', '127.0.0.2')).size === 0,
      20_000,
    );
    ebgp.setRoutes([]);
    await waitFor('full withdraw', async () => (await gobgpd.rib('ipv4', '127.0.0.2')).size === 0, 20_000);
    expect(ebgp.state).toBe('Established');
    expect(ebgp.stats.notificationsSent).toEqual({});
    expect(ebgp.stats.notificationsReceived).toEqual({});
  }, 45_000);

  it('eBGP over an IPv6 session with hold time 3 stays up on keepalives', async () => {
    ebgp6.setRoutes([{ prefix: '2001:db8:30::/64', nextHop: '2001:db8::3' }]);
    await waitFor('IPv6-transport session', () => established(ebgp6, '::1'), 30_000);
    expect(ebgp6.negotiated).toMatchObject({ holdTimeSec: 3, keepaliveSec: 1, families: ['ipv6-unicast'] });
    await waitFor(
      'route over IPv6 transport',
      async () => (await gobgpd.rib('ipv6', '::1')).has('2001:db8:30::/64'),
      20_000,
    );
    const before = ebgp6.stats.messagesReceived;
    await new Promise((r) => setTimeout(r, 4_000));
    // Longer than the hold time: only keepalives kept it up.
    expect(ebgp6.state).toBe('Established');
    expect(ebgp6.stats.establishedTransitions).toBe(1);
    expect(ebgp6.stats.messagesReceived - before).toBeGreaterThanOrEqual(2);
  }, 45_000);

  it('iBGP with gobgpd as the active side (we listen) carries LOCAL_PREF', async () => {
    ibgp.setRoutes([
      {
        prefix: '192.0.2.20/32',
        nextHop: '198.51.100.3',
        localPref: 250,
        communities: [community(65001, 9)],
      },
    ]);
    await waitFor('iBGP session', () => established(ibgp, '127.0.0.3'), 40_000);
    expect(ibgp.negotiated).toMatchObject({ ibgp: true, families: ['ipv4-unicast'] });
    await waitFor(
      'iBGP route',
      async () => (await gobgpd.rib('ipv4', '127.0.0.3')).has('192.0.2.20/32'),
      20_000,
    );
    const path = (await gobgpd.rib('ipv4', '127.0.0.3')).get('192.0.2.20/32');
    expect(attr(path, 5)).toMatchObject({ value: 250 });
    expect(attr(path, 2)).toMatchObject({ as_paths: [] });
    expect(attr(path, 3)).toMatchObject({ nexthop: '198.51.100.3' });
  }, 60_000);

  it('stopping a session sends Cease and gobgpd drops its routes', async () => {
    await ebgp6.stop();
    await waitFor(
      'gobgpd sees the Cease',
      async () => (await gobgpd.sessionState('::1')) !== GOBGP_ESTABLISHED,
      20_000,
    );
    await waitFor('routes gone', async () => (await gobgpd.rib('ipv6', '::1')).size === 0, 20_000);
    expect(ebgp6.stats.notificationsSent).toEqual({ '6/2': 1 });
    expect(readFileSync(gobgpd.logFile, 'utf8')).toMatch(/notification-received code 6\(cease\) subcode 2/);
  }, 30_000);

  it('re-establishes and re-announces after gobgpd restarts', async () => {
    ebgp.setRoutes(V4_ROUTES);
    await waitFor(
      'routes before restart',
      async () => (await gobgpd.rib('ipv4', '127.0.0.2')).size === 2,
      20_000,
    );
    await gobgpd.stop();
    await waitFor('session down', async () => ebgp.state !== 'Established', 20_000);
    await gobgpd.start();
    await waitFor('session back', () => established(ebgp, '127.0.0.2'), 40_000);
    await waitFor('routes back', async () => (await gobgpd.rib('ipv4', '127.0.0.2')).size === 2, 20_000);
    expect(ebgp.stats.establishedTransitions).toBe(2);
  }, 90_000);
});
