// UPDATE path attributes (RFC 4271 4.3, 5) as plain data, and their encoding.
// Decoding, with RFC 7606 error handling, is in attribute-decoder.ts.
import { AS_TRANS, AttrFlag, AttrType } from './constants.ts';
import { ByteWriter, concatBytes } from './bytes.ts';
import { encodeAsPath, needsAs4Path } from './as-path.ts';
import type { AsPathSegment } from './as-path.ts';
import { afiSafiOf } from './family.ts';
import type { AddressFamily } from './family.ts';
import { parseIp, parseIpv4 } from './ip.ts';
import { encodePrefixes } from './nlri.ts';

export type Origin = 'igp' | 'egp' | 'incomplete';
export const ORIGIN_CODES: readonly Origin[] = ['igp', 'egp', 'incomplete'];

/** RFC 8092 2: three 4-octet fields. */
export interface LargeCommunity {
  globalAdmin: number;
  localData1: number;
  localData2: number;
}

/** RFC 4760 3. Only families we carry are decoded into this form. */
export interface MpReach {
  family: AddressFamily;
  /** One address, or for IPv6 a global and a link-local one (RFC 2545 3). */
  nextHops: string[];
  nlri: string[];
}

/** RFC 4760 4. An empty `withdrawn` is the End-of-RIB marker (RFC 4724 2). */
export interface MpUnreach {
  family: AddressFamily;
  withdrawn: string[];
}

/** An attribute we do not interpret, kept as received (optional ones only, RFC 4271 5). */
export interface RawAttribute {
  flags: number;
  typeCode: number;
  value: Uint8Array;
}

export interface PathAttributes {
  origin?: Origin;
  asPath?: AsPathSegment[];
  nextHop?: string;
  med?: number;
  localPref?: number;
  atomicAggregate?: boolean;
  aggregator?: { asn: number; address: string };
  /** RFC 1997: each community is a 32-bit number, conventionally written AS:value. */
  communities?: number[];
  largeCommunities?: LargeCommunity[];
  mpReach?: MpReach;
  mpUnreach?: MpUnreach;
  unknown?: RawAttribute[];
}

/** What the session negotiated that changes the encoding of attributes. */
export interface CodecContext {
  /** Both sides sent the 4-octet AS capability (RFC 6793 4.1). */
  fourOctetAs: boolean;
}

const WELL_KNOWN = AttrFlag.Transitive;
const OPTIONAL_TRANSITIVE = AttrFlag.Optional | AttrFlag.Transitive;
const OPTIONAL_NON_TRANSITIVE = AttrFlag.Optional;

/** The Optional and Transitive bits each known attribute must carry (RFC 4271 5, RFC 4760, 1997, 6793, 8092). */
export const EXPECTED_FLAGS: Readonly<Record<number, number>> = {
  [AttrType.Origin]: WELL_KNOWN,
  [AttrType.AsPath]: WELL_KNOWN,
  [AttrType.NextHop]: WELL_KNOWN,
  [AttrType.MultiExitDisc]: OPTIONAL_NON_TRANSITIVE,
  [AttrType.LocalPref]: WELL_KNOWN,
  [AttrType.AtomicAggregate]: WELL_KNOWN,
  [AttrType.Aggregator]: OPTIONAL_TRANSITIVE,
  [AttrType.Communities]: OPTIONAL_TRANSITIVE,
  [AttrType.MpReachNlri]: OPTIONAL_NON_TRANSITIVE,
  [AttrType.MpUnreachNlri]: OPTIONAL_NON_TRANSITIVE,
  [AttrType.As4Path]: OPTIONAL_TRANSITIVE,
  [AttrType.As4Aggregator]: OPTIONAL_TRANSITIVE,
  [AttrType.LargeCommunity]: OPTIONAL_TRANSITIVE,
};

/** Flags, type, length and value; the extended length bit is set only when needed. */
export function encodeAttribute(flags: number, typeCode: number, value: Uint8Array): Uint8Array {
  const extended = value.length > 255;
  const f = extended ? flags | AttrFlag.ExtendedLength : flags & ~AttrFlag.ExtendedLength;
  const w = new ByteWriter(value.length + 4).u8(f).u8(typeCode);
  if (extended) w.u16(value.length);
  else w.u8(value.length);
  return w.bytes(value).toBytes();
}

function known(typeCode: number, value: Uint8Array): Uint8Array {
  return encodeAttribute(EXPECTED_FLAGS[typeCode] ?? AttrFlag.Optional, typeCode, value);
}

