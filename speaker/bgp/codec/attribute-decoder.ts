// Path attribute decoding with the revised error handling of RFC 7606: each
// problem is classified as session reset, treat-as-withdraw or
// attribute-discard instead of always resetting the session (RFC 4271 6.3).
import { AS_TRANS, AttrFlag, AttrType, ErrorCode, UpdateErrorSubcode } from './constants.ts';
import { ByteReader, ByteWriter } from './bytes.ts';
import { decodeAsPath, mergeAs4Path } from './as-path.ts';
import type { AsPathSegment } from './as-path.ts';
import { familyOf } from './family.ts';
import { formatIp, formatIpv4 } from './ip.ts';
import { decodePrefixes } from './nlri.ts';
import { EXPECTED_FLAGS, ORIGIN_CODES } from './path-attributes.ts';
import type { CodecContext, LargeCommunity, MpReach, MpUnreach, PathAttributes } from './path-attributes.ts';

/** RFC 7606 2, from most to least severe. */
export type ErrorAction = 'session-reset' | 'treat-as-withdraw' | 'attribute-discard';

export interface AttributeProblem {
  action: ErrorAction;
  /** The NOTIFICATION RFC 4271 would send; sent only for session-reset. */
  code: number;
  subcode: number;
  data: Uint8Array;
  typeCode?: number;
  reason: string;
}

export interface DecodeContext extends CodecContext {
  /** eBGP peers may not send LOCAL_PREF (RFC 7606 7.5); iBGP peers must (RFC 7606 3.d). */
  peerType?: 'ebgp' | 'ibgp';
  /** For eBGP, the AS the path must start with (RFC 4271 6.3). */
  firstAs?: number;
}

export interface DecodedAttributes {
  attributes: PathAttributes;
  problems: AttributeProblem[];
}

/** How a malformed instance of each known attribute is handled (RFC 7606 7, RFC 6793 6, RFC 8092 6). */
const ON_MALFORMED: Readonly<Record<number, ErrorAction>> = {
  [AttrType.Origin]: 'treat-as-withdraw',
  [AttrType.AsPath]: 'treat-as-withdraw',
  [AttrType.NextHop]: 'treat-as-withdraw',
  [AttrType.MultiExitDisc]: 'treat-as-withdraw',
  [AttrType.LocalPref]: 'treat-as-withdraw',
  [AttrType.AtomicAggregate]: 'attribute-discard',
  [AttrType.Aggregator]: 'attribute-discard',
  [AttrType.Communities]: 'treat-as-withdraw',
  [AttrType.MpReachNlri]: 'session-reset',
  [AttrType.MpUnreachNlri]: 'session-reset',
  [AttrType.As4Path]: 'attribute-discard',
  [AttrType.As4Aggregator]: 'attribute-discard',
  [AttrType.LargeCommunity]: 'treat-as-withdraw',
};

/** The attribute as it appeared on the wire: RFC 4271 6.3 puts it in the NOTIFICATION data. */
function wireAttribute(flags: number, typeCode: number, value: Uint8Array): Uint8Array {
  const w = new ByteWriter(value.length + 4).u8(flags).u8(typeCode);
  if (flags & AttrFlag.ExtendedLength) w.u16(value.length);
  else w.u8(value.length);
  return w.bytes(value).toBytes();
}

type Parsed<T> = { value: T } | { problem: Omit<AttributeProblem, 'data' | 'typeCode'> };

const bad = (action: ErrorAction, subcode: number, reason: string) => ({
  problem: { action, code: ErrorCode.UpdateMessage, subcode, reason },
});

function u32Field(v: Uint8Array, what: string, action: ErrorAction): Parsed<number> {
  if (v.length !== 4)
    return bad(action, UpdateErrorSubcode.AttributeLengthError, `${what} length ${v.length}`);
  return { value: new ByteReader(v).u32() };
}

