// BFD (RFC 5880/5881) against FRR's bfdd, beside a BGP session with FRR's
// bgpd, in network namespaces: the BFD session comes Up with the intervals we
// asked for, and cutting the link takes the BGP session down as soon as BFD
// notices, long before the hold timer would. The measured time is printed.
import { describe, expect, it } from '@jest/globals';
import { waitFor } from '../../harness/processes.ts';
import { ebgpToFrr, frrFixture, requireFrr } from './frr-fixture.ts';

await requireFrr('BFD', true);

const INTERVAL_MS = 100;
const MULTIPLIER = 3;
const HOLD_SEC = 90;

describe('BFD against FRR bfdd', () => {
  const fx = frrFixture({
    tmpPrefix: 'portico-bfd-',
    bgpd: `router bgp 65001
 bgp router-id 10.0.0.2
 no bgp ebgp-requires-policy
 neighbor 10.0.0.1 remote-as 65005
 neighbor 10.0.0.1 passive
 neighbor 10.0.0.1 timers 30 ${HOLD_SEC}
`,
    bfdd: `bfd
 peer 10.0.0.1 local-address 10.0.0.2
  receive-interval ${INTERVAL_MS}
  transmit-interval ${INTERVAL_MS}
  detect-multiplier ${MULTIPLIER}
 !
!
`,
    speaker: {
      sessions: {
        ebgp: ebgpToFrr({
          holdTimeSec: HOLD_SEC,
          routes: [{ prefix: '192.0.2.80/32', nextHop: '10.0.0.1' }],
          bfd: {
            desiredMinTxMs: INTERVAL_MS,
            requiredMinRxMs: INTERVAL_MS,
            detectMultiplier: MULTIPLIER,
            passive: false,
          },
        }),
      },
    },
  });

  it('comes Up with FRR, which then sees our fast transmit interval', async () => {
    await fx.speaker.waitBfd('ebgp', 'Up');
    await fx.speaker.waitState('ebgp', 'Established');
    await waitFor(
      'bfdd sees the poll sequence',
      async () => {
        const p = await fx.frr.bfdPeer('10.0.0.1');
        return p?.status === 'up' && p['remote-transmit-interval'] === INTERVAL_MS;
      },
      20_000,
    );
  }, 60_000);

  it('cutting the link drops the BGP session through BFD, not the hold timer', async () => {
    const mark = fx.speaker.history.length;
    // Timed from just before the command: the link goes down somewhere inside it.
    const cut = Date.now();
    await fx.lab.exec('rtr', ['ip', 'link', 'set', 'veth-b', 'down']);
    await waitFor(
      'BGP session down',
      async () => fx.speaker.states.get('ebgp') !== 'Established',
      20_000,
      10,
    );
    const measured = Date.now() - cut;
    console.log(
      `BFD: BGP session dropped ${measured} ms after the link was cut ` +
        `(detect time ${INTERVAL_MS * MULTIPLIER} ms, hold time ${HOLD_SEC} s)`,
    );
    const after = fx.speaker.history.slice(mark);
    expect(after[0]).toBe('bfd ebgp Down');
    expect(after[1]).toMatch(/^ebgp (Idle|Active|Connect)$/);
  }, 30_000);

  it('when the link returns, BFD comes Up and the BGP session is re-established', async () => {
    await fx.lab.exec('rtr', ['ip', 'link', 'set', 'veth-b', 'up']);
    await fx.speaker.waitBfd('ebgp', 'Up');
    await fx.speaker.waitState('ebgp', 'Established', 60_000);
    await waitFor(
      'route back in FRR',
      async () => (await fx.frr.prefixes('ipv4', '10.0.0.1')).length === 1,
      20_000,
    );
  }, 90_000);
});
