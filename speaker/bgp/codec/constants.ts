// Wire constants of BGP-4 and the extensions we speak. Plain `as const`
// objects (no enums: the project strips types without transforming them).

/** RFC 4271 4.1: every message starts with 16 octets of all ones. */
export const MARKER_LENGTH = 16;
export const HEADER_LENGTH = 19;
/** RFC 4271 4.1; RFC 8654 extended messages are not negotiated, so this is the limit. */
export const MAX_MESSAGE_LENGTH = 4096;
export const BGP_VERSION = 4;
/** RFC 6793 4.2.1: the 2-octet stand-in for a 4-octet AS number. */
export const AS_TRANS = 23456;

export const MessageType = {
  Open: 1,
  Update: 2,
  Notification: 3,
  Keepalive: 4,
  RouteRefresh: 5,
} as const;

/** RFC 4271 4.5 error codes, plus RFC 6608 (FSM) and RFC 7313 (ROUTE-REFRESH). */
export const ErrorCode = {
  MessageHeader: 1,
  OpenMessage: 2,
  UpdateMessage: 3,
  HoldTimerExpired: 4,
  FiniteStateMachine: 5,
  Cease: 6,
  RouteRefreshMessage: 7,
} as const;

export const HeaderErrorSubcode = {
  ConnectionNotSynchronized: 1,
  BadMessageLength: 2,
  BadMessageType: 3,
} as const;

export const OpenErrorSubcode = {
  Unspecific: 0,
  UnsupportedVersionNumber: 1,
  BadPeerAs: 2,
  BadBgpIdentifier: 3,
  UnsupportedOptionalParameter: 4,
  UnacceptableHoldTime: 6,
  /** RFC 5492 */
  UnsupportedCapability: 7,
} as const;

export const UpdateErrorSubcode = {
  MalformedAttributeList: 1,
  UnrecognizedWellKnownAttribute: 2,
  MissingWellKnownAttribute: 3,
  AttributeFlagsError: 4,
  AttributeLengthError: 5,
  InvalidOriginAttribute: 6,
  InvalidNextHopAttribute: 8,
  OptionalAttributeError: 9,
  InvalidNetworkField: 10,
  MalformedAsPath: 11,
} as const;

/** RFC 6608: which state received the unexpected message. */
export const FsmErrorSubcode = {
  Unspecified: 0,
  UnexpectedMessageInOpenSent: 1,
  UnexpectedMessageInOpenConfirm: 2,
  UnexpectedMessageInEstablished: 3,
} as const;

/** RFC 4486 */
export const CeaseSubcode = {
  MaximumPrefixesReached: 1,
  AdministrativeShutdown: 2,
  PeerDeconfigured: 3,
  AdministrativeReset: 4,
  ConnectionRejected: 5,
  OtherConfigurationChange: 6,
  ConnectionCollisionResolution: 7,
  OutOfResources: 8,
  /** RFC 9384. */
  BfdDown: 10,
} as const;

export const AttrType = {
  Origin: 1,
  AsPath: 2,
  NextHop: 3,
  MultiExitDisc: 4,
  LocalPref: 5,
  AtomicAggregate: 6,
  Aggregator: 7,
  Communities: 8,
  MpReachNlri: 14,
  MpUnreachNlri: 15,
  As4Path: 17,
  As4Aggregator: 18,
  LargeCommunity: 32,
} as const;

/** RFC 4271 4.3 attribute flag bits. */
export const AttrFlag = {
  Optional: 0x80,
  Transitive: 0x40,
  Partial: 0x20,
  ExtendedLength: 0x10,
} as const;

export const Afi = { Ipv4: 1, Ipv6: 2 } as const;
export const Safi = { Unicast: 1 } as const;

/** IANA capability codes (RFC 5492 registry). */
export const CapabilityCode = {
  Multiprotocol: 1,
  RouteRefresh: 2,
  GracefulRestart: 64,
  FourOctetAs: 65,
} as const;

/** RFC 5492 4: the only optional parameter still defined. */
export const OPT_PARAM_CAPABILITIES = 2;
/** RFC 9072 2: a non-extended length of 255 with this type marks the extended encoding. */
export const OPT_PARAM_EXTENDED = 255;

/** RFC 4271 4.3 AS_PATH segment types, RFC 5065 confederation segments. */
export const AsPathSegmentType = {
  AsSet: 1,
  AsSequence: 2,
  AsConfedSequence: 3,
  AsConfedSet: 4,
} as const;
