// The BGP finite state machine of RFC 4271 8, for one TCP connection to a
// peer. Pure: events in, actions out; the session adapter owns the socket and
// the timers, and time only enters as timer-expiry events.
import { backoffDelay } from '../../lib/backoff.ts';
import { CeaseSubcode, ErrorCode, FsmErrorSubcode, OpenErrorSubcode } from './codec/constants.ts';
import { bgpError } from './codec/errors.ts';
import type { BgpError } from './codec/errors.ts';
import { afiSafiOf, familyOf } from './codec/family.ts';
import type { AddressFamily } from './codec/family.ts';
import type { BgpMessage } from './codec/message.ts';
import { notificationFor } from './codec/notification.ts';
import { buildOpen, senderAs } from './codec/open.ts';
import type { OpenMessage } from './codec/open.ts';
import type { Capability } from './codec/capabilities.ts';

export type BgpState = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';
export type TimerName = 'connect-retry' | 'hold' | 'keepalive' | 'idle-hold';

export interface FsmConfig {
  localAs: number;
  /** The peer's AS, or MetalLB's dynamicASN: 'internal' (same as ours) or 'external' (any other). */
  peerAs: number | 'internal' | 'external';
  /** Our BGP identifier, dotted quad. */
  routerId: string;
  /** Hold time we propose; 0 disables keepalives and the hold timer (RFC 4271 4.2). */
  holdTimeSec: number;
  /** Keepalive interval; defaults to a third of the negotiated hold time (RFC 4271 10). */
  keepaliveSec?: number;
  /** First connect-retry interval; it doubles per failed attempt up to the maximum. */
  connectRetrySec: number;
  connectRetryMaxSec: number;
  /** First idle-hold interval before an automatic restart; doubles per consecutive failure (RFC 4271 8.1.1). */
  idleHoldSec: number;
  idleHoldMaxSec: number;
  /** Wait for the peer to connect instead of connecting (RFC 4271 8.1.1 PassiveTcpEstablishment). */
  passive: boolean;
  families: AddressFamily[];
  /** Advertise graceful restart (RFC 4724 3). */
  gracefulRestart?: { restartTimeSec: number; restarting: boolean; forwardingPreserved: boolean };
  /** Restart by itself after an error (RFC 4271 AutomaticStart); default true. */
  autoRestart?: boolean;
}

export const FSM_DEFAULTS = {
  holdTimeSec: 90,
  connectRetrySec: 5,
  connectRetryMaxSec: 120,
  idleHoldSec: 1,
  idleHoldMaxSec: 60,
  passive: false,
  families: ['ipv4-unicast', 'ipv6-unicast'] as AddressFamily[],
} as const;

/** What the two OPENs agreed on (RFC 4271 4.2, RFC 5492, RFC 6793, RFC 4760). */
export interface Negotiated {
  peerAs: number;
  peerId: string;
  ibgp: boolean;
  holdTimeSec: number;
  keepaliveSec: number;
  fourOctetAs: boolean;
  families: AddressFamily[];
  routeRefresh: boolean;
  peerGracefulRestart?: Extract<Capability, { kind: 'graceful-restart' }>;
  peerOpen: OpenMessage;
}

export type FsmEvent =
  /** ManualStart (RFC 4271 event 1), or event 4 with passive. */
  | { type: 'start'; passive?: boolean }
  /** ManualStop (event 2); subcode is the Cease subcode sent (RFC 4486). */
  | { type: 'stop'; subcode?: number }
  | { type: 'timer'; timer: TimerName }
  /** Tcp_CR_Acked or TcpConnectionConfirmed (events 16, 17). */
  | { type: 'tcp-connected' }
  /** TcpConnectionFails (event 18). */
  | { type: 'tcp-failed' }
  /** A message that decoded (events 19, 25, 26, 27 and route refresh). */
  | { type: 'message'; message: BgpMessage }
  /** BGPHeaderErr, BGPOpenMsgErr or UpdateMsgErr (events 21, 22, 28). */
  | { type: 'decode-error'; error: BgpError }
  /** OpenCollisionDump (event 23): this connection lost a collision (RFC 4271 6.8). */
  | { type: 'collision-dump' };

