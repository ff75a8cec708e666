// BFD Control packets (RFC 5880 4.1): the 24-byte mandatory section. We never
// send the Authentication section, and discard packets that carry one (the
// A bit), as 6.8.6 requires of a session that does not use authentication.

export type BfdState = 'AdminDown' | 'Down' | 'Init' | 'Up';
const STATES: readonly BfdState[] = ['AdminDown', 'Down', 'Init', 'Up'];

/** RFC 5880 4.1 diagnostic codes. */
export const BfdDiag = {
  None: 0,
  ControlDetectionTimeExpired: 1,
  EchoFunctionFailed: 2,
  NeighborSignaledSessionDown: 3,
  ForwardingPlaneReset: 4,
  PathDown: 5,
  ConcatenatedPathDown: 6,
  AdministrativelyDown: 7,
  ReverseConcatenatedPathDown: 8,
} as const;

export interface BfdPacket {
  diag: number;
  state: BfdState;
  poll: boolean;
  final: boolean;
  /** C: forwarding is independent of the control plane. */
  controlPlaneIndependent: boolean;
  demand: boolean;
  detectMult: number;
  myDiscriminator: number;
  yourDiscriminator: number;
  /** Microseconds, as on the wire. */
  desiredMinTxUs: number;
  requiredMinRxUs: number;
  requiredMinEchoRxUs: number;
}

export const BFD_VERSION = 1;
export const BFD_PACKET_LENGTH = 24;

export function encodeBfdPacket(p: BfdPacket): Uint8Array {
  const out = new Uint8Array(BFD_PACKET_LENGTH);
  const v = new DataView(out.buffer);
  v.setUint8(0, (BFD_VERSION << 5) | (p.diag & 0x1f));
  const flags =
    (p.poll ? 0x20 : 0) |
    (p.final ? 0x10 : 0) |
    (p.controlPlaneIndependent ? 0x08 : 0) |
    (p.demand ? 0x02 : 0);
  v.setUint8(1, (STATES.indexOf(p.state) << 6) | flags);
  v.setUint8(2, p.detectMult);
  v.setUint8(3, BFD_PACKET_LENGTH);
  v.setUint32(4, p.myDiscriminator >>> 0);
  v.setUint32(8, p.yourDiscriminator >>> 0);
  v.setUint32(12, p.desiredMinTxUs >>> 0);
  v.setUint32(16, p.requiredMinRxUs >>> 0);
  v.setUint32(20, p.requiredMinEchoRxUs >>> 0);
  return out;
}

export type BfdDecodeResult = { ok: true; packet: BfdPacket } | { ok: false; reason: string };

/**
 * The checks of RFC 5880 6.8.6 that need only the packet. Total: any input
 * gives a packet or the reason it must be discarded.
 */
export function decodeBfdPacket(bytes: Uint8Array): BfdDecodeResult {
  if (bytes.length < BFD_PACKET_LENGTH) return { ok: false, reason: `short packet (${bytes.length} bytes)` };
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const b0 = v.getUint8(0);
  const b1 = v.getUint8(1);
  const length = v.getUint8(3);
  if (b0 >> 5 !== BFD_VERSION) return { ok: false, reason: `version ${b0 >> 5}` };
  if (b1 & 0x04) return { ok: false, reason: 'authentication present but not configured' };
  if (length < BFD_PACKET_LENGTH) return { ok: false, reason: `length field ${length} too small` };
  if (length > bytes.length) return { ok: false, reason: `length field ${length} beyond the packet` };
  if (b1 & 0x01) return { ok: false, reason: 'multipoint bit set' };
  const packet: BfdPacket = {
    diag: b0 & 0x1f,
    state: STATES[b1 >> 6] as BfdState,
    poll: (b1 & 0x20) !== 0,
    final: (b1 & 0x10) !== 0,
    controlPlaneIndependent: (b1 & 0x08) !== 0,
    demand: (b1 & 0x02) !== 0,
    detectMult: v.getUint8(2),
    myDiscriminator: v.getUint32(4),
    yourDiscriminator: v.getUint32(8),
    desiredMinTxUs: v.getUint32(12),
    requiredMinRxUs: v.getUint32(16),
    requiredMinEchoRxUs: v.getUint32(20),
  };
  if (packet.detectMult === 0) return { ok: false, reason: 'detect multiplier 0' };
  if (packet.myDiscriminator === 0) return { ok: false, reason: 'my discriminator 0' };
  if (packet.yourDiscriminator === 0 && packet.state !== 'Down' && packet.state !== 'AdminDown') {
    return { ok: false, reason: `your discriminator 0 in state ${packet.state}` };
  }
  return { ok: true, packet };
}
