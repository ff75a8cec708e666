// Portico's BGP-4 speaker: a pure codec, FSM and Adj-RIB-Out, and the thin
// node:net adapter (session and listener) that drives them.
export * as codec from './codec/index.ts';
export { collisionSurvivor } from './collision.ts';
export type { ConnectionDirection } from './collision.ts';
export { BgpFsm, FSM_DEFAULTS, OPEN_HOLD_MS } from './fsm.ts';
export type { BgpState, FsmAction, FsmConfig, FsmEvent, Negotiated, TimerName } from './fsm.ts';
export { BgpListener, normalizePeerAddress } from './listener.ts';
export { AdjRibOut, DEFAULT_LOCAL_PREF } from './rib-out.ts';
export type { OutboundRoute, RibOutPeer, RibOutSync } from './rib-out.ts';
export { BGP_PORT, BgpSession } from './session.ts';
export type { BgpSessionOptions, SessionStats } from './session.ts';
