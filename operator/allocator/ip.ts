// IPv4/IPv6 addresses as (family, bigint) pairs: parsing, canonical
// formatting and CIDR prefixes.
//
// Decisions:
// - Parsing is strict and never throws: it returns a Result with a typed error.
// - IPv4 is dotted-quad only, four decimal parts, no leading zeros ("010.0.0.1"
//   is rejected, as Go's net.ParseIP has done since Go 1.17).
// - IPv6 accepts every RFC 4291 text form (`::`, mixed case, an embedded
//   dotted-quad tail). Zone identifiers (`fe80::1%eth0`) are rejected.
// - IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`, i.e. ::ffff:0:0/96) are
//   rejected: Go (and so MetalLB) silently treats them as IPv4, which makes the
//   family of such an input ambiguous. The error tells the user the IPv4 form.
// - Formatting is canonical: IPv4 dotted-quad, IPv6 per RFC 5952 (lowercase,
//   no leading zeros, the first longest run of two or more zero groups
//   compressed to `::`, no dotted-quad tail).
// - A CIDR with host bits set ("10.0.0.5/24") is accepted and normalised to its
//   network (10.0.0.0/24), as Go's net.ParseCIDR and therefore MetalLB do;
//   `hostBitsSet` tells the caller so it can warn.

import { err, ok, quote } from './errors.ts';
import type { Result } from './errors.ts';

export type IPFamily = 'IPv4' | 'IPv6';
export const IP_FAMILIES: readonly IPFamily[] = ['IPv4', 'IPv6'];

export interface IPAddress {
  readonly family: IPFamily;
  readonly value: bigint;
}

export interface CIDR {
  readonly family: IPFamily;
  /** First address (the network address). */
  readonly first: bigint;
  /** Last address (the broadcast address for IPv4). */
  readonly last: bigint;
  readonly prefixLength: number;
  /** The input had bits set below the prefix; it was normalised to the network. */
  readonly hostBitsSet: boolean;
}

export interface IPParseError {
  readonly kind: 'InvalidIP';
  readonly input: string;
  readonly message: string;
}

export interface CIDRParseError {
  readonly kind: 'InvalidCIDR';
  readonly input: string;
  readonly message: string;
}

export function familyBits(family: IPFamily): 32 | 128 {
  return family === 'IPv4' ? 32 : 128;
}

export function maxAddress(family: IPFamily): bigint {
  return (1n << BigInt(familyBits(family))) - 1n;
}

export function otherFamily(family: IPFamily): IPFamily {
  return family === 'IPv4' ? 'IPv6' : 'IPv4';
}

export function isIPFamily(value: unknown): value is IPFamily {
  return value === 'IPv4' || value === 'IPv6';
}

const DECIMAL_OCTET = /^(0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

function parseIPv4Value(s: string): bigint | string {
  const parts = s.split('.');
  if (parts.length !== 4) return 'an IPv4 address has four dot-separated parts';
  let value = 0n;
  for (const part of parts) {
    if (!DECIMAL_OCTET.test(part)) {
      return part.length > 1 && part.startsWith('0') && /^[0-9]+$/.test(part)
        ? `IPv4 part ${quote(part)} has a leading zero`
        : `IPv4 part ${quote(part)} is not a decimal number`;
    }
    const n = Number(part);
    if (n > 255) return `IPv4 part ${quote(part)} is greater than 255`;
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

/** Parse a list of IPv6 groups; the last may be a dotted-quad (two groups). */
function parseIPv6Groups(groups: readonly string[], allowTail: boolean): number[] | string {
  const out: number[] = [];
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i] ?? '';
    if (allowTail && i === groups.length - 1 && g.includes('.')) {
      const v4 = parseIPv4Value(g);
      if (typeof v4 === 'string') return `invalid dotted-quad tail ${quote(g)}: ${v4}`;
      out.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      continue;
    }
    if (!HEX_GROUP.test(g)) {
      return g === '' ? 'empty group' : `group ${quote(g)} is not 1-4 hexadecimal digits`;
    }
    out.push(parseInt(g, 16));
  }
  return out;
}

function parseIPv6Value(s: string): bigint | string {
  if (s.includes('%')) return 'zone identifiers are not allowed';
  const dbl = s.indexOf('::');
  if (dbl !== -1 && s.indexOf('::', dbl + 1) !== -1) return '"::" may appear only once';
  let groups: number[];
  if (dbl === -1) {
    const parsed = parseIPv6Groups(s.split(':'), true);
    if (typeof parsed === 'string') return parsed;
    if (parsed.length !== 8) return 'an IPv6 address without "::" has eight groups';
    groups = parsed;
  } else {
    const headText = s.slice(0, dbl);
    const tailText = s.slice(dbl + 2);
    const head = headText === '' ? [] : parseIPv6Groups(headText.split(':'), false);
    if (typeof head === 'string') return head;
    const tail = tailText === '' ? [] : parseIPv6Groups(tailText.split(':'), true);
    if (typeof tail === 'string') return tail;
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return 'too many groups around "::"';
    groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  }
  let value = 0n;
  for (const g of groups) value = (value << 16n) | BigInt(g);
  return value;
}

/** Parse an IPv4 or IPv6 address. Never throws. */
export function parseIP(input: string): Result<IPAddress, IPParseError> {
  const fail = (message: string) => err<IPParseError>({ kind: 'InvalidIP', input, message });
  if (typeof input !== 'string') return fail(`${quote(input)} is not a string`);
  if (input === '') return fail('empty address');
  if (input.trim() !== input) return fail(`${quote(input)} has surrounding whitespace`);
  if (input.includes(':')) {
    const v = parseIPv6Value(input);
    if (typeof v === 'string') return fail(`${quote(input)} is not a valid IPv6 address: ${v}`);
    if (v >> 32n === 0xffffn) {
      // ::ffff:0:0/96
      return fail(
        `${quote(input)} is an IPv4-mapped IPv6 address; write the IPv4 address ${formatIPv4(v & 0xffffffffn)} instead`,
      );
    }
    return ok({ family: 'IPv6', value: v });
  }
  const v = parseIPv4Value(input);
  if (typeof v === 'string') return fail(`${quote(input)} is not a valid IP address: ${v}`);
  return ok({ family: 'IPv4', value: v });
}

function formatIPv4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => ((value >> s) & 0xffn).toString()).join('.');
}

