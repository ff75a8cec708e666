// ServiceBackends (Portico): the backends of a selector-less Service,
// declared as IPs or host names, with optional TCP/HTTP health checks. The
// endpoints controller publishes the healthy ones as EndpointSlices.

import { z } from 'zod';
import {
  READY_COLUMN,
  baseStatusShape,
  dateTimeSchema,
  defineKind,
  dns1035Label,
  dnsLabel,
  dnsSubdomain,
  durationSchema,
  listType,
  makeValidator,
  withCel,
} from './common.ts';
import type { PorticoObject } from './common.ts';
import { parseDuration, parseIP } from './net.ts';

/** Whether an EndpointSlice may carry this address (Kubernetes' ValidateEndpointIP). */
export function publishableIP(s: string): boolean {
  const ip = parseIP(s);
  if (!ip) return true;
  if (ip.family === 4) {
    const v = ip.value;
    return !(v >> 24n === 127n || v === 0n || v >> 16n === 0xa9fen || v >> 8n === 0xe00000n);
  }
  const v = ip.value;
  const top = v >> 112n;
  return !(v === 1n || v === 0n || top >> 6n === 0x3fan || (top >> 8n === 0xffn && (top & 0xfn) === 2n));
}

const ms = (d: string): number => parseDuration(d) ?? NaN;

export const backendSchema = withCel(
  z
    .object({
      ip: withCel(z.string().min(1).max(64).describe('An IPv4 or IPv6 address.'), [
        {
          rule: 'isIP(self)',
          message: 'must be an IPv4 or IPv6 address',
          check: (s) => parseIP(s) !== undefined,
        },
        {
          // EndpointSlice validation rejects these, so they could never be published.
          rule: '!isIP(self) || !(ip(self).isLoopback() || ip(self).isUnspecified() || ip(self).isLinkLocalUnicast() || ip(self).isLinkLocalMulticast())',
          message: 'must not be a loopback, unspecified or link-local address (EndpointSlices reject them)',
          check: (s) => publishableIP(s),
        },
      ]).optional(),
      hostname: dnsSubdomain()
        .min(1)
        .optional()
        .describe('A DNS name, resolved periodically; each address it resolves to is a backend.'),
    })
    .describe('One backend: exactly one of ip and hostname.'),
  [
    {
      rule: 'has(self.ip) != has(self.hostname)',
      message: 'exactly one of ip and hostname must be set',
      check: (b) => (b.ip !== undefined) !== (b.hostname !== undefined),
    },
  ],
);
export type Backend = z.output<typeof backendSchema>;

export const backendPortSchema = z
  .object({
    name: dnsLabel()
      .min(1)
      .optional()
      .describe('Name of the Service port this is the target of; required when there is more than one port.'),
    port: z.int().min(1).max(65535).describe('Port number on the backends.'),
    protocol: z.enum(['TCP', 'UDP', 'SCTP']).default('TCP').describe('IP protocol of the port.'),
  })
  .describe('A port of the backends.');
export type BackendPort = z.output<typeof backendPortSchema>;

export const healthCheckPortSchema = withCel(
  z
    .union([z.int().min(1).max(65535), dnsLabel().min(1)])
    .describe('Port to probe: a number, or the name of an entry of spec.ports. Defaults to the first port.'),
  [
    {
      rule: "type(self) == int ? (self >= 1 && self <= 65535) : self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",
      message: 'must be a port number 1-65535 or a port name',
      check: (v) =>
        typeof v === 'number' ? v >= 1 && v <= 65535 : /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(v),
    },
  ],
);

export const healthCheckSchema = withCel(
  z
    .object({
      type: z
        .enum(['tcp', 'http'])
        .default('tcp')
        .describe('tcp: a connection opens; http: GET path answers 2xx or 3xx.'),
      port: healthCheckPortSchema.optional(),
      path: z
        .string()
        .max(1024)
        .regex(/^\/\S*$/, 'must be an absolute URL path starting with "/"')
        .optional()
        .describe('HTTP path to GET (http only); "/" when unset.'),
      interval: durationSchema().default('10s').describe('Time between probes of one backend.'),
      timeout: durationSchema().default('3s').describe('Time a probe may take; at most interval.'),
      healthyThreshold: z
        .int()
        .min(1)
        .max(100)
        .default(2)
        .describe('Consecutive successes for an unhealthy backend to become healthy.'),
      unhealthyThreshold: z
        .int()
        .min(1)
        .max(100)
        .default(3)
        .describe('Consecutive failures for a healthy backend to become unhealthy.'),
    })
    .describe('Active health checking of the backends. Without it, every backend counts as healthy.'),
  [
    {
      rule: "self.type == 'http' || !has(self.path)",
      message: 'path is only allowed with type http',
      fieldPath: '.path',
      check: (h) => h.type === 'http' || h.path === undefined,
    },
    {
      rule: "duration(self.interval) >= duration('1s')",
      message: 'interval must be at least 1s',
      fieldPath: '.interval',
      check: (h) => ms(h.interval) >= 1000,
    },
    {
      rule: "duration(self.timeout) > duration('0s') && duration(self.timeout) <= duration(self.interval)",
      message: 'timeout must be greater than 0 and at most interval',
      fieldPath: '.timeout',
      check: (h) => ms(h.timeout) > 0 && ms(h.timeout) <= ms(h.interval),
    },
  ],
);
export type HealthCheck = z.output<typeof healthCheckSchema>;

