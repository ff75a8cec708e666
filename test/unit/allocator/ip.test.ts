import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  canonicalIP,
  compareIP,
  formatCIDR,
  formatIP,
  formatIPValue,
  maxAddress,
  parseCIDR,
  parseIP,
  rangeAsCIDR,
} from '../../../operator/allocator/ip.ts';

function ip(s: string) {
  const r = parseIP(s);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

describe('parseIP', () => {
  it.each([
    ['0.0.0.0', 0n],
    ['10.0.0.1', 0x0a000001n],
    ['255.255.255.255', 0xffffffffn],
  ])('parses IPv4 %s', (text, value) => {
    expect(parseIP(text)).toEqual({ ok: true, value: { family: 'IPv4', value } });
  });

  it.each([
    ['::', 0n],
    ['::1', 1n],
    ['2001:db8::1', 0x20010db8000000000000000000000001n],
    ['2001:DB8:0:0:0:0:0:1', 0x20010db8000000000000000000000001n],
    ['1:2:3:4:5:6:7:8', 0x00010002000300040005000600070008n],
    ['1::', 0x00010000000000000000000000000000n],
    ['1:2:3:4:5:6:7::', 0x00010002000300040005000600070000n],
    ['::2:3:4:5:6:7:8', 0x00000002000300040005000600070008n],
    ['64:ff9b::192.0.2.33', 0x0064ff9b0000000000000000c0000221n],
    ['::1.2.3.4', 0x01020304n],
  ])('parses IPv6 %s', (text, value) => {
    expect(parseIP(text)).toEqual({ ok: true, value: { family: 'IPv6', value } });
  });

  it.each([
    '',
    ' 10.0.0.1',
    '10.0.0.1 ',
    '10.0.0',
    '10.0.0.1.2',
    '10.0.0.256',
    '10.0.0.-1',
    '010.0.0.1',
    '10.0.0.01',
    '1e1.0.0.1',
    '0x1.0.0.1',
    'a.b.c.d',
    '10..0.1',
    ':::',
    '1:::2',
    '1::2::3',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8::',
    '12345::',
    'g::1',
    ':1::2',
    '1::2:',
    'fe80::1%eth0',
    '1.2.3.4::',
    '::1.2.3',
    '::1.2.3.4:5',
    '[::1]',
  ])('rejects %j with a typed error', (text) => {
    const r = parseIP(text);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.kind).toBe('InvalidIP');
      expect(r.error.input).toBe(text);
      expect(r.error.message.length).toBeGreaterThan(0);
    }
  });

  it('rejects IPv4-mapped IPv6 and names the IPv4 form', () => {
    for (const text of ['::ffff:10.0.0.1', '::ffff:a00:1', '0:0:0:0:0:ffff:10.0.0.1']) {
      const r = parseIP(text);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.message).toContain('10.0.0.1');
    }
  });

  it('does not throw on non-string input', () => {
    expect(parseIP(42 as unknown as string).ok).toBe(false);
    expect(parseIP(undefined as unknown as string).ok).toBe(false);
  });
});

