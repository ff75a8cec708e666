// The BGP message codec: pure functions from bytes to messages and back.
export * from './constants.ts';
export { decodeAsPath, encodeAsPath, mergeAs4Path, pathLength } from './as-path.ts';
export type { AsPathSegment, AsPathSegmentKind } from './as-path.ts';
export { decodePathAttributes } from './attribute-decoder.ts';
export type { AttributeProblem, DecodeContext, DecodedAttributes, ErrorAction } from './attribute-decoder.ts';
export type { Capability, GracefulRestartFamily } from './capabilities.ts';
export { bgpError } from './errors.ts';
export type { BgpError } from './errors.ts';
export { afiSafiOf, ALL_FAMILIES, familyOf, familyOfPrefix } from './family.ts';
export type { AddressFamily } from './family.ts';
export { MessageFramer } from './framer.ts';
export type { Frame } from './framer.ts';
export { canonicalPrefix, formatIp, ipv4ToNumber, numberToIpv4, parseIp, parsePrefix } from './ip.ts';
export { checkHeader, decodeMessage, DEFAULT_CONTEXT, encodeMessage } from './message.ts';
export type { BgpMessage, DecodeResult, KeepaliveMessage } from './message.ts';
export { prefixWireSize } from './nlri.ts';
export { describeNotification, notificationFor } from './notification.ts';
export type { NotificationMessage } from './notification.ts';
export { buildOpen, senderAs } from './open.ts';
export type { OpenMessage } from './open.ts';
export { encodeAttribute, encodePathAttributes, ORIGIN_CODES } from './path-attributes.ts';
export type {
  CodecContext,
  LargeCommunity,
  MpReach,
  MpUnreach,
  Origin,
  PathAttributes,
  RawAttribute,
} from './path-attributes.ts';
export type { RouteRefreshMessage } from './route-refresh.ts';
export { announcedPrefixes, endOfRib, endOfRibFamily, withdrawnPrefixes } from './update.ts';
export type { DecodedUpdate, UpdateMessage } from './update.ts';
