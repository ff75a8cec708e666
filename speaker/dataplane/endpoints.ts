// EndpointSlices -> the endpoints of one Service port, and kube-proxy's rules
// for which of them take traffic.
import type { V1EndpointSlice } from '@kubernetes/client-node';
import { canonicalIP, ipFamily } from './ip.ts';
import { compareEndpoints, endpointKey } from './types.ts';
import type { Endpoint, IPFamily, Protocol } from './types.ts';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** One address of one EndpointSlice endpoint, with its conditions resolved. */
export interface EndpointCandidate {
  readonly ip: string;
  readonly port: number;
  readonly family: IPFamily;
  readonly nodeName: string | null;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
}

/** The `namespace/name` of the Service a slice belongs to, or null. */
export function sliceServiceKey(slice: V1EndpointSlice): string | null {
  const name = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
  const ns = slice.metadata?.namespace;
  return name && ns ? `${ns}/${name}` : null;
}

function sliceFamily(slice: V1EndpointSlice): IPFamily | null {
  if (slice.addressType === 'IPv4') return 4;
  if (slice.addressType === 'IPv6') return 6;
  return null; // FQDN slices carry no addresses a data path can use.
}

// When two slices list the same ip:port (as they may while the controller
// moves endpoints between slices), keep the more useful one; ties are broken
// on the rest of the endpoint, so the result never depends on slice order.
function rank(c: EndpointCandidate): number {
  return c.ready ? 2 : c.serving ? 1 : 0;
}

function better(a: EndpointCandidate, b: EndpointCandidate): boolean {
  if (rank(a) !== rank(b)) return rank(a) > rank(b);
  const tie = (c: EndpointCandidate): string => `${c.terminating ? 1 : 0}|${c.nodeName ?? ''}`;
  return tie(a) < tie(b);
}

/**
 * The endpoints for the Service port named `portName` with `protocol`, from
 * the Service's slices. Conditions follow the API's defaults: ready unset
 * means ready, serving unset means the value of ready, terminating unset means
 * false. Only an endpoint's first address is used, as kube-proxy does.
 */
export function collectEndpoints(
  slices: readonly V1EndpointSlice[],
  portName: string,
  protocol: Protocol,
): EndpointCandidate[] {
  const byKey = new Map<string, EndpointCandidate>();
  for (const slice of slices) {
    const family = sliceFamily(slice);
    if (family === null) continue;
    const sp = (slice.ports ?? []).find(
      (p) => (p.name ?? '') === portName && (p.protocol ?? 'TCP') === protocol,
    );
    const port = sp?.port;
    if (port === undefined || !Number.isInteger(port) || port < 1 || port > 65535) continue;
    for (const ep of slice.endpoints ?? []) {
      const first = ep.addresses[0];
      const ip = first === undefined ? null : canonicalIP(first);
      if (ip === null || ipFamily(ip) !== family) continue;
      const ready = ep.conditions?.ready ?? true;
      const candidate: EndpointCandidate = {
        ip,
        port,
        family,
        nodeName: ep.nodeName ?? null,
        ready,
        serving: ep.conditions?.serving ?? ready,
        terminating: ep.conditions?.terminating ?? false,
      };
      const key = endpointKey(candidate);
      const seen = byKey.get(key);
      if (!seen || better(candidate, seen)) byKey.set(key, candidate);
    }
  }
  return [...byKey.values()];
}

/**
 * kube-proxy's choice among `candidates` (already narrowed to local ones when
 * the traffic policy is Local): the ready endpoints take new connections; when
 * none is ready, the serving-and-terminating ones do instead. Serving
 * terminating endpoints that are not chosen are kept with weight 0, so that
 * they drain.
 */
export function chooseEndpoints(candidates: readonly EndpointCandidate[], nodeName: string): Endpoint[] {
  const toEndpoint = (c: EndpointCandidate, weight: number): Endpoint => ({
    ip: c.ip,
    port: c.port,
    weight,
    local: c.nodeName === nodeName,
    terminating: c.terminating,
  });
  const ready = candidates.filter((c) => c.ready);
  const servingTerminating = candidates.filter((c) => !c.ready && c.serving && c.terminating);
  const chosen =
    ready.length > 0
      ? [...ready.map((c) => toEndpoint(c, 1)), ...servingTerminating.map((c) => toEndpoint(c, 0))]
      : servingTerminating.map((c) => toEndpoint(c, 1));
  return chosen.sort(compareEndpoints);
}

/** True when some endpoint could take traffic (ready, or serving while terminating). */
export function hasUsableEndpoint(candidates: readonly EndpointCandidate[]): boolean {
  return candidates.some((c) => c.ready || (c.serving && c.terminating));
}
