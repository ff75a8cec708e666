// ServiceBGPStatus (Portico): which BGP peers one node announces a Service's
// LoadBalancer IPs to. One object per (node, Service), in Portico's
// namespace, written only by that node's speaker and deleted when the node
// stops announcing the Service. Modelled on MetalLB's ServiceBGPStatus (same
// status fields, plus the prefixes). Users do not write it.

import { z } from 'zod';
import { defineKind, dns1035Label, dnsLabel, dnsSubdomain, listType, makeValidator } from './common.ts';
import type { PorticoObject } from './common.ts';

export const serviceBGPStatusSpecSchema = z
  .object({})
  .describe('Empty: everything is observed state, in status.');

export const serviceBGPStatusStatusSchema = z
  .object({
    node: dnsSubdomain().optional().describe('The node announcing the Service.'),
    serviceName: dns1035Label().optional().describe('Name of the announced Service.'),
    serviceNamespace: dnsLabel().optional().describe('Namespace of the announced Service.'),
    peers: listType(z.array(dnsSubdomain()).max(256), 'atomic')
      .optional()
      .describe('The BGPPeers this node announces the Service to.'),
    prefixes: listType(z.array(z.string().min(1).max(64)).max(64), 'atomic')
      .optional()
      .describe('The prefixes announced for the Service (its IPs, aggregated as the BGPAdvertisements say).'),
  })
  .describe('Observed state: the announcing node and the peers it announces to.');

export type ServiceBGPStatusSpec = z.output<typeof serviceBGPStatusSpecSchema>;
export type ServiceBGPStatusStatus = z.output<typeof serviceBGPStatusStatusSchema>;

export const serviceBGPStatusKind = defineKind({
  kind: 'ServiceBGPStatus',
  plural: 'servicebgpstatuses',
  shortNames: ['bgpstatus'],
  description:
    'ServiceBGPStatus shows which BGP peers a node announces the LoadBalancer IPs of a Service to. Written by the speaker of that node.',
  spec: serviceBGPStatusSpecSchema,
  status: serviceBGPStatusStatusSchema,
  specRequired: false,
  printerColumns: [
    { name: 'Node', type: 'string', jsonPath: '.status.node' },
    { name: 'Service Name', type: 'string', jsonPath: '.status.serviceName' },
    { name: 'Service Namespace', type: 'string', jsonPath: '.status.serviceNamespace' },
    { name: 'Peers', type: 'string', jsonPath: '.status.peers' },
    { name: 'Prefixes', type: 'string', jsonPath: '.status.prefixes', priority: 1 },
  ],
});

export type ServiceBGPStatus = PorticoObject<ServiceBGPStatusSpec, ServiceBGPStatusStatus>;

export const validateServiceBGPStatus = makeValidator(serviceBGPStatusKind);
