// Graceful restart (RFC 4724) with FRR's bgpd as the receiving speaker: our
// speaker process is SIGKILLed, FRR keeps its routes marked stale, and when
// the new process has resynced and sent End-of-RIB, FRR holds them fresh
// again and drops the stale one the new process no longer announces.
import { describe, expect, it } from '@jest/globals';
import { waitFor } from '../../harness/processes.ts';
import { SpeakerProcess } from './bgp-lab.ts';
import type { ChildConfig } from './speaker-child.ts';
import { ebgpToFrr, frrFixture, requireFrr } from './frr-fixture.ts';
import type { OutboundRoute } from '../../../speaker/bgp/rib-out.ts';

await requireFrr('GR');

const KEPT = '192.0.2.90/32';
const DROPPED = '192.0.2.91/32';

function config(restarting: boolean, routes: OutboundRoute[]): ChildConfig {
  return {
    sessions: {
      ebgp: ebgpToFrr({
        // The data path outlives the process, so forwarding is preserved.
        gracefulRestart: { restartTimeSec: 120, restarting, forwardingPreserved: true },
        routes,
      }),
    },
  };
}

describe('graceful restart against FRR bgpd', () => {
  const fx = frrFixture({
    tmpPrefix: 'portico-gr-',
    bgpd: `router bgp 65001
 bgp router-id 10.0.0.2
 bgp graceful-restart
 no bgp ebgp-requires-policy
 neighbor 10.0.0.1 remote-as 65005
 neighbor 10.0.0.1 passive
`,
    speaker: config(
      false,
      [KEPT, DROPPED].map((prefix) => ({ prefix, nextHop: '10.0.0.1' })),
    ),
  });

  const stale = async (prefix: string): Promise<boolean | undefined> => {
    const [path] = await fx.frr.paths('ipv4', prefix);
    return path ? path.stale === true : undefined;
  };

  it('negotiates the capability and FRR has both routes', async () => {
    await fx.speaker.waitState('ebgp', 'Established');
    await waitFor(
      'both routes',
      async () => (await fx.frr.prefixes('ipv4', '10.0.0.1')).length === 2,
      20_000,
    );
    const n = (await fx.frr.vtysh('show bgp neighbors 10.0.0.1 json')) as Record<
      string,
      { neighborCapabilities?: { gracefulRestart?: string } }
    >;
    expect(n['10.0.0.1']?.neighborCapabilities?.gracefulRestart).toBe('advertisedAndReceived');
  }, 60_000);

  it('after SIGKILL FRR keeps the routes, marked stale', async () => {
    await fx.speaker.kill('SIGKILL');
    await waitFor('FRR notices', async () => (await fx.frr.peerState('10.0.0.1')) !== 'Established', 20_000);
    await waitFor(
      'routes stale',
      async () => (await stale(KEPT)) === true && (await stale(DROPPED)) === true,
    );
    expect(await fx.frr.prefixes('ipv4', '10.0.0.1')).toEqual([KEPT, DROPPED]);
  }, 60_000);

  it('the restarted speaker resyncs and sends End-of-RIB: the kept route is fresh, the other gone', async () => {
    fx.speaker = new SpeakerProcess(fx.lab, 'spk', config(true, [{ prefix: KEPT, nextHop: '10.0.0.1' }]));
    await fx.speaker.start();
    await fx.speaker.waitState('ebgp', 'Established');
    await waitFor(
      'stale route flushed at End-of-RIB',
      async () => (await stale(DROPPED)) === undefined,
      20_000,
    );
    expect(await stale(KEPT)).toBe(false);
    expect(await fx.frr.prefixes('ipv4', '10.0.0.1')).toEqual([KEPT]);
  }, 60_000);
});
