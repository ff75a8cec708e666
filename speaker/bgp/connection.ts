// One TCP connection to a peer and the FSM that runs on it: frames and
// decodes what arrives, encodes what the FSM sends, and keeps its timers.
// The session decides what to do with messages and collisions.
import type { Socket } from 'node:net';
import { withJitter } from '../../lib/backoff.ts';
import type { Clock, TimerHandle } from '../../lib/clock.ts';
import type { Logger } from '../../lib/logger.ts';
import type { DecodeContext } from './codec/attribute-decoder.ts';
import { MessageFramer } from './codec/framer.ts';
import { decodeMessage, encodeMessage } from './codec/message.ts';
import type { BgpMessage, DecodeResult } from './codec/message.ts';
import { describeNotification } from './codec/notification.ts';
import type { ConnectionDirection } from './collision.ts';
import { BgpFsm } from './fsm.ts';
import type { FsmAction, FsmConfig, FsmEvent, TimerName } from './fsm.ts';

export interface ConnectionHooks {
  /**
   * Opens an outgoing TCP connection: a node:net Socket that emits 'connect',
   * or a promise of one already connected (sockets set up through
   * raw-socket.ts). Aborting the signal abandons the attempt.
   */
  connect(signal: AbortSignal): Socket | Promise<Socket>;
  /** Called after the FSM handled an event, with the actions it produced (already carried out). */
  afterEvent(c: Connection, event: FsmEvent, actions: FsmAction[]): void;
  /** A decoded message, before the FSM sees it. */
  onMessage(c: Connection, decoded: Extract<DecodeResult, { ok: true }>): void;
  onSent(c: Connection, message: BgpMessage): void;
  /** A connect that failed or a socket error, for the session's lastError. */
  onSocketError?(c: Connection, err: unknown): void;
}

export interface ConnectionOptions {
  config: FsmConfig;
  direction: ConnectionDirection;
  clock: Clock;
  random: () => number;
  logger: Logger;
  enforceFirstAs: boolean;
  hooks: ConnectionHooks;
}

/** How long a closing connection may take to flush before it is destroyed. */
const CLOSE_GRACE_MS = 2000;

let nextId = 1;

export class Connection {
  readonly id = nextId++;
  readonly fsm: BgpFsm;
  direction: ConnectionDirection;
  #socket: Socket | undefined;
  #framer = new MessageFramer();
  #timers = new Map<TimerName, TimerHandle>();
  readonly #o: ConnectionOptions;
  readonly #log: Logger;
  #closing = new Set<Socket>();
  /** An outgoing connect still under way (promise-based connects only). */
  #pending: AbortController | undefined;

  constructor(o: ConnectionOptions) {
    this.#o = o;
    this.direction = o.direction;
    this.fsm = new BgpFsm(o.config);
    this.#log = o.logger.child({ connection: this.id });
  }

  get hasSocket(): boolean {
    return this.#socket !== undefined;
  }

  /** Feeds one event to the FSM and carries out its actions. Never throws. */
  handle(event: FsmEvent): void {
    try {
      const actions = this.fsm.handle(event);
      for (const a of actions) this.#perform(a);
      this.#o.hooks.afterEvent(this, event, actions);
    } catch (err) {
      // A bug here must cost one session, not the process.
      this.#log.error({ err, event: event.type }, 'BGP connection failed internally; dropping it');
      this.#drop();
    }
  }

  /** Takes over an accepted (incoming) socket. */
  attach(socket: Socket, direction: ConnectionDirection): void {
    this.#replaceSocket(socket);
    this.direction = direction;
    this.#wire(socket);
  }

  /** Sends a message the FSM does not originate (UPDATEs from the Adj-RIB-Out). */
  sendMessage(message: BgpMessage): void {
    this.#send(message);
  }

