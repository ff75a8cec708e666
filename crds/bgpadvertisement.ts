// BGPAdvertisement: how the addresses of the selected pools are announced to
// BGP peers. Field-compatible with MetalLB's metallb.io/v1beta1 kind.

import { z } from 'zod';
import {
  basicStatusSchema,
  defineKind,
  labelSelectorList,
  listType,
  makeValidator,
  objectName,
  withCel,
} from './common.ts';
import type { BasicStatus, PorticoObject } from './common.ts';
import { COMMUNITY_OR_ALIAS_CEL, isCommunityOrAlias } from './community.ts';

export const communityOrAliasSchema = withCel(
  z
    .string()
    .min(1)
    .max(253)
    .describe(
      'A standard community AA:NN, a large community large:G:L1:L2, or the name of a Community alias.',
    ),
  [
    {
      rule: COMMUNITY_OR_ALIAS_CEL,
      message:
        'must be a standard community AA:NN (parts 0-65535), a large community large:G:L1:L2 (parts 0-4294967295), or an alias name without that shape',
      check: isCommunityOrAlias,
    },
  ],
);

export const bgpAdvertisementSpecSchema = withCel(
  z
    .object({
      aggregationLength: z
        .int()
        .min(1)
        .max(32)
        .default(32)
        .describe('Prefix length IPv4 addresses are announced with (32: each address on its own).'),
      aggregationLengthV6: z
        .int()
        .min(0)
        .max(128)
        .default(128)
        .describe('Prefix length IPv6 addresses are announced with (128: each address on its own).'),
      localPref: z
        .int()
        .min(0)
        .max(4294967295)
        .optional()
        .describe('LOCAL_PREF attribute of the announcements (iBGP only); higher is preferred.'),
      communities: listType(z.array(communityOrAliasSchema).max(256), 'set')
        .optional()
        .describe('BGP communities attached to the announcements: values or Community alias names.'),
      ipAddressPools: listType(z.array(objectName()), 'set')
        .optional()
        .describe('Names of the IPAddressPools announced by this advertisement.'),
      ipAddressPoolSelectors: labelSelectorList(
        'Selectors for the IPAddressPools announced. When neither this nor ipAddressPools selects a pool, every pool is announced.',
      ),
      nodeSelectors: labelSelectorList(
        'Selectors for the nodes announced as next hops; when empty, every node.',
      ),
      peers: listType(z.array(objectName()), 'set')
        .optional()
        .describe('Names of the BGPPeers to announce to; when empty, every peer.'),
      serviceSelectors: labelSelectorList(
        'Selectors limiting the Services announced; cannot be combined with a non-default aggregation length.',
      ),
    })
    .describe('The desired state of a BGPAdvertisement.'),
  [
    {
      rule: '!has(self.serviceSelectors) || size(self.serviceSelectors) == 0 || ((!has(self.aggregationLength) || self.aggregationLength == 32) && (!has(self.aggregationLengthV6) || self.aggregationLengthV6 == 128))',
      message:
        'serviceSelectors cannot be combined with aggregationLength other than 32 or aggregationLengthV6 other than 128',
      fieldPath: '.serviceSelectors',
      check: (s) =>
        (s.serviceSelectors?.length ?? 0) === 0 ||
        (s.aggregationLength === 32 && s.aggregationLengthV6 === 128),
    },
  ],
);

export type BGPAdvertisementSpec = z.output<typeof bgpAdvertisementSpecSchema>;
export type BGPAdvertisementSpecInput = z.input<typeof bgpAdvertisementSpecSchema>;
export const bgpAdvertisementStatusSchema = basicStatusSchema;
export type BGPAdvertisementStatus = BasicStatus;

export const bgpAdvertisementKind = defineKind({
  kind: 'BGPAdvertisement',
  plural: 'bgpadvertisements',
  shortNames: ['bgpadv'],
  description:
    'BGPAdvertisement announces the addresses of the selected pools to BGP peers, with aggregation, LOCAL_PREF and communities. Field-compatible with MetalLB.',
  spec: bgpAdvertisementSpecSchema,
  status: bgpAdvertisementStatusSchema,
  specRequired: false,
  printerColumns: [
    { name: 'IPAddressPools', type: 'string', jsonPath: '.spec.ipAddressPools' },
    { name: 'IPAddressPool Selectors', type: 'string', jsonPath: '.spec.ipAddressPoolSelectors' },
    { name: 'Peers', type: 'string', jsonPath: '.spec.peers' },
    { name: 'Node Selectors', type: 'string', jsonPath: '.spec.nodeSelectors', priority: 1 },
  ],
});

export type BGPAdvertisement = PorticoObject<BGPAdvertisementSpec, BGPAdvertisementStatus>;

export const validateBGPAdvertisement = makeValidator(bgpAdvertisementKind);
