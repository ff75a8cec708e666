// A BGP session with one peer over node:net. It owns the connection whose
// FSM speaks for the peer, a second one while a collision is being resolved
// (RFC 4271 6.8), and the Adj-RIB-Out it feeds once Established.
//
// A TCP-MD5 password or an IP TTL needs socket options node:net cannot set,
// so such sessions connect through raw-socket.ts; the others use node:net.
import { connect as netConnect } from 'node:net';
import type { NetConnectOpts, Socket } from 'node:net';
import { systemClock } from '../../lib/clock.ts';
import type { Clock } from '../../lib/clock.ts';
import { childLogger } from '../../lib/logger.ts';
import type { Logger } from '../../lib/logger.ts';
import { CeaseSubcode, ErrorCode } from './codec/constants.ts';
import { familyOf } from './codec/family.ts';
import { encodeMessage } from './codec/message.ts';
import type { BgpMessage, DecodeResult } from './codec/message.ts';
import { describeNotification } from './codec/notification.ts';
import type { DecodedUpdate, UpdateMessage } from './codec/update.ts';
import { collisionSurvivor } from './collision.ts';
import { Connection } from './connection.ts';
import { rawConnect } from './raw-socket.ts';
import { FSM_DEFAULTS } from './fsm.ts';
import type { BgpState, FsmAction, FsmConfig, FsmEvent, Negotiated } from './fsm.ts';
import { AdjRibOut } from './rib-out.ts';
import type { OutboundRoute } from './rib-out.ts';

export const BGP_PORT = 179;

export interface BgpSessionOptions extends Partial<Omit<FsmConfig, 'localAs' | 'peerAs' | 'routerId'>> {
  localAs: number;
  peerAs: FsmConfig['peerAs'];
  routerId: string;
  peerAddress: string;
  peerPort?: number;
  /** Source address for outgoing connections. */
  localAddress?: string;
  /** Hops to an eBGP peer: the IP TTL of outgoing connections unless `ttl` is given. */
  ebgpMultihop?: number;
  /** IP TTL / IPv6 hop limit of outgoing connections; the kernel default (64) when unset. */
  ttl?: number;
  /** RFC 2385 TCP-MD5 password. Incoming connections need it set on the listener too (BgpListener.add does). */
  password?: string;
  /** Treat as withdrawn eBGP routes whose path does not start with the peer's AS (RFC 4271 6.3). Default true. */
  enforceFirstAs?: boolean;
  clock?: Clock;
  random?: () => number;
  logger?: Logger;
  /** Opens outgoing connections; node:net's connect (or raw-socket.ts for MD5/TTL) by default. */
  connect?: (options: NetConnectOpts) => Socket;
  onStateChange?: (to: BgpState, from: BgpState, reason: string) => void;
  /** lastError changed (for the status writer). */
  onError?: (error: string) => void;
  /** Every UPDATE received while Established, with its RFC 7606 classification. */
  onUpdate?: (update: DecodedUpdate) => void;
}

export interface SessionStats {
  messagesSent: number;
  messagesReceived: number;
  updatesSent: number;
  updatesReceived: number;
  /** Keyed "code/subcode". */
  notificationsSent: Record<string, number>;
  notificationsReceived: Record<string, number>;
  establishedTransitions: number;
}

/** States in which a connection is carrying a BGP conversation. */
const OPEN_STATES: readonly BgpState[] = ['OpenSent', 'OpenConfirm', 'Established'];

export class BgpSession {
  readonly peerAddress: string;
  readonly stats: SessionStats = {
    messagesSent: 0,
    messagesReceived: 0,
    updatesSent: 0,
    updatesReceived: 0,
    notificationsSent: {},
    notificationsReceived: {},
    establishedTransitions: 0,
  };
  readonly #o: BgpSessionOptions;
  readonly #config: FsmConfig;
  readonly #log: Logger;
  #primary: Connection;
  #candidate: Connection | undefined;
  #routes: OutboundRoute[] = [];
  #ribOut: AdjRibOut | undefined;
  #started = false;
  #rejected = new Set<Socket>();
  #stateSince: number;
  #lastError: string | undefined;

