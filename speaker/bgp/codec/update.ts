// UPDATE (RFC 4271 4.3) and the End-of-RIB marker (RFC 4724 2). The UPDATE
// decoder reports RFC 7606 outcomes; only session-reset errors fail it.
import { AttrType, ErrorCode, UpdateErrorSubcode } from './constants.ts';
import { ByteReader, ByteWriter } from './bytes.ts';
import { decodePathAttributes } from './attribute-decoder.ts';
import type { AttributeProblem, DecodeContext } from './attribute-decoder.ts';
import { bgpError, fail, ok } from './errors.ts';
import type { Decoded } from './errors.ts';
import type { AddressFamily } from './family.ts';
import { decodePrefixes, encodePrefixes } from './nlri.ts';
import { encodePathAttributes } from './path-attributes.ts';
import type { CodecContext, PathAttributes } from './path-attributes.ts';

export interface UpdateMessage {
  type: 'update';
  /** IPv4 prefixes in the classic Withdrawn Routes field. */
  withdrawn: string[];
  attributes: PathAttributes;
  /** IPv4 prefixes in the classic NLRI field; other families ride in MP_REACH_NLRI. */
  nlri: string[];
}

export interface DecodedUpdate {
  update: UpdateMessage;
  /**
   * RFC 7606 2: when true the UPDATE's reachable prefixes (classic and
   * MP_REACH_NLRI) must be handled as withdrawn. Attribute-discard problems
   * are already applied: the offending attributes are absent.
   */
  treatAsWithdraw: boolean;
  problems: AttributeProblem[];
}

/** Withdrawn-length and attribute-length fields: the smallest UPDATE body. */
export const UPDATE_BODY_MIN = 4;

export function encodeUpdateBody(m: UpdateMessage, ctx: CodecContext): Uint8Array {
  const w = new ByteWriter(256);
  const withdrawnAt = w.length;
  w.u16(0);
  encodePrefixes(w, m.withdrawn, 4);
  w.patchU16(withdrawnAt, w.length - withdrawnAt - 2);
  const attrs = encodePathAttributes(m.attributes, ctx);
  w.u16(attrs.length).bytes(attrs);
  encodePrefixes(w, m.nlri, 4);
  return w.toBytes();
}

const updateError = (subcode: number, reason: string) =>
  fail<DecodedUpdate>(bgpError(ErrorCode.UpdateMessage, subcode, reason));

function missing(typeCode: number, name: string): AttributeProblem {
  return {
    action: 'treat-as-withdraw',
    code: ErrorCode.UpdateMessage,
    subcode: UpdateErrorSubcode.MissingWellKnownAttribute,
    // RFC 4271 6.3: the data is the missing attribute's type code.
    data: Uint8Array.of(typeCode),
    typeCode,
    reason: `${name} is missing`,
  };
}

/** RFC 7606 3.d and RFC 4271 6.3 checks that need the NLRI as well as the attributes. */
function routeProblems(u: UpdateMessage, ctx: DecodeContext): AttributeProblem[] {
  const a = u.attributes;
  const reachable = u.nlri.length > 0 || (a.mpReach?.nlri.length ?? 0) > 0;
  if (!reachable) return [];
  const out: AttributeProblem[] = [];
  if (!a.origin) out.push(missing(AttrType.Origin, 'ORIGIN'));
  if (!a.asPath) out.push(missing(AttrType.AsPath, 'AS_PATH'));
  if (u.nlri.length > 0 && !a.nextHop) out.push(missing(AttrType.NextHop, 'NEXT_HOP'));
  if (ctx.peerType === 'ibgp' && a.localPref === undefined)
    out.push(missing(AttrType.LocalPref, 'LOCAL_PREF'));
  if (ctx.firstAs !== undefined && a.asPath) {
    const first = a.asPath[0];
    if (!first || first.kind !== 'sequence' || first.asns[0] !== ctx.firstAs) {
      out.push({
        action: 'treat-as-withdraw',
        code: ErrorCode.UpdateMessage,
        subcode: UpdateErrorSubcode.MalformedAsPath,
        data: new Uint8Array(0),
        typeCode: AttrType.AsPath,
        reason: `AS_PATH does not start with the peer's AS ${ctx.firstAs}`,
      });
    }
  }
  return out;
}

/** Decodes an UPDATE body (the message minus its header); the caller checked its minimum length. */
export function decodeUpdateBody(body: Uint8Array, ctx: DecodeContext): Decoded<DecodedUpdate> {
  const r = new ByteReader(body);
  const withdrawnLen = r.u16();
  const withdrawnBytes = r.bytes(withdrawnLen);
  const attrLen = r.u16();
  const attrBytes = r.bytes(attrLen);
  // RFC 4271 6.3: lengths that overrun the message are a Malformed Attribute List.
  if (r.overrun)
    return updateError(UpdateErrorSubcode.MalformedAttributeList, 'UPDATE field lengths overrun');

  const withdrawn = decodePrefixes(new ByteReader(withdrawnBytes), 4);
  if (!withdrawn)
    return updateError(UpdateErrorSubcode.MalformedAttributeList, 'withdrawn routes are malformed');
  // RFC 7606 5.3: NLRI that cannot be parsed leaves nothing to withdraw; reset.
  const nlri = decodePrefixes(r, 4);
  if (!nlri) return updateError(UpdateErrorSubcode.InvalidNetworkField, 'NLRI is malformed');

  const { attributes, problems } = decodePathAttributes(attrBytes, ctx);
  const update: UpdateMessage = { type: 'update', withdrawn, attributes, nlri };
  problems.push(...routeProblems(update, ctx));
  const reset = problems.find((p) => p.action === 'session-reset');
  if (reset) return fail(bgpError(reset.code, reset.subcode, reset.reason, reset.data));
  return ok({ update, treatAsWithdraw: problems.some((p) => p.action === 'treat-as-withdraw'), problems });
}

/** RFC 4724 2: the End-of-RIB marker for one family. */
export function endOfRib(family: AddressFamily): UpdateMessage {
  const attributes: PathAttributes =
    family === 'ipv4-unicast' ? {} : { mpUnreach: { family, withdrawn: [] } };
  return { type: 'update', withdrawn: [], attributes, nlri: [] };
}

/** The family whose End-of-RIB this UPDATE is, if it is one. */
export function endOfRibFamily(u: UpdateMessage): AddressFamily | undefined {
  if (u.withdrawn.length > 0 || u.nlri.length > 0) return undefined;
  const keys = Object.keys(u.attributes).filter((k) => u.attributes[k as keyof PathAttributes] !== undefined);
  if (keys.length === 0) return 'ipv4-unicast';
  const un = u.attributes.mpUnreach;
  if (keys.length === 1 && un && un.withdrawn.length === 0) return un.family;
  return undefined;
}

/** Every prefix an UPDATE withdraws, by family, counting treat-as-withdraw (RFC 7606 2). */
export function withdrawnPrefixes(d: DecodedUpdate): string[] {
  const u = d.update;
  const out = [...u.withdrawn, ...(u.attributes.mpUnreach?.withdrawn ?? [])];
  if (d.treatAsWithdraw) out.push(...u.nlri, ...(u.attributes.mpReach?.nlri ?? []));
  return out;
}

/** Every prefix an UPDATE announces, with the attributes they share; none under treat-as-withdraw. */
export function announcedPrefixes(d: DecodedUpdate): string[] {
  if (d.treatAsWithdraw) return [];
  return [...d.update.nlri, ...(d.update.attributes.mpReach?.nlri ?? [])];
}
