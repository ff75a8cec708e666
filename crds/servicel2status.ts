// ServiceL2Status (Portico): which node answers ARP/NDP for a Service's
// LoadBalancer IPs, and on which interfaces. Written by the speaker that wins
// the election, one object per (node, Service), in Portico's namespace; it is
// deleted when that node stops announcing. Modelled on MetalLB's
// ServiceL2Status (same status fields, plus the IPs). Users do not write it.

import { z } from 'zod';
import {
  defineKind,
  dns1035Label,
  dnsLabel,
  dnsSubdomain,
  listType,
  makeValidator,
  withCel,
} from './common.ts';
import type { PorticoObject } from './common.ts';
import { parseIP } from './net.ts';

export const serviceL2StatusSpecSchema = z
  .object({})
  .describe('Empty: everything is observed state, in status.');

export const l2InterfaceSchema = z
  .object({ name: z.string().min(1).max(127).describe('Interface name on the node.') })
  .describe('An interface the node answers on.');

export const serviceL2StatusStatusSchema = z
  .object({
    node: dnsSubdomain().optional().describe('The node announcing the Service.'),
    serviceName: dns1035Label().optional().describe('Name of the announced Service.'),
    serviceNamespace: dnsLabel().optional().describe('Namespace of the announced Service.'),
    ips: listType(
      z
        .array(
          withCel(z.string().min(1).max(64).describe('An IPv4 or IPv6 address.'), [
            { rule: 'isIP(self)', message: 'must be an IP address', check: (s) => parseIP(s) !== undefined },
          ]),
        )
        .max(16),
      'atomic',
    )
      .optional()
      .describe('The LoadBalancer IPs of the Service this node answers for.'),
    interfaces: listType(z.array(l2InterfaceSchema).max(64), 'atomic')
      .optional()
      .describe('Interfaces the node answers on; empty when it answers on all of them.'),
  })
  .describe('Observed state: the announcing node and where it answers.');

export type ServiceL2StatusSpec = z.output<typeof serviceL2StatusSpecSchema>;
export type ServiceL2StatusStatus = z.output<typeof serviceL2StatusStatusSchema>;

export const serviceL2StatusKind = defineKind({
  kind: 'ServiceL2Status',
  plural: 'servicel2statuses',
  shortNames: ['l2status'],
  description:
    'ServiceL2Status shows which node answers ARP/NDP for the LoadBalancer IPs of a Service, and on which interfaces. Written by the announcing speaker.',
  spec: serviceL2StatusSpecSchema,
  status: serviceL2StatusStatusSchema,
  specRequired: false,
  printerColumns: [
    { name: 'Node', type: 'string', jsonPath: '.status.node' },
    { name: 'Service Name', type: 'string', jsonPath: '.status.serviceName' },
    { name: 'Service Namespace', type: 'string', jsonPath: '.status.serviceNamespace' },
    { name: 'IPs', type: 'string', jsonPath: '.status.ips' },
    { name: 'Interfaces', type: 'string', jsonPath: '.status.interfaces[*].name', priority: 1 },
  ],
});

export type ServiceL2Status = PorticoObject<ServiceL2StatusSpec, ServiceL2StatusStatus>;

export const validateServiceL2Status = makeValidator(serviceL2StatusKind);
