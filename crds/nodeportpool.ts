// NodePortPool (Portico): NodePort ranges handed out by the admission
// webhook to the Services the pool selects.

import { z } from 'zod';
import {
  READY_COLUMN,
  baseStatusShape,
  defineKind,
  listType,
  makeValidator,
  serviceAllocationSchema,
  withCel,
} from './common.ts';
import type { PorticoObject } from './common.ts';
import { NODE_PORT_MAX, NODE_PORT_MIN } from './net.ts';

export const portEntrySchema = withCel(
  z
    .string()
    .max(11)
    .regex(/^[0-9]{5}(-[0-9]{5})?$/, 'must be a port N or an inclusive range N-M')
    .describe(`A port N or an inclusive range N-M, inside ${NODE_PORT_MIN}-${NODE_PORT_MAX}.`),
  [
    {
      rule: `self.split('-').all(p, int(p) >= ${NODE_PORT_MIN} && int(p) <= ${NODE_PORT_MAX})`,
      message: `ports must be inside ${NODE_PORT_MIN}-${NODE_PORT_MAX}`,
      check: (s) => s.split('-').every((p) => Number(p) >= NODE_PORT_MIN && Number(p) <= NODE_PORT_MAX),
    },
    {
      rule: "self.split('-').size() == 1 || int(self.split('-')[0]) <= int(self.split('-')[1])",
      message: 'range start must not be after its end',
      check: (s) => {
        const [start, end] = s.split('-');
        return end === undefined || Number(start) <= Number(end);
      },
    },
  ],
);

export const nodePortPoolSpecSchema = z
  .object({
    ports: listType(z.array(portEntrySchema).min(1).max(256), 'atomic').describe(
      `Ports of the pool: single ports or ranges, inside ${NODE_PORT_MIN}-${NODE_PORT_MAX}.`,
    ),
    serviceAllocation: serviceAllocationSchema.optional(),
  })
  .describe('The desired state of a NodePortPool.');

export type NodePortPoolSpec = z.output<typeof nodePortPoolSpecSchema>;
export type NodePortPoolSpecInput = z.input<typeof nodePortPoolSpecSchema>;

export const nodePortPoolStatusSchema = z
  .object({
    ...baseStatusShape(),
    total: z.int().min(0).optional().describe('Ports in the pool.'),
    used: z.int().min(0).optional().describe('Ports assigned to Services.'),
    available: z.int().min(0).optional().describe('Ports still free.'),
  })
  .describe(
    'The observed state of a NodePortPool: port counts and the conditions Ready, Invalid, Overlap, Exhausted and ServicesOutsidePool.',
  );
export type NodePortPoolStatus = z.output<typeof nodePortPoolStatusSchema>;

/** Condition types set on NodePortPool status. */
export const NodePortPoolConditionType = {
  Ready: 'Ready',
  Invalid: 'Invalid',
  Overlap: 'Overlap',
  Exhausted: 'Exhausted',
  /** Services the pool selects whose nodePorts lie outside it (found by the audit). */
  ServicesOutsidePool: 'ServicesOutsidePool',
} as const;

export const nodePortPoolKind = defineKind({
  kind: 'NodePortPool',
  plural: 'nodeportpools',
  shortNames: ['npp'],
  description:
    'NodePortPool is a set of NodePorts that the admission webhook assigns to the Services the pool selects.',
  spec: nodePortPoolSpecSchema,
  status: nodePortPoolStatusSchema,
  specRequired: true,
  printerColumns: [
    { name: 'Ports', type: 'string', jsonPath: '.spec.ports' },
    { name: 'Used', type: 'integer', jsonPath: '.status.used' },
    { name: 'Available', type: 'integer', jsonPath: '.status.available' },
    READY_COLUMN,
  ],
});

export type NodePortPool = PorticoObject<NodePortPoolSpec, NodePortPoolStatus>;

export const validateNodePortPool = makeValidator(nodePortPoolKind);
