// OPEN (RFC 4271 4.2) with Capabilities optional parameters (RFC 5492) and
// the extended optional-parameters length of RFC 9072 on receipt.
import {
  AS_TRANS,
  BGP_VERSION,
  ErrorCode,
  OPT_PARAM_CAPABILITIES,
  OPT_PARAM_EXTENDED,
  OpenErrorSubcode,
} from './constants.ts';
import { ByteReader, ByteWriter, concatBytes, u16Bytes } from './bytes.ts';
import { decodeCapability, encodeCapability } from './capabilities.ts';
import type { Capability } from './capabilities.ts';
import { bgpError, fail, ok } from './errors.ts';
import type { Decoded } from './errors.ts';
import { formatIpv4, parseIpv4 } from './ip.ts';

export interface OpenMessage {
  type: 'open';
  /** The 2-octet My AS field: AS_TRANS when the real AS needs 4 octets (RFC 6793 4.1). */
  myAs: number;
  holdTimeSec: number;
  /** Dotted quad. */
  bgpId: string;
  capabilities: Capability[];
}

/** The minimum OPEN body: version, AS, hold time, identifier, parameter length. */
export const OPEN_BODY_MIN = 10;

/** An OPEN for `asn`, with the 4-octet AS capability always included (RFC 6793 3). */
export function buildOpen(o: {
  asn: number;
  holdTimeSec: number;
  bgpId: string;
  capabilities: Capability[];
}) {
  const others = o.capabilities.filter((c) => c.kind !== 'four-octet-as');
  const open: OpenMessage = {
    type: 'open',
    myAs: o.asn > 0xffff ? AS_TRANS : o.asn,
    holdTimeSec: o.holdTimeSec,
    bgpId: o.bgpId,
    capabilities: [...others, { kind: 'four-octet-as', asn: o.asn }],
  };
  return open;
}

/** The sender's AS: from the 4-octet capability when present (RFC 6793 4.1). */
export function senderAs(open: OpenMessage): number {
  for (const c of open.capabilities) if (c.kind === 'four-octet-as') return c.asn;
  return open.myAs;
}

export function encodeOpenBody(m: OpenMessage): Uint8Array {
  const id = parseIpv4(m.bgpId);
  if (!id) throw new RangeError(`BGP identifier is not a dotted quad: ${m.bgpId}`);
  // One Capabilities parameter holds them all (RFC 5492 4). The whole
  // optional-parameters field has a 1-octet length, so splitting into several
  // parameters would not make more room; RFC 9072 would, but we never need it.
  const caps = concatBytes(m.capabilities.map(encodeCapability));
  const optional =
    caps.length === 0 ? caps : concatBytes([Uint8Array.of(OPT_PARAM_CAPABILITIES, caps.length), caps]);
  if (caps.length > 253) throw new RangeError('capabilities exceed the 255-octet optional parameters field');
  return new ByteWriter(OPEN_BODY_MIN + optional.length)
    .u8(BGP_VERSION)
    .u16(m.myAs)
    .u16(m.holdTimeSec)
    .bytes(id)
    .u8(optional.length)
    .bytes(optional)
    .toBytes();
}

const openError = (subcode: number, reason: string, data?: Uint8Array) =>
  fail<OpenMessage>(bgpError(ErrorCode.OpenMessage, subcode, reason, data));

/** Decodes an OPEN body (the message minus its 19-octet header); the caller checked its minimum length. */
export function decodeOpenBody(body: Uint8Array): Decoded<OpenMessage> {
  const r = new ByteReader(body);
  const version = r.u8();
  const myAs = r.u16();
  const holdTimeSec = r.u16();
  const idBytes = r.bytes(4);
  const bgpId = formatIpv4(idBytes);
  let paramLen = r.u8();
  if (r.overrun) return openError(OpenErrorSubcode.Unspecific, 'OPEN too short');

  if (version !== BGP_VERSION) {
    // RFC 4271 6.2: the data is the largest version we support.
    return openError(OpenErrorSubcode.UnsupportedVersionNumber, `version ${version}`, u16Bytes(BGP_VERSION));
  }
  // RFC 7607 2: AS 0 is never a valid peer AS.
  if (myAs === 0) return openError(OpenErrorSubcode.BadPeerAs, 'peer AS is 0');
  // RFC 4271 6.2: a hold time of one or two seconds is unacceptable.
  if (holdTimeSec === 1 || holdTimeSec === 2) {
    return openError(OpenErrorSubcode.UnacceptableHoldTime, `hold time ${holdTimeSec}`);
  }
  // RFC 6286 2.2: a BGP identifier is a non-zero 32-bit number.
  if (bgpId === '0.0.0.0') return openError(OpenErrorSubcode.BadBgpIdentifier, 'BGP identifier is 0');

  // RFC 9072 2: a length of 255 followed by type 255 means 2-octet lengths follow.
  let extended = false;
  if (paramLen === 255 && body[OPEN_BODY_MIN] === OPT_PARAM_EXTENDED) {
    r.u8();
    paramLen = r.u16();
    extended = true;
  }
  if (r.overrun || paramLen !== r.remaining) {
    return openError(OpenErrorSubcode.Unspecific, 'optional parameters length does not match the message');
  }

  const capabilities: Capability[] = [];
  while (r.remaining > 0) {
    const type = r.u8();
    const len = extended ? r.u16() : r.u8();
    const value = r.bytes(len);
    if (r.overrun) return openError(OpenErrorSubcode.Unspecific, 'optional parameter overruns the message');
    if (type !== OPT_PARAM_CAPABILITIES) {
      return openError(OpenErrorSubcode.UnsupportedOptionalParameter, `optional parameter ${type}`);
    }
    const cr = new ByteReader(value);
    while (cr.remaining > 0) {
      const code = cr.u8();
      const capLen = cr.u8();
      const capValue = cr.bytes(capLen);
      if (cr.overrun) return openError(OpenErrorSubcode.Unspecific, 'capability overruns its parameter');
      const cap = decodeCapability(code, capValue);
      if (!cap.ok) return cap;
      capabilities.push(cap.value);
    }
  }
  return ok({ type: 'open', myAs, holdTimeSec, bgpId, capabilities });
}