export type FsmAction =
  | { type: 'connect' }
  /** Close the connection (or abandon the attempt) after anything already sent is flushed. */
  | { type: 'disconnect' }
  | { type: 'send'; message: BgpMessage }
  /** `jitter`: RFC 4271 10 asks for 75-100% of the value on these timers. */
  | { type: 'start-timer'; timer: TimerName; ms: number; jitter: boolean }
  | { type: 'stop-timer'; timer: TimerName }
  | { type: 'state'; from: BgpState; to: BgpState; reason: string };

/** RFC 4271 8.2.2: the hold timer while waiting for the peer's OPEN, "4 minutes is suggested". */
export const OPEN_HOLD_MS = 240_000;

const UNEXPECTED_SUBCODE: Partial<Record<BgpState, number>> = {
  OpenSent: FsmErrorSubcode.UnexpectedMessageInOpenSent,
  OpenConfirm: FsmErrorSubcode.UnexpectedMessageInOpenConfirm,
  Established: FsmErrorSubcode.UnexpectedMessageInEstablished,
};

export class BgpFsm {
  readonly config: FsmConfig;
  #state: BgpState = 'Idle';
  #connection: 'none' | 'connecting' | 'connected' = 'none';
  #timers = new Set<TimerName>();
  /** Failed connects since the last success: drives the connect-retry backoff. */
  #connectAttempts = 0;
  /** Consecutive sessions that failed: drives the idle-hold backoff (DampPeerOscillations). */
  #failures = 0;
  #stopped = true;
  #passive = false;
  #negotiated: Negotiated | undefined;
  #out: FsmAction[] = [];

  constructor(config: FsmConfig) {
    this.config = config;
  }

  get state(): BgpState {
    return this.#state;
  }

  /** Set from the peer's OPEN onwards (OpenConfirm, Established). */
  get negotiated(): Negotiated | undefined {
    return this.#negotiated;
  }

  get runningTimers(): ReadonlySet<TimerName> {
    return this.#timers;
  }

  /** The OPEN we send (RFC 4271 4.2 with our capabilities). */
  openMessage(): OpenMessage {
    const c = this.config;
    const caps: Capability[] = c.families.map((f) => ({ kind: 'multiprotocol', ...afiSafiOf(f) }));
    caps.push({ kind: 'route-refresh' });
    if (c.gracefulRestart) {
      const gr = c.gracefulRestart;
      caps.push({
        kind: 'graceful-restart',
        restarting: gr.restarting,
        notification: false,
        restartTimeSec: gr.restartTimeSec,
        families: c.families.map((f) => ({ ...afiSafiOf(f), forwardingPreserved: gr.forwardingPreserved })),
      });
    }
    return buildOpen({ asn: c.localAs, holdTimeSec: c.holdTimeSec, bgpId: c.routerId, capabilities: caps });
  }

