// RFC 4271 4.3 prefix encoding, shared by the UPDATE's withdrawn routes and
// NLRI fields and by MP_REACH/MP_UNREACH (RFC 4760 5): a length in bits, then
// only the octets that length needs.
import type { ByteReader, ByteWriter } from './bytes.ts';
import { formatPrefix, parsePrefix, prefixFromWire } from './ip.ts';
import type { IpVersion } from './ip.ts';

/** Octets one prefix occupies on the wire. */
export function prefixWireSize(prefix: string): number {
  const p = parsePrefix(prefix);
  return p ? 1 + Math.ceil(p.length / 8) : 0;
}

export function encodePrefixes(w: ByteWriter, prefixes: readonly string[], version: IpVersion): void {
  for (const text of prefixes) {
    const p = parsePrefix(text);
    if (!p || p.version !== version) throw new RangeError(`not an IPv${version} prefix: ${text}`);
    w.u8(p.length).bytes(p.bytes.subarray(0, Math.ceil(p.length / 8)));
  }
}

/**
 * Reads prefixes until the reader is exhausted. Undefined when a length is
 * longer than the family allows or runs past the field; the caller picks the
 * NOTIFICATION, since that differs by field.
 */
export function decodePrefixes(r: ByteReader, version: IpVersion): string[] | undefined {
  const max = version === 4 ? 32 : 128;
  const out: string[] = [];
  while (r.remaining > 0) {
    const length = r.u8();
    if (length > max) return undefined;
    const significant = r.bytes(Math.ceil(length / 8));
    if (r.overrun) return undefined;
    // Trailing bits past the length are irrelevant (RFC 4271 4.3); they are cleared.
    out.push(
      version === 4
        ? ipv4PrefixText(significant, length)
        : formatPrefix(prefixFromWire(6, significant, length)),
    );
  }
  return out;
}

/** The IPv4 case without intermediate arrays: it dominates real tables. */
function ipv4PrefixText(significant: Uint8Array, length: number): string {
  const mask = length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
  const v =
    (((significant[0] ?? 0) << 24) |
      ((significant[1] ?? 0) << 16) |
      ((significant[2] ?? 0) << 8) |
      (significant[3] ?? 0)) &
    mask;
  return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}/${length}`;
}
