import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { BfdFsm, SLOW_TX_MS } from '../../../speaker/bgp/bfd/fsm.ts';
import type { BfdConfig } from '../../../speaker/bgp/bfd/fsm.ts';
import { BfdDiag, decodeBfdPacket, encodeBfdPacket } from '../../../speaker/bgp/bfd/packet.ts';
import type { BfdPacket, BfdState } from '../../../speaker/bgp/bfd/packet.ts';

const packet = (over: Partial<BfdPacket> = {}): BfdPacket => ({
  diag: 0,
  state: 'Down',
  poll: false,
  final: false,
  controlPlaneIndependent: false,
  demand: false,
  detectMult: 3,
  myDiscriminator: 0x1111,
  yourDiscriminator: 0,
  desiredMinTxUs: 1_000_000,
  requiredMinRxUs: 300_000,
  requiredMinEchoRxUs: 0,
  ...over,
});

const config = (over: Partial<BfdConfig> = {}): BfdConfig => ({
  localDiscriminator: 0x2222,
  desiredMinTxMs: 300,
  requiredMinRxMs: 300,
  detectMultiplier: 3,
  passive: false,
  ...over,
});

describe('BFD Control packet (RFC 5880 4.1)', () => {
  it('encodes the mandatory section bit for bit', () => {
    const bytes = encodeBfdPacket(
      packet({
        diag: BfdDiag.ControlDetectionTimeExpired,
        state: 'Up',
        poll: true,
        yourDiscriminator: 0x2222,
      }),
    );
    expect(Buffer.from(bytes).toString('hex')).toBe(
      '21' + 'e0' + '03' + '18' + '00001111' + '00002222' + '000f4240' + '000493e0' + '00000000',
    );
  });

  it('round-trips every valid packet', () => {
    const states: BfdState[] = ['AdminDown', 'Down', 'Init', 'Up'];
    fc.assert(
      fc.property(
        fc.record({
          diag: fc.integer({ min: 0, max: 31 }),
          state: fc.constantFrom(...states),
          poll: fc.boolean(),
          final: fc.boolean(),
          controlPlaneIndependent: fc.boolean(),
          demand: fc.boolean(),
          detectMult: fc.integer({ min: 1, max: 255 }),
          myDiscriminator: fc.integer({ min: 1, max: 0xffffffff }),
          yourDiscriminator: fc.integer({ min: 1, max: 0xffffffff }),
          desiredMinTxUs: fc.integer({ min: 0, max: 0xffffffff }),
          requiredMinRxUs: fc.integer({ min: 0, max: 0xffffffff }),
          requiredMinEchoRxUs: fc.integer({ min: 0, max: 0xffffffff }),
        }),
        (p) => {
          expect(decodeBfdPacket(encodeBfdPacket(p))).toEqual({ ok: true, packet: p });
        },
      ),
    );
  });

  it('discards what 6.8.6 says to discard', () => {
    const good = encodeBfdPacket(packet());
    const with_ = (i: number, v: number) => {
      const b = good.slice();
      b[i] = v;
      return b;
    };
    expect(decodeBfdPacket(good.subarray(0, 23))).toEqual({ ok: false, reason: 'short packet (23 bytes)' });
    expect(decodeBfdPacket(with_(0, 0x40))).toMatchObject({ ok: false, reason: 'version 2' });
    expect(decodeBfdPacket(with_(1, 0x44))).toMatchObject({ ok: false, reason: /authentication/ });
    expect(decodeBfdPacket(with_(1, 0x41))).toMatchObject({ ok: false, reason: /multipoint/ });
    expect(decodeBfdPacket(with_(2, 0))).toMatchObject({ ok: false, reason: /detect multiplier 0/ });
    expect(decodeBfdPacket(with_(3, 23))).toMatchObject({ ok: false, reason: /too small/ });
    expect(decodeBfdPacket(with_(3, 30))).toMatchObject({ ok: false, reason: /beyond the packet/ });
    expect(decodeBfdPacket(encodeBfdPacket(packet({ myDiscriminator: 0 })))).toMatchObject({ ok: false });
    // Your Discriminator may be 0 only while the sender is Down or AdminDown.
    expect(decodeBfdPacket(encodeBfdPacket(packet({ state: 'Up' })))).toMatchObject({ ok: false });
    expect(decodeBfdPacket(encodeBfdPacket(packet({ state: 'AdminDown' })))).toMatchObject({ ok: true });
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        expect(typeof decodeBfdPacket(b).ok).toBe('boolean');
      }),
    );
  });
});

