// Our speaker against BIRD 2 on loopback: eBGP (we connect) carrying IPv4 and
// IPv6, iBGP (BIRD connects to us) carrying LOCAL_PREF, attributes read from
// `birdc show route all`, and withdrawals.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../../lib/logger.ts';
import { BgpListener } from '../../../speaker/bgp/listener.ts';
import { BgpSession } from '../../../speaker/bgp/session.ts';
import { freePort, waitFor } from '../../harness/processes.ts';
import { BirdDaemon } from './bird-daemon.ts';
import { haveBinaries } from './gobgp-daemon.ts';

const logger = createLogger({ level: process.env['PORTICO_LOG_LEVEL'] ?? 'silent' });
const community = (asn: number, value: number) => asn * 65536 + value;

// test/run-all.sh installs the daemon; without it these tests fail with the
// reason rather than skip, so a missing peer is never mistaken for a pass.
if (!haveBinaries('bird', 'birdc')) throw new Error(`BGP e2e tests need bird, birdc (apt-get install them)`);
const suite = describe;

suite('BGP against BIRD 2', () => {
  let dir: string;
  let bird: BirdDaemon;
  let listener: BgpListener;
  let ebgp: BgpSession;
  let ibgp: BgpSession;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portico-bird-'));
    const [birdPort, ourPort] = [await freePort(), await freePort()];
    listener = new BgpListener(logger);
    await listener.listen(ourPort, '127.0.0.6');
    // Static device routes make the next hops we announce resolvable
    // (gateway recursive), so BIRD installs our routes as unicast. Both BGP
    // protocols share one random listening port rather than 179.
    bird = new BirdDaemon(
      dir,
      `router id 10.255.1.1;
protocol device { }
protocol static st4 { ipv4; route 198.51.100.0/24 via "lo"; }
protocol static st6 { ipv6; route 2001:db8::/64 via "lo"; }
protocol bgp portico_ebgp {
  local 127.0.0.1 port ${birdPort} as 65001;
  neighbor 127.0.0.5 as 65005;
  multihop;
  passive on;
  ipv4 { import all; export none; gateway recursive; };
  ipv6 { import all; export none; gateway recursive; };
}
protocol bgp portico_ibgp {
  local 127.0.0.1 port ${birdPort} as 65001;
  neighbor 127.0.0.6 port ${ourPort} as 65001;
  connect delay time 1;
  connect retry time 1;
  ipv4 { import all; export none; gateway recursive; };
}
`,
    );
    await bird.start();
    const common = { connectRetrySec: 1, connectRetryMaxSec: 2, idleHoldSec: 1, idleHoldMaxSec: 2, logger };
    ebgp = new BgpSession({
      ...common,
      localAs: 65005,
      peerAs: 65001,
      routerId: '10.255.1.5',
      peerAddress: '127.0.0.1',
      peerPort: birdPort,
      localAddress: '127.0.0.5',
    });
    ibgp = new BgpSession({
      ...common,
      localAs: 65001,
      peerAs: 65001,
      routerId: '10.255.1.6',
      peerAddress: '127.0.0.1',
      passive: true,
    });
    listener.add(ibgp);
    ebgp.start();
    ibgp.start();
  }, 60_000);

  afterAll(async () => {
    await Promise.all([ebgp, ibgp].filter(Boolean).map((s) => s.stop()));
    await listener?.close();
    await bird?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('eBGP reaches Established with IPv4 and IPv6, and BIRD shows our routes with their attributes', async () => {
    ebgp.setRoutes([
      {
        prefix: '192.0.2.50/32',
        nextHop: '198.51.100.5',
        communities: [community(65005, 100), community(65005, 200)],
        largeCommunities: [{ globalAdmin: 65005, localData1: 1, localData2: 2 }],
      },
      {
        prefix: '2001:db8:50::/64',
        nextHop: '2001:db8::5',
        largeCommunities: [{ globalAdmin: 65005, localData1: 3, localData2: 4 }],
      },
    ]);
    await waitFor(
      'eBGP Established',
      async () => (await bird.protocolInfo('portico_ebgp')) === 'Established',
      30_000,
    );
    expect(ebgp.negotiated).toMatchObject({ families: ['ipv4-unicast', 'ipv6-unicast'], fourOctetAs: true });
    await waitFor('both routes', async () => (await bird.routes('portico_ebgp')).size === 2, 20_000);
    const routes = await bird.routes('portico_ebgp');
    expect(routes.get('192.0.2.50/32')).toEqual({
      prefix: '192.0.2.50/32',
      kind: 'unicast',
      attrs: expect.objectContaining({
        'BGP.origin': 'IGP',
        'BGP.as_path': '65005',
        'BGP.next_hop': '198.51.100.5',
        'BGP.community': '(65005,100) (65005,200)',
        'BGP.large_community': '(65005, 1, 2)',
      }),
    });
    expect(routes.get('2001:db8:50::/64')).toMatchObject({
      kind: 'unicast',
      attrs: { 'BGP.next_hop': '2001:db8::5', 'BGP.large_community': '(65005, 3, 4)' },
    });
  }, 60_000);

  it('withdrawals remove the routes from BIRD', async () => {
    ebgp.setRoutes([]);
    await waitFor('withdrawn', async () => (await bird.routes('portico_ebgp')).size === 0, 20_000);
    expect(await bird.protocolInfo('portico_ebgp')).toBe('Established');
  }, 30_000);

  it('iBGP with BIRD as the active side carries LOCAL_PREF and an empty AS path', async () => {
    ibgp.setRoutes([{ prefix: '192.0.2.60/32', nextHop: '198.51.100.6', localPref: 250 }]);
    await waitFor(
      'iBGP Established',
      async () => (await bird.protocolInfo('portico_ibgp')) === 'Established',
      30_000,
    );
    await waitFor('iBGP route', async () => (await bird.routes('portico_ibgp')).has('192.0.2.60/32'), 20_000);
    expect((await bird.routes('portico_ibgp')).get('192.0.2.60/32')).toMatchObject({
      kind: 'unicast',
      attrs: { 'BGP.as_path': '', 'BGP.local_pref': '250', 'BGP.next_hop': '198.51.100.6' },
    });
  }, 60_000);

  it('stopping the session sends Cease, which BIRD logs as Administrative shutdown', async () => {
    await ibgp.stop();
    await waitFor(
      'BIRD sees the shutdown',
      async () => (await bird.protocolInfo('portico_ibgp')) !== 'Established',
      20_000,
    );
    expect((await bird.routes('portico_ibgp')).size).toBe(0);
    expect(readFileSync(bird.logFile, 'utf8')).toMatch(/portico_ibgp: Received: Administrative shutdown/);
  }, 30_000);
});
