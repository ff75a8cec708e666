// TCP sockets with the options node:net cannot set: TCP-MD5 keys (RFC 2385)
// and the IP TTL / IPv6 hop limit (eBGP single-hop, multihop, GTSM). The
// socket is created and configured through libc with koffi, then handed to
// node:net by its file descriptor, so everything after the handshake is
// ordinary node:net. See docs/decisions/0013-bgp-md5-bfd.md.
//
// The key must be on the socket before the SYN is sent, which is why the
// connect is ours too: node:net creates the socket and connects in one step.
import { Socket } from 'node:net';
import koffi from 'koffi';
import { AF_INET, AF_INET6, encodeSockaddr, encodeTcpMd5Sig, familyOf } from './tcp-md5.ts';

const SOCK_STREAM = 1;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_REUSEADDR = 2;
const SO_ERROR = 4;
const IPPROTO_IP = 0;
const IPPROTO_TCP = 6;
const IPPROTO_IPV6 = 41;
const IP_TTL = 2;
const IPV6_UNICAST_HOPS = 16;
const IPV6_V6ONLY = 26;
const TCP_MD5SIG = 14;
const EINPROGRESS = 115;
const POLLOUT = 4;
const POLLERR = 8;
const POLLHUP = 16;

/** How often a non-blocking connect is checked for completion. */
const CONNECT_POLL_MS = 20;

interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  setsockopt(fd: number, level: number, name: number, value: Uint8Array, len: number): number;
  getsockopt(fd: number, level: number, name: number, value: Uint8Array, len: Uint32Array): number;
  bind(fd: number, addr: Uint8Array, len: number): number;
  listen(fd: number, backlog: number): number;
  connect(fd: number, addr: Uint8Array, len: number): number;
  poll(fds: Uint8Array, n: number, timeout: number): number;
  close(fd: number): number;
  strerror(errnum: number): string;
}

let libc: Libc | undefined;

function load(): Libc {
  if (libc) return libc;
  const lib = koffi.load('libc.so.6');
  libc = {
    socket: lib.func('int socket(int, int, int)'),
    setsockopt: lib.func('int setsockopt(int, int, int, const void *, uint32_t)'),
    getsockopt: lib.func('int getsockopt(int, int, int, void *, uint32_t *)'),
    bind: lib.func('int bind(int, const void *, uint32_t)'),
    listen: lib.func('int listen(int, int)'),
    connect: lib.func('int connect(int, const void *, uint32_t)'),
    poll: lib.func('int poll(void *, unsigned long, int)'),
    close: lib.func('int close(int)'),
    strerror: lib.func('const char *strerror(int)'),
  } as Libc;
  return libc;
}

export class SocketError extends Error {
  readonly errno: number;
  constructor(what: string, errno: number) {
    super(`${what}: ${load().strerror(errno)} (errno ${errno})`);
    this.errno = errno;
  }
}

function check(rc: number, what: string): number {
  if (rc < 0) throw new SocketError(what, koffi.errno());
  return rc;
}

function intOption(value: number): Uint8Array {
  return new Uint8Array(new Int32Array([value]).buffer);
}

/** Sets (or, with an empty key, removes) the TCP-MD5 key for `peer` on socket `fd`. */
export function setMd5Key(fd: number, socketFamily: number, peer: string, key: string | Uint8Array): void {
  const bytes = typeof key === 'string' ? new TextEncoder().encode(key) : key;
  const sig = encodeTcpMd5Sig(peer, bytes, socketFamily);
  check(load().setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, sig, sig.length), `TCP_MD5SIG for ${peer}`);
}

/** Sets the TTL (IPv4) or unicast hop limit (IPv6) of segments sent on `fd`. */
export function setTtl(fd: number, socketFamily: number, ttl: number): void {
  const [level, name] = socketFamily === AF_INET6 ? [IPPROTO_IPV6, IPV6_UNICAST_HOPS] : [IPPROTO_IP, IP_TTL];
  check(load().setsockopt(fd, level, name, intOption(ttl), 4), 'IP TTL');
}

