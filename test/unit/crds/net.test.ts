// The string-format parsers behind the CRD validation.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { isIPv4, isIPv6 } from 'node:net';
import {
  entrySize,
  isCIDR,
  parseAddressEntry,
  parseCIDR,
  parseDuration,
  parseIP,
  parsePortEntry,
} from '../../../crds/net.ts';
import { familyCounts, parseCommunity } from '../../../crds/index.ts';

describe('parseIP', () => {
  it.each([
    ['10.0.0.1', 4, 0x0a000001n],
    ['0.0.0.0', 4, 0n],
    ['255.255.255.255', 4, 0xffffffffn],
    ['::', 6, 0n],
    ['::1', 6, 1n],
    ['fc00:f853:0ccd:e799::', 6, 0xfc00f8530ccde799n << 64n],
    ['1:2:3:4:5:6:7:8', 6, 0x00010002000300040005000600070008n],
    ['64:ff9b::10.0.0.1', 6, (0x64ff9bn << 96n) | 0x0a000001n],
    ['1:2:3:4:5:6:7::', 6, 0x00010002000300040005000600070000n],
  ])('parses %s', (s, family, value) => {
    expect(parseIP(s)).toEqual({ family, value });
  });

  it.each([
    '',
    '1.2.3',
    '1.2.3.4.5',
    '256.0.0.1',
    '01.2.3.4',
    '1.2.3.4 ',
    ':::',
    '1::2::3',
    '1:2:3:4:5:6:7:8:9',
    'fe80::1%eth0',
    '::ffff:1.2.3.4',
    '12345::',
    'g::1',
    '1.2.3.4::',
  ])('rejects %j', (s) => {
    expect(parseIP(s)).toBeUndefined();
  });

  it('agrees with node:net on random IPv4 addresses', () => {
    fc.assert(
      fc.property(fc.ipV4(), (s) => {
        expect(parseIP(s)?.family).toBe(4);
      }),
    );
  });

  it('agrees with node:net on random IPv6 addresses (except IPv4-mapped ones, which CEL rejects)', () => {
    fc.assert(
      fc.property(fc.ipV6(), (s) => {
        const p = parseIP(s);
        if (/^(0{0,4}:){0,5}:?ffff:/i.test(s) && p === undefined) return; // ::ffff:x mapped forms
        expect(isIPv6(s)).toBe(true);
        expect(p?.family).toBe(6);
      }),
    );
  });

  it('round-trips IPv4 values', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => {
        const s = [24, 16, 8, 0].map((sh) => (n >>> sh) & 0xff).join('.');
        expect(isIPv4(s)).toBe(true);
        expect(parseIP(s)).toEqual({ family: 4, value: BigInt(n) });
      }),
    );
  });
});

