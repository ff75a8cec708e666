// Pure: the operator flags of the endpoints controllers, checked with the
// flag named (operator/options.ts calls this).
import { parseIP } from '../../allocator/index.ts';
import { parseDuration } from '../../../crds/index.ts';

export interface EndpointsOptions {
  /** DNS servers for ServiceBackends host names ("ip" or "ip:port"); empty: the system's. */
  dnsServers: string[];
  dnsMinRefreshMs: number;
  dnsMaxRefreshMs: number;
}

export const ENDPOINTS_FLAGS = {
  'dns-server': { type: 'string', multiple: true },
  'dns-min-refresh': { type: 'string', default: '5s' },
  'dns-max-refresh': { type: 'string', default: '5m' },
} as const;

export const ENDPOINTS_USAGE = `
  --dns-server ADDR        DNS server for ServiceBackends host names, ip or ip:port ([ipv6]:port); repeatable (default: the system's)
  --dns-min-refresh D      shortest time between lookups of a name, whatever its TTL (default 5s)
  --dns-max-refresh D      longest time between lookups of a name, whatever its TTL (default 5m)`;

export class EndpointsOptionsError extends Error {}

/** Checks one --dns-server value and returns it in the form node:dns accepts. */
export function parseDnsServer(value: string): string {
  const bad = () =>
    new EndpointsOptionsError(`--dns-server: ${JSON.stringify(value)} is not ip, ip:port or [ipv6]:port`);
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(value);
  const v4port = /^([^:]+):(\d+)$/.exec(value);
  const [host, port] = bracketed
    ? [bracketed[1]!, bracketed[2]]
    : v4port
      ? [v4port[1]!, v4port[2]]
      : [value, undefined];
  const ip = parseIP(host);
  if (!ip.ok || (bracketed && ip.value.family !== 'IPv6')) throw bad();
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) throw bad();
  return value;
}

export function parseEndpointsOptions(values: {
  'dns-server'?: string[];
  'dns-min-refresh': string;
  'dns-max-refresh': string;
}): EndpointsOptions {
  const duration = (flag: string, v: string) => {
    const ms = parseDuration(v);
    if (ms === undefined || ms <= 0)
      throw new EndpointsOptionsError(`--${flag}: ${JSON.stringify(v)} is not a positive duration like 5s`);
    return ms;
  };
  const min = duration('dns-min-refresh', values['dns-min-refresh']);
  const max = duration('dns-max-refresh', values['dns-max-refresh']);
  if (min > max)
    throw new EndpointsOptionsError('--dns-min-refresh must not be longer than --dns-max-refresh');
  return {
    dnsServers: (values['dns-server'] ?? [])
      .flatMap((v) => v.split(','))
      .filter((v) => v !== '')
      .map(parseDnsServer),
    dnsMinRefreshMs: min,
    dnsMaxRefreshMs: max,
  };
}
