// What to send for a received frame, given what this node announces. Pure:
// the announcer feeds it frames and sends what it returns.
import { isRequestFor, parseArp, buildArpReply } from './arp.ts';
import { buildSolicitedAdvertisement, parseNeighborSolicitation } from './ndp.ts';

export interface AnnouncedIP {
  /** Interfaces to answer on; empty means every interface the speaker uses. */
  interfaces: readonly string[];
}

export type Protocol = 'arp' | 'ndp';

export interface Decision {
  protocol: Protocol;
  /** The address asked for. */
  ip: string;
  /** The frame to send back on the same interface, when we answer. */
  reply?: Uint8Array;
}

export const answersOn = (entry: AnnouncedIP, ifname: string) =>
  entry.interfaces.length === 0 || entry.interfaces.includes(ifname);

/**
 * The decision for a frame received on `ifname` (whose MAC is `mac`):
 * undefined for frames that are not ARP requests or solicitations; a decision
 * without reply for requests of addresses we do not announce here.
 */
export function respond(
  frame: Uint8Array,
  ifname: string,
  mac: string,
  announced: ReadonlyMap<string, AnnouncedIP>,
): Decision | undefined {
  const arp = parseArp(frame);
  if (arp) {
    if (arp.op !== 1) return undefined;
    const entry = announced.get(arp.targetIp);
    if (!entry || !isRequestFor(arp, arp.targetIp) || !answersOn(entry, ifname)) {
      return { protocol: 'arp', ip: arp.targetIp };
    }
    return { protocol: 'arp', ip: arp.targetIp, reply: buildArpReply(arp, mac) };
  }
  const ns = parseNeighborSolicitation(frame);
  if (ns) {
    const entry = announced.get(ns.target);
    if (!entry || !answersOn(entry, ifname)) return { protocol: 'ndp', ip: ns.target };
    return { protocol: 'ndp', ip: ns.target, reply: buildSolicitedAdvertisement(ns, mac) };
  }
  return undefined;
}
