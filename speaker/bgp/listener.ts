// Accepts BGP connections on one TCP port and hands each to the session
// configured for its source address; connections from anyone else are closed.
// The listening socket is made by raw-socket.ts so that each peer's TCP-MD5
// key (RFC 2385) can be set on it: the kernel checks the SYN against it, and
// accepted sockets inherit the key.
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { childLogger } from '../../lib/logger.ts';
import type { Logger } from '../../lib/logger.ts';
import { canonicalPrefix } from './codec/ip.ts';
import { rawListen, setMd5Key } from './raw-socket.ts';
import type { BgpSession } from './session.ts';

/** "::ffff:10.0.0.1" (an IPv4 peer on a dual-stack socket) and "10.0.0.1" are the same peer. */
export function normalizePeerAddress(address: string): string {
  const plain = address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
  const p = canonicalPrefix(plain);
  return p ? p.slice(0, p.indexOf('/')) : plain;
}

export class BgpListener {
  readonly #sessions = new Map<string, BgpSession>();
  readonly #server: Server;
  readonly #log: Logger;
  #socket: { fd: number; family: number } | undefined;
  /** Peers whose key is on the listening socket. */
  readonly #keyed = new Set<string>();

  constructor(logger: Logger = childLogger('bgp-listener')) {
    this.#log = logger;
    this.#server = createServer((socket) => this.#onConnection(socket));
    this.#server.on('error', (err) => this.#log.error({ err }, 'BGP listener error'));
  }

  add(session: BgpSession): void {
    const key = normalizePeerAddress(session.peerAddress);
    this.#sessions.set(key, session);
    this.#applyKey(key, session.password);
  }

  remove(session: BgpSession): void {
    const key = normalizePeerAddress(session.peerAddress);
    if (this.#sessions.get(key) !== session) return;
    this.#sessions.delete(key);
    this.#applyKey(key, undefined);
  }

  /** Listens and resolves with the port (useful when asked for port 0). */
  listen(port: number, host: string): Promise<number> {
    this.#socket = rawListen(host, port);
    for (const [peer, session] of this.#sessions) this.#applyKey(peer, session.password);
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen({ fd: this.#socket?.fd }, () => {
        this.#server.off('error', reject);
        const addr = this.#server.address();
        resolve(typeof addr === 'object' && addr ? addr.port : port);
      });
    });
  }

  /** Stops accepting; sockets already handed to sessions are theirs to close. */
  close(): Promise<void> {
    this.#socket = undefined;
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #applyKey(peer: string, password: string | undefined): void {
    const s = this.#socket;
    if (!s || (!password && !this.#keyed.has(peer))) return;
    // An IPv6 peer cannot reach an IPv4 socket, so it needs no key there.
    if (s.family === 2 && peer.includes(':')) return;
    try {
      setMd5Key(s.fd, s.family, peer, password ?? '');
      if (password) this.#keyed.add(peer);
      else this.#keyed.delete(peer);
    } catch (err) {
      this.#log.error({ err, peer }, 'cannot set the TCP-MD5 key on the listening socket');
    }
  }

  #onConnection(socket: Socket): void {
    const from = normalizePeerAddress(socket.remoteAddress ?? '');
    const session = this.#sessions.get(from);
    if (!session) {
      this.#log.info({ from }, 'BGP connection from an unknown peer closed');
      socket.destroy();
      return;
    }
    session.accept(socket);
  }
}
