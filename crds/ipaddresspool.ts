// IPAddressPool: the addresses Portico hands out. Field-compatible with
// MetalLB's metallb.io/v1beta1 IPAddressPool, plus `usage` and a status.

import { z } from 'zod';
import {
  READY_COLUMN,
  baseStatusShape,
  defineKind,
  makeValidator,
  serviceAllocationSchema,
  withCel,
  listType,
} from './common.ts';
import type { PorticoObject } from './common.ts';
import { isCIDR, isIP, parseAddressEntry, parseIP } from './net.ts';

/** CEL for one address entry (`self` is the entry string). */
const ADDRESS_ENTRY_RULE =
  "isIP(self) || isCIDR(self) || (self.split('-').size() == 2 && isIP(self.split('-')[0].trim()) && isIP(self.split('-')[1].trim()) && ip(self.split('-')[0].trim()).family() == ip(self.split('-')[1].trim()).family())";

function addressEntryMatchesCel(s: string): boolean {
  if (isIP(s) || isCIDR(s)) return true;
  const parts = s.split('-');
  if (parts.length !== 2) return false;
  const a = parseIP((parts[0] as string).trim());
  const b = parseIP((parts[1] as string).trim());
  return a !== undefined && b !== undefined && a.family === b.family;
}

export const addressEntrySchema = withCel(
  z
    .string()
    .min(1)
    .max(128)
    .describe(
      'A CIDR (192.168.10.0/24, fc00::/124), a single IP, or an inclusive range start-end (192.168.9.1-192.168.9.5) whose ends are of the same family.',
    ),
  [
    {
      rule: ADDRESS_ENTRY_RULE,
      message:
        'must be a CIDR (192.168.10.0/24), a single IP address, or a range start-end of two addresses of the same family',
      check: addressEntryMatchesCel,
    },
  ],
).superRefine((s, ctx) => {
  // Not expressible in CEL (IP addresses are not ordered there): the
  // apiserver accepts a reversed range; this check and the controller reject it.
  const r = parseAddressEntry(s);
  if (!r.ok && addressEntryMatchesCel(s)) ctx.addIssue({ code: 'custom', message: r.error, input: s });
});

export const ipAddressPoolUsageSchema = z.enum(['LoadBalancer', 'ClusterIP']);
export type IPAddressPoolUsage = z.output<typeof ipAddressPoolUsageSchema>;

export const serviceCIDRSettingsSchema = z
  .object({
    create: z
      .boolean()
      .default(false)
      .describe(
        'When true, Portico creates a networking.k8s.io/v1 ServiceCIDR holding the pool (one CIDR per family, so spec.addresses must then be at most one CIDR of each family) and deletes it when the pool goes.',
      ),
  })
  .describe('The ServiceCIDR of a ClusterIP pool (usage ClusterIP only).');

export const ipAddressPoolSpecSchema = withCel(
  z
    .object({
      addresses: listType(z.array(addressEntrySchema).min(1).max(1024), 'atomic').describe(
        'The address ranges of the pool: CIDRs, single IPs or start-end ranges, IPv4 or IPv6. All share the settings below.',
      ),
      autoAssign: z
        .boolean()
        .default(true)
        .describe(
          'When false, addresses are only given to Services that ask for this pool or an address in it.',
        ),
      avoidBuggyIPs: z
        .boolean()
        .default(false)
        .describe('When true, IPv4 addresses ending in .0 or .255 are never assigned.'),
      serviceAllocation: serviceAllocationSchema.optional(),
      usage: ipAddressPoolUsageSchema
        .default('LoadBalancer')
        .describe(
          'What the addresses are for: LoadBalancer (external IPs of LoadBalancer Services) or ClusterIP (cluster IPs, filled in by the admission webhook; the pool must lie inside a Service CIDR of the cluster).',
        ),
      serviceCIDR: serviceCIDRSettingsSchema.optional(),
    })
    .describe('The desired state of an IPAddressPool.'),
  [
    {
      rule: "!has(self.serviceCIDR) || !self.serviceCIDR.create || self.usage == 'ClusterIP'",
      message: 'create: true needs usage ClusterIP',
      fieldPath: '.serviceCIDR',
      check: (spec) => !spec.serviceCIDR?.create || spec.usage === 'ClusterIP',
    },
  ],
);

export type IPAddressPoolSpec = z.output<typeof ipAddressPoolSpecSchema>;
export type IPAddressPoolSpecInput = z.input<typeof ipAddressPoolSpecSchema>;

/** Largest count written as an exact integer; see familyCountsSchema. */
export const MAX_EXACT_COUNT = Number.MAX_SAFE_INTEGER;

