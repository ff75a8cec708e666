import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  canonicalIP,
  cidrContains,
  formatCIDR,
  formatIP,
  ipFamily,
  parseCIDR,
  parseIP,
} from '../../../speaker/dataplane/ip.ts';

describe('canonicalIP', () => {
  it.each([
    ['192.0.2.1', '192.0.2.1'],
    [' 192.0.2.1 ', '192.0.2.1'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'],
    ['2001:db8:1:1:1:1:1:0', '2001:db8:1:1:1:1:1:0'],
    ['2001:db8::0:1:0:1', '2001:db8::1:0:1'],
    ['::', '::'],
    ['::1', '::1'],
    ['fe80::', 'fe80::'],
    ['::ffff:192.0.2.1', '::ffff:c000:201'],
    ['0:0:0:0:0:0:0:0', '::'],
  ])('%s -> %s', (input, out) => {
    expect(canonicalIP(input)).toBe(out);
  });

  it.each([
    '',
    'x',
    '192.0.2',
    '192.0.2.256',
    '010.0.0.1',
    'fe80::1%eth0',
    '2001:db8:::1',
    '1:2:3:4:5:6:7:8:9',
  ])('rejects %j', (input) => {
    expect(canonicalIP(input)).toBeNull();
  });

  it('round-trips every IPv6 value', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), (value) => {
        const text = formatIP({ family: 6, value });
        expect(parseIP(text)).toEqual({ family: 6, value });
        expect(canonicalIP(text)).toBe(text);
      }),
    );
  });

  it('round-trips IPv6 addresses with many zero groups', () => {
    const group = fc.constantFrom<bigint>(0n, 0n, 0n, 1n, 0xffffn);
    fc.assert(
      fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), (groups) => {
        const value = groups.reduce((acc, g) => (acc << 16n) | g, 0n);
        const text = formatIP({ family: 6, value });
        expect(parseIP(text)?.value).toBe(value);
        // At most one '::', and a run of two zero groups is never left uncompressed alone.
        expect(text.split('::').length).toBeLessThanOrEqual(2);
        if (!text.includes('::')) expect(`:${text}:`).not.toMatch(/:0:0:/);
      }),
    );
  });
});

describe('ipFamily', () => {
  it('tells the family', () => {
    expect(ipFamily('192.0.2.1')).toBe(4);
    expect(ipFamily('2001:db8::1')).toBe(6);
    expect(ipFamily('nope')).toBeNull();
  });
});

describe('CIDRs', () => {
  it('parses and normalises to the network', () => {
    const c = parseCIDR('198.51.100.77/24');
    expect(c && formatCIDR(c)).toBe('198.51.100.0/24');
    const d = parseCIDR('2001:DB8:1::5/64');
    expect(d && formatCIDR(d)).toBe('2001:db8:1::/64');
    const host = parseCIDR('192.0.2.1');
    expect(host && formatCIDR(host)).toBe('192.0.2.1/32');
  });

  it.each(['192.0.2.0/33', '192.0.2.0/x', '2001:db8::/129', 'nope/8', '192.0.2.0/'])('rejects %j', (s) => {
    expect(parseCIDR(s)).toBeNull();
  });

  it('tests membership by family and prefix', () => {
    const c = parseCIDR('198.51.100.0/24');
    if (!c) throw new Error('parse');
    expect(cidrContains(c, '198.51.100.255')).toBe(true);
    expect(cidrContains(c, '198.51.101.0')).toBe(false);
    expect(cidrContains(c, '::ffff:198.51.100.1')).toBe(false);
    expect(cidrContains(c, 'garbage')).toBe(false);
    const all = parseCIDR('::/0');
    if (!all) throw new Error('parse');
    expect(cidrContains(all, '2001:db8::1')).toBe(true);
    expect(cidrContains(all, '192.0.2.1')).toBe(false);
  });
});
