// Address families we carry (RFC 4760 AFI/SAFI pairs), as readable names.
import { Afi, Safi } from './constants.ts';
import type { IpVersion } from './ip.ts';

export type AddressFamily = 'ipv4-unicast' | 'ipv6-unicast';

export const ALL_FAMILIES: readonly AddressFamily[] = ['ipv4-unicast', 'ipv6-unicast'];

export function familyOf(afi: number, safi: number): AddressFamily | undefined {
  if (safi !== Safi.Unicast) return undefined;
  if (afi === Afi.Ipv4) return 'ipv4-unicast';
  if (afi === Afi.Ipv6) return 'ipv6-unicast';
  return undefined;
}

export function afiSafiOf(family: AddressFamily): { afi: number; safi: number } {
  return { afi: family === 'ipv4-unicast' ? Afi.Ipv4 : Afi.Ipv6, safi: Safi.Unicast };
}

export function familyOfVersion(version: IpVersion): AddressFamily {
  return version === 4 ? 'ipv4-unicast' : 'ipv6-unicast';
}

export function versionOfFamily(family: AddressFamily): IpVersion {
  return family === 'ipv4-unicast' ? 4 : 6;
}

/** The family of a canonical prefix string. */
export function familyOfPrefix(prefix: string): AddressFamily {
  return prefix.includes(':') ? 'ipv6-unicast' : 'ipv4-unicast';
}
