// Accepts BGP connections on one TCP port and hands each to the session
// configured for its source address; connections from anyone else are closed.
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { childLogger } from '../../lib/logger.ts';
import type { Logger } from '../../lib/logger.ts';
import { canonicalPrefix } from './codec/ip.ts';
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

  constructor(logger: Logger = childLogger('bgp-listener')) {
    this.#log = logger;
    this.#server = createServer((socket) => this.#onConnection(socket));
    this.#server.on('error', (err) => this.#log.error({ err }, 'BGP listener error'));
  }

  add(session: BgpSession): void {
    this.#sessions.set(normalizePeerAddress(session.peerAddress), session);
  }

  remove(session: BgpSession): void {
    const key = normalizePeerAddress(session.peerAddress);
    if (this.#sessions.get(key) === session) this.#sessions.delete(key);
  }

  /** Listens and resolves with the port (useful when asked for port 0). */
  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        const addr = this.#server.address();
        resolve(typeof addr === 'object' && addr ? addr.port : port);
      });
    });
  }

  /** Stops accepting; sockets already handed to sessions are theirs to close. */
  close(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
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
