// Community: named aliases for BGP community values, usable in
// BGPAdvertisement.spec.communities. Field-compatible with MetalLB's
// metallb.io/v1beta1 Community. Also home of the community-string syntax
// shared with BGPAdvertisement.

import { z } from 'zod';
import { basicStatusSchema, defineKind, listType, makeValidator, withCel } from './common.ts';
import type { BasicStatus, PorticoObject } from './common.ts';

export type ParsedCommunity =
  | { kind: 'standard'; value: number } // (ASN << 16) | local, RFC 1997
  | { kind: 'large'; global: number; local1: number; local2: number }; // RFC 8092

const STANDARD = /^([0-9]{1,5}):([0-9]{1,5})$/;
const LARGE = /^large:([0-9]{1,10}):([0-9]{1,10}):([0-9]{1,10})$/;

/** Parses `AA:NN` (16-bit parts) or `large:G:L1:L2` (32-bit parts). */
export function parseCommunity(s: string): ParsedCommunity | undefined {
  const std = STANDARD.exec(s);
  if (std) {
    const hi = Number(std[1]);
    const lo = Number(std[2]);
    if (hi > 0xffff || lo > 0xffff) return undefined;
    return { kind: 'standard', value: hi * 0x10000 + lo };
  }
  const large = LARGE.exec(s);
  if (large) {
    const [g, l1, l2] = [Number(large[1]), Number(large[2]), Number(large[3])];
    if (g > 0xffffffff || l1 > 0xffffffff || l2 > 0xffffffff) return undefined;
    return { kind: 'large', global: g, local1: l1, local2: l2 };
  }
  return undefined;
}

const STANDARD_CEL = "(self.matches('^[0-9]{1,5}:[0-9]{1,5}$') && self.split(':').all(p, int(p) <= 65535))";
const LARGE_CEL =
  "(self.matches('^large:[0-9]{1,10}:[0-9]{1,10}:[0-9]{1,10}$') && [1, 2, 3].all(i, int(self.split(':')[i]) <= 4294967295))";

/** CEL: `self` is a valid standard or large community value. */
export const COMMUNITY_VALUE_CEL = `${STANDARD_CEL} || ${LARGE_CEL}`;

/**
 * CEL: `self` is a community value or an alias name. As in MetalLB, a string
 * with exactly one colon must be a standard community and one with exactly
 * three colons a large community; anything else is taken as an alias name
 * (resolved against Community objects by the controller).
 */
export const COMMUNITY_OR_ALIAS_CEL = `self.split(':').size() == 2 ? ${STANDARD_CEL} : (self.split(':').size() == 4 ? ${LARGE_CEL} : true)`;

/** TypeScript twin of COMMUNITY_OR_ALIAS_CEL. */
export function isCommunityOrAlias(s: string): boolean {
  const colons = s.split(':').length - 1;
  if (colons === 1 || colons === 3) return parseCommunity(s) !== undefined;
  return true;
}

export const communityValueSchema = withCel(
  z
    .string()
    .min(1)
    .max(64)
    .describe('A standard community AA:NN (16-bit parts) or a large community large:G:L1:L2.'),
  [
    {
      rule: COMMUNITY_VALUE_CEL,
      message:
        'must be a standard community AA:NN (each part 0-65535) or a large community large:G:L1:L2 (each part 0-4294967295)',
      check: (s) => parseCommunity(s) !== undefined,
    },
  ],
);

export const communityAliasSchema = z
  .object({
    name: z.string().min(1).max(253).describe('The alias, as used in BGPAdvertisement.spec.communities.'),
    value: communityValueSchema,
  })
  .describe('A named BGP community.');
export type CommunityAlias = z.output<typeof communityAliasSchema>;

export const communitySpecSchema = z
  .object({
    communities: listType(z.array(communityAliasSchema).max(1024), 'map', ['name'])
      .optional()
      .describe('The aliases, unique by name.'),
  })
  .describe('The desired state of a Community.');

export type CommunitySpec = z.output<typeof communitySpecSchema>;
export type CommunitySpecInput = z.input<typeof communitySpecSchema>;
export const communityStatusSchema = basicStatusSchema;
export type CommunityStatus = BasicStatus;

export const communityKind = defineKind({
  kind: 'Community',
  plural: 'communities',
  description: 'Community defines named aliases for BGP communities. Field-compatible with MetalLB.',
  spec: communitySpecSchema,
  status: communityStatusSchema,
  specRequired: false,
  printerColumns: [],
});

export type Community = PorticoObject<CommunitySpec, CommunityStatus>;

export const validateCommunity = makeValidator(communityKind);
