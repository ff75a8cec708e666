// The session adapter over real TCP on loopback: our speaker against itself,
// and against a scripted peer for collisions (RFC 4271 6.8), hold timer
// expiry and malformed input. Nothing here may crash the process.
import { afterEach, describe, expect, it } from '@jest/globals';
import { createLogger } from '../../../lib/logger.ts';
import { buildOpen, encodeMessage } from '../../../speaker/bgp/codec/index.ts';
import type { DecodedUpdate } from '../../../speaker/bgp/codec/index.ts';
import { endOfRibFamily } from '../../../speaker/bgp/codec/index.ts';
import { BgpListener } from '../../../speaker/bgp/listener.ts';
import { BgpSession } from '../../../speaker/bgp/session.ts';
import type { BgpSessionOptions } from '../../../speaker/bgp/session.ts';
import { freePort, waitFor } from '../../harness/processes.ts';
import { hex, MANDATORY_ATTRS, update } from '../../unit/bgp/helpers.ts';
import { PEER_CAPS, RawListener, RawPeer } from './raw-peer.ts';

const logger = createLogger({ level: process.env['PORTICO_LOG_LEVEL'] ?? 'silent' });

/** Everything started by a test, stopped in afterEach even when the test failed. */
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function session(o: Omit<BgpSessionOptions, 'logger'>): BgpSession {
  const s = new BgpSession({ connectRetrySec: 1, idleHoldSec: 0.05, idleHoldMaxSec: 0.2, logger, ...o });
  cleanup.push(() => s.stop());
  return s;
}

async function listen(host: string, ...sessions: BgpSession[]): Promise<number> {
  const l = new BgpListener(logger);
  for (const s of sessions) l.add(s);
  const port = await l.listen(0, host);
  cleanup.push(() => l.close());
  return port;
}

async function rawListener(host: string): Promise<{ l: RawListener; port: number }> {
  const l = new RawListener();
  const port = await freePort();
  await l.listen(port, host);
  cleanup.push(() => l.close());
  return { l, port };
}

async function rawConnect(port: number, host: string, from: string): Promise<RawPeer> {
  const p = await RawPeer.connect(port, host, from);
  cleanup.push(() => p.close());
  return p;
}

describe('speaker to speaker', () => {
  it('establishes, announces IPv4 and IPv6 with End-of-RIB, and withdraws', async () => {
    const got: DecodedUpdate[] = [];
    const b = session({
      localAs: 65022,
      peerAs: 65021,
      routerId: '10.0.0.22',
      peerAddress: '127.0.0.21',
      passive: true,
      onUpdate: (u) => got.push(u),
    });
    const port = await listen('127.0.0.22', b);
    const a = session({
      localAs: 65021,
      peerAs: 65022,
      routerId: '10.0.0.21',
      peerAddress: '127.0.0.22',
      peerPort: port,
      localAddress: '127.0.0.21',
    });
    a.setRoutes([
      {
        prefix: '192.0.2.1/32',
        nextHop: '192.0.2.254',
        communities: [1],
        largeCommunities: [{ globalAdmin: 65021, localData1: 1, localData2: 1 }],
      },
      { prefix: '2001:db8::1/128', nextHop: '2001:db8::fe' },
    ]);
    b.start();
    a.start();
    await waitFor(
      'both Established',
      async () => a.state === 'Established' && b.state === 'Established',
      10_000,
    );
    await waitFor('four UPDATEs', async () => got.length >= 4, 5_000);
    expect(
      got.map(
        (u) => endOfRibFamily(u.update) ?? [...u.update.nlri, ...(u.update.attributes.mpReach?.nlri ?? [])],
      ),
    ).toEqual([['192.0.2.1/32'], ['2001:db8::1/128'], 'ipv4-unicast', 'ipv6-unicast']);
    expect(got[0]?.update.attributes).toMatchObject({
      asPath: [{ kind: 'sequence', asns: [65021] }],
      nextHop: '192.0.2.254',
      communities: [1],
      largeCommunities: [{ globalAdmin: 65021, localData1: 1, localData2: 1 }],
    });
    a.setRoutes([]);
    await waitFor('withdrawals', async () => got.length >= 6, 5_000);
    expect(
      got.slice(4).map((u) => [...u.update.withdrawn, ...(u.update.attributes.mpUnreach?.withdrawn ?? [])]),
    ).toEqual([['192.0.2.1/32'], ['2001:db8::1/128']]);
  }, 20_000);
});

