// Fuzzing a live session: random and mutated messages sent to an Established
// session over TCP. For each one we predict, by decoding it ourselves, whether
// the session must carry on or send a particular NOTIFICATION and close; the
// session must do exactly that, reconnect, and never crash the process.
// BGP_LIVE_FUZZ_COUNT raises the count.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLogger } from '../../../lib/logger.ts';
import { decodeMessage } from '../../../speaker/bgp/codec/index.ts';
import type { DecodeContext } from '../../../speaker/bgp/codec/index.ts';
import { BgpListener } from '../../../speaker/bgp/listener.ts';
import { BgpSession } from '../../../speaker/bgp/session.ts';
import { sleep } from '../../harness/processes.ts';
import { input, prng, seeds } from '../../unit/bgp/fuzz-input.ts';
import { RawPeer } from './raw-peer.ts';

const COUNT = Number(process.env['BGP_LIVE_FUZZ_COUNT'] ?? 1000);
const PEER_AS = 65072;
const logger = createLogger({ level: process.env['PORTICO_LOG_LEVEL'] ?? 'silent' });

/** What the session must do with a message, judged by our own decoder. */
function expectation(bytes: Uint8Array, ctx: DecodeContext): string {
  const r = decodeMessage(bytes, ctx);
  if (!r.ok) return `NOTIFICATION ${r.error.code}/${r.error.subcode}`;
  if (r.message.type === 'notification') return 'close';
  // RFC 6608: an OPEN in Established is an FSM error.
  if (r.message.type === 'open') return 'NOTIFICATION 5/3';
  return 'continue';
}

describe(`live session fuzz (${COUNT} messages)`, () => {
  let session: BgpSession;
  let listener: BgpListener;
  let port: number;

  beforeAll(async () => {
    session = new BgpSession({
      localAs: 65071,
      peerAs: PEER_AS,
      routerId: '10.0.0.71',
      peerAddress: '127.0.0.72',
      passive: true,
      // Come back fast after each reset; the point is volume.
      idleHoldSec: 0.001,
      idleHoldMaxSec: 0.004,
      logger,
    });
    session.setRoutes([{ prefix: '192.0.2.71/32', nextHop: '192.0.2.254' }]);
    listener = new BgpListener(logger);
    listener.add(session);
    port = await listener.listen(0, '127.0.0.71');
    session.start();
  });

  afterAll(async () => {
    await session?.stop();
    await listener?.close();
  });

  async function connectEstablished(): Promise<RawPeer> {
    for (;;) {
      // Idle refuses connections (RFC 4271 8.2.2): wait for the automatic restart.
      while (session.state !== 'Active') await sleep(1);
      const peer = await RawPeer.connect(port, '127.0.0.71', '127.0.0.72');
      try {
        await peer.handshake(PEER_AS, '10.0.0.72');
        return peer;
      } catch {
        // Still in Idle after the last reset: the session refused us. Try again.
        peer.close();
        await sleep(5);
      }
    }
  }

  it('sends exactly the NOTIFICATION each malformed message calls for, and survives', async () => {
    const ctx: DecodeContext = { fourOctetAs: true, peerType: 'ebgp', firstAs: PEER_AS };
    const rand = prng(0x11fe);
    const pool = seeds();
    // Valid UPDATEs between the broken messages, as a real stream would have.
    const updates = pool.filter((b) => b[18] === 2);
    const tally: Record<string, number> = {};
    let peer = await connectEstablished();
    for (let i = 0; i < COUNT; i++) {
      const bytes =
        rand() < 0.25
          ? (updates[Math.floor(rand() * updates.length)] as Uint8Array)
          : input(rand, pool, true);
      const expected = expectation(bytes, ctx);
      tally[expected] = (tally[expected] ?? 0) + 1;
      peer.sendBytes(bytes);
      if (expected === 'continue') continue;
      const got = await peer.closedWith(5_000);
      const actual = got ? `NOTIFICATION ${got.code}/${got.subcode}` : 'close';
      if (actual !== expected) {
        throw new Error(
          `message ${i} ${Buffer.from(bytes).toString('hex')}: expected ${expected}, got ${actual}`,
        );
      }
      peer = await connectEstablished();
    }
    // The last connection is still up and the session still answers.
    peer.send({ type: 'route-refresh', afi: 1, safi: 1, subtype: 0 });
    expect((await peer.next('update')).nlri).toEqual(['192.0.2.71/32']);
    expect(session.state).toBe('Established');
    peer.close();

    const sent = Object.entries(tally).filter(([k]) => k.startsWith('NOTIFICATION'));
    const expectedSent = Object.fromEntries(sent.map(([k, v]) => [k.slice('NOTIFICATION '.length), v]));
    expect(session.stats.notificationsSent).toEqual(expectedSent);
    // Enough of each kind to mean something.
    expect(tally['continue']).toBeGreaterThan(COUNT / 10);
    expect(sent.length).toBeGreaterThan(5);
  }, 600_000);
});
