import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  AF_INET,
  AF_INET6,
  TCP_MD5SIG_SIZE,
  encodeSockaddr,
  encodeTcpMd5Sig,
} from '../../../speaker/bgp/tcp-md5.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('socket address layout', () => {
  it('writes sockaddr_in: host-order family, network-order port, the address, 8 zero bytes', () => {
    expect(hex(encodeSockaddr('10.1.2.3', 179))).toBe('0200' + '00b3' + '0a010203' + '00'.repeat(8));
  });

  it('writes sockaddr_in6: family, port, flowinfo, the address, scope id', () => {
    const sa = encodeSockaddr('2001:db8::1', 179);
    expect(sa.length).toBe(28);
    expect(hex(sa)).toBe('0a00' + '00b3' + '00000000' + '20010db8000000000000000000000001' + '00000000');
  });

  it('writes an IPv4 address for an IPv6 socket as its IPv4-mapped address', () => {
    expect(hex(encodeSockaddr('192.0.2.1', 0, AF_INET6).subarray(8, 24))).toBe(
      '00000000000000000000ffffc0000201',
    );
  });

  it('expands "::" anywhere and a trailing dotted quad', () => {
    expect(hex(encodeSockaddr('::', 0).subarray(8, 24))).toBe('00'.repeat(16));
    expect(hex(encodeSockaddr('fe80::', 0).subarray(8, 24))).toBe('fe80' + '00'.repeat(14));
    expect(hex(encodeSockaddr('::ffff:10.0.0.1', 0).subarray(8, 24))).toBe('00'.repeat(10) + 'ffff0a000001');
  });

  it('rejects what is not an address, and IPv6 on an IPv4 socket', () => {
    expect(() => encodeSockaddr('example.com', 0)).toThrow(/not an IP address/);
    expect(() => encodeSockaddr('::1', 0, AF_INET)).toThrow(/IPv4 socket/);
  });

  it('round-trips any IPv4 address and port', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 0, max: 65535 }), (ip, port) => {
        const sa = encodeSockaddr(ip, port);
        const view = new DataView(sa.buffer);
        expect(view.getUint16(2, false)).toBe(port);
        expect([...sa.subarray(4, 8)].join('.')).toBe(ip.split('.').map(Number).join('.'));
      }),
    );
  });

  it('agrees with a reference expansion for any IPv6 address', () => {
    fc.assert(
      fc.property(fc.ipV6(), (ip) => {
        const got = hex(encodeSockaddr(ip, 0).subarray(8, 24));
        // new URL normalises the address; parse its groups back as reference.
        const norm = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
        const [h = '', t] = norm.split('::');
        const hs = h ? h.split(':') : [];
        const ts = t ? t.split(':') : [];
        const groups =
          t === undefined ? hs : [...hs, ...Array<string>(8 - hs.length - ts.length).fill('0'), ...ts];
        expect(got).toBe(groups.map((g) => g.padStart(4, '0')).join(''));
      }),
    );
  });
});

describe('struct tcp_md5sig layout', () => {
  it('is 216 bytes: address, flags, prefix length, key length, ifindex, key', () => {
    const sig = encodeTcpMd5Sig('10.0.0.2', new TextEncoder().encode('s3cret'));
    expect(sig.length).toBe(TCP_MD5SIG_SIZE);
    expect(TCP_MD5SIG_SIZE).toBe(216);
    expect(hex(sig.subarray(0, 8))).toBe('0200' + '0000' + '0a000002');
    expect(hex(sig.subarray(8, 128))).toBe('00'.repeat(120));
    expect(sig[128]).toBe(0); // flags
    expect(sig[129]).toBe(0); // prefix length
    expect(new DataView(sig.buffer).getUint16(130, true)).toBe(6); // key length, host order
    expect(hex(sig.subarray(132, 136))).toBe('00000000'); // ifindex
    expect(new TextDecoder().decode(sig.subarray(136, 142))).toBe('s3cret');
    expect(hex(sig.subarray(142))).toBe('00'.repeat(74));
  });

  it('with an empty key asks the kernel to delete the peer key', () => {
    const sig = encodeTcpMd5Sig('2001:db8::2', new Uint8Array(0));
    expect(new DataView(sig.buffer).getUint16(130, true)).toBe(0);
    expect(new DataView(sig.buffer).getUint16(0, true)).toBe(AF_INET6);
  });

  it('refuses keys longer than the kernel accepts (80 bytes)', () => {
    expect(() => encodeTcpMd5Sig('10.0.0.2', new Uint8Array(80))).not.toThrow();
    expect(() => encodeTcpMd5Sig('10.0.0.2', new Uint8Array(81))).toThrow(/at most 80/);
  });
});
