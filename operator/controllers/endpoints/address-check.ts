// Pure: checks the addresses of hand-written Endpoints (those of Services
// without a selector) for mistakes that make traffic go nowhere: the ClusterIP
// of a Service (a virtual IP is not a backend), loopback, link-local and
// unspecified addresses, and malformed or non-canonical IPs. Each finding
// names the field and the address.
import { parseIP, formatIP } from '../../allocator/index.ts';
import type { ServiceLike } from './binding.ts';

export interface EndpointAddress {
  ip?: string;
}

export interface EndpointsLike {
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
  subsets?: { addresses?: EndpointAddress[] | null; notReadyAddresses?: EndpointAddress[] | null }[] | null;
}

export type FindingReason =
  | 'EndpointAddressIsClusterIP'
  | 'EndpointAddressIsLoopback'
  | 'EndpointAddressIsLinkLocal'
  | 'EndpointAddressIsUnspecified'
  | 'MalformedEndpointAddress';

export interface AddressFinding {
  path: string;
  address: string;
  reason: FindingReason;
  message: string;
}

/** Canonical ClusterIP -> "namespace/name" of its Service. */
export function clusterIPIndex(services: Iterable<ServiceLike>): Map<string, string> {
  const index = new Map<string, string>();
  for (const svc of services) {
    const ips = svc.spec?.clusterIPs?.length
      ? svc.spec.clusterIPs
      : svc.spec?.clusterIP
        ? [svc.spec.clusterIP]
        : [];
    for (const ip of ips) {
      const p = parseIP(ip);
      if (p.ok) index.set(formatIP(p.value), `${svc.metadata?.namespace}/${svc.metadata?.name}`);
    }
  }
  return index;
}

/** Whether Portico checks these Endpoints: their Service exists and has no selector. */
export function isHandWritten(service: ServiceLike | undefined): boolean {
  if (!service) return false;
  const spec = service.spec ?? {};
  return spec.type !== 'ExternalName' && !(spec.selector && Object.keys(spec.selector).length > 0);
}

/** What is wrong with one address, if anything. */
export function classifyAddress(
  ip: string,
  clusterIPs: ReadonlyMap<string, string>,
): Omit<AddressFinding, 'path' | 'address'> | undefined {
  const p = parseIP(ip);
  if (!p.ok) return { reason: 'MalformedEndpointAddress', message: `is malformed (${p.error.message})` };
  const canonical = formatIP(p.value);
  const owner = clusterIPs.get(canonical);
  if (owner) {
    return {
      reason: 'EndpointAddressIsClusterIP',
      message: `is the ClusterIP of Service ${JSON.stringify(owner)}; an endpoint must be a backend, not a virtual IP`,
    };
  }
  const v = p.value.value;
  if (p.value.family === 'IPv4') {
    if (v >> 24n === 127n) return { reason: 'EndpointAddressIsLoopback', message: 'is a loopback address' };
    if (v >> 16n === 0xa9fen)
      return { reason: 'EndpointAddressIsLinkLocal', message: 'is a link-local address' };
    if (v >> 8n === 0xe00000n)
      return { reason: 'EndpointAddressIsLinkLocal', message: 'is a link-local multicast address' };
    if (v === 0n) return { reason: 'EndpointAddressIsUnspecified', message: 'is the unspecified address' };
  } else {
    const top = v >> 112n;
    if (v === 1n) return { reason: 'EndpointAddressIsLoopback', message: 'is the loopback address' };
    if (top >> 6n === 0x3fan)
      return { reason: 'EndpointAddressIsLinkLocal', message: 'is a link-local address' };
    if (top >> 8n === 0xffn && (top & 0xfn) === 2n)
      return { reason: 'EndpointAddressIsLinkLocal', message: 'is a link-local multicast address' };
    if (v === 0n) return { reason: 'EndpointAddressIsUnspecified', message: 'is the unspecified address' };
  }
  if (canonical !== ip) {
    return {
      reason: 'MalformedEndpointAddress',
      message: `is not in canonical form; write ${JSON.stringify(canonical)}`,
    };
  }
  return undefined;
}

export function checkEndpoints(
  endpoints: EndpointsLike,
  service: ServiceLike | undefined,
  clusterIPs: ReadonlyMap<string, string>,
): AddressFinding[] {
  if (!isHandWritten(service)) return [];
  const findings: AddressFinding[] = [];
  (endpoints.subsets ?? []).forEach((subset, i) => {
    for (const field of ['addresses', 'notReadyAddresses'] as const) {
      (subset[field] ?? []).forEach((a, j) => {
        const address = a.ip ?? '';
        const found = classifyAddress(address, clusterIPs);
        if (found) findings.push({ path: `subsets[${i}].${field}[${j}].ip`, address, ...found });
      });
    }
  });
  return findings;
}

/** The Event message for a finding: it names the field and the address. */
export function findingMessage(f: AddressFinding): string {
  return `${f.path}: address ${JSON.stringify(f.address)} ${f.message}`;
}