const decimalString = () =>
  z
    .string()
    .max(40)
    .regex(/^(0|[1-9][0-9]*)$/, 'must be a decimal integer');

/**
 * Counts for one address family. IPv6 pools can hold more than 2^53
 * addresses, which neither a JSON number read by JavaScript nor (beyond
 * 2^63) an int64 can carry. So `total`, `assigned` and `available` are
 * integers saturated at 2^53-1 (exact below that, "at least" at it), and
 * `totalExact`/`availableExact` carry the exact values as decimal strings.
 */
export const familyCountsSchema = z
  .object({
    total: z.int().min(0).describe('Addresses in the pool for this family (saturated at 2^53-1).'),
    assigned: z.int().min(0).describe('Addresses currently assigned.'),
    reserved: z
      .int()
      .min(0)
      .optional()
      .describe(
        "Addresses held for deleted Services during the sticky hold time: not assigned, but not handed to another Service's name either.",
      ),
    available: z.int().min(0).describe('Addresses still free (saturated at 2^53-1).'),
    totalExact: decimalString().optional().describe('The exact total, as a decimal string.'),
    availableExact: decimalString().optional().describe('The exact number available, as a decimal string.'),
  })
  .describe('Address counts for one IP family.');
export type FamilyCounts = z.output<typeof familyCountsSchema>;

/** Builds the status counts of one family from exact bigints. */
export function familyCounts(total: bigint, assigned: bigint, reserved = 0n): FamilyCounts {
  const sat = (n: bigint) => (n > BigInt(MAX_EXACT_COUNT) ? MAX_EXACT_COUNT : Number(n < 0n ? 0n : n));
  const free = total - assigned - reserved;
  const available = free < 0n ? 0n : free;
  return {
    total: sat(total),
    assigned: sat(assigned),
    ...(reserved > 0n ? { reserved: sat(reserved) } : {}),
    available: sat(available),
    totalExact: total.toString(),
    availableExact: available.toString(),
  };
}

export const ipAddressPoolStatusSchema = z
  .object({
    ...baseStatusShape(),
    ipv4: familyCountsSchema.optional(),
    ipv6: familyCountsSchema.optional(),
  })
  .describe(
    'The observed state of an IPAddressPool: counts per family and the conditions Ready, Overlap, Exhausted, OutsideServiceCIDR, ServiceCIDR and ServicesOutsidePool.',
  );
export type IPAddressPoolStatus = z.output<typeof ipAddressPoolStatusSchema>;

/** Condition types set on IPAddressPool status. */
export const IPAddressPoolConditionType = {
  Ready: 'Ready',
  Overlap: 'Overlap',
  Exhausted: 'Exhausted',
  OutsideServiceCIDR: 'OutsideServiceCIDR',
  /** The ServiceCIDR Portico creates for the pool (spec.serviceCIDR.create). */
  ServiceCIDR: 'ServiceCIDR',
  /** Services the pool selects whose clusterIPs lie outside it (found by the audit). */
  ServicesOutsidePool: 'ServicesOutsidePool',
} as const;

export const ipAddressPoolKind = defineKind({
  kind: 'IPAddressPool',
  plural: 'ipaddresspools',
  shortNames: ['ipap'],
  description:
    'IPAddressPool is a pool of IP addresses that Portico assigns to LoadBalancer Services (or, with usage ClusterIP, to cluster IPs). Field-compatible with MetalLB.',
  spec: ipAddressPoolSpecSchema,
  status: ipAddressPoolStatusSchema,
  specRequired: true,
  printerColumns: [
    { name: 'IPv4 Assigned', type: 'integer', jsonPath: '.status.ipv4.assigned' },
    { name: 'IPv4 Available', type: 'integer', jsonPath: '.status.ipv4.available' },
    { name: 'IPv6 Assigned', type: 'integer', jsonPath: '.status.ipv6.assigned' },
    { name: 'IPv6 Available', type: 'string', jsonPath: '.status.ipv6.availableExact' },
    READY_COLUMN,
    { name: 'Usage', type: 'string', jsonPath: '.spec.usage', priority: 1 },
    { name: 'Auto Assign', type: 'boolean', jsonPath: '.spec.autoAssign', priority: 1 },
    { name: 'Addresses', type: 'string', jsonPath: '.spec.addresses', priority: 1 },
  ],
});

export type IPAddressPool = PorticoObject<IPAddressPoolSpec, IPAddressPoolStatus>;

export const validateIPAddressPool = makeValidator(ipAddressPoolKind);