describe('connection collision (RFC 4271 6.8)', () => {
  /**
   * Our speaker (127.0.0.31) connects to the scripted peer (127.0.0.32) while
   * the peer connects to us: two connections, and the BGP identifiers decide.
   */
  async function collide(ourId: string, peerId: string) {
    const { l, port: peerPort } = await rawListener('127.0.0.32');
    const s = session({
      localAs: 65031,
      peerAs: 65032,
      routerId: ourId,
      peerAddress: '127.0.0.32',
      peerPort,
      localAddress: '127.0.0.31',
    });
    const ourPort = await listen('127.0.0.31', s);
    s.setRoutes([{ prefix: '192.0.2.31/32', nextHop: '192.0.2.254' }]);
    s.start();
    const ours = await l.nextPeer(); // the connection we opened
    await ours.next('open');
    await waitFor('OpenSent', async () => s.state === 'OpenSent', 5_000);
    const theirs = await rawConnect(ourPort, '127.0.0.31', '127.0.0.32'); // the one the peer opened
    await theirs.next('open');
    const open = buildOpen({ asn: 65032, holdTimeSec: 90, bgpId: peerId, capabilities: PEER_CAPS });
    theirs.send(open);
    ours.send(open);
    return { s, ours, theirs };
  }

  it('keeps the connection the peer opened when the peer has the higher identifier', async () => {
    const { s, ours, theirs } = await collide('10.0.0.1', '10.0.0.200');
    expect(await ours.closedWith()).toMatchObject({ code: 6, subcode: 7 });
    await theirs.next('keepalive');
    theirs.send({ type: 'keepalive' });
    await waitFor('Established on the surviving connection', async () => s.state === 'Established', 5_000);
    expect((await theirs.next('update')).nlri).toEqual(['192.0.2.31/32']);
    expect(s.stats.notificationsSent).toEqual({ '6/7': 1 });
  }, 20_000);

  it('keeps the connection we opened when we have the higher identifier', async () => {
    const { s, ours, theirs } = await collide('10.0.0.250', '10.0.0.2');
    expect(await theirs.closedWith()).toMatchObject({ code: 6, subcode: 7 });
    await ours.next('keepalive');
    ours.send({ type: 'keepalive' });
    await waitFor('Established on the surviving connection', async () => s.state === 'Established', 5_000);
    expect((await ours.next('update')).nlri).toEqual(['192.0.2.31/32']);
  }, 20_000);

  it('carries on with the second connection when the first one drops before any OPEN arrives', async () => {
    const { l, port: peerPort } = await rawListener('127.0.0.32');
    const s = session({
      localAs: 65031,
      peerAs: 65032,
      routerId: '10.0.0.1',
      peerAddress: '127.0.0.32',
      peerPort,
      localAddress: '127.0.0.31',
    });
    const ourPort = await listen('127.0.0.31', s);
    s.start();
    const ours = await l.nextPeer();
    await ours.next('open');
    const theirs = await rawConnect(ourPort, '127.0.0.31', '127.0.0.32');
    await theirs.next('open');
    ours.close();
    await waitFor('first connection gone', async () => s.state === 'OpenSent' && ours.isClosed, 5_000);
    theirs.send(buildOpen({ asn: 65032, holdTimeSec: 90, bgpId: '10.0.0.200', capabilities: PEER_CAPS }));
    await theirs.next('keepalive');
    theirs.send({ type: 'keepalive' });
    await waitFor('Established on the second connection', async () => s.state === 'Established', 5_000);
    expect(theirs.isClosed).toBe(false);
  }, 20_000);

  it('closes a new connection that collides with an Established one', async () => {
    const s = session({
      localAs: 65041,
      peerAs: 65042,
      routerId: '10.0.0.41',
      peerAddress: '127.0.0.42',
      passive: true,
    });
    const port = await listen('127.0.0.41', s);
    s.start();
    const first = await rawConnect(port, '127.0.0.41', '127.0.0.42');
    await first.handshake(65042, '10.0.0.42');
    const second = await rawConnect(port, '127.0.0.41', '127.0.0.42');
    expect(await second.closedWith()).toMatchObject({ code: 6, subcode: 7 });
    expect(s.state).toBe('Established');
    expect(first.isClosed).toBe(false);
  }, 20_000);
});

