// Just enough IP handling for the data path: validation, canonical text (so
// that the same address always renders, hashes and compares the same way, and
// matches what `nft` prints) and CIDR membership.
import { isIPv4, isIPv6 } from 'node:net';
import type { IPFamily } from './types.ts';

interface ParsedIP {
  readonly family: IPFamily;
  readonly value: bigint;
}

function v4Value(s: string): bigint {
  return s.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function v6Value(s: string): bigint {
  let text = s;
  // An embedded dotted-quad tail becomes two hex groups.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v = v4Value(tail);
    text = `${text.slice(0, lastColon + 1)}${(v >> 16n).toString(16)}:${(v & 0xffffn).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const restGroups = rest === undefined || rest === '' ? [] : rest.split(':');
  const zeros = rest === undefined ? 0 : 8 - headGroups.length - restGroups.length;
  const groups = [...headGroups, ...Array<string>(zeros).fill('0'), ...restGroups];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

export function parseIP(s: string): ParsedIP | null {
  if (isIPv4(s)) return { family: 4, value: v4Value(s) };
  if (isIPv6(s) && !s.includes('%')) return { family: 6, value: v6Value(s) };
  return null;
}

export function formatIP(ip: ParsedIP): string {
  if (ip.family === 4) {
    return [24n, 16n, 8n, 0n].map((shift) => String((ip.value >> shift) & 0xffn)).join('.');
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((ip.value >> BigInt(i * 16)) & 0xffffn));
  // RFC 5952: compress the first longest run of two or more zero groups.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** The canonical text of an address, or null when it is not one. */
export function canonicalIP(s: string): string | null {
  const ip = parseIP(s.trim());
  return ip ? formatIP(ip) : null;
}

export function ipFamily(s: string): IPFamily | null {
  return parseIP(s)?.family ?? null;
}

export interface CIDR {
  readonly family: IPFamily;
  readonly network: bigint;
  readonly prefixLength: number;
}

export function parseCIDR(s: string): CIDR | null {
  const slash = s.indexOf('/');
  const ip = parseIP(slash < 0 ? s : s.slice(0, slash));
  if (!ip) return null;
  const bits = ip.family === 4 ? 32 : 128;
  const lenText = slash < 0 ? String(bits) : s.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(lenText) || Number(lenText) > bits) return null;
  const prefixLength = Number(lenText);
  const hostBits = BigInt(bits - prefixLength);
  return { family: ip.family, network: (ip.value >> hostBits) << hostBits, prefixLength };
}

export function formatCIDR(c: CIDR): string {
  return `${formatIP({ family: c.family, value: c.network })}/${c.prefixLength}`;
}

export function cidrContains(cidr: CIDR, address: string): boolean {
  const ip = parseIP(address);
  if (!ip || ip.family !== cidr.family) return false;
  const hostBits = BigInt((cidr.family === 4 ? 32 : 128) - cidr.prefixLength);
  return ip.value >> hostBits === cidr.network >> hostBits;
}
