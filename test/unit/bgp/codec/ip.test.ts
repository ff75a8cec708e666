import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { isIPv6 } from 'node:net';
import { canonicalPrefix, formatIp, parseIp, parsePrefix } from '../../../../speaker/bgp/codec/index.ts';

/** WHATWG URL serialises IPv6 hosts the RFC 5952 way: a handy independent oracle. */
const viaUrl = (a: string) => new URL(`http://[${a}]/`).hostname.slice(1, -1);

describe('IP text forms', () => {
  it('formats IPv6 as RFC 5952 does', () => {
    expect(formatIp(parseIp('2001:0DB8:0000:0000:0001:0000:0000:0001')!.bytes)).toBe('2001:db8::1:0:0:1');
    expect(formatIp(parseIp('2001:db8:0:1:1:1:1:1')!.bytes)).toBe('2001:db8:0:1:1:1:1:1');
    expect(formatIp(parseIp('::')!.bytes)).toBe('::');
    expect(formatIp(parseIp('::ffff:192.0.2.1')!.bytes)).toBe('::ffff:c000:201');
  });

  it('property: IPv6 formatting agrees with the WHATWG URL serialiser', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
        const text = formatIp(b);
        expect(isIPv6(text)).toBe(true);
        expect(text).toBe(viaUrl(text));
        expect(parseIp(text)?.bytes).toEqual(b);
      }),
    );
  });

  it('rejects what is not an address or prefix', () => {
    for (const bad of [
      '',
      '1.2.3',
      '1.2.3.256',
      '01.2.3.4',
      '1::2::3',
      '1:2:3:4:5:6:7:8:9',
      'g::',
      '10.0.0.0/33',
      '::/129',
      '10.0.0.0/-1',
    ]) {
      expect(parsePrefix(bad)).toBeUndefined();
    }
  });

  it('canonicalises prefixes: host bits cleared, bare addresses as host routes', () => {
    expect(canonicalPrefix('10.1.2.3/8')).toBe('10.0.0.0/8');
    expect(canonicalPrefix('192.0.2.1')).toBe('192.0.2.1/32');
    expect(canonicalPrefix('2001:DB8::1/32')).toBe('2001:db8::/32');
    expect(canonicalPrefix('2001:db8::1')).toBe('2001:db8::1/128');
  });
});