describe('parseCIDR and address entries', () => {
  it('masks host bits and computes the last address', () => {
    expect(parseCIDR('192.168.1.7/24')).toMatchObject({
      network: 0xc0a80100n,
      last: 0xc0a801ffn,
      prefixLength: 24,
    });
    expect(parseCIDR('fc00::/124')).toMatchObject({
      family: 6,
      prefixLength: 124,
      last: (0xfc00n << 112n) | 15n,
    });
    expect(parseCIDR('0.0.0.0/0')).toMatchObject({ network: 0n, last: 0xffffffffn });
  });

  it.each(['10.0.0.0/33', '10.0.0.0/', '10.0.0.0/08', '::/129', '10.0.0.0', '10.0.0.0/-1'])(
    'rejects %s',
    (s) => {
      expect(isCIDR(s)).toBe(false);
    },
  );

  it('parses the three entry forms', () => {
    expect(parseAddressEntry('10.0.0.5')).toEqual({
      ok: true,
      value: { form: 'ip', family: 4, start: 0x0a000005n, end: 0x0a000005n },
    });
    const r = parseAddressEntry('192.168.9.1-192.168.9.5');
    expect(r.ok && entrySize(r.value)).toBe(5n);
    const v6 = parseAddressEntry('fc00:f853:0ccd:e799::/124');
    expect(v6.ok && entrySize(v6.value)).toBe(16n);
    const big = parseAddressEntry('fc00::/64');
    expect(big.ok && entrySize(big.value)).toBe(1n << 64n);
  });

  it('explains what is wrong with a bad entry', () => {
    expect(parseAddressEntry('10.0.0.9-10.0.0.1')).toEqual({
      ok: false,
      error: 'range start is after its end',
    });
    expect(parseAddressEntry('10.0.0.1-fc00::1')).toEqual({
      ok: false,
      error: 'range mixes an IPv4 and an IPv6 address',
    });
    expect(parseAddressEntry('x-10.0.0.1')).toMatchObject({
      ok: false,
      error: expect.stringContaining('start'),
    });
    expect(parseAddressEntry('nonsense').ok).toBe(false);
  });

  it('accepts every range of two ordered IPv4 addresses', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (a, b) => {
          const fmt = (n: number) => [24, 16, 8, 0].map((sh) => (n >>> sh) & 0xff).join('.');
          const [lo, hi] = a <= b ? [a, b] : [b, a];
          const r = parseAddressEntry(`${fmt(lo)}-${fmt(hi)}`);
          expect(r.ok && entrySize(r.value)).toBe(BigInt(hi - lo + 1));
        },
      ),
    );
  });
});

describe('ports, durations, communities, counts', () => {
  it('parses node-port entries', () => {
    expect(parsePortEntry('30080')).toEqual({ ok: true, value: { start: 30080, end: 30080 } });
    expect(parsePortEntry('30000-32767')).toEqual({ ok: true, value: { start: 30000, end: 32767 } });
    expect(parsePortEntry('29999').ok).toBe(false);
    expect(parsePortEntry('31000-30000').ok).toBe(false);
    expect(parsePortEntry('30000-').ok).toBe(false);
  });

  it.each([
    ['90s', 90_000],
    ['1m30s', 90_000],
    ['9m0s', 540_000],
    ['300ms', 300],
    ['1.5h', 5_400_000],
    ['0', 0],
    ['0s', 0],
    ['1500us', 1.5],
  ])('parses duration %s', (s, ms) => {
    expect(parseDuration(s)).toBeCloseTo(ms);
  });

  it.each(['', '-5s', '5', '1d', '1 s', 's', '99999999999h'])('rejects duration %j', (s) => {
    expect(parseDuration(s)).toBeUndefined();
  });

  it('parses communities', () => {
    expect(parseCommunity('65535:65282')).toEqual({ kind: 'standard', value: 0xffffff02 });
    expect(parseCommunity('large:1:2:3')).toEqual({ kind: 'large', global: 1, local1: 2, local2: 3 });
    expect(parseCommunity('65536:1')).toBeUndefined();
    expect(parseCommunity('NO_ADVERTISE')).toBeUndefined();
  });

  it('saturates counts above 2^53 and keeps the exact value as a string', () => {
    expect(familyCounts(256n, 10n)).toEqual({
      total: 256,
      assigned: 10,
      available: 246,
      totalExact: '256',
      availableExact: '246',
    });
    const v6 = familyCounts(1n << 64n, 3n);
    expect(v6.total).toBe(Number.MAX_SAFE_INTEGER);
    expect(v6.available).toBe(Number.MAX_SAFE_INTEGER);
    expect(v6.totalExact).toBe('18446744073709551616');
    expect(v6.availableExact).toBe('18446744073709551613');
  });

  it('counts sticky reservations apart: neither assigned nor available', () => {
    expect(familyCounts(8n, 3n, 2n)).toEqual({
      total: 8,
      assigned: 3,
      reserved: 2,
      available: 3,
      totalExact: '8',
      availableExact: '3',
    });
    expect(familyCounts(4n, 3n, 2n).available).toBe(0);
    expect(familyCounts(4n, 1n, 0n)).not.toHaveProperty('reserved');
  });
});