function parseNextHop(v: Uint8Array): Parsed<string> {
  if (v.length !== 4) {
    return bad('treat-as-withdraw', UpdateErrorSubcode.AttributeLengthError, `NEXT_HOP length ${v.length}`);
  }
  // RFC 4271 6.3: a next hop that cannot be a host is semantically wrong; the route is ignored.
  const first = v[0] ?? 0;
  const text = formatIpv4(v);
  if (text === '0.0.0.0' || text === '255.255.255.255' || (first >= 224 && first <= 239)) {
    return bad('treat-as-withdraw', UpdateErrorSubcode.InvalidNextHopAttribute, `NEXT_HOP ${text}`);
  }
  return { value: text };
}

function parseAggregator(
  v: Uint8Array,
  asnSize: 2 | 4,
  what: string,
): Parsed<{ asn: number; address: string }> {
  if (v.length !== asnSize + 4) {
    return bad('attribute-discard', UpdateErrorSubcode.AttributeLengthError, `${what} length ${v.length}`);
  }
  const r = new ByteReader(v);
  const asn = asnSize === 4 ? r.u32() : r.u16();
  // RFC 7607 2: AS 0 here makes the attribute malformed.
  if (asn === 0) return bad('attribute-discard', UpdateErrorSubcode.OptionalAttributeError, `${what} AS 0`);
  return { value: { asn, address: formatIpv4(r.bytes(4)) } };
}

function parseCommunities(v: Uint8Array): Parsed<number[]> {
  if (v.length === 0 || v.length % 4 !== 0) {
    return bad(
      'treat-as-withdraw',
      UpdateErrorSubcode.OptionalAttributeError,
      `COMMUNITIES length ${v.length}`,
    );
  }
  const r = new ByteReader(v);
  const out: number[] = [];
  while (r.remaining > 0) out.push(r.u32());
  return { value: out };
}

