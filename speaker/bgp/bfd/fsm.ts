// One BFD session in asynchronous mode (RFC 5880 6.2, 6.8): the state machine
// Down -> Init -> Up (and AdminDown), the negotiated transmit interval and
// detection time, and the Poll/Final exchange that changes intervals. Pure:
// the adapter feeds it packets and timer expiries and sends what it returns.
import { BfdDiag } from './packet.ts';
import type { BfdPacket, BfdState } from './packet.ts';

export interface BfdConfig {
  /** bfd.LocalDiscr: nonzero and unique among this system's sessions. */
  localDiscriminator: number;
  /** bfd.DesiredMinTxInterval once Up, in ms. */
  desiredMinTxMs: number;
  /** bfd.RequiredMinRxInterval, in ms. */
  requiredMinRxMs: number;
  /** bfd.DetectMult. */
  detectMultiplier: number;
  /** Passive role (6.1): send nothing until the peer has spoken. */
  passive: boolean;
}

/** 6.8.3: while not Up, packets go out no faster than once a second. */
export const SLOW_TX_MS = 1000;

export interface BfdTransition {
  from: BfdState;
  to: BfdState;
  diag: number;
}

export interface BfdReceiveResult {
  /** Why the packet was dropped (6.8.6), if it was. */
  discarded?: string;
  transition?: BfdTransition;
  /** A Poll arrived: answer with a Final now rather than at the next interval. */
  replyNow: boolean;
}

export class BfdFsm {
  readonly config: BfdConfig;
  state: BfdState = 'Down';
  diag: number = BfdDiag.None;
  remoteDiscriminator = 0;
  remoteState: BfdState = 'Down';
  /** bfd.RemoteMinRxInterval, µs; 1 until the peer says otherwise (6.8.1). */
  remoteMinRxUs = 1;
  remoteDesiredMinTxUs = 0;
  remoteDetectMult = 0;
  /** A Poll Sequence we started is waiting for its Final. */
  polling = false;
  #owesFinal = false;

  constructor(config: BfdConfig) {
    this.config = config;
  }

  /** The DesiredMinTxInterval we advertise now, in ms. */
  get desiredMinTxMs(): number {
    return this.state === 'Up'
      ? this.config.desiredMinTxMs
      : Math.max(this.config.desiredMinTxMs, SLOW_TX_MS);
  }

  /** 6.8.7: the interval between our packets, before jitter; 0 means send nothing periodically. */
  get txIntervalMs(): number {
    if (this.remoteMinRxUs === 0) return 0;
    return Math.max(this.desiredMinTxMs, this.remoteMinRxUs / 1000);
  }

  /** 6.8.4: how long without a packet before the session is declared down, in ms; 0 until the peer has spoken. */
  get detectTimeMs(): number {
    if (this.remoteDetectMult === 0) return 0;
    return this.remoteDetectMult * Math.max(this.config.requiredMinRxMs, this.remoteDesiredMinTxUs / 1000);
  }

  /** Whether periodic transmission may happen at all (6.8.7). */
  get mayTransmit(): boolean {
    if (this.state === 'AdminDown' && this.remoteDiscriminator === 0) return false;
    if (this.config.passive && this.remoteDiscriminator === 0) return false;
    return this.remoteMinRxUs !== 0;
  }

  /** The next Control packet to send; takes the owed Final, if any. */
  nextPacket(): BfdPacket {
    const final = this.#owesFinal;
    this.#owesFinal = false;
    return {
      diag: this.diag,
      state: this.state,
      poll: this.polling && !final,
      final,
      controlPlaneIndependent: false,
      demand: false,
      detectMult: this.config.detectMultiplier,
      myDiscriminator: this.config.localDiscriminator,
      yourDiscriminator: this.remoteDiscriminator,
      desiredMinTxUs: Math.round(this.desiredMinTxMs * 1000),
      requiredMinRxUs: this.state === 'AdminDown' ? 0 : Math.round(this.config.requiredMinRxMs * 1000),
      requiredMinEchoRxUs: 0,
    };
  }

  /** RFC 5880 6.8.6, from "If the Your Discriminator field is nonzero" on. */
  receive(p: BfdPacket): BfdReceiveResult {
    if (p.yourDiscriminator !== 0 && p.yourDiscriminator !== this.config.localDiscriminator) {
      return { discarded: 'your discriminator is not ours', replyNow: false };
    }
    if (this.state === 'AdminDown') return { discarded: 'session is AdminDown', replyNow: false };
    this.remoteDiscriminator = p.myDiscriminator;
    this.remoteState = p.state;
    this.remoteMinRxUs = p.requiredMinRxUs;
    this.remoteDesiredMinTxUs = p.desiredMinTxUs;
    this.remoteDetectMult = p.detectMult;
    if (p.final) this.polling = false;
    let transition: BfdTransition | undefined;
    const to = (next: BfdState, diag: number): void => {
      transition = { from: this.state, to: next, diag };
      this.state = next;
      this.diag = diag;
      // 6.8.3: leaving or entering Up changes our DesiredMinTx; say so with a Poll.
      if (next === 'Up' && this.config.desiredMinTxMs !== SLOW_TX_MS) this.polling = true;
      if (next !== 'Up') this.polling = false;
    };
    if (p.state === 'AdminDown') {
      if (this.state !== 'Down') to('Down', BfdDiag.NeighborSignaledSessionDown);
    } else if (this.state === 'Down') {
      if (p.state === 'Down') to('Init', BfdDiag.None);
      else if (p.state === 'Init') to('Up', BfdDiag.None);
    } else if (this.state === 'Init') {
      if (p.state === 'Init' || p.state === 'Up') to('Up', BfdDiag.None);
    } else if (p.state === 'Down') {
      to('Down', BfdDiag.NeighborSignaledSessionDown);
    }
    if (p.poll) this.#owesFinal = true;
    return { ...(transition ? { transition } : {}), replyNow: p.poll };
  }

  /** The detection timer ran out (6.8.4). */
  detectExpired(): BfdTransition | undefined {
    if (this.state !== 'Init' && this.state !== 'Up') return undefined;
    const from = this.state;
    this.state = 'Down';
    this.diag = BfdDiag.ControlDetectionTimeExpired;
    this.remoteDiscriminator = 0;
    this.remoteMinRxUs = 1;
    this.remoteDetectMult = 0;
    this.polling = false;
    return { from, to: 'Down', diag: this.diag };
  }

  /** Administrative shutdown (6.8.16): the peer is told, and takes its side down without a detection failure. */
  adminDown(): BfdTransition {
    const from = this.state;
    this.state = 'AdminDown';
    this.diag = BfdDiag.AdministrativelyDown;
    this.polling = false;
    return { from, to: 'AdminDown', diag: this.diag };
  }
}