describe('formatIP (canonical)', () => {
  it.each([
    ['2001:DB8::1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first of two equal runs
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'], // the longest run wins
    ['::1.2.3.4', '::102:304'],
    ['10.0.0.1', '10.0.0.1'],
  ])('%s -> %s', (input, expected) => {
    expect(canonicalIP(input)).toBe(expected);
  });

  it('refuses values outside the family', () => {
    expect(() => formatIPValue('IPv4', 1n << 32n)).toThrow(RangeError);
    expect(() => formatIPValue('IPv6', -1n)).toThrow(RangeError);
  });

  it('round-trips every IPv4 value', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: maxAddress('IPv4') }), (value) => {
        expect(ip(formatIPValue('IPv4', value))).toEqual({ family: 'IPv4', value });
      }),
    );
  });

  it('round-trips IPv6 values and matches the WHATWG URL canonical form', () => {
    // Bias towards zero groups so that "::" compression is exercised.
    const group = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
    const value = fc
      .array(group, { minLength: 8, maxLength: 8 })
      .map((gs) => gs.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n))
      .filter((v) => v >> 32n !== 0xffffn);
    fc.assert(
      fc.property(value, (v) => {
        const text = formatIPValue('IPv6', v);
        expect(ip(text)).toEqual({ family: 'IPv6', value: v });
        expect(`[${text}]`).toBe(new URL(`http://[${text}]/`).hostname);
        // Any non-canonical spelling (uppercase, full form) comes back canonical.
        const full = Array.from({ length: 8 }, (_, i) =>
          Number((v >> BigInt(16 * (7 - i))) & 0xffffn)
            .toString(16)
            .padStart(4, '0')
            .toUpperCase(),
        ).join(':');
        expect(canonicalIP(full)).toBe(text);
      }),
    );
  });

  it('orders addresses by family then value', () => {
    expect(compareIP(ip('10.0.0.2'), ip('10.0.0.10'))).toBeLessThan(0);
    expect(compareIP(ip('255.255.255.255'), ip('::'))).toBeLessThan(0);
    expect(compareIP(ip('::2'), ip('::1'))).toBeGreaterThan(0);
    expect(compareIP(ip('::1'), ip('0::1'))).toBe(0);
    expect(formatIP(ip('::0:1'))).toBe('::1');
  });
});

describe('parseCIDR', () => {
  it('parses a network', () => {
    const r = parseCIDR('10.1.2.0/24');
    expect(r).toEqual({
      ok: true,
      value: { family: 'IPv4', first: 0x0a010200n, last: 0x0a0102ffn, prefixLength: 24, hostBitsSet: false },
    });
  });

  it('accepts host bits as the network (like MetalLB) and flags them', () => {
    const r = parseCIDR('10.1.2.77/24');
    expect(r.ok && r.value.first).toBe(0x0a010200n);
    expect(r.ok && r.value.hostBitsSet).toBe(true);
    expect(r.ok && formatCIDR(r.value)).toBe('10.1.2.0/24');
  });

  it('handles IPv6, /0 and host routes', () => {
    const v6 = parseCIDR('2001:DB8::/64');
    expect(v6.ok && formatCIDR(v6.value)).toBe('2001:db8::/64');
    expect(v6.ok && v6.value.last - v6.value.first + 1n).toBe(1n << 64n);
    const all = parseCIDR('::/0');
    expect(all.ok && all.value.last).toBe(maxAddress('IPv6'));
    const host = parseCIDR('10.0.0.1/32');
    expect(host.ok && host.value.first === host.value.last).toBe(true);
    const v4all = parseCIDR('0.0.0.0/0');
    expect(v4all.ok && v4all.value.last).toBe(0xffffffffn);
  });

  it.each([
    '10.0.0.0',
    '10.0.0.0/33',
    '10.0.0.0/-1',
    '10.0.0.0/',
    '10.0.0.0/08',
    '10.0.0.0/8/8',
    '::/129',
    'x/8',
    '10.0.0.0/ 8',
  ])('rejects %j', (text) => {
    const r = parseCIDR(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.kind).toBe('InvalidCIDR');
  });

  it('recognises ranges that are exactly one CIDR', () => {
    expect(rangeAsCIDR('IPv4', 0x0a000000n, 0x0a0000ffn)?.prefixLength).toBe(24);
    expect(rangeAsCIDR('IPv4', 0x0a000001n, 0x0a0000ffn)).toBeUndefined();
    expect(rangeAsCIDR('IPv4', 0x0a000004n, 0x0a000007n)?.prefixLength).toBe(30);
    expect(rangeAsCIDR('IPv6', 0n, maxAddress('IPv6'))?.prefixLength).toBe(0);
  });
});
