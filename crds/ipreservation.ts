// IPReservation (Portico): the sticky-IP record of one LoadBalancer Service.
// The operator writes it in its own namespace when a Service gets addresses,
// sets `releasedAt` when it first sees the Service gone, and deletes it after
// the hold time. A Service created again with the same namespace and name gets
// these addresses back while the reservation lives. Users do not write it.

import { z } from 'zod';
import {
  basicStatusSchema,
  dateTimeSchema,
  defineKind,
  dns1035Label,
  dnsLabel,
  listType,
  makeValidator,
  withCel,
} from './common.ts';
import type { BasicStatus, PorticoObject } from './common.ts';
import { parseIP } from './net.ts';

export const ipReservationSpecSchema = z
  .object({
    serviceNamespace: dnsLabel().min(1).describe('Namespace of the Service the addresses are held for.'),
    serviceName: dns1035Label().min(1).describe('Name of the Service the addresses are held for.'),
    serviceUID: z
      .string()
      .max(64)
      .optional()
      .describe('UID of the Service that last held the addresses (a re-created Service has a new one).'),
    pool: z.string().max(253).describe('The IPAddressPool the addresses came from.'),
    ips: listType(
      z
        .array(
          withCel(z.string().min(1).max(64).describe('An IPv4 or IPv6 address.'), [
            { rule: 'isIP(self)', message: 'must be an IP address', check: (s) => parseIP(s) !== undefined },
          ]),
        )
        .min(1)
        .max(2),
      'atomic',
    ).describe('The addresses, at most one per family, in the Service ipFamilies order.'),
    sharingKey: z
      .string()
      .max(253)
      .optional()
      .describe('The allow-shared-ip key the Service had, if any (informational).'),
    releasedAt: dateTimeSchema()
      .optional()
      .describe(
        'When the operator first saw the Service gone. Unset while the Service exists; the reservation is deleted when the hold time has passed since then.',
      ),
  })
  .describe('The desired state of an IPReservation.');

export type IPReservationSpec = z.output<typeof ipReservationSpecSchema>;
export type IPReservationSpecInput = z.input<typeof ipReservationSpecSchema>;
export const ipReservationStatusSchema = basicStatusSchema;
export type IPReservationStatus = BasicStatus;

export const ipReservationKind = defineKind({
  kind: 'IPReservation',
  plural: 'ipreservations',
  shortNames: ['ipres'],
  description:
    'IPReservation records the addresses of one LoadBalancer Service so that they survive operator restarts and are given back to a Service re-created with the same namespace and name within the sticky hold time. Written by the operator.',
  spec: ipReservationSpecSchema,
  status: ipReservationStatusSchema,
  specRequired: true,
  printerColumns: [
    { name: 'Namespace', type: 'string', jsonPath: '.spec.serviceNamespace' },
    { name: 'Service', type: 'string', jsonPath: '.spec.serviceName' },
    { name: 'IPs', type: 'string', jsonPath: '.spec.ips' },
    { name: 'Pool', type: 'string', jsonPath: '.spec.pool' },
    { name: 'Released', type: 'date', jsonPath: '.spec.releasedAt' },
  ],
});

export type IPReservation = PorticoObject<IPReservationSpec, IPReservationStatus>;

export const validateIPReservation = makeValidator(ipReservationKind);
