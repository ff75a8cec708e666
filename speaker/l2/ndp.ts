// Neighbor Discovery (RFC 4861) for IPv6 over Ethernet: parse a Neighbor
// Solicitation, build the solicited Neighbor Advertisement, and the
// unsolicited one (Override set) sent on takeover. Pure. Malformed packets,
// and solicitations RFC 4861 §7.1.1 says to drop (hop limit not 255, code not
// 0, bad checksum, multicast target), give undefined.
import {
  ETHERTYPE_IPV6,
  ETHER_HEADER,
  bytesToIp,
  bytesToMac,
  etherType,
  ipToBytes,
  writeEtherHeader,
} from './bytes.ts';

const IPV6_HEADER = 40;
const ICMPV6 = 58;
export const NEIGHBOR_SOLICITATION = 135;
export const NEIGHBOR_ADVERTISEMENT = 136;
const OPT_SOURCE_LLA = 1;
const OPT_TARGET_LLA = 2;
const FLAG_SOLICITED = 0x40;
const FLAG_OVERRIDE = 0x20;
export const ALL_NODES = 'ff02::1';
const ALL_NODES_MAC = '33:33:00:00:00:01';

export interface NeighborSolicitation {
  ethSrc: string;
  /** IPv6 source; "::" for duplicate address detection. */
  source: string;
  destination: string;
  target: string;
  /** The Source Link-Layer Address option, when present. */
  sourceLinkAddress?: string;
}

export function parseNeighborSolicitation(frame: Uint8Array): NeighborSolicitation | undefined {
  const ip = ETHER_HEADER;
  const icmp = ip + IPV6_HEADER;
  if (frame.length < icmp + 24 || etherType(frame) !== ETHERTYPE_IPV6) return undefined;
  if ((frame[ip] ?? 0) >> 4 !== 6 || frame[ip + 6] !== ICMPV6 || frame[ip + 7] !== 255) return undefined;
  const payloadLength = ((frame[ip + 4] ?? 0) << 8) | (frame[ip + 5] ?? 0);
  if (payloadLength < 24 || icmp + payloadLength > frame.length) return undefined;
  if (frame[icmp] !== NEIGHBOR_SOLICITATION || frame[icmp + 1] !== 0) return undefined;
  const view = frame.subarray(ip, icmp + payloadLength);
  if (icmpv6Checksum(view.subarray(8, 24), view.subarray(24, 40), view.subarray(IPV6_HEADER)) !== 0) {
    return undefined;
  }
  if (frame[icmp + 8] === 0xff) return undefined; // multicast target
  const ns: NeighborSolicitation = {
    ethSrc: bytesToMac(frame, 6),
    source: bytesToIp(frame, ip + 8, 16),
    destination: bytesToIp(frame, ip + 24, 16),
    target: bytesToIp(frame, icmp + 8, 16),
  };
  // Options: type, length in units of 8 bytes, value.
  for (let o = icmp + 24; o + 2 <= icmp + payloadLength;) {
    const len = (frame[o + 1] ?? 0) * 8;
    if (len === 0 || o + len > icmp + payloadLength) return undefined;
    if (frame[o] === OPT_SOURCE_LLA && len >= 8) ns.sourceLinkAddress = bytesToMac(frame, o + 2);
    o += len;
  }
  // RFC 4861 §7.1.1: from the unspecified address there is no SLLA option.
  if (ns.source === '::' && ns.sourceLinkAddress !== undefined) return undefined;
  return ns;
}

/** The one's-complement checksum over the IPv6 pseudo-header and the ICMPv6 message. */
export function icmpv6Checksum(src: Uint8Array, dst: Uint8Array, message: Uint8Array): number {
  let sum = 0;
  const add = (b: Uint8Array) => {
    for (let i = 0; i < b.length; i += 2) sum += ((b[i] ?? 0) << 8) | (b[i + 1] ?? 0);
  };
  add(src);
  add(dst);
  sum += message.length >>> 16;
  sum += message.length & 0xffff;
  sum += ICMPV6;
  add(message);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** The Ethernet multicast address for an IPv6 multicast group (RFC 2464 §7). */
export function multicastMac(group: Uint8Array): string {
  const tail = [...group.subarray(12)].map((b) => b.toString(16).padStart(2, '0'));
  return `33:33:${tail.join(':')}`;
}

export interface AdvertisementFields {
  ethDst: string;
  mac: string;
  source: string;
  destination: string;
  target: string;
  solicited: boolean;
  override: boolean;
}

export function buildNeighborAdvertisement(f: AdvertisementFields): Uint8Array {
  const src = ipv6(f.source);
  const dst = ipv6(f.destination);
  const message = new Uint8Array(32);
  message[0] = NEIGHBOR_ADVERTISEMENT;
  message[4] = (f.solicited ? FLAG_SOLICITED : 0) | (f.override ? FLAG_OVERRIDE : 0);
  message.set(ipv6(f.target), 8);
  message[24] = OPT_TARGET_LLA;
  message[25] = 1;
  message.set(
    f.mac.split(':').map((h) => parseInt(h, 16)),
    26,
  );
  const sum = icmpv6Checksum(src, dst, message);
  message[2] = sum >> 8;
  message[3] = sum & 0xff;

  const frame = new Uint8Array(ETHER_HEADER + IPV6_HEADER + message.length);
  writeEtherHeader(frame, f.ethDst, f.mac, ETHERTYPE_IPV6);
  const ip = ETHER_HEADER;
  frame[ip] = 0x60;
  frame[ip + 4] = message.length >> 8;
  frame[ip + 5] = message.length & 0xff;
  frame[ip + 6] = ICMPV6;
  frame[ip + 7] = 255;
  frame.set(src, ip + 8);
  frame.set(dst, ip + 24);
  frame.set(message, ip + IPV6_HEADER);
  return frame;
}

function ipv6(ip: string): Uint8Array {
  const b = ipToBytes(ip);
  if (!b || b.length !== 16) throw new Error(`not an IPv6 address: ${JSON.stringify(ip)}`);
  return b;
}

/**
 * The answer to a solicitation for a VIP we announce, from `mac`. A DAD probe
 * (source ::) is answered to all-nodes without the Solicited flag (RFC 4861
 * §7.2.4); otherwise to the asker, at the MAC its option (or frame) gives.
 */
export function buildSolicitedAdvertisement(ns: NeighborSolicitation, mac: string): Uint8Array {
  const dad = ns.source === '::';
  return buildNeighborAdvertisement({
    ethDst: dad ? ALL_NODES_MAC : (ns.sourceLinkAddress ?? ns.ethSrc),
    mac,
    source: ns.target,
    destination: dad ? ALL_NODES : ns.source,
    target: ns.target,
    solicited: !dad,
    override: true,
  });
}

/** The unsolicited advertisement (Override set) that moves every neighbour's entry to `mac`. */
export function buildUnsolicitedAdvertisement(mac: string, ip: string): Uint8Array {
  return buildNeighborAdvertisement({
    ethDst: ALL_NODES_MAC,
    mac,
    source: ip,
    destination: ALL_NODES,
    target: ip,
    solicited: false,
    override: true,
  });
}
