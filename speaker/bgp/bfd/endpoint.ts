// BFD over UDP (RFC 5881, single hop): one receive socket per address family
// on port 3784 shared by every session, and per session a send socket on a
// source port from 49152-65535 with TTL 255. Sessions are found by the
// peer's address; BfdFsm does the protocol, this file the sockets and timers.
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { childLogger } from '../../../lib/logger.ts';
import type { Logger } from '../../../lib/logger.ts';
import { normalizePeerAddress } from '../listener.ts';
import { BfdFsm } from './fsm.ts';
import type { BfdConfig, BfdTransition } from './fsm.ts';
import { decodeBfdPacket, encodeBfdPacket } from './packet.ts';
import type { BfdState } from './packet.ts';

export const BFD_PORT = 3784;
const SOURCE_PORT_MIN = 49152;

export interface BfdPeerOptions extends Omit<BfdConfig, 'localDiscriminator'> {
  peer: string;
  localAddress?: string;
  onState?: (t: BfdTransition) => void;
}

export interface BfdPeer {
  readonly fsm: BfdFsm;
  readonly state: BfdState;
  close(): Promise<void>;
}

interface Entry {
  fsm: BfdFsm;
  o: BfdPeerOptions;
  tx: Socket;
  txTimer?: NodeJS.Timeout;
  detectTimer?: NodeJS.Timeout;
}

export class BfdEndpoint {
  readonly #port: number;
  readonly #log: Logger;
  readonly #random: () => number;
  readonly #peers = new Map<string, Entry>();
  readonly #rx: Socket[] = [];
  #nextDiscriminator: number;

  constructor(o: { port?: number; logger?: Logger; random?: () => number } = {}) {
    this.#port = o.port ?? BFD_PORT;
    this.#log = o.logger ?? childLogger('bfd');
    this.#random = o.random ?? Math.random;
    this.#nextDiscriminator = 1 + Math.floor(this.#random() * 0x7fffffff);
  }

  /** Binds the receive sockets (both families). */
  async start(): Promise<void> {
    for (const type of ['udp4', 'udp6'] as const) {
      const s = createSocket({ type, ipv6Only: type === 'udp6', reuseAddr: true });
      s.on('message', (msg, rinfo) => this.#receive(msg, rinfo.address));
      s.on('error', (err) => this.#log.warn({ err }, 'BFD receive socket error'));
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.bind(this.#port, type === 'udp4' ? '0.0.0.0' : '::', () => {
          s.off('error', reject);
          resolve();
        });
      });
      this.#rx.push(s);
    }
  }

  async add(o: BfdPeerOptions): Promise<BfdPeer> {
    const key = normalizePeerAddress(o.peer);
    if (this.#peers.has(key)) throw new Error(`a BFD session to ${o.peer} exists already`);
    const fsm = new BfdFsm({ ...o, localDiscriminator: this.#discriminator() });
    const tx = await this.#sendSocket(o);
    const entry: Entry = { fsm, o, tx };
    this.#peers.set(key, entry);
    this.#scheduleTx(entry);
    return {
      fsm,
      get state() {
        return fsm.state;
      },
      close: () => this.#remove(key, entry),
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.#peers].map(([key, e]) => this.#remove(key, e)));
    await Promise.all(this.#rx.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
  }

  #discriminator(): number {
    const d = this.#nextDiscriminator;
    this.#nextDiscriminator = (d % 0xfffffffe) + 1;
    return d;
  }

  async #sendSocket(o: BfdPeerOptions): Promise<Socket> {
    const type = isIPv6(o.peer) ? 'udp6' : 'udp4';
    // RFC 5881 4: the source port is from 49152-65535; try a few at random.
    for (let attempt = 0; ; attempt++) {
      const port = SOURCE_PORT_MIN + Math.floor(this.#random() * (65536 - SOURCE_PORT_MIN));
      const s = createSocket(type);
      try {
        await new Promise<void>((resolve, reject) => {
          s.once('error', reject);
          s.bind(port, o.localAddress, () => {
            s.off('error', reject);
            resolve();
          });
        });
        s.setTTL(255);
        s.on('error', (err) => this.#log.debug({ err, peer: o.peer }, 'BFD send error'));
        return s;
      } catch (err) {
        s.close();
        if (attempt >= 16) throw err;
      }
    }
  }

  async #remove(key: string, e: Entry): Promise<void> {
    if (this.#peers.get(key) !== e) return;
    // Tell the peer we are going away on purpose (6.8.16), then stop.
    e.fsm.adminDown();
    this.#send(e);
    clearTimeout(e.txTimer);
    clearTimeout(e.detectTimer);
    this.#peers.delete(key);
    await new Promise<void>((r) => e.tx.close(() => r()));
  }

  #send(e: Entry): void {
    if (!e.fsm.mayTransmit) return;
    e.tx.send(encodeBfdPacket(e.fsm.nextPacket()), this.#port, e.o.peer);
  }

  #scheduleTx(e: Entry): void {
    clearTimeout(e.txTimer);
    const interval = e.fsm.txIntervalMs;
    if (interval === 0) return;
    // 6.8.7: jitter to 75-100% of the interval (75-90% with a multiplier of 1).
    const top = e.fsm.config.detectMultiplier === 1 ? 0.9 : 1;
    const ms = interval * (0.75 + this.#random() * (top - 0.75));
    e.txTimer = setTimeout(() => {
      this.#send(e);
      this.#scheduleTx(e);
    }, ms);
  }

  #receive(msg: Buffer, from: string): void {
    const e = this.#peers.get(normalizePeerAddress(from));
    if (!e) return;
    const decoded = decodeBfdPacket(msg);
    if (!decoded.ok) {
      this.#log.debug({ peer: from, reason: decoded.reason }, 'BFD packet discarded');
      return;
    }
    const before = e.fsm.txIntervalMs;
    const r = e.fsm.receive(decoded.packet);
    if (r.discarded) return;
    clearTimeout(e.detectTimer);
    const detect = e.fsm.detectTimeMs;
    if (detect > 0) e.detectTimer = setTimeout(() => this.#detectExpired(e), detect);
    if (r.transition) this.#transition(e, r.transition);
    if (r.replyNow) this.#send(e);
    if (r.transition || e.fsm.txIntervalMs !== before || !e.txTimer) this.#scheduleTx(e);
  }

  #detectExpired(e: Entry): void {
    const t = e.fsm.detectExpired();
    if (t) this.#transition(e, t);
    this.#scheduleTx(e);
  }

  #transition(e: Entry, t: BfdTransition): void {
    this.#log.info({ peer: e.o.peer, from: t.from, to: t.to, diag: t.diag }, `BFD ${t.from} -> ${t.to}`);
    e.o.onState?.(t);
  }
}
