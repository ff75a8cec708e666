// What a decoder returns instead of throwing: the NOTIFICATION the RFC says to
// send (RFC 4271 6), with a human reason for the logs.
import { ErrorCode, HeaderErrorSubcode } from './constants.ts';
import { u16Bytes } from './bytes.ts';

export interface BgpError {
  code: number;
  subcode: number;
  /** The NOTIFICATION data field the RFC prescribes for this error. */
  data: Uint8Array;
  reason: string;
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; error: BgpError };

export function bgpError(code: number, subcode: number, reason: string, data?: Uint8Array): BgpError {
  return { code, subcode, reason, data: data ?? new Uint8Array(0) };
}

export function fail<T>(error: BgpError): Decoded<T> {
  return { ok: false, error };
}

export function ok<T>(value: T): Decoded<T> {
  return { ok: true, value };
}

/** RFC 4271 6.1: the data of Bad Message Length is the offending length field. */
export function badMessageLength(length: number, reason: string): BgpError {
  return bgpError(ErrorCode.MessageHeader, HeaderErrorSubcode.BadMessageLength, reason, u16Bytes(length));
}