  constructor(o: BgpSessionOptions) {
    this.#o = o;
    this.peerAddress = o.peerAddress;
    const d = FSM_DEFAULTS;
    this.#config = {
      localAs: o.localAs,
      peerAs: o.peerAs,
      routerId: o.routerId,
      holdTimeSec: o.holdTimeSec ?? d.holdTimeSec,
      connectRetrySec: o.connectRetrySec ?? d.connectRetrySec,
      connectRetryMaxSec: o.connectRetryMaxSec ?? d.connectRetryMaxSec,
      idleHoldSec: o.idleHoldSec ?? d.idleHoldSec,
      idleHoldMaxSec: o.idleHoldMaxSec ?? d.idleHoldMaxSec,
      passive: o.passive ?? d.passive,
      families: [...(o.families ?? d.families)],
      ...(o.keepaliveSec !== undefined ? { keepaliveSec: o.keepaliveSec } : {}),
      ...(o.gracefulRestart ? { gracefulRestart: o.gracefulRestart } : {}),
      ...(o.autoRestart !== undefined ? { autoRestart: o.autoRestart } : {}),
    };
    this.#log = (o.logger ?? childLogger('bgp')).child({ peer: o.peerAddress });
    this.#primary = this.#newConnection('outgoing');
    this.#stateSince = (o.clock ?? systemClock).now();
  }

  /** When the session entered its current state (ms since the epoch). */
  get stateSince(): number {
    return this.#stateSince;
  }

  /** The last NOTIFICATION exchanged or connect/socket error, as text; shown in BGPSessionStatus. */
  get lastError(): string | undefined {
    return this.#lastError;
  }

  /** The RFC 2385 password, for the listener to key incoming connections with. */
  get password(): string | undefined {
    return this.#o.password;
  }

  get state(): BgpState {
    return this.#primary.fsm.state;
  }

  get negotiated(): Negotiated | undefined {
    return this.#primary.fsm.negotiated;
  }

  /** Prefixes the peer has from us. */
  get advertised(): ReadonlySet<string> {
    return this.#ribOut?.advertised ?? new Set();
  }

  start(): void {
    this.#started = true;
    this.#primary.handle({ type: 'start' });
  }

  /**
   * Sends Cease (RFC 4486 Administrative Shutdown by default) and closes every
   * connection. With `silent`, closes the TCP connection without a
   * NOTIFICATION, as a restarting process would: a graceful-restart peer
   * then keeps our routes (RFC 4724 4.2), where a Cease would flush them.
   */
  async stop(subcode: number = CeaseSubcode.AdministrativeShutdown, silent = false): Promise<void> {
    this.#started = false;
    const conns = [this.#primary, this.#candidate].filter((c): c is Connection => c !== undefined);
    if (!silent) for (const c of conns) c.handle({ type: 'stop', subcode });
    for (const s of this.#rejected) s.destroy();
    for (const c of conns) c.dispose();
    await Promise.all(conns.map((c) => c.closed()));
  }

  /**
   * BFD declared the path to the peer down: the session is torn down at once
   * (Cease "BFD Down", RFC 9384) rather than after the hold time, and starts
   * over; it comes back when TCP gets through again.
   */
  bfdDown(): void {
    if (!this.#started) return;
    const conns = [this.#primary, this.#candidate].filter((c): c is Connection => c !== undefined);
    this.#log.warn('BFD is down; resetting the BGP session');
    for (const c of conns) c.handle({ type: 'stop', subcode: CeaseSubcode.BfdDown });
    if (this.#candidate) {
      this.#candidate.dispose();
      this.#candidate = undefined;
    }
    this.#primary.handle({ type: 'start' });
  }

  /** The routes this peer should have; sent at once when Established, else at the next Established. */
  setRoutes(routes: readonly OutboundRoute[]): void {
    this.#routes = [...routes];
    if (this.#ribOut) this.#sendAll(this.#ribOut.sync(this.#routes).updates);
  }

  /** An incoming connection from this peer's address (the listener routes it here). */
  accept(socket: Socket): void {
    const p = this.#primary;
    const s = p.fsm.state;
    if (!this.#started || s === 'Idle') return this.#reject(socket, CeaseSubcode.ConnectionRejected);
    if (s === 'Connect' || s === 'Active') {
      // Any pending outgoing attempt is abandoned: this connection is the one.
      p.attach(socket, 'incoming');
      p.handle({ type: 'tcp-connected' });
      return;
    }
    if ((s === 'OpenSent' || s === 'OpenConfirm') && !this.#candidate) {
      // RFC 4271 6.8: run both until an OPEN tells us whose connection wins.
      const c = this.#newConnection('incoming');
      this.#candidate = c;
      c.handle({ type: 'start', passive: true });
      c.attach(socket, 'incoming');
      c.handle({ type: 'tcp-connected' });
      return;
    }
    // RFC 4271 6.8: a connection colliding with an Established one is closed.
    this.#reject(socket, CeaseSubcode.ConnectionCollisionResolution);
  }

  #reject(socket: Socket, subcode: number): void {
    this.#log.info({ subcode }, 'rejecting incoming connection');
    const notification: BgpMessage = {
      type: 'notification',
      code: ErrorCode.Cease,
      subcode,
      data: new Uint8Array(0),
    };
    this.#rejected.add(socket);
    socket.on('error', () => {});
    socket.once('close', () => this.#rejected.delete(socket));
    socket.end(encodeMessage(notification));
    setTimeout(() => socket.destroy(), 2000).unref();
  }

  #newConnection(direction: 'outgoing' | 'incoming'): Connection {
    return new Connection({
      config: this.#config,
      direction,
      clock: this.#o.clock ?? systemClock,
      random: this.#o.random ?? Math.random,
      logger: this.#log,
      enforceFirstAs: this.#o.enforceFirstAs ?? true,
      hooks: {
        connect: (signal) => this.#connect(signal),
        afterEvent: (c, e, actions) => this.#afterEvent(c, e, actions),
        onMessage: (c, d) => this.#onMessage(c, d),
        onSent: (_c, m) => this.#count(m, 'sent'),
        onSocketError: (_c, err) => this.#setError(err instanceof Error ? err.message : String(err)),
      },
    });
  }

  #connect(signal: AbortSignal): Socket | Promise<Socket> {
    const o = this.#o;
    const ttl = o.ttl ?? o.ebgpMultihop;
    if (!o.connect && (o.password || ttl !== undefined)) {
      return rawConnect({
        host: o.peerAddress,
        port: o.peerPort ?? BGP_PORT,
        signal,
        ...(o.localAddress ? { localAddress: o.localAddress } : {}),
        ...(o.password ? { md5Key: o.password } : {}),
        ...(ttl !== undefined ? { ttl } : {}),
      });
    }
    const options: NetConnectOpts = { host: o.peerAddress, port: o.peerPort ?? BGP_PORT };
    if (o.localAddress) options.localAddress = o.localAddress;
    return (o.connect ?? netConnect)(options);
  }

  #count(m: BgpMessage, dir: 'sent' | 'received'): void {
    const s = this.stats;
    if (dir === 'sent') s.messagesSent++;
    else s.messagesReceived++;
    if (m.type === 'update') {
      if (dir === 'sent') s.updatesSent++;
      else s.updatesReceived++;
    } else if (m.type === 'notification') {
      const bucket = dir === 'sent' ? s.notificationsSent : s.notificationsReceived;
      const key = `${m.code}/${m.subcode}`;
      bucket[key] = (bucket[key] ?? 0) + 1;
      this.#setError(`${dir} NOTIFICATION ${describeNotification(m.code, m.subcode)}`);
    }
  }

  #setError(text: string): void {
    if (text === this.#lastError) return;
    this.#lastError = text;
    this.#o.onError?.(text);
  }

  /** Every change of the session's state goes through here, so stateSince stays true. */
  #stateChanged(to: BgpState, from: BgpState, reason: string): void {
    if (to !== from) this.#stateSince = (this.#o.clock ?? systemClock).now();
    this.#o.onStateChange?.(to, from, reason);
  }

  #onMessage(c: Connection, d: Extract<DecodeResult, { ok: true }>): void {
    const m = d.message;
    this.#count(m, 'received');
    if (m.type === 'notification') {
      this.#log.warn(
        { code: m.code, subcode: m.subcode },
        `peer sent NOTIFICATION ${describeNotification(m.code, m.subcode)}`,
      );
    }
    if (c !== this.#primary || c.fsm.state !== 'Established') return;
    if (m.type === 'update') {
      if (d.problems.length > 0) {
        this.#log.warn(
          { problems: d.problems.map((p) => `${p.action}: ${p.reason}`) },
          'UPDATE had errors (RFC 7606)',
        );
      }
      this.#o.onUpdate?.({ update: m, treatAsWithdraw: d.treatAsWithdraw, problems: d.problems });
    } else if (m.type === 'route-refresh' && this.#ribOut) {
      const family = familyOf(m.afi, m.safi);
      if (family) this.#sendAll(this.#ribOut.refresh(family));
    }
  }

  #afterEvent(c: Connection, _e: FsmEvent, actions: FsmAction[]): void {
    for (const a of actions) {
      if (a.type !== 'state') continue;
      if (a.to === 'OpenConfirm') this.#resolveCollision(c);
      if (c === this.#primary) this.#primaryState(a.from, a.to, a.reason);
      if (c === this.#candidate && a.to === 'Idle') {
        this.#candidate.dispose();
        this.#candidate = undefined;
      }
      if (c === this.#primary && !OPEN_STATES.includes(a.to)) this.#promoteCandidate();
    }
  }

  /**
   * The primary connection went away while a second one was still opening:
   * there is no collision left to resolve, so the second one carries on as
   * the session (RFC 4271 6.8 only closes one of two live connections).
   */
  #promoteCandidate(): void {
    const candidate = this.#candidate;
    if (!candidate || !this.#started || !OPEN_STATES.includes(candidate.fsm.state)) return;
    const old = this.#primary;
    this.#candidate = undefined;
    this.#primary = candidate;
    old.dispose();
    this.#stateChanged(candidate.fsm.state, old.fsm.state, 'the other connection was lost');
  }

  #primaryState(from: BgpState, to: BgpState, reason: string): void {
    if (to === 'Established') {
      const n = this.#primary.fsm.negotiated;
      if (n) {
        this.stats.establishedTransitions++;
        this.#log.info(
          { peerAs: n.peerAs, hold: n.holdTimeSec, families: n.families },
          'BGP session established',
        );
        this.#ribOut = new AdjRibOut({
          localAs: this.#config.localAs,
          ibgp: n.ibgp,
          fourOctetAs: n.fourOctetAs,
          families: n.families,
        });
        const { updates, rejected } = this.#ribOut.sync(this.#routes);
        for (const r of rejected) this.#log.warn(r, 'route not advertised');
        this.#sendAll(updates);
      }
    } else if (from === 'Established') {
      this.#ribOut = undefined;
    }
    this.#stateChanged(to, from, reason);
  }

  /** RFC 4271 6.8, run when a connection has the peer's OPEN (and so its BGP identifier). */
  #resolveCollision(c: Connection): void {
    const other = c === this.#primary ? this.#candidate : this.#primary;
    const peer = c.fsm.negotiated;
    if (!other || !peer) return;
    const os = other.fsm.state;
    let loser: Connection | undefined;
    if (os === 'Established') loser = c;
    else if (os === 'OpenSent' || os === 'OpenConfirm') {
      const survivor = collisionSurvivor(
        { bgpId: this.#config.routerId, asn: this.#config.localAs },
        { bgpId: peer.peerId, asn: peer.peerAs },
      );
      loser = c.direction === survivor ? other : c;
    }
    if (!loser) return;
    this.#log.info({ kept: (loser === c ? other : c).direction }, 'connection collision resolved');
    if (loser === this.#primary && this.#candidate) {
      const winner = this.#candidate;
      const before = loser.fsm.state;
      this.#candidate = undefined;
      this.#primary = winner;
      loser.handle({ type: 'collision-dump' });
      loser.dispose();
      // From here the winner's state is the session's state.
      this.#stateChanged(winner.fsm.state, before, 'the other connection won the collision');
    } else {
      loser.handle({ type: 'collision-dump' });
    }
  }

  #sendAll(updates: UpdateMessage[]): void {
    // UPDATEs bypass the FSM: it would only restart the keepalive timer for
    // them, which RFC 4271 4.4 leaves optional, so that timer just keeps running.
    const c = this.#primary;
    for (const u of updates) if (c.fsm.state === 'Established') c.sendMessage(u);
  }
}
