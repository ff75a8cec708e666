// BGPSessionStatus (Portico): the state of one BGP session, one object per
// (node, BGPPeer), in Portico's namespace. Only that node's speaker writes it,
// so speakers never race on one object; it is deleted when the node no longer
// has the peer. Modelled on MetalLB's BGPSessionState (node, peer, BGP and BFD
// state), plus what an operator asks next: since when, why, and how many
// prefixes. Users do not write it.

import { z } from 'zod';
import { dateTimeSchema, defineKind, dnsSubdomain, makeValidator } from './common.ts';
import type { PorticoObject } from './common.ts';

export const bgpSessionStatusSpecSchema = z
  .object({})
  .describe('Empty: everything is observed state, in status.');

export const bgpSessionStateSchema = z
  .enum(['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'])
  .describe('RFC 4271 session state.');

export const bgpSessionStatusStatusSchema = z
  .object({
    node: dnsSubdomain().optional().describe('The node whose speaker runs the session.'),
    peer: dnsSubdomain().optional().describe('Name of the BGPPeer.'),
    peerAddress: z.string().max(64).optional().describe('The address of the peer.'),
    state: bgpSessionStateSchema.optional(),
    lastTransitionTime: dateTimeSchema()
      .optional()
      .describe('When the session last entered its current state.'),
    lastError: z
      .string()
      .max(1024)
      .optional()
      .describe('The last NOTIFICATION sent or received (code/subcode), or the last connect error.'),
    bfd: z
      .enum(['Up', 'Down', 'none'])
      .optional()
      .describe('BFD state of the peer ("none" when it has no BFDProfile); Init and AdminDown show as Down.'),
    prefixesAnnounced: z.number().int().min(0).optional().describe('Prefixes the peer has from this node.'),
  })
  .describe('Observed state of the session.');

export type BGPSessionStatusSpec = z.output<typeof bgpSessionStatusSpecSchema>;
export type BGPSessionStatusStatus = z.output<typeof bgpSessionStatusStatusSchema>;

export const bgpSessionStatusKind = defineKind({
  kind: 'BGPSessionStatus',
  plural: 'bgpsessionstatuses',
  shortNames: ['bgpsession'],
  description:
    'BGPSessionStatus shows the state of the BGP session between one node and one BGPPeer. Written by the speaker of that node.',
  spec: bgpSessionStatusSpecSchema,
  status: bgpSessionStatusStatusSchema,
  specRequired: false,
  printerColumns: [
    { name: 'Node', type: 'string', jsonPath: '.status.node' },
    { name: 'Peer', type: 'string', jsonPath: '.status.peer' },
    { name: 'State', type: 'string', jsonPath: '.status.state' },
    { name: 'BFD', type: 'string', jsonPath: '.status.bfd', priority: 1 },
    { name: 'Prefixes', type: 'integer', jsonPath: '.status.prefixesAnnounced', priority: 1 },
    { name: 'Last Error', type: 'string', jsonPath: '.status.lastError', priority: 1 },
  ],
});

export type BGPSessionStatus = PorticoObject<BGPSessionStatusSpec, BGPSessionStatusStatus>;

export const validateBGPSessionStatus = makeValidator(bgpSessionStatusKind);
