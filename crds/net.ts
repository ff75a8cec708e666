// Parsers for the string formats the CRDs accept: IP addresses, CIDRs,
// address-pool entries, node-port entries and Go-style durations.
//
// They follow the semantics of the Kubernetes CEL `ip()`/`cidr()` library
// (Go's net/netip underneath), so that the TypeScript validation and the
// apiserver's `x-kubernetes-validations` agree:
//   - IPv4 octets have no leading zeros ("010.0.0.1" is rejected);
//   - IPv6 zones ("fe80::1%eth0") are rejected;
//   - IPv4-mapped IPv6 addresses ("::ffff:1.2.3.4") are rejected;
//   - a CIDR may have host bits set ("192.168.1.7/24" is accepted, as
//     MetalLB accepts it); `network` is the masked start.
// Everything here is pure and allocation-light; IPv6 values are bigints.

export type IPFamily = 4 | 6;

export interface ParsedIP {
  family: IPFamily;
  /** The address as an unsigned integer (32 or 128 bits). */
  value: bigint;
}

export interface ParsedCIDR extends ParsedIP {
  prefixLength: number;
  /** First address of the prefix (host bits cleared). */
  network: bigint;
  /** Last address of the prefix (host bits set). */
  last: bigint;
}

/** One entry of IPAddressPool.spec.addresses, as an inclusive interval. */
export interface AddressEntry {
  form: 'ip' | 'cidr' | 'range';
  family: IPFamily;
  start: bigint;
  end: bigint;
  /** For `cidr` entries only. */
  prefixLength?: number;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

const IPV4_OCTET = /^(0|[1-9][0-9]{0,2})$/;
const IPV6_GROUP = /^[0-9A-Fa-f]{1,4}$/;

function parseIPv4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0n;
  for (const p of parts) {
    if (!IPV4_OCTET.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

function parseIPv6(s: string): bigint | undefined {
  if (s.includes('%')) return undefined; // zones are not allowed
  const dbl = s.indexOf('::');
  if (dbl !== -1 && s.indexOf('::', dbl + 1) !== -1) return undefined;
  const groupsOf = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    const fields = part.split(':');
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i] as string;
      if (i === fields.length - 1 && f.includes('.')) {
        const v4 = parseIPv4(f);
        if (v4 === undefined) return undefined;
        out.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
        continue;
      }
      if (!IPV6_GROUP.test(f)) return undefined;
      out.push(parseInt(f, 16));
    }
    return out;
  };
  let groups: number[];
  if (dbl === -1) {
    const g = groupsOf(s);
    if (g === undefined || g.length !== 8) return undefined;
    groups = g;
  } else {
    const head = groupsOf(s.slice(0, dbl));
    const tail = groupsOf(s.slice(dbl + 2));
    if (head === undefined || tail === undefined) return undefined;
    // An embedded IPv4 part may only end the address.
    if (s.slice(0, dbl).includes('.')) return undefined;
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return undefined;
    groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  }
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(g);
  return v;
}

const V4_MAPPED_PREFIX = 0xffffn << 32n;

/** Parses an IP address like the Kubernetes CEL `isIP()`/`ip()` do. */
export function parseIP(s: string): ParsedIP | undefined {
  if (s.includes(':')) {
    const v = parseIPv6(s);
    if (v === undefined) return undefined;
    if (v >> 32n === V4_MAPPED_PREFIX >> 32n) return undefined; // ::ffff:a.b.c.d
    return { family: 6, value: v };
  }
  const v = parseIPv4(s);
  return v === undefined ? undefined : { family: 4, value: v };
}

export function isIP(s: string): boolean {
  return parseIP(s) !== undefined;
}

