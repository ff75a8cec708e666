// TCP-MD5 (RFC 2385) and the IP TTL, set through raw-socket.ts, against FRR's
// bgpd in a network namespace: a matching password establishes whichever side
// connects, over IPv4 and IPv6; a wrong one never does; and a session sending
// TTL 255 passes FRR's GTSM check (ttl-security, RFC 5082) that the kernel
// default TTL fails.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { netnsUnavailable } from '../netns/netns.ts';
import { sleep, waitFor } from '../../harness/processes.ts';
import { BgpLab, SpeakerProcess } from './bgp-lab.ts';
import { BGPD, FrrDaemon } from './frr-daemon.ts';
import { haveBinaries } from './gobgp-daemon.ts';

const unavailable = await netnsUnavailable();
if (unavailable) throw new Error(`MD5 e2e tests need root and network namespaces: ${unavailable}`);
if (!haveBinaries(BGPD, 'vtysh')) throw new Error('MD5 e2e tests need bgpd and vtysh (apt-get install frr)');

const session = (n: number, extra: Record<string, unknown>) => ({
  connectRetrySec: 1,
  connectRetryMaxSec: 2,
  idleHoldSec: 1,
  idleHoldMaxSec: 2,
  localAs: 65005,
  peerAs: 65001,
  routerId: `10.0.0.${n}`,
  peerAddress: '10.0.0.2',
  localAddress: `10.0.0.${n}`,
  families: ['ipv4-unicast' as const],
  ...extra,
});

describe('TCP-MD5 and TTL against FRR bgpd', () => {
  const lab = new BgpLab();
  let dir: string;
  let frr: FrrDaemon;
  let speaker: SpeakerProcess;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portico-md5-'));
    await lab.pair(
      'spk',
      'rtr',
      ['10.0.0.3/24', '10.0.0.4/24', '10.0.0.5/24', '10.0.0.6/24', 'fd00::3/64'],
      ['10.0.0.20/24', 'fd00::20/64'],
    );
    // .1: we connect, same password. .3: we connect, wrong password.
    // .4: FRR connects from .20, same password (the key is on our listening
    // socket, where keys and sessions go by the peer's address).
    // .5: GTSM, we send TTL 255. .6: GTSM, we send the kernel default TTL.
    frr = new FrrDaemon(
      dir,
      lab.ns('rtr'),
      `router bgp 65001
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
    );
    await frr.start();
    speaker = new SpeakerProcess(lab, 'spk', {
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
    });
    await speaker.start();
  }, 60_000);

  afterAll(async () => {
    await frr?.stop();
    await lab.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('a matching password establishes when we connect', async () => {
    await speaker.waitState('match', 'Established');
    await waitFor('FRR Established', async () => (await frr.peerState('10.0.0.1')) === 'Established', 30_000);
  }, 60_000);

  it('a matching password establishes when FRR connects to our listener', async () => {
    await speaker.waitState('passive', 'Established');
    expect(await frr.peerState('10.0.0.4')).toBe('Established');
  }, 60_000);

  it('over IPv6 too, in both directions', async () => {
    await speaker.waitState('match6', 'Established');
    await speaker.waitState('passive6', 'Established');
    expect(await frr.peerState('fd00::1')).toBe('Established');
    expect(await frr.peerState('fd00::3')).toBe('Established');
  }, 60_000);

  it('TTL 255 passes GTSM, and the kernel default TTL does not', async () => {
    await speaker.waitState('gtsm', 'Established');
    expect(await frr.peerState('10.0.0.5')).toBe('Established');
    expect(await frr.peerState('10.0.0.6')).not.toBe('Established');
    expect(speaker.history).not.toContain('defaultTtl Established');
  }, 60_000);

  it('a wrong password never establishes: the kernel drops the unsigned SYNs', async () => {
    // The matching sessions came up long ago; give this one several connect retries too.
    await sleep(5000);
    expect(speaker.history).not.toContain('wrong OpenSent');
    expect(speaker.history).not.toContain('wrong Established');
    expect(await frr.peerState('10.0.0.3')).not.toBe('Established');
    expect(readFileSync(frr.logFile, 'utf8')).not.toMatch(/10\.0\.0\.3.*Established/);
  }, 30_000);
});