export const serviceBackendsSpecSchema = z
  .object({
    serviceName: dns1035Label()
      .min(1)
      .describe('Name of the selector-less Service, in the same namespace, that these are the backends of.'),
    backends: listType(z.array(backendSchema).max(1000), 'atomic').describe('The backends.'),
    ports: withCel(listType(z.array(backendPortSchema).min(1).max(100), 'atomic'), [
      {
        rule: 'self.size() <= 1 || self.all(p, has(p.name))',
        message: 'every port must have a name when there is more than one',
        check: (ps) => ps.length <= 1 || ps.every((p) => p.name !== undefined),
      },
      {
        rule: "self.all(p, self.exists_one(q, (has(q.name) ? q.name : '') == (has(p.name) ? p.name : '')))",
        message: 'port names must be unique',
        check: (ps) => new Set(ps.map((p) => p.name ?? '')).size === ps.length,
      },
    ]).describe('Ports of the backends, matched by name to the ports of the Service.'),
    healthCheck: healthCheckSchema.optional(),
  })
  .describe('The desired state of a ServiceBackends.');

export type ServiceBackendsSpec = z.output<typeof serviceBackendsSpecSchema>;
export type ServiceBackendsSpecInput = z.input<typeof serviceBackendsSpecSchema>;

export const backendStatusSchema = z
  .object({
    ip: z.string().max(64).optional().describe('The backend, when given by ip.'),
    hostname: z.string().max(253).optional().describe('The backend, when given by hostname.'),
    addresses: listType(z.array(z.string().max(64)).max(100), 'atomic')
      .optional()
      .describe('For a hostname: the addresses it resolved to.'),
    healthy: z.boolean().describe('Whether the backend is published.'),
    consecutiveFailures: z.int().min(0).optional().describe('Failed probes in a row.'),
    lastProbeTime: dateTimeSchema().optional().describe('When the backend was last probed.'),
    lastTransitionTime: dateTimeSchema().optional().describe('When healthy last changed.'),
    message: z.string().max(1024).optional().describe('Why the backend is unhealthy, or resolution errors.'),
  })
  .describe('Health of one backend.');
export type BackendStatus = z.output<typeof backendStatusSchema>;

export const serviceBackendsStatusSchema = z
  .object({
    ...baseStatusShape(),
    backends: listType(z.array(backendStatusSchema), 'atomic').optional().describe('Health of each backend.'),
    healthy: z.int().min(0).optional().describe('Number of healthy backend addresses.'),
    total: z.int().min(0).optional().describe('Number of backend addresses.'),
  })
  .describe('The observed state of a ServiceBackends: per-backend health and the condition Ready.');
export type ServiceBackendsStatus = z.output<typeof serviceBackendsStatusSchema>;

export const serviceBackendsKind = defineKind({
  kind: 'ServiceBackends',
  plural: 'servicebackends',
  singular: 'servicebackend',
  shortNames: ['svcbe'],
  description:
    'ServiceBackends declares the backends of a selector-less Service, with optional health checks; the healthy ones are published as EndpointSlices.',
  spec: serviceBackendsSpecSchema,
  status: serviceBackendsStatusSchema,
  specRequired: true,
  printerColumns: [
    { name: 'Service', type: 'string', jsonPath: '.spec.serviceName' },
    { name: 'Healthy', type: 'integer', jsonPath: '.status.healthy' },
    { name: 'Total', type: 'integer', jsonPath: '.status.total' },
    READY_COLUMN,
  ],
});

export type ServiceBackends = PorticoObject<ServiceBackendsSpec, ServiceBackendsStatus>;

export const validateServiceBackends = makeValidator(serviceBackendsKind);
