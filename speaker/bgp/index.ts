// Portico's BGP-4 speaker: a pure codec, FSM and Adj-RIB-Out, and the thin
// node:net adapter (session and listener) that drives them, BFD, and the
// speaker part (startBgp) that wires them to the CRDs.
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
export { BfdEndpoint, BFD_PORT } from './bfd/endpoint.ts';
export type { BfdPeer, BfdPeerOptions } from './bfd/endpoint.ts';
export { BfdFsm } from './bfd/fsm.ts';
export type { BfdConfig, BfdTransition } from './bfd/fsm.ts';
export { decodeBfdPacket, encodeBfdPacket } from './bfd/packet.ts';
export type { BfdPacket, BfdState } from './bfd/packet.ts';
export { buildPeerConfigs, formatConfigError, resolveCommunities } from './config.ts';
export type { ConfigError, PeerConfig } from './config.ts';
export { planAnnouncements } from './announce.ts';
export type { AnnouncePlan, ServiceAnnouncement } from './announce.ts';
export { rawConnect, rawListen, setMd5Key, setTtl } from './raw-socket.ts';
export { startBgp } from './agent.ts';
export type { BgpOptions } from './agent.ts';
