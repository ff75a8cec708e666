// The message header (RFC 4271 4.1) and the dispatch to each message type.
// decodeMessage is total: any byte string yields a message or the
// NOTIFICATION to send, never an exception.
import {
  ErrorCode,
  HEADER_LENGTH,
  HeaderErrorSubcode,
  MARKER_LENGTH,
  MAX_MESSAGE_LENGTH,
  MessageType,
} from './constants.ts';
import { ByteWriter } from './bytes.ts';
import type { AttributeProblem, DecodeContext } from './attribute-decoder.ts';
import { badMessageLength, bgpError } from './errors.ts';
import type { BgpError } from './errors.ts';
import { decodeNotificationBody, encodeNotificationBody, NOTIFICATION_BODY_MIN } from './notification.ts';
import type { NotificationMessage } from './notification.ts';
import { decodeOpenBody, encodeOpenBody, OPEN_BODY_MIN } from './open.ts';
import type { OpenMessage } from './open.ts';
import type { CodecContext } from './path-attributes.ts';
import {
  decodeRouteRefreshBody,
  encodeRouteRefreshBody,
  ROUTE_REFRESH_BODY_LENGTH,
} from './route-refresh.ts';
import type { RouteRefreshMessage } from './route-refresh.ts';
import { decodeUpdateBody, encodeUpdateBody, UPDATE_BODY_MIN } from './update.ts';
import type { UpdateMessage } from './update.ts';

export interface KeepaliveMessage {
  type: 'keepalive';
}

export type BgpMessage =
  OpenMessage | UpdateMessage | NotificationMessage | KeepaliveMessage | RouteRefreshMessage;

export type DecodeResult =
  | {
      ok: true;
      message: BgpMessage;
      /** UPDATE only: RFC 7606 treat-as-withdraw applies to its NLRI. */
      treatAsWithdraw: boolean;
      /** UPDATE only: what was discarded or made it treat-as-withdraw. */
      problems: AttributeProblem[];
    }
  | { ok: false; error: BgpError };

export const DEFAULT_CONTEXT: DecodeContext = { fourOctetAs: true };

const TYPE_CODES: Record<BgpMessage['type'], number> = {
  open: MessageType.Open,
  update: MessageType.Update,
  notification: MessageType.Notification,
  keepalive: MessageType.Keepalive,
  'route-refresh': MessageType.RouteRefresh,
};

/** Body length bounds per type (RFC 4271 6.1, RFC 2918 3). */
const BODY_BOUNDS: Record<number, { min: number; max: number }> = {
  [MessageType.Open]: { min: OPEN_BODY_MIN, max: Infinity },
  [MessageType.Update]: { min: UPDATE_BODY_MIN, max: Infinity },
  [MessageType.Notification]: { min: NOTIFICATION_BODY_MIN, max: Infinity },
  [MessageType.Keepalive]: { min: 0, max: 0 },
  [MessageType.RouteRefresh]: { min: ROUTE_REFRESH_BODY_LENGTH, max: ROUTE_REFRESH_BODY_LENGTH },
};

export interface Header {
  length: number;
  type: number;
}

/**
 * Checks the first 19 octets of a message: marker, length, type, and the
 * length the type demands (RFC 4271 6.1). `bytes` must hold at least a header.
 */
export function checkHeader(bytes: Uint8Array): Header | BgpError {
  for (let i = 0; i < MARKER_LENGTH; i++) {
    if (bytes[i] !== 0xff) {
      return bgpError(
        ErrorCode.MessageHeader,
        HeaderErrorSubcode.ConnectionNotSynchronized,
        'marker is not all ones',
      );
    }
  }
  const length = ((bytes[16] ?? 0) << 8) | (bytes[17] ?? 0);
  const type = bytes[18] ?? 0;
  if (length < HEADER_LENGTH || length > MAX_MESSAGE_LENGTH) {
    return badMessageLength(
      length,
      `message length ${length} outside ${HEADER_LENGTH}..${MAX_MESSAGE_LENGTH}`,
    );
  }
  const bounds = BODY_BOUNDS[type];
  if (!bounds) {
    return bgpError(
      ErrorCode.MessageHeader,
      HeaderErrorSubcode.BadMessageType,
      `message type ${type}`,
      Uint8Array.of(type),
    );
  }
  const body = length - HEADER_LENGTH;
  if (body < bounds.min || body > bounds.max) {
    return badMessageLength(length, `length ${length} is wrong for message type ${type}`);
  }
  return { length, type };
}

function encodeBody(m: BgpMessage, ctx: CodecContext): Uint8Array {
  switch (m.type) {
    case 'open':
      return encodeOpenBody(m);
    case 'update':
      return encodeUpdateBody(m, ctx);
    case 'notification':
      return encodeNotificationBody(m);
    case 'keepalive':
      return new Uint8Array(0);
    case 'route-refresh':
      return encodeRouteRefreshBody(m);
  }
}

/**
 * The wire form of a message. Encoding our own data can only fail through a
 * programming error (an invalid address, a message over 4096 octets), so it
 * throws a RangeError for those.
 */
export function encodeMessage(m: BgpMessage, ctx: CodecContext = DEFAULT_CONTEXT): Uint8Array {
  const body = encodeBody(m, ctx);
  const length = HEADER_LENGTH + body.length;
  if (length > MAX_MESSAGE_LENGTH) throw new RangeError(`${m.type} message of ${length} octets exceeds 4096`);
  const w = new ByteWriter(length);
  for (let i = 0; i < MARKER_LENGTH; i++) w.u8(0xff);
  return w.u16(length).u8(TYPE_CODES[m.type]).bytes(body).toBytes();
}

const failed = (error: BgpError): DecodeResult => ({ ok: false, error });
const decoded = (message: BgpMessage): DecodeResult => ({
  ok: true,
  message,
  treatAsWithdraw: false,
  problems: [],
});

/** Decodes one whole message (header included). */
export function decodeMessage(frame: Uint8Array, ctx: DecodeContext = DEFAULT_CONTEXT): DecodeResult {
  if (frame.length < HEADER_LENGTH) return failed(badMessageLength(frame.length, 'shorter than a header'));
  const header = checkHeader(frame);
  if ('code' in header) return failed(header);
  if (header.length !== frame.length) {
    return failed(
      badMessageLength(header.length, `length field ${header.length} but ${frame.length} octets`),
    );
  }
  const body = frame.subarray(HEADER_LENGTH);
  switch (header.type) {
    case MessageType.Open: {
      const r = decodeOpenBody(body);
      return r.ok ? decoded(r.value) : failed(r.error);
    }
    case MessageType.Update: {
      const r = decodeUpdateBody(body, ctx);
      if (!r.ok) return failed(r.error);
      return {
        ok: true,
        message: r.value.update,
        treatAsWithdraw: r.value.treatAsWithdraw,
        problems: r.value.problems,
      };
    }
    case MessageType.Notification:
      return decoded(decodeNotificationBody(body));
    case MessageType.Keepalive:
      return decoded({ type: 'keepalive' });
    default:
      return decoded(decodeRouteRefreshBody(body));
  }
}