export interface RawConnectOptions {
  host: string;
  port: number;
  localAddress?: string;
  /** RFC 2385 password for this peer. */
  md5Key?: string;
  ttl?: number;
  /** Aborting closes the half-open socket and rejects. */
  signal?: AbortSignal;
}

/**
 * Connects with the key and TTL set before the SYN; resolves with a node:net
 * Socket that owns the descriptor, or rejects (connection refused, abort...).
 */
export function rawConnect(o: RawConnectOptions): Promise<Socket> {
  const c = load();
  const family = familyOf(o.host);
  const fd = check(c.socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), 'socket');
  try {
    if (o.md5Key) setMd5Key(fd, family, o.host, o.md5Key);
    if (o.ttl !== undefined) setTtl(fd, family, o.ttl);
    if (o.localAddress) {
      const local = encodeSockaddr(o.localAddress, 0, family);
      check(c.bind(fd, local, local.length), `bind ${o.localAddress}`);
    }
    const remote = encodeSockaddr(o.host, o.port, family);
    if (c.connect(fd, remote, remote.length) < 0) {
      const errno = koffi.errno();
      if (errno !== EINPROGRESS) throw new SocketError(`connect ${o.host}:${o.port}`, errno);
    }
  } catch (err) {
    c.close(fd);
    return Promise.reject(err as Error);
  }
  // The connect completes in the kernel; a zero-timeout poll on a short timer
  // notices it without holding a libuv worker thread.
  return new Promise((resolve, reject) => {
    const pollfd = new Uint8Array(8);
    const view = new DataView(pollfd.buffer);
    const finish = (err: Error | undefined): void => {
      clearInterval(timer);
      o.signal?.removeEventListener('abort', onAbort);
      if (err) {
        c.close(fd);
        reject(err);
        return;
      }
      resolve(new Socket({ fd, readable: true, writable: true }));
    };
    const onAbort = (): void => finish(new Error('connect aborted'));
    const timer = setInterval(() => {
      view.setInt32(0, fd, true);
      view.setInt16(4, POLLOUT, true);
      view.setInt16(6, 0, true);
      if (c.poll(pollfd, 1, 0) <= 0) return;
      const revents = view.getInt16(6, true);
      if (!(revents & (POLLOUT | POLLERR | POLLHUP))) return;
      const value = new Uint8Array(4);
      const len = new Uint32Array([4]);
      c.getsockopt(fd, SOL_SOCKET, SO_ERROR, value, len);
      const soError = new DataView(value.buffer).getInt32(0, true);
      finish(soError === 0 ? undefined : new SocketError(`connect ${o.host}:${o.port}`, soError));
    }, CONNECT_POLL_MS);
    if (o.signal?.aborted) return onAbort();
    o.signal?.addEventListener('abort', onAbort);
  });
}

/**
 * A listening socket whose descriptor stays ours, so TCP-MD5 keys can be
 * added and removed per peer while it listens (accepted sockets inherit
 * them). Hand `fd` to server.listen({ fd }).
 */
export function rawListen(host: string, port: number, backlog = 128): { fd: number; family: number } {
  const c = load();
  const family = familyOf(host);
  const fd = check(c.socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), 'socket');
  try {
    check(c.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, intOption(1), 4), 'SO_REUSEADDR');
    // "::" accepts IPv4 peers too, as node:net's default does.
    if (family === AF_INET6) check(c.setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, intOption(0), 4), 'V6ONLY');
    const addr = encodeSockaddr(host, port, family);
    check(c.bind(fd, addr, addr.length), `bind ${host}:${port}`);
    check(c.listen(fd, backlog), 'listen');
  } catch (err) {
    c.close(fd);
    throw err;
  }
  return { fd, family: family === AF_INET6 ? AF_INET6 : AF_INET };
}
