// NOTIFICATION (RFC 4271 4.5) and readable names for its codes, for logs and metrics.
import { ByteWriter } from './bytes.ts';
import type { BgpError } from './errors.ts';

export interface NotificationMessage {
  type: 'notification';
  code: number;
  subcode: number;
  data: Uint8Array;
}

export const NOTIFICATION_BODY_MIN = 2;

export function encodeNotificationBody(m: NotificationMessage): Uint8Array {
  return new ByteWriter(2 + m.data.length).u8(m.code).u8(m.subcode).bytes(m.data).toBytes();
}

export function decodeNotificationBody(body: Uint8Array): NotificationMessage {
  return { type: 'notification', code: body[0] ?? 0, subcode: body[1] ?? 0, data: body.slice(2) };
}

export function notificationFor(e: BgpError): NotificationMessage {
  return { type: 'notification', code: e.code, subcode: e.subcode, data: e.data };
}

const CODE_NAMES: Record<number, string> = {
  1: 'Message Header Error',
  2: 'OPEN Message Error',
  3: 'UPDATE Message Error',
  4: 'Hold Timer Expired',
  5: 'Finite State Machine Error',
  6: 'Cease',
  7: 'ROUTE-REFRESH Message Error',
};

const SUBCODE_NAMES: Record<number, Record<number, string>> = {
  1: { 1: 'Connection Not Synchronized', 2: 'Bad Message Length', 3: 'Bad Message Type' },
  2: {
    1: 'Unsupported Version Number',
    2: 'Bad Peer AS',
    3: 'Bad BGP Identifier',
    4: 'Unsupported Optional Parameter',
    6: 'Unacceptable Hold Time',
    7: 'Unsupported Capability',
  },
  3: {
    1: 'Malformed Attribute List',
    2: 'Unrecognized Well-known Attribute',
    3: 'Missing Well-known Attribute',
    4: 'Attribute Flags Error',
    5: 'Attribute Length Error',
    6: 'Invalid ORIGIN Attribute',
    8: 'Invalid NEXT_HOP Attribute',
    9: 'Optional Attribute Error',
    10: 'Invalid Network Field',
    11: 'Malformed AS_PATH',
  },
  5: {
    1: 'Receive Unexpected Message in OpenSent State',
    2: 'Receive Unexpected Message in OpenConfirm State',
    3: 'Receive Unexpected Message in Established State',
  },
  6: {
    1: 'Maximum Number of Prefixes Reached',
    2: 'Administrative Shutdown',
    3: 'Peer De-configured',
    4: 'Administrative Reset',
    5: 'Connection Rejected',
    6: 'Other Configuration Change',
    7: 'Connection Collision Resolution',
    8: 'Out of Resources',
    9: 'Hard Reset',
  },
};

/** "Cease / Administrative Shutdown (6/2)". */
export function describeNotification(code: number, subcode: number): string {
  const name = CODE_NAMES[code] ?? 'Unknown';
  const sub = SUBCODE_NAMES[code]?.[subcode];
  return `${name}${sub ? ` / ${sub}` : ''} (${code}/${subcode})`;
}
