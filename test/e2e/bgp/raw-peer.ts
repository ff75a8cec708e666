// A scripted BGP peer on a raw TCP socket, for driving our session through
// exact message sequences (collisions, malformed input) that a real router
// would never send on purpose.
import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { buildOpen, decodeMessage, encodeMessage, MessageFramer } from '../../../speaker/bgp/codec/index.ts';
import type { BgpMessage, Capability, NotificationMessage } from '../../../speaker/bgp/codec/index.ts';

export const PEER_CAPS: Capability[] = [
  { kind: 'multiprotocol', afi: 1, safi: 1 },
  { kind: 'multiprotocol', afi: 2, safi: 1 },
  { kind: 'route-refresh' },
];

export class RawPeer {
  readonly socket: Socket;
  readonly received: BgpMessage[] = [];
  readonly closed: Promise<void>;
  #waiters: (() => void)[] = [];
  #framer = new MessageFramer();
  #isClosed = false;

  constructor(socket: Socket) {
    this.socket = socket;
    // Small scripted writes must not wait for delayed ACKs.
    socket.setNoDelay(true);
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      for (const f of this.#framer.push(chunk)) {
        if (!f.ok) continue;
        const r = decodeMessage(f.bytes);
        if (r.ok) this.received.push(r.message);
      }
      this.#wake();
    });
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.#isClosed = true;
        this.#wake();
        resolve();
      }),
    );
  }

  static connect(port: number, host: string, localAddress?: string): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const s = connect({ port, host, ...(localAddress ? { localAddress } : {}) });
      s.once('connect', () => resolve(new RawPeer(s)));
      s.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  send(m: BgpMessage): void {
    this.socket.write(encodeMessage(m));
  }

  sendBytes(b: Uint8Array): void {
    this.socket.write(b);
  }

  /** Waits for the first received message of `type` (removing it and everything before it). */
  async next<T extends BgpMessage['type']>(
    type: T,
    timeoutMs = 5000,
  ): Promise<Extract<BgpMessage, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.received.findIndex((m) => m.type === type);
      if (i >= 0) return this.received.splice(0, i + 1)[i] as Extract<BgpMessage, { type: T }>;
      if (this.#isClosed) throw new Error(`connection closed while waiting for ${type}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${type}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** The NOTIFICATION (if any) received before the connection closed. */
  async closedWith(timeoutMs = 5000): Promise<NotificationMessage | undefined> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.closed, new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    if (!this.#isClosed) throw new Error('connection still open');
    return this.received.find((m): m is NotificationMessage => m.type === 'notification');
  }

  /** OPEN for OPEN, KEEPALIVE for KEEPALIVE: the session is Established on both ends. */
  async handshake(asn: number, bgpId: string, holdTimeSec = 0): Promise<void> {
    this.send(buildOpen({ asn, holdTimeSec, bgpId, capabilities: PEER_CAPS }));
    await this.next('open');
    this.send({ type: 'keepalive' });
    await this.next('keepalive');
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A listening socket that hands each accepted connection over as a RawPeer. */
export class RawListener {
  readonly server: Server;
  readonly accepted: RawPeer[] = [];
  #waiters: (() => void)[] = [];

  constructor() {
    this.server = createServer((s) => {
      this.accepted.push(new RawPeer(s));
      for (const w of this.#waiters.splice(0)) w();
    });
  }

  listen(port: number, host: string): Promise<void> {
    return new Promise((resolve) => this.server.listen(port, host, () => resolve()));
  }

  async nextPeer(timeoutMs = 5000): Promise<RawPeer> {
    if (this.accepted.length === 0) {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no connection accepted')), timeoutMs);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.accepted.shift() as RawPeer;
  }

  close(): Promise<void> {
    for (const p of this.accepted) p.close();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
