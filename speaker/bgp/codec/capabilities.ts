// Capabilities advertised in OPEN (RFC 5492): multiprotocol (RFC 4760 8),
// route refresh (RFC 2918 2), graceful restart (RFC 4724 3), 4-octet AS
// (RFC 6793 3). Anything else is kept opaque so it can be logged.
import { CapabilityCode, ErrorCode, OpenErrorSubcode } from './constants.ts';
import { ByteReader, ByteWriter } from './bytes.ts';
import { bgpError, fail, ok } from './errors.ts';
import type { Decoded } from './errors.ts';

export interface GracefulRestartFamily {
  afi: number;
  safi: number;
  /** F bit: forwarding state for this family was preserved across the restart. */
  forwardingPreserved: boolean;
}

export type Capability =
  | { kind: 'multiprotocol'; afi: number; safi: number }
  | { kind: 'route-refresh' }
  | { kind: 'four-octet-as'; asn: number }
  | {
      kind: 'graceful-restart';
      /** R bit: the sender has restarted (RFC 4724 3). */
      restarting: boolean;
      /** N bit: the sender supports graceful NOTIFICATION (RFC 8538 2). */
      notification: boolean;
      /** 12 bits, seconds. */
      restartTimeSec: number;
      families: GracefulRestartFamily[];
    }
  | { kind: 'unknown'; code: number; value: Uint8Array };

const GR_RESTARTING = 0x8;
const GR_NOTIFICATION = 0x4;
const GR_FORWARDING = 0x80;

function malformed(what: string): Decoded<Capability> {
  // RFC 4271 6.2: a recognised but malformed optional parameter is "Unspecific".
  return fail(bgpError(ErrorCode.OpenMessage, OpenErrorSubcode.Unspecific, `malformed ${what} capability`));
}

export function decodeCapability(code: number, value: Uint8Array): Decoded<Capability> {
  const r = new ByteReader(value);
  switch (code) {
    case CapabilityCode.Multiprotocol: {
      if (value.length !== 4) return malformed('multiprotocol');
      const afi = r.u16();
      r.u8(); // reserved
      return ok({ kind: 'multiprotocol', afi, safi: r.u8() });
    }
    case CapabilityCode.RouteRefresh:
      if (value.length !== 0) return malformed('route refresh');
      return ok({ kind: 'route-refresh' });
    case CapabilityCode.FourOctetAs: {
      if (value.length !== 4) return malformed('4-octet AS');
      const asn = r.u32();
      // RFC 7607 2: AS 0 in OPEN is Bad Peer AS.
      if (asn === 0) return fail(bgpError(ErrorCode.OpenMessage, OpenErrorSubcode.BadPeerAs, 'peer AS is 0'));
      return ok({ kind: 'four-octet-as', asn });
    }
    case CapabilityCode.GracefulRestart: {
      if (value.length < 2 || (value.length - 2) % 4 !== 0) return malformed('graceful restart');
      const head = r.u16();
      const families: GracefulRestartFamily[] = [];
      while (r.remaining >= 4) {
        const afi = r.u16();
        const safi = r.u8();
        families.push({ afi, safi, forwardingPreserved: (r.u8() & GR_FORWARDING) !== 0 });
      }
      return ok({
        kind: 'graceful-restart',
        restarting: ((head >> 12) & GR_RESTARTING) !== 0,
        notification: ((head >> 12) & GR_NOTIFICATION) !== 0,
        restartTimeSec: head & 0x0fff,
        families,
      });
    }
    default:
      return ok({ kind: 'unknown', code, value: value.slice() });
  }
}

/** The value field of one capability (without code and length). */
function capabilityValue(cap: Capability): { code: number; value: Uint8Array } {
  const w = new ByteWriter(16);
  switch (cap.kind) {
    case 'multiprotocol':
      w.u16(cap.afi).u8(0).u8(cap.safi);
      return { code: CapabilityCode.Multiprotocol, value: w.toBytes() };
    case 'route-refresh':
      return { code: CapabilityCode.RouteRefresh, value: w.toBytes() };
    case 'four-octet-as':
      w.u32(cap.asn);
      return { code: CapabilityCode.FourOctetAs, value: w.toBytes() };
    case 'graceful-restart': {
      const flags = (cap.restarting ? GR_RESTARTING : 0) | (cap.notification ? GR_NOTIFICATION : 0);
      w.u16((flags << 12) | (cap.restartTimeSec & 0x0fff));
      for (const f of cap.families)
        w.u16(f.afi)
          .u8(f.safi)
          .u8(f.forwardingPreserved ? GR_FORWARDING : 0);
      return { code: CapabilityCode.GracefulRestart, value: w.toBytes() };
    }
    case 'unknown':
      return { code: cap.code, value: cap.value };
  }
}

/** Code, length and value: one capability as it sits in a Capabilities parameter. */
export function encodeCapability(cap: Capability): Uint8Array {
  const { code, value } = capabilityValue(cap);
  if (value.length > 255) throw new RangeError(`capability ${code} is longer than 255 octets`);
  return new ByteWriter(value.length + 2).u8(code).u8(value.length).bytes(value).toBytes();
}
