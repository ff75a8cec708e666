// Connection collision resolution (RFC 4271 6.8, RFC 6286 2.3): when both
// speakers open a connection at once, exactly one survives, and both sides
// must agree which without talking about it.
import { ipv4ToNumber } from './codec/ip.ts';

export type ConnectionDirection = 'outgoing' | 'incoming';

/**
 * Which of two colliding connections to keep. The speaker with the higher BGP
 * identifier keeps the connection it initiated. With equal identifiers
 * (possible between ASes, RFC 6286 2.3) the one with the larger AS does.
 */
export function collisionSurvivor(
  local: { bgpId: string; asn: number },
  remote: { bgpId: string; asn: number },
): ConnectionDirection {
  const l = ipv4ToNumber(local.bgpId);
  const r = ipv4ToNumber(remote.bgpId);
  if (l !== r) return l > r ? 'outgoing' : 'incoming';
  return local.asn > remote.asn ? 'outgoing' : 'incoming';
}
