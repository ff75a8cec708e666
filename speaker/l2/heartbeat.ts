// UDP heartbeats between speakers: every interval, one small datagram to each
// other node's address; every datagram heard feeds Liveness. A goodbye is sent
// on shutdown so peers take over without waiting for the timeout.
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import type { Logger } from '../../lib/logger.ts';
import { KIND_ALIVE, KIND_GOODBYE, decodeHeartbeat, encodeHeartbeat } from './heartbeat-codec.ts';
import type { Heartbeat } from './heartbeat-codec.ts';

export interface HeartbeatOptions {
  node: string;
  port: number;
  intervalMs: number;
  /** The addresses of the other speakers, asked again on every round. */
  peers: () => readonly string[];
  onHeartbeat: (h: Heartbeat) => void;
  logger: Logger;
}

export class Heartbeats {
  readonly #o: HeartbeatOptions;
  readonly incarnation = BigInt(Date.now());
  #v4: Socket | undefined;
  #v6: Socket | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: HeartbeatOptions) {
    this.#o = options;
  }

  async start(): Promise<void> {
    this.#v4 = await this.#bind('udp4');
    this.#v6 = await this.#bind('udp6');
    if (!this.#v4 && !this.#v6) throw new Error(`cannot bind heartbeat port ${this.#o.port}`);
    this.#send(KIND_ALIVE);
    this.#timer = setInterval(() => this.#send(KIND_ALIVE), this.#o.intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#send(KIND_GOODBYE);
    for (const s of [this.#v4, this.#v6]) s?.close();
    this.#v4 = this.#v6 = undefined;
  }

  async #bind(type: 'udp4' | 'udp6'): Promise<Socket | undefined> {
    const socket = createSocket({ type, ...(type === 'udp6' ? { ipv6Only: true } : {}) });
    socket.on('message', (msg) => {
      const h = decodeHeartbeat(msg);
      if (h && h.node !== this.#o.node) this.#o.onHeartbeat(h);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(this.#o.port, () => {
          socket.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      this.#o.logger.warn({ err, type }, 'heartbeat socket not bound');
      socket.close();
      return undefined;
    }
    socket.on('error', (err) => this.#o.logger.warn({ err }, 'heartbeat socket error'));
    return socket;
  }

  #send(kind: typeof KIND_ALIVE | typeof KIND_GOODBYE): Promise<void> {
    const msg = encodeHeartbeat({ kind, incarnation: this.incarnation, node: this.#o.node });
    const sends = this.#o.peers().map(
      (address) =>
        new Promise<void>((resolve) => {
          const socket = address.includes(':') ? this.#v6 : this.#v4;
          if (!socket) return resolve();
          // Unreachable peers are normal (that is what we detect): no log per packet.
          socket.send(msg, this.#o.port, address, () => resolve());
        }),
    );
    return Promise.all(sends).then(() => undefined);
  }
}