describe('errors from the peer', () => {
  async function established(peerAs = 65052, holdTimeSec = 0) {
    const s = session({
      localAs: 65051,
      peerAs: 65052,
      routerId: '10.0.0.51',
      peerAddress: '127.0.0.52',
      passive: true,
    });
    const port = await listen('127.0.0.51', s);
    s.start();
    const peer = await rawConnect(port, '127.0.0.51', '127.0.0.52');
    return { s, port, peer, handshake: () => peer.handshake(peerAs, '10.0.0.52', holdTimeSec) };
  }

  it.each([
    [
      'an NLRI prefix longer than 32',
      update('', MANDATORY_ATTRS.replace('0000fde9', '0000fdec'), '21 0a000000 00'),
      [3, 10],
    ],
    ['a repeated MP_REACH_NLRI', update('', '80 0f 03 000201 | 80 0f 03 000201', ''), [3, 1]],
    ['a lost marker', hex(`${'00'.repeat(16)} 0013 04`), [1, 1]],
    ['an unknown message type', hex(`${'ff'.repeat(16)} 0013 09`), [1, 3]],
    [
      'an OPEN once Established',
      encodeMessage(buildOpen({ asn: 65052, holdTimeSec: 0, bgpId: '10.0.0.52', capabilities: [] })),
      [5, 3],
    ],
  ])(
    '%s: sends the NOTIFICATION, closes, and accepts the peer again',
    async (_what, bytes, [code, subcode]) => {
      const { s, port, peer, handshake } = await established();
      await handshake();
      await waitFor('Established', async () => s.state === 'Established', 5_000);
      peer.sendBytes(bytes);
      expect(await peer.closedWith()).toMatchObject({ code, subcode });
      expect(s.stats.notificationsSent).toEqual({ [`${code}/${subcode}`]: 1 });
      // Automatic restart: passive again after the idle-hold time, and a new connection works.
      await waitFor('back to Active', async () => s.state === 'Active', 5_000);
      const again = await rawConnect(port, '127.0.0.51', '127.0.0.52');
      await again.handshake(65052, '10.0.0.52');
      await waitFor('Established again', async () => s.state === 'Established', 5_000);
    },
    20_000,
  );

  it('an UPDATE with a broken attribute is treated as withdraw, without a reset (RFC 7606)', async () => {
    const got: DecodedUpdate[] = [];
    const s = session({
      localAs: 65051,
      peerAs: 65052,
      routerId: '10.0.0.51',
      peerAddress: '127.0.0.52',
      passive: true,
      onUpdate: (u) => got.push(u),
    });
    const port = await listen('127.0.0.51', s);
    s.start();
    const peer = await rawConnect(port, '127.0.0.51', '127.0.0.52');
    await peer.handshake(65052, '10.0.0.52');
    // ORIGIN 5 is invalid; the AS path starts with the peer's AS 65052 (0xfdec).
    peer.sendBytes(update('', '40 01 01 05 | 40 02 06 02 01 0000fdec | 40 03 04 c0000201', '18 c00002'));
    await waitFor('UPDATE delivered', async () => got.length === 1, 5_000);
    expect(got[0]).toMatchObject({ treatAsWithdraw: true, update: { nlri: ['192.0.2.0/24'] } });
    expect(s.state).toBe('Established');
    expect(peer.isClosed).toBe(false);
  }, 20_000);

  it('rejects the wrong peer AS with Bad Peer AS', async () => {
    const { peer, handshake } = await established(65099);
    await expect(handshake()).rejects.toThrow(/closed/);
    expect(await peer.closedWith()).toMatchObject({ code: 2, subcode: 2 });
  }, 20_000);

  it('sends Hold Timer Expired when the peer falls silent', async () => {
    const { s, peer, handshake } = await established(65052, 3);
    await handshake();
    expect(s.negotiated).toMatchObject({ holdTimeSec: 3, keepaliveSec: 1 });
    // We keep talking (keepalives), the peer does not: after 3 s the session is dropped.
    const started = Date.now();
    expect(await peer.closedWith(6_000)).toMatchObject({ code: 4, subcode: 0 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
  }, 20_000);

  it('a connection from an address with no session is closed', async () => {
    const s = session({
      localAs: 65061,
      peerAs: 65062,
      routerId: '10.0.0.61',
      peerAddress: '127.0.0.62',
      passive: true,
    });
    const port = await listen('127.0.0.61', s);
    s.start();
    const stranger = await rawConnect(port, '127.0.0.61', '127.0.0.63');
    await stranger.closed;
    expect(s.state).toBe('Active');
  }, 20_000);
});