function parseLargeCommunities(v: Uint8Array): Parsed<LargeCommunity[]> {
  if (v.length === 0 || v.length % 12 !== 0) {
    return bad(
      'treat-as-withdraw',
      UpdateErrorSubcode.OptionalAttributeError,
      `LARGE_COMMUNITY length ${v.length}`,
    );
  }
  const r = new ByteReader(v);
  const seen = new Set<string>();
  const out: LargeCommunity[] = [];
  while (r.remaining > 0) {
    const c = { globalAdmin: r.u32(), localData1: r.u32(), localData2: r.u32() };
    // RFC 8092 5: duplicates are ignored.
    const key = `${c.globalAdmin}:${c.localData1}:${c.localData2}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(c);
  }
  return { value: out };
}

const mpError = (reason: string) => bad('session-reset', UpdateErrorSubcode.OptionalAttributeError, reason);

/** RFC 4760 3; errors here reset the session (RFC 7606 7.11). Unknown families are discarded. */
function parseMpReach(v: Uint8Array): Parsed<MpReach | undefined> {
  const r = new ByteReader(v);
  const afi = r.u16();
  const safi = r.u8();
  const nhLen = r.u8();
  const nh = r.bytes(nhLen);
  r.u8(); // reserved
  if (r.overrun) return mpError('MP_REACH_NLRI too short');
  const family = familyOf(afi, safi);
  if (!family) return { value: undefined };
  const size = family === 'ipv4-unicast' ? 4 : 16;
  // RFC 2545 3: IPv6 carries a global and optionally a link-local address.
  if (!(nhLen === size || (family === 'ipv6-unicast' && nhLen === 32))) {
    return mpError(`MP_REACH_NLRI next hop length ${nhLen} for ${family}`);
  }
  const nextHops = [formatIp(nh.subarray(0, size))];
  if (nhLen === 32) nextHops.push(formatIp(nh.subarray(16, 32)));
  const nlri = decodePrefixes(r, family === 'ipv4-unicast' ? 4 : 6);
  if (!nlri) return mpError('MP_REACH_NLRI prefix is malformed');
  return { value: { family, nextHops, nlri } };
}

function parseMpUnreach(v: Uint8Array): Parsed<MpUnreach | undefined> {
  const r = new ByteReader(v);
  const afi = r.u16();
  const safi = r.u8();
  if (r.overrun) return mpError('MP_UNREACH_NLRI too short');
  const family = familyOf(afi, safi);
  if (!family) return { value: undefined };
  const withdrawn = decodePrefixes(r, family === 'ipv4-unicast' ? 4 : 6);
  if (!withdrawn) return mpError('MP_UNREACH_NLRI prefix is malformed');
  return { value: { family, withdrawn } };
}

interface Scratch {
  attrs: PathAttributes;
  as4Path?: AsPathSegment[];
  as4Aggregator?: { asn: number; address: string };
}

/** Parses one recognised attribute into `s`; a problem if it is malformed. */
function parseKnown(
  typeCode: number,
  v: Uint8Array,
  ctx: DecodeContext,
  s: Scratch,
): Omit<AttributeProblem, 'data' | 'typeCode'> | undefined {
  const asnSize = ctx.fourOctetAs ? 4 : 2;
  const apply = <T>(p: Parsed<T>, set: (value: T) => void) => {
    if ('problem' in p) return p.problem;
    set(p.value);
    return undefined;
  };
  switch (typeCode) {
    case AttrType.Origin: {
      if (v.length !== 1)
        return bad('treat-as-withdraw', UpdateErrorSubcode.AttributeLengthError, 'ORIGIN length').problem;
      const origin = ORIGIN_CODES[v[0] ?? 255];
      if (!origin)
        return bad('treat-as-withdraw', UpdateErrorSubcode.InvalidOriginAttribute, `ORIGIN ${v[0]}`).problem;
      s.attrs.origin = origin;
      return undefined;
    }
    case AttrType.AsPath: {
      const path = decodeAsPath(v, asnSize);
      if (typeof path === 'string')
        return bad('treat-as-withdraw', UpdateErrorSubcode.MalformedAsPath, path).problem;
      s.attrs.asPath = path;
      return undefined;
    }
    case AttrType.NextHop:
      return apply(parseNextHop(v), (x) => (s.attrs.nextHop = x));
    case AttrType.MultiExitDisc:
      return apply(u32Field(v, 'MULTI_EXIT_DISC', 'treat-as-withdraw'), (x) => (s.attrs.med = x));
    case AttrType.LocalPref:
      if (ctx.peerType === 'ebgp') {
        return bad('attribute-discard', 0, 'LOCAL_PREF from an eBGP peer').problem;
      }
      return apply(u32Field(v, 'LOCAL_PREF', 'treat-as-withdraw'), (x) => (s.attrs.localPref = x));
    case AttrType.AtomicAggregate:
      if (v.length !== 0) {
        return bad('attribute-discard', UpdateErrorSubcode.AttributeLengthError, 'ATOMIC_AGGREGATE length')
          .problem;
      }
      s.attrs.atomicAggregate = true;
      return undefined;
    case AttrType.Aggregator:
      return apply(parseAggregator(v, asnSize, 'AGGREGATOR'), (x) => (s.attrs.aggregator = x));
    case AttrType.Communities:
      return apply(parseCommunities(v), (x) => (s.attrs.communities = x));
    case AttrType.LargeCommunity:
      return apply(parseLargeCommunities(v), (x) => (s.attrs.largeCommunities = x));
    case AttrType.MpReachNlri:
      return apply(parseMpReach(v), (x) => {
        if (x) s.attrs.mpReach = x;
      });
    case AttrType.MpUnreachNlri:
      return apply(parseMpUnreach(v), (x) => {
        if (x) s.attrs.mpUnreach = x;
      });
    case AttrType.As4Path: {
      // RFC 6793 4.1: between two 4-octet speakers AS4_PATH has no business and is discarded.
      if (ctx.fourOctetAs) return bad('attribute-discard', 0, 'AS4_PATH from a 4-octet AS speaker').problem;
      const path = decodeAsPath(v, 4);
      if (typeof path === 'string')
        return bad('attribute-discard', UpdateErrorSubcode.MalformedAsPath, path).problem;
      s.as4Path = path;
      return undefined;
    }
    case AttrType.As4Aggregator:
      if (ctx.fourOctetAs)
        return bad('attribute-discard', 0, 'AS4_AGGREGATOR from a 4-octet AS speaker').problem;
      return apply(parseAggregator(v, 4, 'AS4_AGGREGATOR'), (x) => (s.as4Aggregator = x));
    default:
      return undefined;
  }
}

/** RFC 6793 4.2.3: fold AS4_PATH and AS4_AGGREGATOR into the 4-octet view of the path. */
function applyAs4(s: Scratch): void {
  const agg = s.attrs.aggregator;
  if (s.as4Aggregator && agg) {
    // AS4_AGGREGATOR beside an AGGREGATOR that is not AS_TRANS: a 2-octet
    // speaker aggregated after the AS4 attributes were formed, so both are stale.
    if (agg.asn !== AS_TRANS) return;
    s.attrs.aggregator = s.as4Aggregator;
  }
  if (s.attrs.asPath && s.as4Path) s.attrs.asPath = mergeAs4Path(s.attrs.asPath, s.as4Path);
}

/**
 * Decodes the path attributes field of an UPDATE. Never throws; every
 * problem found is returned, and the caller applies the most severe one.
 */
export function decodePathAttributes(bytes: Uint8Array, ctx: DecodeContext): DecodedAttributes {
  const s: Scratch = { attrs: {} };
  const problems: AttributeProblem[] = [];
  const seen = new Set<number>();
  const r = new ByteReader(bytes);
  while (r.remaining > 0) {
    const start = r.position;
    const flags = r.u8();
    const typeCode = r.u8();
    const length = flags & AttrFlag.ExtendedLength ? r.u16() : r.u8();
    const value = r.bytes(length);
    if (r.overrun) {
      // RFC 7606 4: an attribute running past the field (or a stub too short to be one).
      problems.push({
        action: 'treat-as-withdraw',
        code: ErrorCode.UpdateMessage,
        subcode: UpdateErrorSubcode.AttributeLengthError,
        data: bytes.slice(start),
        reason: 'path attribute overruns the attributes field',
      });
      break;
    }
    const data = () => wireAttribute(flags, typeCode, value);
    const expected = EXPECTED_FLAGS[typeCode];

    if (seen.has(typeCode)) {
      // RFC 7606 3.g: repeated MP attributes reset the session, others keep only the first.
      const mp = typeCode === AttrType.MpReachNlri || typeCode === AttrType.MpUnreachNlri;
      problems.push({
        action: mp ? 'session-reset' : 'attribute-discard',
        code: ErrorCode.UpdateMessage,
        subcode: UpdateErrorSubcode.MalformedAttributeList,
        data: mp ? new Uint8Array(0) : data(),
        typeCode,
        reason: `attribute ${typeCode} repeated`,
      });
      continue;
    }
    seen.add(typeCode);

    if (expected === undefined) {
      if ((flags & AttrFlag.Optional) === 0) {
        // RFC 4271 6.3: a well-known attribute we do not know of; RFC 7606 keeps the reset.
        problems.push({
          action: 'session-reset',
          code: ErrorCode.UpdateMessage,
          subcode: UpdateErrorSubcode.UnrecognizedWellKnownAttribute,
          data: data(),
          typeCode,
          reason: `unrecognized well-known attribute ${typeCode}`,
        });
        continue;
      }
      (s.attrs.unknown ??= []).push({
        flags: flags & ~AttrFlag.ExtendedLength,
        typeCode,
        value: value.slice(),
      });
      continue;
    }

    const action = ON_MALFORMED[typeCode] ?? 'treat-as-withdraw';
    if ((flags & (AttrFlag.Optional | AttrFlag.Transitive)) !== expected) {
      // RFC 7606 3.c: wrong Optional/Transitive bits make the attribute malformed.
      problems.push({
        action,
        code: ErrorCode.UpdateMessage,
        subcode: UpdateErrorSubcode.AttributeFlagsError,
        data: data(),
        typeCode,
        reason: `attribute ${typeCode} has flags 0x${flags.toString(16)}`,
      });
      continue;
    }
    const problem = parseKnown(typeCode, value, ctx, s);
    if (problem) problems.push({ ...problem, data: data(), typeCode });
  }
  if (!ctx.fourOctetAs) applyAs4(s);
  return { attributes: s.attrs, problems };
}