  /** Drops everything without telling the peer: used when the session is discarded. */
  dispose(): void {
    this.#abortPending();
    for (const t of this.#timers.values()) this.#o.clock.clearTimeout(t);
    this.#timers.clear();
    this.#drop();
  }

  /** Resolves when every socket this connection closed is gone. */
  async closed(): Promise<void> {
    await Promise.all(
      [...this.#closing].map(
        (s) => new Promise<void>((resolve) => (s.destroyed ? resolve() : s.once('close', () => resolve()))),
      ),
    );
  }

  #perform(a: FsmAction): void {
    switch (a.type) {
      case 'connect': {
        this.#abortPending();
        const pending = new AbortController();
        const result = this.#o.hooks.connect(pending.signal);
        if (!(result instanceof Promise)) return this.#connected(result, false);
        this.#drop();
        this.#pending = pending;
        result.then(
          (socket) => {
            if (this.#pending !== pending) return void socket.destroy();
            this.#pending = undefined;
            this.#connected(socket, true);
          },
          (err: unknown) => {
            if (this.#pending !== pending) return;
            this.#pending = undefined;
            this.#log.debug({ err }, 'BGP connect failed');
            this.#o.hooks.onSocketError?.(this, err);
            this.handle({ type: 'tcp-failed' });
          },
        );
        return;
      }
      case 'disconnect':
        return this.#drop();
      case 'send':
        return this.#send(a.message);
      case 'start-timer': {
        this.#clearTimer(a.timer);
        const ms = a.jitter ? withJitter(a.ms, 0.25, this.#o.random) : a.ms;
        this.#timers.set(
          a.timer,
          this.#o.clock.setTimeout(() => {
            this.#timers.delete(a.timer);
            this.handle({ type: 'timer', timer: a.timer });
          }, ms),
        );
        return;
      }
      case 'stop-timer':
        return this.#clearTimer(a.timer);
      case 'state':
        this.#log.info({ from: a.from, to: a.to, reason: a.reason }, `BGP ${a.from} -> ${a.to}`);
        return;
    }
  }

  /** An outgoing socket: connecting (node:net), or already connected (raw-socket.ts). */
  #connected(socket: Socket, alreadyConnected: boolean): void {
    this.#replaceSocket(socket);
    this.direction = 'outgoing';
    this.#wire(socket);
    if (alreadyConnected) return this.handle({ type: 'tcp-connected' });
    socket.once('connect', () => {
      if (this.#socket === socket) this.handle({ type: 'tcp-connected' });
    });
  }

  #abortPending(): void {
    this.#pending?.abort();
    this.#pending = undefined;
  }

  #clearTimer(timer: TimerName): void {
    const t = this.#timers.get(timer);
    if (t !== undefined) this.#o.clock.clearTimeout(t);
    this.#timers.delete(timer);
  }

  #send(message: BgpMessage): void {
    const socket = this.#socket;
    if (!socket) return;
    const fourOctetAs = this.fsm.negotiated?.fourOctetAs ?? true;
    socket.write(encodeMessage(message, { fourOctetAs }));
    if (message.type === 'notification') {
      this.#log.warn(
        { code: message.code, subcode: message.subcode },
        `sent NOTIFICATION ${describeNotification(message.code, message.subcode)}`,
      );
    }
    this.#o.hooks.onSent(this, message);
  }

  #replaceSocket(socket: Socket): void {
    this.#abortPending();
    if (this.#socket && this.#socket !== socket) this.#drop();
    this.#socket = socket;
    this.#framer = new MessageFramer();
  }

  /** Closes the current socket after flushing what was written (a NOTIFICATION, say). */
  #drop(): void {
    this.#abortPending();
    const socket = this.#socket;
    this.#socket = undefined;
    if (!socket) return;
    this.#closing.add(socket);
    socket.once('close', () => this.#closing.delete(socket));
    if (socket.connecting) {
      socket.destroy();
      return;
    }
    socket.end();
    const t = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
    t.unref();
    socket.once('close', () => clearTimeout(t));
  }

  #wire(socket: Socket): void {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      if (this.#socket === socket) this.#receive(chunk);
    });
    socket.on('error', (err) => {
      this.#log.debug({ err }, 'BGP socket error');
      this.#o.hooks.onSocketError?.(this, err);
    });
    socket.once('close', () => {
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      this.handle({ type: 'tcp-failed' });
    });
  }

  #decodeContext(): DecodeContext {
    const n = this.fsm.negotiated;
    if (!n) return { fourOctetAs: true };
    return {
      fourOctetAs: n.fourOctetAs,
      peerType: n.ibgp ? 'ibgp' : 'ebgp',
      ...(this.#o.enforceFirstAs && !n.ibgp ? { firstAs: n.peerAs } : {}),
    };
  }

  #receive(chunk: Uint8Array): void {
    for (const frame of this.#framer.push(chunk)) {
      // A previous message may have ended the connection.
      if (!this.#socket) return;
      if (!frame.ok) {
        this.handle({ type: 'decode-error', error: frame.error });
        return;
      }
      let decoded: DecodeResult;
      try {
        decoded = decodeMessage(frame.bytes, this.#decodeContext());
      } catch (err) {
        // The decoder is total; reaching this is a bug, and it costs the session only.
        this.#log.error({ err }, 'BGP decoder threw');
        this.#drop();
        this.handle({ type: 'tcp-failed' });
        return;
      }
      if (!decoded.ok) {
        this.#log.warn({ reason: decoded.error.reason }, 'malformed BGP message');
        this.handle({ type: 'decode-error', error: decoded.error });
        return;
      }
      this.#o.hooks.onMessage(this, decoded);
      this.handle({ type: 'message', message: decoded.message });
    }
  }
}