/** Parses a prefix like the Kubernetes CEL `isCIDR()`/`cidr()` do. */
export function parseCIDR(s: string): ParsedCIDR | undefined {
  const slash = s.indexOf('/');
  if (slash === -1) return undefined;
  const ip = parseIP(s.slice(0, slash));
  const bits = s.slice(slash + 1);
  if (ip === undefined || !/^(0|[1-9][0-9]{0,2})$/.test(bits)) return undefined;
  const prefixLength = Number(bits);
  const width = ip.family === 4 ? 32 : 128;
  if (prefixLength > width) return undefined;
  const hostBits = BigInt(width - prefixLength);
  const hostMask = (1n << hostBits) - 1n;
  const network = ip.value & ~hostMask;
  return { ...ip, prefixLength, network, last: network | hostMask };
}

export function isCIDR(s: string): boolean {
  return parseCIDR(s) !== undefined;
}

/**
 * Parses one IPAddressPool address entry: a single IP, a CIDR, or a range
 * `start-end` (spaces around the dash are allowed, as in MetalLB) whose ends
 * are of the same family with start <= end.
 */
export function parseAddressEntry(entry: string): ParseResult<AddressEntry> {
  const ip = parseIP(entry);
  if (ip) return { ok: true, value: { form: 'ip', family: ip.family, start: ip.value, end: ip.value } };
  const cidr = parseCIDR(entry);
  if (cidr) {
    return {
      ok: true,
      value: {
        form: 'cidr',
        family: cidr.family,
        start: cidr.network,
        end: cidr.last,
        prefixLength: cidr.prefixLength,
      },
    };
  }
  const parts = entry.split('-');
  if (parts.length === 2) {
    const a = parseIP((parts[0] as string).trim());
    const b = parseIP((parts[1] as string).trim());
    if (!a) return { ok: false, error: `invalid start address ${JSON.stringify(parts[0])} in range` };
    if (!b) return { ok: false, error: `invalid end address ${JSON.stringify(parts[1])} in range` };
    if (a.family !== b.family) return { ok: false, error: 'range mixes an IPv4 and an IPv6 address' };
    if (a.value > b.value) return { ok: false, error: 'range start is after its end' };
    return { ok: true, value: { form: 'range', family: a.family, start: a.value, end: b.value } };
  }
  return {
    ok: false,
    error: 'must be a CIDR (10.0.0.0/24), a single IP, or a range start-end of one family',
  };
}

/** Number of addresses in an entry (inclusive interval). */
export function entrySize(e: { start: bigint; end: bigint }): bigint {
  return e.end - e.start + 1n;
}

export const NODE_PORT_MIN = 30000;
export const NODE_PORT_MAX = 32767;

/** Parses a NodePortPool port entry: `N` or `N-M`, inside 30000-32767, N <= M. */
export function parsePortEntry(entry: string): ParseResult<{ start: number; end: number }> {
  const m = /^([0-9]{1,5})(?:-([0-9]{1,5}))?$/.exec(entry);
  if (!m) return { ok: false, error: 'must be a port N or a range N-M' };
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  for (const p of [start, end]) {
    if (p < NODE_PORT_MIN || p > NODE_PORT_MAX) {
      return { ok: false, error: `port ${p} is outside ${NODE_PORT_MIN}-${NODE_PORT_MAX}` };
    }
  }
  if (start > end) return { ok: false, error: 'range start is after its end' };
  return { ok: true, value: { start, end } };
}

/** The syntax accepted for duration fields (also used as the OpenAPI pattern). */
export const DURATION_PATTERN = /^(0|([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$/;

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Largest Go time.Duration, in milliseconds (2^63-1 ns). */
const MAX_DURATION_MS = 9_223_372_036_854.775;

/**
 * Parses a Go duration string ("90s", "1m30s", "300ms", "0") as used by
 * metav1.Duration, into milliseconds. Negative durations are rejected.
 */
export function parseDuration(s: string): number | undefined {
  if (s === '0') return 0;
  if (!DURATION_PATTERN.test(s)) return undefined;
  let total = 0;
  for (const m of s.matchAll(/([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)/g)) {
    total += Number(m[1]) * (DURATION_UNITS[m[2] as string] as number);
  }
  return total > MAX_DURATION_MS ? undefined : total;
}