  handle(event: FsmEvent): FsmAction[] {
    this.#out = [];
    if (event.type === 'timer') {
      // A timer event for a timer we stopped is stale (it raced the stop): ignore it.
      if (!this.#timers.has(event.timer)) return this.#out;
      this.#timers.delete(event.timer);
    }
    switch (this.#state) {
      case 'Idle':
        this.#idle(event);
        break;
      case 'Connect':
        this.#connect(event);
        break;
      case 'Active':
        this.#active(event);
        break;
      case 'OpenSent':
      case 'OpenConfirm':
      case 'Established':
        this.#open(event);
        break;
    }
    return this.#out;
  }

  // --- states -------------------------------------------------------------------------

  #idle(e: FsmEvent): void {
    if (e.type === 'start') {
      this.#stopped = false;
      this.#begin(e.passive ?? this.config.passive, 'start');
    } else if (e.type === 'timer' && e.timer === 'idle-hold') {
      if (!this.#stopped) this.#begin(this.config.passive, 'automatic restart');
    } else if (e.type === 'stop') {
      // Cancels a pending automatic restart.
      this.#stopped = true;
      this.#failures = 0;
      this.#stopAllTimers();
    } else if (e.type === 'tcp-connected') {
      // RFC 4271 8.2.2: Idle refuses connections.
      this.#emit({ type: 'disconnect' });
    }
    // Every other event is ignored in Idle.
  }

  #connect(e: FsmEvent): void {
    switch (e.type) {
      case 'start':
        return;
      case 'stop':
        return this.#stop(e.subcode);
      case 'timer':
        if (e.timer !== 'connect-retry') return this.#fail(`${e.timer} timer in Connect`);
        // The attempt took too long: abandon it and try again, waiting longer next time.
        this.#emit({ type: 'disconnect' });
        this.#connectAttempts++;
        this.#startConnectRetry();
        this.#emit({ type: 'connect' });
        this.#connection = 'connecting';
        return;
      case 'tcp-connected':
        return this.#sendOpen();
      case 'tcp-failed':
        // As RFC 4271 does when DelayOpen is running: keep listening in Active
        // and retry after the (backed-off) connect-retry time, rather than
        // dropping to Idle on every refused connect.
        this.#connection = 'none';
        this.#connectAttempts++;
        this.#startConnectRetry();
        return this.#go('Active', 'connection failed');
      default:
        return this.#fail(`unexpected ${describe(e)} in Connect`);
    }
  }

