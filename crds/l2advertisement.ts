// L2Advertisement: which pools are announced over ARP/NDP, from which nodes
// and interfaces. Field-compatible with MetalLB's metallb.io/v1beta1 kind.

import { z } from 'zod';
import {
  basicStatusSchema,
  defineKind,
  labelSelectorList,
  labelSelectorSchema,
  listType,
  makeValidator,
  objectName,
} from './common.ts';
import type { BasicStatus, PorticoObject } from './common.ts';

export const preferredNodeSelectorSchema = z
  .object({
    weight: z.int().min(1).max(100).describe('Weight added to the score of matching nodes, 1-100.'),
    preference: labelSelectorSchema.describe('The nodes that receive the weight; empty matches every node.'),
  })
  .describe('A soft preference for the announcing node in the L2 election.');

export const interfaceNameSchema = z
  .string()
  .min(1)
  .max(127)
  .regex(/^[^/\s]+$/, 'must be a network interface name (no "/" or whitespace)');

export const l2AdvertisementSpecSchema = z
  .object({
    ipAddressPools: listType(z.array(objectName()), 'set')
      .optional()
      .describe('Names of the IPAddressPools announced by this advertisement.'),
    ipAddressPoolSelectors: labelSelectorList(
      'Selectors for the IPAddressPools announced by this advertisement. When neither this nor ipAddressPools selects a pool, every pool is announced.',
    ),
    nodeSelectors: labelSelectorList(
      'Selectors for the nodes that may announce the addresses; when empty, every node may.',
    ),
    interfaces: listType(z.array(interfaceNameSchema), 'atomic')
      .optional()
      .describe('Interfaces to announce from; when empty, all interfaces of the node.'),
    serviceSelectors: labelSelectorList(
      'Selectors limiting the Services announced; when empty, every Service of the selected pools.',
    ),
    preferredNodeSelectors: listType(z.array(preferredNodeSelectorSchema), 'atomic')
      .optional()
      .describe('Soft preferences among the eligible nodes for the announcing node.'),
  })
  .describe('The desired state of an L2Advertisement.');

export type L2AdvertisementSpec = z.output<typeof l2AdvertisementSpecSchema>;
export type L2AdvertisementSpecInput = z.input<typeof l2AdvertisementSpecSchema>;
export const l2AdvertisementStatusSchema = basicStatusSchema;
export type L2AdvertisementStatus = BasicStatus;

export const l2AdvertisementKind = defineKind({
  kind: 'L2Advertisement',
  plural: 'l2advertisements',
  shortNames: ['l2adv'],
  description:
    'L2Advertisement announces the addresses of the selected pools over ARP (IPv4) and NDP (IPv6). Field-compatible with MetalLB.',
  spec: l2AdvertisementSpecSchema,
  status: l2AdvertisementStatusSchema,
  specRequired: false,
  printerColumns: [
    { name: 'IPAddressPools', type: 'string', jsonPath: '.spec.ipAddressPools' },
    { name: 'IPAddressPool Selectors', type: 'string', jsonPath: '.spec.ipAddressPoolSelectors' },
    { name: 'Interfaces', type: 'string', jsonPath: '.spec.interfaces' },
    { name: 'Node Selectors', type: 'string', jsonPath: '.spec.nodeSelectors', priority: 1 },
  ],
});

export type L2Advertisement = PorticoObject<L2AdvertisementSpec, L2AdvertisementStatus>;

export const validateL2Advertisement = makeValidator(l2AdvertisementKind);
