// ROUTE-REFRESH (RFC 2918 3); the reserved octet is the subtype of RFC 7313 4.
import { ByteReader, ByteWriter } from './bytes.ts';

export interface RouteRefreshMessage {
  type: 'route-refresh';
  afi: number;
  safi: number;
  /** 0 = normal request; 1 and 2 are RFC 7313's BoRR and EoRR. */
  subtype: number;
}

export const ROUTE_REFRESH_BODY_LENGTH = 4;

export function encodeRouteRefreshBody(m: RouteRefreshMessage): Uint8Array {
  return new ByteWriter(4).u16(m.afi).u8(m.subtype).u8(m.safi).toBytes();
}

export function decodeRouteRefreshBody(body: Uint8Array): RouteRefreshMessage {
  const r = new ByteReader(body);
  const afi = r.u16();
  const subtype = r.u8();
  return { type: 'route-refresh', afi, subtype, safi: r.u8() };
}
