// BFDProfile: BFD session settings a BGPPeer can refer to. Field-compatible
// with MetalLB's metallb.io/v1beta1 BFDProfile (same ranges; the defaults
// below are applied by the speaker, not written into objects).

import { z } from 'zod';
import { basicStatusSchema, defineKind, makeValidator } from './common.ts';
import type { BasicStatus, PorticoObject } from './common.ts';

/** Values the speaker uses for fields left unset. */
export const BFD_DEFAULTS = {
  receiveInterval: 300,
  transmitInterval: 300,
  detectMultiplier: 3,
  echoInterval: 50,
  echoMode: false,
  passiveMode: false,
  minimumTtl: 254,
} as const;

const interval = (description: string) => z.int().min(10).max(60000).optional().describe(description);

export const bfdProfileSpecSchema = z
  .object({
    receiveInterval: interval(
      'Minimum interval, in milliseconds, at which this system can receive control packets (10-60000; 300 when unset).',
    ),
    transmitInterval: interval(
      'Minimum interval, in milliseconds, at which this system wants to send control packets, before jitter (10-60000; 300 when unset).',
    ),
    detectMultiplier: z
      .int()
      .min(2)
      .max(255)
      .optional()
      .describe(
        'Missed packets before the session is declared down: the remote interval times this (2-255; 3 when unset).',
      ),
    echoInterval: interval('Minimum echo receive interval, in milliseconds (10-60000; 50 when unset).'),
    echoMode: z
      .boolean()
      .optional()
      .describe('Send echo packets (single-hop sessions only). Off when unset.'),
    passiveMode: z
      .boolean()
      .optional()
      .describe('Wait for control packets from the peer instead of starting the session. Off when unset.'),
    minimumTtl: z
      .int()
      .min(1)
      .max(254)
      .optional()
      .describe(
        'Multi-hop sessions: minimum TTL accepted on incoming control packets (1-254; 254 when unset).',
      ),
  })
  .describe('The desired state of a BFDProfile.');

export type BFDProfileSpec = z.output<typeof bfdProfileSpecSchema>;
export type BFDProfileSpecInput = z.input<typeof bfdProfileSpecSchema>;
export const bfdProfileStatusSchema = basicStatusSchema;
export type BFDProfileStatus = BasicStatus;

export const bfdProfileKind = defineKind({
  kind: 'BFDProfile',
  plural: 'bfdprofiles',
  shortNames: ['bfdp'],
  description:
    'BFDProfile holds the settings of the BFD session that can accompany a BGP session. Field-compatible with MetalLB.',
  spec: bfdProfileSpecSchema,
  status: bfdProfileStatusSchema,
  specRequired: false,
  printerColumns: [
    { name: 'Passive Mode', type: 'boolean', jsonPath: '.spec.passiveMode' },
    { name: 'Transmit Interval', type: 'integer', jsonPath: '.spec.transmitInterval' },
    { name: 'Receive Interval', type: 'integer', jsonPath: '.spec.receiveInterval' },
    { name: 'Multiplier', type: 'integer', jsonPath: '.spec.detectMultiplier' },
  ],
});

export type BFDProfile = PorticoObject<BFDProfileSpec, BFDProfileStatus>;

export const validateBFDProfile = makeValidator(bfdProfileKind);
