// Graceful restart (RFC 4724) with FRR's bgpd as the receiving speaker: our
// speaker process is SIGKILLed, FRR keeps its routes marked stale, and when
// the new process has resynced and sent End-of-RIB, FRR holds them fresh
// again and drops the stale one the new process no longer announces.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { netnsUnavailable } from '../netns/netns.ts';
import { waitFor } from '../../harness/processes.ts';
import { BgpLab, SpeakerProcess } from './bgp-lab.ts';
import type { ChildConfig } from './speaker-child.ts';
import { BGPD, FrrDaemon } from './frr-daemon.ts';
import { haveBinaries } from './gobgp-daemon.ts';
import type { OutboundRoute } from '../../../speaker/bgp/rib-out.ts';

const unavailable = await netnsUnavailable();
if (unavailable) throw new Error(`GR e2e tests need root and network namespaces: ${unavailable}`);
if (!haveBinaries(BGPD, 'vtysh')) throw new Error('GR e2e tests need bgpd and vtysh (apt-get install frr)');

const KEPT = '192.0.2.90/32';
const DROPPED = '192.0.2.91/32';

function config(restarting: boolean, routes: OutboundRoute[]): ChildConfig {
  return {
    sessions: {
      ebgp: {
        connectRetrySec: 1,
        connectRetryMaxSec: 2,
        idleHoldSec: 1,
        idleHoldMaxSec: 2,
        localAs: 65005,
        peerAs: 65001,
        routerId: '10.0.0.1',
        peerAddress: '10.0.0.2',
        localAddress: '10.0.0.1',
        families: ['ipv4-unicast'],
        // The data path outlives the process, so forwarding is preserved.
        gracefulRestart: { restartTimeSec: 120, restarting, forwardingPreserved: true },
        routes,
      },
    },
  };
}

describe('graceful restart against FRR bgpd', () => {
  const lab = new BgpLab();
  let dir: string;
  let frr: FrrDaemon;
  let speaker: SpeakerProcess;

  const stale = async (prefix: string): Promise<boolean | undefined> => {
    const [path] = await frr.paths('ipv4', prefix);
    return path ? path.stale === true : undefined;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portico-gr-'));
    await lab.pair('spk', 'rtr');
    frr = new FrrDaemon(
      dir,
      lab.ns('rtr'),
      `router bgp 65001
 bgp router-id 10.0.0.2
 bgp graceful-restart
 no bgp ebgp-requires-policy
 neighbor 10.0.0.1 remote-as 65005
 neighbor 10.0.0.1 passive
`,
    );
    await frr.start();
    const routes = [KEPT, DROPPED].map((prefix) => ({ prefix, nextHop: '10.0.0.1' }));
    speaker = new SpeakerProcess(lab, 'spk', config(false, routes));
    await speaker.start();
  }, 60_000);

  afterAll(async () => {
    await frr?.stop();
    await lab.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('negotiates the capability and FRR has both routes', async () => {
    await speaker.waitState('ebgp', 'Established');
    await waitFor('both routes', async () => (await frr.prefixes('ipv4', '10.0.0.1')).length === 2, 20_000);
    const n = (await frr.vtysh('show bgp neighbors 10.0.0.1 json')) as Record<
      string,
      { neighborCapabilities?: { gracefulRestart?: string } }
    >;
    expect(n['10.0.0.1']?.neighborCapabilities?.gracefulRestart).toBe('advertisedAndReceived');
  }, 60_000);

  it('after SIGKILL FRR keeps the routes, marked stale', async () => {
    await speaker.kill('SIGKILL');
    await waitFor('FRR notices', async () => (await frr.peerState('10.0.0.1')) !== 'Established', 20_000);
    await waitFor(
      'routes stale',
      async () => (await stale(KEPT)) === true && (await stale(DROPPED)) === true,
    );
    expect(await frr.prefixes('ipv4', '10.0.0.1')).toEqual([KEPT, DROPPED]);
  }, 60_000);

  it('the restarted speaker resyncs and sends End-of-RIB: the kept route is fresh, the other gone', async () => {
    speaker = new SpeakerProcess(lab, 'spk', config(true, [{ prefix: KEPT, nextHop: '10.0.0.1' }]));
    await speaker.start();
    await speaker.waitState('ebgp', 'Established');
    await waitFor(
      'stale route flushed at End-of-RIB',
      async () => (await stale(DROPPED)) === undefined,
      20_000,
    );
    expect(await stale(KEPT)).toBe(false);
    expect(await frr.prefixes('ipv4', '10.0.0.1')).toEqual([KEPT]);
  }, 60_000);
});