  #active(e: FsmEvent): void {
    switch (e.type) {
      case 'start':
      case 'tcp-failed':
        return;
      case 'stop':
        return this.#stop(e.subcode);
      case 'timer':
        if (e.timer !== 'connect-retry') return this.#fail(`${e.timer} timer in Active`);
        this.#startConnectRetry();
        this.#emit({ type: 'connect' });
        this.#connection = 'connecting';
        return this.#go('Connect', 'connect-retry timer expired');
      case 'tcp-connected':
        return this.#sendOpen();
      default:
        return this.#fail(`unexpected ${describe(e)} in Active`);
    }
  }

  /** OpenSent, OpenConfirm and Established share most of their handling. */
  #open(e: FsmEvent): void {
    const s = this.#state;
    switch (e.type) {
      case 'start':
      case 'tcp-connected':
        // A second connection is the adapter's business (collision handling).
        return;
      case 'stop':
        return this.#stop(e.subcode);
      case 'collision-dump':
        return this.#dump();
      case 'decode-error':
        return this.#fail(e.error.reason, e.error);
      case 'tcp-failed':
        if (s === 'OpenSent') {
          // RFC 4271 8.2.2: back to Active, listening, with the connect-retry timer running.
          this.#connection = 'none';
          this.#stopTimer('hold');
          this.#connectAttempts++;
          if (!this.#passive) this.#startConnectRetry();
          return this.#go('Active', 'connection closed in OpenSent');
        }
        this.#connection = 'none';
        return this.#fail('connection closed');
      case 'timer':
        if (e.timer === 'hold') {
          return this.#fail(
            'hold timer expired',
            bgpError(ErrorCode.HoldTimerExpired, 0, 'hold timer expired'),
          );
        }
        if (e.timer === 'keepalive' && s !== 'OpenSent') {
          this.#emit({ type: 'send', message: { type: 'keepalive' } });
          return this.#startKeepalive();
        }
        return this.#unexpected(`${e.timer} timer`);
      case 'message':
        return this.#message(e.message);
    }
  }

  #message(m: BgpMessage): void {
    const s = this.#state;
    if (m.type === 'notification') return this.#fail('NOTIFICATION received');
    if (s === 'OpenSent') {
      if (m.type !== 'open') return this.#unexpected(m.type);
      const result = this.#negotiate(m);
      if ('code' in result) return this.#fail(result.reason, result);
      this.#negotiated = result;
      this.#emit({ type: 'send', message: { type: 'keepalive' } });
      this.#restartHold();
      this.#startKeepalive();
      return this.#go('OpenConfirm', 'OPEN received');
    }
    if (s === 'OpenConfirm') {
      if (m.type !== 'keepalive') return this.#unexpected(m.type);
      this.#restartHold();
      // A session that got this far ends the backoff.
      this.#failures = 0;
      this.#connectAttempts = 0;
      return this.#go('Established', 'KEEPALIVE received');
    }
    // Established: KEEPALIVE and UPDATE prove the peer alive (RFC 4271 4.4).
    if (m.type === 'keepalive' || m.type === 'update') return this.#restartHold();
    if (m.type === 'route-refresh') return;
    return this.#unexpected(m.type);
  }

  // --- helpers ------------------------------------------------------------------------

  #emit(a: FsmAction): void {
    this.#out.push(a);
  }

  #go(to: BgpState, reason: string): void {
    const from = this.#state;
    this.#state = to;
    this.#emit({ type: 'state', from, to, reason });
  }

  #startTimer(timer: TimerName, ms: number, jitter: boolean): void {
    this.#timers.add(timer);
    this.#emit({ type: 'start-timer', timer, ms, jitter });
  }

  #stopTimer(timer: TimerName): void {
    if (!this.#timers.delete(timer)) return;
    this.#emit({ type: 'stop-timer', timer });
  }

  #stopAllTimers(): void {
    for (const t of [...this.#timers]) this.#stopTimer(t);
  }

  #startConnectRetry(): void {
    const c = this.config;
    const ms = backoffDelay(this.#connectAttempts, {
      baseMs: c.connectRetrySec * 1000,
      capMs: Math.max(c.connectRetrySec, c.connectRetryMaxSec) * 1000,
    });
    this.#startTimer('connect-retry', ms, true);
  }

  #restartHold(): void {
    const hold = this.#negotiated?.holdTimeSec ?? 0;
    if (hold === 0) return this.#stopTimer('hold');
    this.#startTimer('hold', hold * 1000, false);
  }

  #startKeepalive(): void {
    const ka = this.#negotiated?.keepaliveSec ?? 0;
    if (ka === 0) return this.#stopTimer('keepalive');
    this.#startTimer('keepalive', ka * 1000, true);
  }

  #begin(passive: boolean, reason: string): void {
    this.#passive = passive;
    this.#connectAttempts = 0;
    this.#negotiated = undefined;
    if (passive) return this.#go('Active', `${reason} (passive)`);
    this.#startConnectRetry();
    this.#emit({ type: 'connect' });
    this.#connection = 'connecting';
    this.#go('Connect', reason);
  }

  #sendOpen(): void {
    this.#stopTimer('connect-retry');
    this.#connection = 'connected';
    this.#emit({ type: 'send', message: this.openMessage() });
    this.#startTimer('hold', OPEN_HOLD_MS, false);
    this.#go('OpenSent', 'connection established');
  }

  #unexpected(what: string): void {
    const subcode = UNEXPECTED_SUBCODE[this.#state] ?? FsmErrorSubcode.Unspecified;
    this.#fail(
      `unexpected ${what} in ${this.#state}`,
      bgpError(ErrorCode.FiniteStateMachine, subcode, `unexpected ${what}`),
    );
  }

  /** Leaves for Idle: optionally tells the peer why, and drops the connection. */
  #leave(notify: BgpError | undefined): void {
    if (notify && this.#connection === 'connected') {
      this.#emit({ type: 'send', message: notificationFor(notify) });
    }
    if (this.#connection !== 'none') this.#emit({ type: 'disconnect' });
    this.#connection = 'none';
    this.#stopAllTimers();
    this.#negotiated = undefined;
  }

  /** An error: to Idle, and back again after the idle-hold time unless stopped. */
  #fail(reason: string, notify?: BgpError): void {
    this.#leave(notify);
    this.#failures++;
    this.#go('Idle', reason);
    if (this.config.autoRestart === false || this.#stopped) return;
    const c = this.config;
    const ms = backoffDelay(this.#failures - 1, {
      baseMs: c.idleHoldSec * 1000,
      capMs: Math.max(c.idleHoldSec, c.idleHoldMaxSec) * 1000,
    });
    this.#startTimer('idle-hold', ms, true);
  }

  #stop(subcode: number = CeaseSubcode.AdministrativeShutdown): void {
    this.#leave(bgpError(ErrorCode.Cease, subcode, 'stopped'));
    this.#stopped = true;
    this.#failures = 0;
    this.#connectAttempts = 0;
    this.#go('Idle', 'stopped');
  }

  /** RFC 4271 6.8: the losing connection says Cease / Connection Collision Resolution and closes. */
  #dump(): void {
    this.#leave(bgpError(ErrorCode.Cease, CeaseSubcode.ConnectionCollisionResolution, 'collision'));
    this.#stopped = true;
    this.#go('Idle', 'lost connection collision');
  }

  /** Checks the peer's OPEN against our configuration and agrees the session parameters. */
  #negotiate(open: OpenMessage): Negotiated | BgpError {
    const c = this.config;
    const peerAs = senderAs(open);
    const ibgp = peerAs === c.localAs;
    const expected = c.peerAs;
    const asOk = expected === 'internal' ? ibgp : expected === 'external' ? !ibgp : peerAs === expected;
    if (!asOk) return bgpError(ErrorCode.OpenMessage, OpenErrorSubcode.BadPeerAs, `peer AS ${peerAs}`);
    // RFC 6286 2.2: within one AS the identifiers must differ.
    if (ibgp && open.bgpId === c.routerId) {
      return bgpError(
        ErrorCode.OpenMessage,
        OpenErrorSubcode.BadBgpIdentifier,
        `peer uses our id ${open.bgpId}`,
      );
    }
    // RFC 4271 4.2: the smaller hold time wins; zero means no keepalives at all.
    const holdTimeSec = Math.min(c.holdTimeSec, open.holdTimeSec);
    // A configured keepalive longer than a third of the agreed hold time would
    // let the peer's hold timer expire, so it is capped there.
    const third = Math.floor(holdTimeSec / 3);
    const keepaliveSec = holdTimeSec === 0 ? 0 : Math.max(1, Math.min(c.keepaliveSec ?? third, third));
    const mp: AddressFamily[] = [];
    let sawMp = false;
    let routeRefresh = false;
    let fourOctetAs = false;
    let peerGracefulRestart: Negotiated['peerGracefulRestart'];
    for (const cap of open.capabilities) {
      if (cap.kind === 'multiprotocol') {
        sawMp = true;
        const f = familyOf(cap.afi, cap.safi);
        if (f) mp.push(f);
      } else if (cap.kind === 'route-refresh') routeRefresh = true;
      else if (cap.kind === 'four-octet-as') fourOctetAs = true;
      else if (cap.kind === 'graceful-restart') peerGracefulRestart = cap;
    }
    // RFC 4760 8: a peer that advertises no multiprotocol capability speaks IPv4 unicast.
    const peerFamilies: AddressFamily[] = sawMp ? mp : ['ipv4-unicast'];
    const families = c.families.filter((f) => peerFamilies.includes(f));
    return {
      peerAs,
      peerId: open.bgpId,
      ibgp,
      holdTimeSec,
      keepaliveSec,
      fourOctetAs,
      families,
      routeRefresh,
      ...(peerGracefulRestart ? { peerGracefulRestart } : {}),
      peerOpen: open,
    };
  }
}

function describe(e: FsmEvent): string {
  if (e.type === 'timer') return `${e.timer} timer`;
  if (e.type === 'message') return `${e.message.type} message`;
  return e.type;
}
