// ARP over Ethernet (RFC 826) for IPv4: parse a request, build the reply, and
// build gratuitous announcements. Pure: frames in, frames out. Anything that is
// not Ethernet/IPv4 ARP of the right size is rejected (undefined), never thrown.
import {
  BROADCAST_MAC,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ETHER_HEADER,
  bytesToIp,
  bytesToMac,
  etherType,
  ipToBytes,
  macToBytes,
  writeEtherHeader,
} from './bytes.ts';

export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;
const ARP_SIZE = 28;
/** Ethernet's minimum payload; short frames are padded so every NIC sends them. */
const MIN_FRAME = 60;

export interface ArpPacket {
  ethSrc: string;
  ethDst: string;
  op: number;
  senderMac: string;
  senderIp: string;
  targetMac: string;
  targetIp: string;
}

export function parseArp(frame: Uint8Array): ArpPacket | undefined {
  if (frame.length < ETHER_HEADER + ARP_SIZE || etherType(frame) !== ETHERTYPE_ARP) return undefined;
  const a = ETHER_HEADER;
  const htype = ((frame[a] ?? 0) << 8) | (frame[a + 1] ?? 0);
  const ptype = ((frame[a + 2] ?? 0) << 8) | (frame[a + 3] ?? 0);
  if (htype !== 1 || ptype !== ETHERTYPE_IPV4 || frame[a + 4] !== 6 || frame[a + 5] !== 4) return undefined;
  const op = ((frame[a + 6] ?? 0) << 8) | (frame[a + 7] ?? 0);
  if (op !== ARP_REQUEST && op !== ARP_REPLY) return undefined;
  return {
    ethDst: bytesToMac(frame, 0),
    ethSrc: bytesToMac(frame, 6),
    op,
    senderMac: bytesToMac(frame, a + 8),
    senderIp: bytesToIp(frame, a + 14, 4),
    targetMac: bytesToMac(frame, a + 18),
    targetIp: bytesToIp(frame, a + 24, 4),
  };
}

export interface ArpFields {
  ethDst: string;
  ethSrc: string;
  op: number;
  senderMac: string;
  senderIp: string;
  targetMac: string;
  targetIp: string;
}

export function buildArp(f: ArpFields): Uint8Array {
  const frame = new Uint8Array(MIN_FRAME);
  writeEtherHeader(frame, f.ethDst, f.ethSrc, ETHERTYPE_ARP);
  const a = ETHER_HEADER;
  frame.set([0, 1, ETHERTYPE_IPV4 >> 8, ETHERTYPE_IPV4 & 0xff, 6, 4, 0, f.op], a);
  frame.set(macToBytes(f.senderMac), a + 8);
  frame.set(ipv4(f.senderIp), a + 14);
  frame.set(macToBytes(f.targetMac), a + 18);
  frame.set(ipv4(f.targetIp), a + 24);
  return frame;
}

function ipv4(ip: string): Uint8Array {
  const b = ipToBytes(ip);
  if (!b || b.length !== 4) throw new Error(`not an IPv4 address: ${JSON.stringify(ip)}`);
  return b;
}

/** True for a request that asks who has `ip` (not a probe or announcement of our own). */
export function isRequestFor(p: ArpPacket, ip: string): boolean {
  return p.op === ARP_REQUEST && p.targetIp === ip && p.senderIp !== ip;
}

/** The reply to a request, sent to the asker from `mac`. */
export function buildArpReply(request: ArpPacket, mac: string): Uint8Array {
  return buildArp({
    ethDst: request.senderMac,
    ethSrc: mac,
    op: ARP_REPLY,
    senderMac: mac,
    senderIp: request.targetIp,
    targetMac: request.senderMac,
    targetIp: request.senderIp,
  });
}

/**
 * A gratuitous ARP for `ip` at `mac`, broadcast. The request form leaves the
 * target MAC zero (RFC 5227 announcement); the reply form repeats our MAC as
 * target, which is what Linux needs to treat a reply as gratuitous and
 * override an entry it learnt less than locktime ago.
 */
export function buildGratuitousArp(mac: string, ip: string, op: typeof ARP_REQUEST | typeof ARP_REPLY) {
  return buildArp({
    ethDst: BROADCAST_MAC,
    ethSrc: mac,
    op,
    senderMac: mac,
    senderIp: ip,
    targetMac: op === ARP_REPLY ? mac : '00:00:00:00:00:00',
    targetIp: ip,
  });
}