describe('BFD session state machine (RFC 5880 6.8.6)', () => {
  it('goes Down -> Init -> Up in a three-way handshake and learns the remote discriminator', () => {
    const f = new BfdFsm(config());
    expect(f.receive(packet({ state: 'Down' })).transition).toEqual({ from: 'Down', to: 'Init', diag: 0 });
    expect(f.remoteDiscriminator).toBe(0x1111);
    expect(f.nextPacket()).toMatchObject({
      state: 'Init',
      yourDiscriminator: 0x1111,
      myDiscriminator: 0x2222,
    });
    const up = f.receive(packet({ state: 'Up', yourDiscriminator: 0x2222 }));
    expect(up.transition).toEqual({ from: 'Init', to: 'Up', diag: 0 });
  });

  it('goes Down -> Up directly when the peer is already in Init', () => {
    const f = new BfdFsm(config());
    expect(f.receive(packet({ state: 'Init', yourDiscriminator: 0x2222 })).transition?.to).toBe('Up');
  });

  it('ignores packets for another discriminator and packets while AdminDown', () => {
    const f = new BfdFsm(config());
    expect(f.receive(packet({ yourDiscriminator: 0x9999 }))).toMatchObject({ discarded: /not ours/ });
    f.adminDown();
    expect(f.receive(packet())).toMatchObject({ discarded: /AdminDown/ });
  });

  it('goes Down when the peer says Down or AdminDown, with diag 3', () => {
    for (const state of ['Down', 'AdminDown'] as const) {
      const f = new BfdFsm(config());
      f.receive(packet({ state: 'Init', yourDiscriminator: 0x2222 }));
      expect(f.receive(packet({ state, yourDiscriminator: 0x2222 })).transition).toEqual({
        from: 'Up',
        to: 'Down',
        diag: BfdDiag.NeighborSignaledSessionDown,
      });
    }
  });

  it('goes Down with diag 1 when the detection time passes, forgetting the peer', () => {
    const f = new BfdFsm(config());
    f.receive(packet({ state: 'Init', yourDiscriminator: 0x2222 }));
    expect(f.detectExpired()).toEqual({ from: 'Up', to: 'Down', diag: BfdDiag.ControlDetectionTimeExpired });
    expect(f.remoteDiscriminator).toBe(0);
    expect(f.detectExpired()).toBeUndefined();
  });

  it('sends at most once a second until Up, then polls to go faster', () => {
    const f = new BfdFsm(config({ desiredMinTxMs: 100, requiredMinRxMs: 100 }));
    expect(f.nextPacket()).toMatchObject({
      desiredMinTxUs: SLOW_TX_MS * 1000,
      requiredMinRxUs: 100_000,
      poll: false,
    });
    f.receive(packet({ state: 'Init', yourDiscriminator: 0x2222, requiredMinRxUs: 50_000 }));
    expect(f.nextPacket()).toMatchObject({ desiredMinTxUs: 100_000, poll: true });
    expect(f.txIntervalMs).toBe(100);
    // The Final ends the Poll Sequence.
    f.receive(packet({ state: 'Up', yourDiscriminator: 0x2222, final: true }));
    expect(f.nextPacket().poll).toBe(false);
  });

  it('answers a Poll with a Final, once', () => {
    const f = new BfdFsm(config());
    expect(f.receive(packet({ poll: true })).replyNow).toBe(true);
    expect(f.nextPacket()).toMatchObject({ final: true, poll: false });
    expect(f.nextPacket().final).toBe(false);
  });

  it('negotiates the transmit interval and detection time from both sides', () => {
    const f = new BfdFsm(config({ desiredMinTxMs: 100, requiredMinRxMs: 200 }));
    f.receive(
      packet({
        state: 'Init',
        yourDiscriminator: 0x2222,
        requiredMinRxUs: 300_000,
        desiredMinTxUs: 150_000,
        detectMult: 5,
      }),
    );
    expect(f.txIntervalMs).toBe(300); // the peer cannot take them faster
    expect(f.detectTimeMs).toBe(5 * 200); // their multiplier x max(our RequiredMinRx, their DesiredMinTx)
  });

  it('stays quiet in the passive role until the peer has spoken, and when told RequiredMinRx 0', () => {
    const f = new BfdFsm(config({ passive: true }));
    expect(f.mayTransmit).toBe(false);
    f.receive(packet());
    expect(f.mayTransmit).toBe(true);
    f.receive(packet({ requiredMinRxUs: 0 }));
    expect(f.mayTransmit).toBe(false);
    expect(f.txIntervalMs).toBe(0);
  });
});