function ipv4Bytes(text: string): Uint8Array {
  const b = parseIpv4(text);
  if (!b) throw new RangeError(`not an IPv4 address: ${text}`);
  return b;
}

export function encodeMpReachValue(m: MpReach): Uint8Array {
  const { afi, safi } = afiSafiOf(m.family);
  const version = m.family === 'ipv4-unicast' ? 4 : 6;
  const hops = m.nextHops.map((h) => {
    const ip = parseIp(h);
    if (!ip || ip.version !== version) throw new RangeError(`next hop ${h} is not in ${m.family}`);
    return ip.bytes;
  });
  const nh = concatBytes(hops);
  const w = new ByteWriter(64).u16(afi).u8(safi).u8(nh.length).bytes(nh).u8(0);
  encodePrefixes(w, m.nlri, version);
  return w.toBytes();
}

export function encodeMpUnreachValue(m: MpUnreach): Uint8Array {
  const { afi, safi } = afiSafiOf(m.family);
  const w = new ByteWriter(32).u16(afi).u8(safi);
  encodePrefixes(w, m.withdrawn, m.family === 'ipv4-unicast' ? 4 : 6);
  return w.toBytes();
}

function u32(v: number): Uint8Array {
  return new ByteWriter(4).u32(v).toBytes();
}

/**
 * All attributes of one UPDATE. MP_UNREACH_NLRI and MP_REACH_NLRI go first
 * (RFC 7606 5.1, so a receiver finds the NLRI even if a later attribute is
 * broken), the rest in type-code order.
 */
export function encodePathAttributes(a: PathAttributes, ctx: CodecContext): Uint8Array {
  const first: Uint8Array[] = [];
  const rest: { type: number; bytes: Uint8Array }[] = [];
  const add = (type: number, value: Uint8Array) => rest.push({ type, bytes: known(type, value) });

  if (a.mpUnreach) first.push(known(AttrType.MpUnreachNlri, encodeMpUnreachValue(a.mpUnreach)));
  if (a.mpReach) first.push(known(AttrType.MpReachNlri, encodeMpReachValue(a.mpReach)));
  if (a.origin !== undefined) add(AttrType.Origin, Uint8Array.of(ORIGIN_CODES.indexOf(a.origin)));
  if (a.asPath !== undefined) {
    add(AttrType.AsPath, encodeAsPath(a.asPath, ctx.fourOctetAs ? 4 : 2));
    // RFC 6793 4.2.2: towards a 2-octet peer the real path rides in AS4_PATH.
    if (!ctx.fourOctetAs && needsAs4Path(a.asPath)) {
      add(
        AttrType.As4Path,
        encodeAsPath(
          a.asPath.filter((s) => !s.kind.startsWith('confed')),
          4,
        ),
      );
    }
  }
  if (a.nextHop !== undefined) add(AttrType.NextHop, ipv4Bytes(a.nextHop));
  if (a.med !== undefined) add(AttrType.MultiExitDisc, u32(a.med));
  if (a.localPref !== undefined) add(AttrType.LocalPref, u32(a.localPref));
  if (a.atomicAggregate) add(AttrType.AtomicAggregate, new Uint8Array(0));
  if (a.aggregator) {
    const { asn, address } = a.aggregator;
    const w = new ByteWriter(8);
    if (ctx.fourOctetAs) w.u32(asn);
    else w.u16(asn > 0xffff ? AS_TRANS : asn);
    add(AttrType.Aggregator, w.bytes(ipv4Bytes(address)).toBytes());
    if (!ctx.fourOctetAs && asn > 0xffff) {
      add(AttrType.As4Aggregator, new ByteWriter(8).u32(asn).bytes(ipv4Bytes(address)).toBytes());
    }
  }
  // An empty list would be malformed on the wire (RFC 7606 7.8), so it is left out.
  if (a.communities?.length) {
    const w = new ByteWriter(a.communities.length * 4);
    for (const c of a.communities) w.u32(c);
    add(AttrType.Communities, w.toBytes());
  }
  if (a.largeCommunities?.length) {
    const w = new ByteWriter(a.largeCommunities.length * 12);
    for (const c of a.largeCommunities) w.u32(c.globalAdmin).u32(c.localData1).u32(c.localData2);
    add(AttrType.LargeCommunity, w.toBytes());
  }
  for (const u of a.unknown ?? []) {
    rest.push({ type: u.typeCode, bytes: encodeAttribute(u.flags, u.typeCode, u.value) });
  }
  rest.sort((x, y) => x.type - y.type);
  return concatBytes([...first, ...rest.map((r) => r.bytes)]);
}
