// AS_PATH segments (RFC 4271 4.3, RFC 5065) in 2- and 4-octet encodings, and
// the AS4_PATH reconstruction of RFC 6793 4.2.3 for peers without 4-octet AS.
import { AS_TRANS, AsPathSegmentType } from './constants.ts';
import { ByteReader, ByteWriter } from './bytes.ts';

export type AsPathSegmentKind = 'set' | 'sequence' | 'confed-sequence' | 'confed-set';

export interface AsPathSegment {
  kind: AsPathSegmentKind;
  asns: number[];
}

const KIND_OF_TYPE: Record<number, AsPathSegmentKind> = {
  [AsPathSegmentType.AsSet]: 'set',
  [AsPathSegmentType.AsSequence]: 'sequence',
  [AsPathSegmentType.AsConfedSequence]: 'confed-sequence',
  [AsPathSegmentType.AsConfedSet]: 'confed-set',
};

const TYPE_OF_KIND: Record<AsPathSegmentKind, number> = {
  set: AsPathSegmentType.AsSet,
  sequence: AsPathSegmentType.AsSequence,
  'confed-sequence': AsPathSegmentType.AsConfedSequence,
  'confed-set': AsPathSegmentType.AsConfedSet,
};

export const isConfed = (s: AsPathSegment) => s.kind === 'confed-sequence' || s.kind === 'confed-set';

/**
 * Segments of an AS_PATH or AS4_PATH value, or a reason it is malformed
 * (RFC 7606 7.2: unknown segment type, zero length, overrun or underrun).
 */
export function decodeAsPath(value: Uint8Array, asnSize: 2 | 4): AsPathSegment[] | string {
  const r = new ByteReader(value);
  const segments: AsPathSegment[] = [];
  while (r.remaining > 0) {
    if (r.remaining < 2) return 'AS_PATH ends inside a segment header';
    const kind = KIND_OF_TYPE[r.u8()];
    const count = r.u8();
    if (!kind) return 'unknown AS_PATH segment type';
    if (count === 0) return 'empty AS_PATH segment';
    if (r.remaining < count * asnSize) return 'AS_PATH segment overruns the attribute';
    const asns: number[] = [];
    for (let i = 0; i < count; i++) asns.push(asnSize === 4 ? r.u32() : r.u16());
    // RFC 7607 2: AS 0 in a path makes it malformed.
    if (asns.includes(0)) return 'AS_PATH contains AS 0';
    segments.push({ kind, asns });
  }
  return segments;
}

/**
 * Encodes segments; a segment longer than 255 ASes is split, since its
 * count field is one octet. In 2-octet form, ASes above 65535 become AS_TRANS.
 */
export function encodeAsPath(segments: readonly AsPathSegment[], asnSize: 2 | 4): Uint8Array {
  const w = new ByteWriter(64);
  for (const s of segments) {
    for (let i = 0; i < s.asns.length; i += 255) {
      const chunk = s.asns.slice(i, i + 255);
      w.u8(TYPE_OF_KIND[s.kind]).u8(chunk.length);
      for (const asn of chunk) {
        if (asnSize === 4) w.u32(asn);
        else w.u16(asn > 0xffff ? AS_TRANS : asn);
      }
    }
  }
  return w.toBytes();
}

/** True when a 2-octet speaker needs AS4_PATH to carry this path (RFC 6793 4.2.2). */
export function needsAs4Path(segments: readonly AsPathSegment[]): boolean {
  return segments.some((s) => !isConfed(s) && s.asns.some((a) => a > 0xffff));
}

/** RFC 4271 9.1.2.2 path length: a set counts one, confederation segments none. */
export function pathLength(segments: readonly AsPathSegment[]): number {
  let n = 0;
  for (const s of segments) {
    if (s.kind === 'sequence') n += s.asns.length;
    else if (s.kind === 'set') n += 1;
  }
  return n;
}

/**
 * RFC 6793 4.2.3: rebuild the real path from AS_PATH and AS4_PATH. Leading
 * confederation segments live only in AS_PATH and are kept; of the rest, the
 * leading (AS_PATH length - AS4_PATH length) ASes of AS_PATH are put in front
 * of AS4_PATH. A longer AS4_PATH is ignored.
 */
export function mergeAs4Path(asPath: AsPathSegment[], as4Path: AsPathSegment[]): AsPathSegment[] {
  const as4 = as4Path.filter((s) => !isConfed(s));
  let leadConfed = 0;
  while (leadConfed < asPath.length && isConfed(asPath[leadConfed] as AsPathSegment)) leadConfed++;
  const head = asPath.slice(0, leadConfed);
  const rest = asPath.slice(leadConfed);
  let extra = pathLength(rest) - pathLength(as4);
  if (extra < 0) return asPath;
  const kept: AsPathSegment[] = [];
  for (const s of rest) {
    if (extra <= 0) break;
    if (s.kind === 'sequence') {
      const take = s.asns.slice(0, extra);
      kept.push({ kind: 'sequence', asns: take });
      extra -= take.length;
    } else if (s.kind === 'set') {
      kept.push({ kind: 'set', asns: [...s.asns] });
      extra -= 1;
    } else {
      kept.push({ kind: s.kind, asns: [...s.asns] });
    }
  }
  // Where the kept part of AS_PATH meets AS4_PATH, two sequences join so the
  // result reads as one path; AS4_PATH's own segmentation is left as it came.
  const merged = [...head, ...kept];
  as4.forEach((s, i) => {
    const last = merged[merged.length - 1];
    if (i === 0 && kept.length > 0 && last?.kind === 'sequence' && s.kind === 'sequence') {
      merged[merged.length - 1] = { kind: 'sequence', asns: [...last.asns, ...s.asns] };
    } else {
      merged.push({ kind: s.kind, asns: [...s.asns] });
    }
  });
  return merged;
}
