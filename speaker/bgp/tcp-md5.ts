// The byte layouts the kernel wants for TCP-MD5 (RFC 2385) and for the socket
// addresses around it, built as plain bytes so they can be unit-tested
// without a socket. Linux only: the layouts are those of <linux/tcp.h> and
// <netinet/in.h> on every Linux architecture Node runs on.
import { isIPv4, isIPv6 } from 'node:net';
import { endianness } from 'node:os';

export const AF_INET = 2;
export const AF_INET6 = 10;
/** struct __kernel_sockaddr_storage. */
export const SOCKADDR_STORAGE_SIZE = 128;
/** RFC 2385 keys are at most TCP_MD5SIG_MAXKEYLEN bytes. */
export const TCP_MD5SIG_MAXKEYLEN = 80;
/** struct tcp_md5sig: addr (128), flags (1), prefixlen (1), keylen (2), ifindex (4), key (80). */
export const TCP_MD5SIG_SIZE = SOCKADDR_STORAGE_SIZE + 1 + 1 + 2 + 4 + TCP_MD5SIG_MAXKEYLEN;

const littleEndian = endianness() === 'LE';

function ipv4Bytes(address: string): number[] {
  return address.split('.').map(Number);
}

function ipv6Bytes(address: string): number[] {
  // Expand "::" and a trailing dotted quad into eight 16-bit groups.
  let text = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = ipv4Bytes(dotted[1] as string) as [number, number, number, number];
    text = text.slice(0, dotted.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const all = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return all.flatMap((g) => {
    const v = parseInt(g, 16);
    return [v >> 8, v & 0xff];
  });
}

/**
 * A struct sockaddr_in or sockaddr_in6 for `address`. `family` is the family
 * of the socket it is meant for: an IPv4 address given to an AF_INET6 socket
 * is written as its IPv4-mapped IPv6 address (::ffff:a.b.c.d), which is how
 * a dual-stack socket sees IPv4 peers.
 */
export function encodeSockaddr(address: string, port: number, family = familyOf(address)): Uint8Array {
  const v4 = isIPv4(address);
  if (!v4 && !isIPv6(address)) throw new Error(`not an IP address: ${address}`);
  if (family === AF_INET && !v4) throw new Error(`IPv6 address ${address} on an IPv4 socket`);
  const out = new Uint8Array(family === AF_INET ? 16 : 28);
  const view = new DataView(out.buffer);
  view.setUint16(0, family, littleEndian); // sa_family_t is host order
  view.setUint16(2, port, false); // the port is network order
  if (family === AF_INET) {
    out.set(ipv4Bytes(address), 4);
  } else {
    // sin6_flowinfo (4 bytes) stays 0; then the address, then sin6_scope_id (0).
    const bytes = v4 ? [...Array<number>(10).fill(0), 0xff, 0xff, ...ipv4Bytes(address)] : ipv6Bytes(address);
    out.set(bytes, 8);
  }
  return out;
}

export function familyOf(address: string): number {
  return isIPv6(address) ? AF_INET6 : AF_INET;
}

/**
 * struct tcp_md5sig for setsockopt(IPPROTO_TCP, TCP_MD5SIG): the key used for
 * segments to and from `peer`. An empty key removes the peer's key.
 */
export function encodeTcpMd5Sig(peer: string, key: Uint8Array, socketFamily = familyOf(peer)): Uint8Array {
  if (key.length > TCP_MD5SIG_MAXKEYLEN) {
    throw new Error(`TCP-MD5 key is ${key.length} bytes; the kernel takes at most ${TCP_MD5SIG_MAXKEYLEN}`);
  }
  const out = new Uint8Array(TCP_MD5SIG_SIZE);
  out.set(encodeSockaddr(peer, 0, socketFamily), 0);
  // tcpm_flags and tcpm_prefixlen stay 0: one exact address, no ifindex.
  new DataView(out.buffer).setUint16(SOCKADDR_STORAGE_SIZE + 2, key.length, littleEndian);
  out.set(key, SOCKADDR_STORAGE_SIZE + 8);
  return out;
}
