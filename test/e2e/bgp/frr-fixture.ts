// Shared by the BGP e2e tests against FRR: two namespaces of a BgpLab joined
// by a veth, FRR's bgpd (and bfdd when asked) in "rtr" with its files in a
// temp dir, and our speaker in "spk" (10.0.0.1 and fd00::1 on "veth-a", FRR
// at 10.0.0.2 and fd00::2 on "veth-b"). frrFixture() sets them up in
// beforeAll and tears them down in afterAll of the describe block it is
// called in.
import { afterAll, beforeAll } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { netnsUnavailable } from '../netns/netns.ts';
import { BgpLab, SpeakerProcess } from './bgp-lab.ts';
import type { ChildConfig } from './speaker-child.ts';
import { BFDD, BGPD, FrrDaemon } from './frr-daemon.ts';
import { haveBinaries } from './gobgp-daemon.ts';

/**
 * Throws, naming `suite` ("BFD e2e tests need..."), unless this machine has
 * root and network namespaces, FRR's bgpd and vtysh, and bfdd if `bfdd`.
 */
export async function requireFrr(suite: string, bfdd = false): Promise<void> {
  const unavailable = await netnsUnavailable();
  if (unavailable) throw new Error(`${suite} e2e tests need root and network namespaces: ${unavailable}`);
  if (!haveBinaries(BGPD, ...(bfdd ? [BFDD] : []), 'vtysh'))
    throw new Error(
      `${suite} e2e tests need ${bfdd ? 'bgpd, bfdd' : 'bgpd'} and vtysh (apt-get install frr)`,
    );
}

/** One session of the speaker's config. */
export type ChildSession = ChildConfig['sessions'][string];

/** Retry timers short enough for a test to wait out. */
export const FAST_RETRY = { connectRetrySec: 1, connectRetryMaxSec: 2, idleHoldSec: 1, idleHoldMaxSec: 2 };

/**
 * An eBGP session from the speaker (AS 65005, 10.0.0.1) to FRR (AS 65001,
 * 10.0.0.2) for IPv4 unicast, with FAST_RETRY; `session` adds or overrides.
 */
export function ebgpToFrr(session: Partial<ChildSession> = {}): ChildSession {
  return {
    ...FAST_RETRY,
    localAs: 65005,
    peerAs: 65001,
    routerId: '10.0.0.1',
    peerAddress: '10.0.0.2',
    localAddress: '10.0.0.1',
    families: ['ipv4-unicast'],
    ...session,
  };
}

export interface FrrFixtureOptions {
  /** Prefix of the temp dir for FRR's files, e.g. "portico-bfd-". */
  tmpPrefix: string;
  /** Addresses beside 10.0.0.1/24 and fd00::1/64 on the speaker's side. */
  speakerAddresses?: string[];
  /** Addresses beside 10.0.0.2/24 and fd00::2/64 on FRR's side. */
  frrAddresses?: string[];
  /** bgpd's configuration. */
  bgpd: string;
  /** bfdd's configuration (a `bfd` block); bfdd runs only when given. */
  bfdd?: string;
  /** The speaker's sessions, started after FRR. */
  speaker: ChildConfig;
}

/** Filled in by beforeAll: use the fields inside tests and hooks only. */
export interface FrrFixture {
  readonly lab: BgpLab;
  dir: string;
  frr: FrrDaemon;
  /** Our speaker; a test may replace it, e.g. with a restarted process. */
  speaker: SpeakerProcess;
}

export function frrFixture(options: FrrFixtureOptions): FrrFixture {
  const fx = { lab: new BgpLab() } as FrrFixture;

  beforeAll(async () => {
    fx.dir = mkdtempSync(join(tmpdir(), options.tmpPrefix));
    await fx.lab.pair('spk', 'rtr', options.speakerAddresses, options.frrAddresses);
    fx.frr = new FrrDaemon(fx.dir, fx.lab.ns('rtr'), options.bgpd);
    await fx.frr.start();
    if (options.bfdd !== undefined) await fx.frr.startBfdd(options.bfdd);
    fx.speaker = new SpeakerProcess(fx.lab, 'spk', options.speaker);
    await fx.speaker.start();
  }, 60_000);

  afterAll(async () => {
    await fx.frr?.stop();
    await fx.lab.cleanup();
    if (fx.dir) rmSync(fx.dir, { recursive: true, force: true });
  }, 30_000);

  return fx;
}
