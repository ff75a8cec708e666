// IP addresses and prefixes as text <-> bytes. Prefixes travel through the
// codec and the RIB as canonical CIDR strings (host bits cleared, IPv6 in the
// RFC 5952 form), so they can be compared and used as map keys directly.

export type IpVersion = 4 | 6;

export interface ParsedPrefix {
  version: IpVersion;
  /** 4 or 16 bytes, host bits cleared. */
  bytes: Uint8Array;
  length: number;
}

const DECIMAL_OCTET = /^(0|[1-9][0-9]{0,2})$/;

export function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i] ?? '';
    if (!DECIMAL_OCTET.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

export function formatIpv4(bytes: Uint8Array): string {
  return `${bytes[0] ?? 0}.${bytes[1] ?? 0}.${bytes[2] ?? 0}.${bytes[3] ?? 0}`;
}

const HEXTET = /^[0-9a-fA-F]{1,4}$/;

function parseHextets(part: string): number[] | undefined {
  if (part === '') return [];
  const out: number[] = [];
  const groups = part.split(':');
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i] ?? '';
    // An embedded IPv4 address may only end the address (RFC 4291 2.2).
    if (i === groups.length - 1 && g.includes('.')) {
      const v4 = parseIpv4(g);
      if (!v4) return undefined;
      out.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
      continue;
    }
    if (!HEXTET.test(g)) return undefined;
    out.push(parseInt(g, 16));
  }
  return out;
}

export function parseIpv6(text: string): Uint8Array | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = parseHextets(halves[0] ?? '');
  const tail = halves.length === 2 ? parseHextets(halves[1] ?? '') : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const words = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[i * 2] = w >> 8;
    out[i * 2 + 1] = w & 0xff;
  });
  return out;
}

/** RFC 5952 4: lower case, no leading zeros, the longest run (>= 2) of zero groups as "::". */
export function formatIpv6(bytes: Uint8Array): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push(((bytes[i * 2] ?? 0) << 8) | (bytes[i * 2 + 1] ?? 0));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(':');
  if (bestLen < 2) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLen))}`;
}

export function parseIp(text: string): { version: IpVersion; bytes: Uint8Array } | undefined {
  if (text.includes(':')) {
    const bytes = parseIpv6(text);
    return bytes && { version: 6, bytes };
  }
  const bytes = parseIpv4(text);
  return bytes && { version: 4, bytes };
}

export function formatIp(bytes: Uint8Array): string {
  return bytes.length === 4 ? formatIpv4(bytes) : formatIpv6(bytes);
}

/** Clears the bits after `length`, in place. */
function maskInPlace(bytes: Uint8Array, length: number): Uint8Array {
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, length - i * 8));
    bytes[i] = (bytes[i] ?? 0) & ((0xff00 >> keep) & 0xff);
  }
  return bytes;
}

/** "a.b.c.d/n" or "x::y/n"; a bare address is a host route. Host bits are cleared. */
export function parsePrefix(text: string): ParsedPrefix | undefined {
  const slash = text.indexOf('/');
  const addr = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (!addr) return undefined;
  const max = addr.version === 4 ? 32 : 128;
  let length = max;
  if (slash >= 0) {
    const lenText = text.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(lenText)) return undefined;
    length = Number(lenText);
    if (length > max) return undefined;
  }
  return { version: addr.version, bytes: maskInPlace(addr.bytes, length), length };
}

export function formatPrefix(p: ParsedPrefix): string {
  return `${formatIp(p.bytes)}/${p.length}`;
}

/** The canonical spelling of a prefix, or undefined if it is not one. */
export function canonicalPrefix(text: string): string | undefined {
  const p = parsePrefix(text);
  return p && formatPrefix(p);
}

/** Builds a prefix from the significant bytes carried in an NLRI (RFC 4271 4.3). */
export function prefixFromWire(version: IpVersion, significant: Uint8Array, length: number): ParsedPrefix {
  const bytes = new Uint8Array(version === 4 ? 4 : 16);
  bytes.set(significant.subarray(0, bytes.length));
  return { version, bytes: maskInPlace(bytes, length), length };
}

/** A dotted-quad BGP identifier or IPv4 address as an unsigned 32-bit number. */
export function ipv4ToNumber(text: string): number {
  const b = parseIpv4(text);
  if (!b) return 0;
  return (b[0] ?? 0) * 0x1000000 + (((b[1] ?? 0) << 16) | ((b[2] ?? 0) << 8) | (b[3] ?? 0));
}

export function numberToIpv4(n: number): string {
  return `${(n >>> 24) & 0xff}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}