function formatIPv6(value: bigint): string {
  const groups: number[] = [];
  for (let s = 112n; s >= 0n; s -= 16n) groups.push(Number((value >> s) & 0xffffn));
  // Find the first longest run of zero groups (length >= 2).
  let bestStart = -1;
  let bestLen = 0;
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
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(':');
  if (bestLen < 2) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

/** Canonical text of an address value of the given family. */
export function formatIPValue(family: IPFamily, value: bigint): string {
  if (value < 0n || value > maxAddress(family)) {
    throw new RangeError(`internal error: ${value} is outside the ${family} address space`);
  }
  return family === 'IPv4' ? formatIPv4(value) : formatIPv6(value);
}

export function formatIP(addr: IPAddress): string {
  return formatIPValue(addr.family, addr.value);
}

/** Canonical form of an address string, or undefined when it does not parse. */
export function canonicalIP(input: string): string | undefined {
  const r = parseIP(input);
  return r.ok ? formatIP(r.value) : undefined;
}

export function compareIP(a: IPAddress, b: IPAddress): number {
  if (a.family !== b.family) return a.family === 'IPv4' ? -1 : 1;
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}

/** Parse `address/prefixLength`. Never throws. */
export function parseCIDR(input: string): Result<CIDR, CIDRParseError> {
  const fail = (message: string) => err<CIDRParseError>({ kind: 'InvalidCIDR', input, message });
  if (typeof input !== 'string') return fail(`${quote(input)} is not a string`);
  const slash = input.indexOf('/');
  if (slash === -1) return fail(`${quote(input)} is not a CIDR: missing "/prefix-length"`);
  const addrText = input.slice(0, slash);
  const lenText = input.slice(slash + 1);
  const addr = parseIP(addrText);
  if (!addr.ok) return fail(`${quote(input)} is not a valid CIDR: ${addr.error.message}`);
  const bits = familyBits(addr.value.family);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(lenText) || Number(lenText) > bits) {
    return fail(`${quote(input)} is not a valid CIDR: prefix length must be an integer from 0 to ${bits}`);
  }
  const prefixLength = Number(lenText);
  const hostBits = BigInt(bits - prefixLength);
  const hostMask = (1n << hostBits) - 1n;
  const first = addr.value.value & ~hostMask & maxAddress(addr.value.family);
  return ok({
    family: addr.value.family,
    first,
    last: first | hostMask,
    prefixLength,
    hostBitsSet: (addr.value.value & hostMask) !== 0n,
  });
}

export function formatCIDR(cidr: CIDR): string {
  return `${formatIPValue(cidr.family, cidr.first)}/${cidr.prefixLength}`;
}

/** True when the inclusive range [lo, hi] is exactly one CIDR block. */
export function rangeAsCIDR(family: IPFamily, lo: bigint, hi: bigint): CIDR | undefined {
  const size = hi - lo + 1n;
  if (size <= 0n || (size & (size - 1n)) !== 0n || lo % size !== 0n) return undefined;
  let hostBits = 0;
  while (1n << BigInt(hostBits) < size) hostBits++;
  return { family, first: lo, last: hi, prefixLength: familyBits(family) - hostBits, hostBitsSet: false };
}
