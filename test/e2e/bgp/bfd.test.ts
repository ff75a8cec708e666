// BFD (RFC 5880/5881) against FRR's bfdd, beside a BGP session with FRR's
// bgpd, in network namespaces: the BFD session comes Up with the intervals we
// asked for, and cutting the link takes the BGP session down as soon as BFD
// notices, long before the hold timer would. The measured time is printed.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { netnsUnavailable } from '../netns/netns.ts';
import { waitFor } from '../../harness/processes.ts';
import { BgpLab, SpeakerProcess } from './bgp-lab.ts';
import { BFDD, BGPD, FrrDaemon } from './frr-daemon.ts';
import { haveBinaries } from './gobgp-daemon.ts';

const unavailable = await netnsUnavailable();
if (unavailable) throw new Error(`BFD e2e tests need root and network namespaces: ${unavailable}`);
if (!haveBinaries(BGPD, BFDD, 'vtysh'))
  throw new Error('BFD e2e tests need bgpd, bfdd and vtysh (apt-get install frr)');

const INTERVAL_MS = 100;
const MULTIPLIER = 3;
const HOLD_SEC = 90;

describe('BFD against FRR bfdd', () => {
  const lab = new BgpLab();
  let dir: string;
  let frr: FrrDaemon;
  let speaker: SpeakerProcess;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portico-bfd-'));
    await lab.pair('spk', 'rtr');
    frr = new FrrDaemon(
      dir,
      lab.ns('rtr'),
      `router bgp 65001
 bgp router-id 10.0.0.2
 no bgp ebgp-requires-policy
 neighbor 10.0.0.1 remote-as 65005
 neighbor 10.0.0.1 passive
 neighbor 10.0.0.1 timers 30 ${HOLD_SEC}
`,
    );
    await frr.start();
    await frr.startBfdd(
      `bfd
 peer 10.0.0.1 local-address 10.0.0.2
  receive-interval ${INTERVAL_MS}
  transmit-interval ${INTERVAL_MS}
  detect-multiplier ${MULTIPLIER}
 !
!
`,
    );
    speaker = new SpeakerProcess(lab, 'spk', {
      sessions: {
        ebgp: {
          connectRetrySec: 1,
          connectRetryMaxSec: 2,
          idleHoldSec: 1,
          idleHoldMaxSec: 2,
          holdTimeSec: HOLD_SEC,
          localAs: 65005,
          peerAs: 65001,
          routerId: '10.0.0.1',
          peerAddress: '10.0.0.2',
          localAddress: '10.0.0.1',
          families: ['ipv4-unicast'],
          routes: [{ prefix: '192.0.2.80/32', nextHop: '10.0.0.1' }],
          bfd: {
            desiredMinTxMs: INTERVAL_MS,
            requiredMinRxMs: INTERVAL_MS,
            detectMultiplier: MULTIPLIER,
            passive: false,
          },
        },
      },
    });
    await speaker.start();
  }, 60_000);

  afterAll(async () => {
    await frr?.stop();
    await lab.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('comes Up with FRR, which then sees our fast transmit interval', async () => {
    await speaker.waitBfd('ebgp', 'Up');
    await speaker.waitState('ebgp', 'Established');
    await waitFor(
      'bfdd sees the poll sequence',
      async () => {
        const p = await frr.bfdPeer('10.0.0.1');
        return p?.status === 'up' && p['remote-transmit-interval'] === INTERVAL_MS;
      },
      20_000,
    );
  }, 60_000);

  it('cutting the link drops the BGP session through BFD, not the hold timer', async () => {
    const mark = speaker.history.length;
    // Timed from just before the command: the link goes down somewhere inside it.
    const cut = Date.now();
    await lab.exec('rtr', ['ip', 'link', 'set', 'veth-b', 'down']);
    await waitFor('BGP session down', async () => speaker.states.get('ebgp') !== 'Established', 20_000, 10);
    const measured = Date.now() - cut;
    console.log(
      `BFD: BGP session dropped ${measured} ms after the link was cut ` +
        `(detect time ${INTERVAL_MS * MULTIPLIER} ms, hold time ${HOLD_SEC} s)`,
    );
    const after = speaker.history.slice(mark);
    expect(after[0]).toBe('bfd ebgp Down');
    expect(after[1]).toMatch(/^ebgp (Idle|Active|Connect)$/);
  }, 30_000);

  it('when the link returns, BFD comes Up and the BGP session is re-established', async () => {
    await lab.exec('rtr', ['ip', 'link', 'set', 'veth-b', 'up']);
    await speaker.waitBfd('ebgp', 'Up');
    await speaker.waitState('ebgp', 'Established', 60_000);
    await waitFor(
      'route back in FRR',
      async () => (await frr.prefixes('ipv4', '10.0.0.1')).length === 1,
      20_000,
    );
  }, 90_000);
});
