// BGPPeer: a BGP session to a router. Field-compatible with MetalLB's
// metallb.io/v1beta2 BGPPeer (including the newer interface, vrf, localASN,
// disableMP and dualStackAddressFamily fields, so nothing is pruned).

import { z } from 'zod';
import {
  basicStatusSchema,
  defineKind,
  durationSchema,
  labelSelectorList,
  makeValidator,
  objectName,
  secretReferenceSchema,
  withCel,
} from './common.ts';
import type { BasicStatus, PorticoObject } from './common.ts';
import { parseDuration, parseIP } from './net.ts';

const ASN_MAX = 4294967295;

/** Milliseconds of a duration already validated by its own schema. */
const ms = (d: string): number => parseDuration(d) ?? NaN;

const ipString = (description: string) =>
  withCel(z.string().min(1).max(64).describe(description), [
    {
      rule: 'isIP(self)',
      message: 'must be an IPv4 or IPv6 address',
      check: (s) => parseIP(s) !== undefined,
    },
  ]);

export const bgpPeerSpecSchema = withCel(
  z
    .object({
      myASN: z.int().min(1).max(ASN_MAX).describe('AS number of the local end of the session.'),
      peerASN: z
        .int()
        .min(0)
        .max(ASN_MAX)
        .optional()
        .describe(
          'AS number expected from the peer (0 means unset). Exactly one of peerASN and dynamicASN is set.',
        ),
      dynamicASN: z
        .enum(['internal', 'external'])
        .optional()
        .describe(
          "Accept the peer's AS number without naming it: internal (must equal myASN) or external (must differ).",
        ),
      localASN: z
        .int()
        .min(1)
        .max(ASN_MAX)
        .optional()
        .describe('AS number announced to this peer instead of myASN (local-as).'),
      peerAddress: ipString(
        'Address to connect to. Exactly one of peerAddress and interface is set.',
      ).optional(),
      interface: z
        .string()
        .min(1)
        .max(127)
        .optional()
        .describe('Node interface for unnumbered BGP peering, instead of peerAddress.'),
      sourceAddress: ipString('Local address to connect from; same family as peerAddress.').optional(),
      peerPort: z.int().min(1).max(65535).default(179).describe('TCP port to connect to.'),
      holdTime: withCel(durationSchema().describe('Requested hold time (RFC 4271): 0, or 3s to 65535s.'), [
        {
          rule: "duration(self) == duration('0s') || (duration(self) >= duration('3s') && duration(self) <= duration('65535s'))",
          message: 'hold time must be 0 or between 3s and 65535s',
          check: (d) => ms(d) === 0 || (ms(d) >= 3000 && ms(d) <= 65_535_000),
        },
      ]).optional(),
      keepaliveTime: durationSchema()
        .describe('Requested keepalive interval; at most holdTime. Defaults to a third of holdTime.')
        .optional(),
      connectTime: withCel(
        durationSchema().describe('Time between connection attempts: whole seconds from 1s to 65535s.'),
        [
          {
            rule: "duration(self) >= duration('1s') && duration(self) <= duration('65535s')",
            message: 'connect time must be between 1s and 65535s',
            check: (d) => ms(d) >= 1000 && ms(d) <= 65_535_000,
          },
          {
            rule: 'duration(self).getMilliseconds() % 1000 == 0',
            message: 'connect time must be a whole number of seconds',
            check: (d) => Math.trunc(ms(d)) % 1000 === 0,
          },
        ],
      ).optional(),
      routerID: withCel(z.string().min(1).max(64).describe('BGP router ID to send (an IPv4 address).'), [
        {
          rule: 'isIP(self) && ip(self).family() == 4',
          message: 'router ID must be an IPv4 address',
          check: (s) => parseIP(s)?.family === 4,
        },
      ]).optional(),
      nodeSelectors: labelSelectorList(
        'Only nodes matching one of these selectors peer; when empty, every node.',
      ),
      password: z
        .string()
        .min(1)
        .max(80)
        .optional()
        .describe('TCP MD5 password (RFC 2385). Prefer passwordSecret; not both.'),
      passwordSecret: secretReferenceSchema
        .optional()
        .describe(
          'A Secret of type kubernetes.io/basic-auth in the Portico namespace whose "password" key holds the TCP MD5 password.',
        ),
      bfdProfile: objectName()
        .optional()
        .describe('Name of the BFDProfile for this session; no BFD when unset.'),
      enableGracefulRestart: z.boolean().optional().describe('Negotiate graceful restart (RFC 4724).'),
      ebgpMultiHop: z.boolean().optional().describe('The eBGP peer is more than one hop away.'),
      vrf: z.string().max(15).optional().describe('Host VRF to peer from.'),
      disableMP: z
        .boolean()
        .default(false)
        .describe('Deprecated in favour of dualStackAddressFamily: separate IPv4 and IPv6 sessions.'),
      dualStackAddressFamily: z
        .boolean()
        .default(false)
        .describe("Exchange both address families over this session, whatever the peer address's family."),
    })
    .describe('The desired state of a BGPPeer.'),
  [
    {
      rule: '(has(self.peerASN) && self.peerASN != 0) != has(self.dynamicASN)',
      message: 'exactly one of peerASN and dynamicASN must be set',
      check: (s) => (s.peerASN !== undefined && s.peerASN !== 0) !== (s.dynamicASN !== undefined),
    },
    {
      rule: 'has(self.peerAddress) != has(self.interface)',
      message: 'exactly one of peerAddress and interface must be set',
      check: (s) => (s.peerAddress !== undefined) !== (s.interface !== undefined),
    },
    {
      rule: "!has(self.ebgpMultiHop) || !self.ebgpMultiHop || ((!has(self.peerASN) || self.peerASN != self.myASN) && (!has(self.dynamicASN) || self.dynamicASN != 'internal'))",
      message: 'ebgpMultiHop cannot be set for an iBGP peer',
      fieldPath: '.ebgpMultiHop',
      check: (s) => !s.ebgpMultiHop || (s.peerASN !== s.myASN && s.dynamicASN !== 'internal'),
    },
    {
      rule: '!has(self.holdTime) || !has(self.keepaliveTime) || duration(self.keepaliveTime) <= duration(self.holdTime)',
      message: 'keepaliveTime must not exceed holdTime',
      fieldPath: '.keepaliveTime',
      check: (s) =>
        s.holdTime === undefined || s.keepaliveTime === undefined || ms(s.keepaliveTime) <= ms(s.holdTime),
    },
    {
      rule: "has(self.holdTime) || !has(self.keepaliveTime) || duration(self.keepaliveTime) == duration('0s') || (duration(self.keepaliveTime) >= duration('1s') && duration(self.keepaliveTime) <= duration('21845s'))",
      message:
        'without holdTime, the hold time is 3 x keepaliveTime, so keepaliveTime must be 0 or between 1s and 21845s',
      fieldPath: '.keepaliveTime',
      check: (s) =>
        s.holdTime !== undefined ||
        s.keepaliveTime === undefined ||
        ms(s.keepaliveTime) === 0 ||
        (ms(s.keepaliveTime) >= 1000 && ms(s.keepaliveTime) <= 21_845_000),
    },
    {
      rule: '!has(self.password) || !has(self.passwordSecret) || !has(self.passwordSecret.name)',
      message: 'password and passwordSecret are mutually exclusive',
      fieldPath: '.password',
      check: (s) => s.password === undefined || s.passwordSecret?.name === undefined,
    },
    {
      rule: '!has(self.sourceAddress) || !has(self.peerAddress) || !isIP(self.sourceAddress) || !isIP(self.peerAddress) || ip(self.sourceAddress).family() == ip(self.peerAddress).family()',
      message: 'sourceAddress must be of the same IP family as peerAddress',
      fieldPath: '.sourceAddress',
      check: (s) => {
        const src = s.sourceAddress === undefined ? undefined : parseIP(s.sourceAddress);
        const dst = s.peerAddress === undefined ? undefined : parseIP(s.peerAddress);
        return !src || !dst || src.family === dst.family;
      },
    },
  ],
);

export type BGPPeerSpec = z.output<typeof bgpPeerSpecSchema>;
export type BGPPeerSpecInput = z.input<typeof bgpPeerSpecSchema>;
export const bgpPeerStatusSchema = basicStatusSchema;
export type BGPPeerStatus = BasicStatus;

export const bgpPeerKind = defineKind({
  kind: 'BGPPeer',
  plural: 'bgppeers',
  description:
    'BGPPeer is a BGP session from the speakers to a router. Field-compatible with MetalLB v1beta2.',
  spec: bgpPeerSpecSchema,
  status: bgpPeerStatusSchema,
  specRequired: true,
  printerColumns: [
    { name: 'Address', type: 'string', jsonPath: '.spec.peerAddress' },
    { name: 'ASN', type: 'string', jsonPath: '.spec.peerASN' },
    { name: 'BFD Profile', type: 'string', jsonPath: '.spec.bfdProfile' },
    { name: 'Multi Hops', type: 'string', jsonPath: '.spec.ebgpMultiHop' },
  ],
});

export type BGPPeer = PorticoObject<BGPPeerSpec, BGPPeerStatus>;

export const validateBGPPeer = makeValidator(bgpPeerKind);
