// TCP-MD5 (RFC 2385) and the IP TTL, set through raw-socket.ts, against FRR's
// bgpd in a network namespace: a matching password establishes whichever side
// connects, over IPv4 and IPv6; a wrong one never does; and a session sending
// TTL 255 passes FRR's GTSM check (ttl-security, RFC 5082) that the kernel
// default TTL fails.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { sleep, waitFor } from '../../harness/processes.ts';
import { ebgpToFrr, frrFixture, requireFrr } from './frr-fixture.ts';
import type { ChildSession } from './frr-fixture.ts';

await requireFrr('MD5');

const session = (n: number, extra: Partial<ChildSession>) =>
  ebgpToFrr({ routerId: `10.0.0.${n}`, localAddress: `10.0.0.${n}`, ...extra });

describe('TCP-MD5 and TTL against FRR bgpd', () => {
  const fx = frrFixture({
    tmpPrefix: 'portico-md5-',
    speakerAddresses: ['10.0.0.3/24', '10.0.0.4/24', '10.0.0.5/24', '10.0.0.6/24', 'fd00::3/64'],
    frrAddresses: ['10.0.0.20/24', 'fd00::20/64'],
    // .1: we connect, same password. .3: we connect, wrong password.
    // .4: FRR connects from .20, same password (the key is on our listening
    // socket, where keys and sessions go by the peer's address).
    // .5: GTSM, we send TTL 255. .6: GTSM, we send the kernel default TTL.
    bgpd: `router bgp 65001
 bgp router-id 10.0.0.2
 no bgp ebgp-requires-policy
 neighbor 10.0.0.1 remote-as 65005
 neighbor 10.0.0.1 passive
 neighbor 10.0.0.1 password s3cret-one
 neighbor 10.0.0.3 remote-as 65005
 neighbor 10.0.0.3 passive
 neighbor 10.0.0.3 password s3cret-three
 neighbor 10.0.0.4 remote-as 65005
 neighbor 10.0.0.4 password s3cret-four
 neighbor 10.0.0.4 timers connect 1
 neighbor 10.0.0.4 update-source 10.0.0.20
 neighbor 10.0.0.5 remote-as 65005
 neighbor 10.0.0.5 passive
 neighbor 10.0.0.5 ttl-security hops 1
 neighbor 10.0.0.6 remote-as 65005
 neighbor 10.0.0.6 passive
 neighbor 10.0.0.6 ttl-security hops 1
 neighbor fd00::1 remote-as 65005
 neighbor fd00::1 passive
 neighbor fd00::1 password s3cret-six
 neighbor fd00::3 remote-as 65005
 neighbor fd00::3 password s3cret-six-passive
 neighbor fd00::3 timers connect 1
 neighbor fd00::3 update-source fd00::20
`,
    speaker: {
      listen: { host: '::', port: 179 },
      sessions: {
        match: session(1, { password: 's3cret-one' }),
        wrong: session(3, { password: 'not-the-password' }),
        passive: session(4, { password: 's3cret-four', passive: true, peerAddress: '10.0.0.20' }),
        gtsm: session(5, { ttl: 255 }),
        defaultTtl: session(6, {}),
        match6: session(7, { password: 's3cret-six', peerAddress: 'fd00::2', localAddress: 'fd00::1' }),
        passive6: session(8, { password: 's3cret-six-passive', passive: true, peerAddress: 'fd00::20' }),
      },
    },
  });

  it('a matching password establishes when we connect', async () => {
    await fx.speaker.waitState('match', 'Established');
    await waitFor(
      'FRR Established',
      async () => (await fx.frr.peerState('10.0.0.1')) === 'Established',
      30_000,
    );
  }, 60_000);

  it('a matching password establishes when FRR connects to our listener', async () => {
    await fx.speaker.waitState('passive', 'Established');
    expect(await fx.frr.peerState('10.0.0.4')).toBe('Established');
  }, 60_000);

  it('over IPv6 too, in both directions', async () => {
    await fx.speaker.waitState('match6', 'Established');
    await fx.speaker.waitState('passive6', 'Established');
    expect(await fx.frr.peerState('fd00::1')).toBe('Established');
    expect(await fx.frr.peerState('fd00::3')).toBe('Established');
  }, 60_000);

  it('TTL 255 passes GTSM, and the kernel default TTL does not', async () => {
    await fx.speaker.waitState('gtsm', 'Established');
    expect(await fx.frr.peerState('10.0.0.5')).toBe('Established');
    expect(await fx.frr.peerState('10.0.0.6')).not.toBe('Established');
    expect(fx.speaker.history).not.toContain('defaultTtl Established');
  }, 60_000);

  it('a wrong password never establishes: the kernel drops the unsigned SYNs', async () => {
    // The matching sessions came up long ago; give this one several connect retries too.
    await sleep(5000);
    expect(fx.speaker.history).not.toContain('wrong OpenSent');
    expect(fx.speaker.history).not.toContain('wrong Established');
    expect(await fx.frr.peerState('10.0.0.3')).not.toBe('Established');
    expect(readFileSync(fx.frr.logFile, 'utf8')).not.toMatch(/10\.0\.0\.3.*Established/);
  }, 30_000);
});
