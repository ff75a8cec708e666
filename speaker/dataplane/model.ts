// The pure data-path model: Services, EndpointSlices and this node in, the
// backend-neutral desired state out. No I/O; kube-proxy's service/endpoint
// change trackers and the "what to program" half of its sync, as data.
import type { V1EndpointSlice, V1Node, V1Service, V1ServicePort } from '@kubernetes/client-node';
import { chooseEndpoints, collectEndpoints, hasUsableEndpoint, sliceServiceKey } from './endpoints.ts';
import type { EndpointCandidate } from './endpoints.ts';
import { canonicalIP, cidrContains, ipFamily, parseCIDR } from './ip.ts';
import type { CIDR } from './ip.ts';
import { schedulerFor } from './scheduler.ts';
import { PROTOCOLS, compareStrings, virtualServiceKey } from './types.ts';
import type {
  Affinity,
  DesiredState,
  Endpoint,
  IPFamily,
  Protocol,
  VirtualService,
  VirtualServiceKind,
} from './types.ts';

export const DEFAULT_AFFINITY_TIMEOUT_SECONDS = 10800;
const MAX_AFFINITY_TIMEOUT_SECONDS = 86400;

export interface NodeInfo {
  /** The Node's name, compared with EndpointSlice endpoints' nodeName. */
  readonly name: string;
  /** Addresses NodePorts are served on. */
  readonly addresses: readonly string[];
}

export interface ModelInput {
  readonly services: readonly V1Service[];
  readonly endpointSlices: readonly V1EndpointSlice[];
  readonly node: NodeInfo;
  /**
   * When set and not empty, NodePorts are served only on node addresses inside
   * these CIDRs (kube-proxy's --nodeport-addresses).
   */
  readonly nodePortCIDRs?: readonly string[];
}

export interface ModelResult {
  readonly state: DesiredState;
  /** Things skipped or defaulted, each naming the Service and the field. */
  readonly warnings: readonly string[];
}

/** This node's name and its InternalIP and ExternalIP addresses. */
export function nodeInfoFromNode(node: V1Node): NodeInfo {
  const addresses = (node.status?.addresses ?? [])
    .filter((a) => a.type === 'InternalIP' || a.type === 'ExternalIP')
    .map((a) => a.address);
  return { name: node.metadata?.name ?? '', addresses };
}

function uniqueCanonical(ips: readonly string[], warn: (ip: string) => void): string[] {
  const out = new Set<string>();
  for (const raw of ips) {
    const ip = canonicalIP(raw);
    if (ip === null) warn(raw);
    else out.add(ip);
  }
  return [...out];
}

function affinityOf(svc: V1Service, warn: (m: string) => void): Affinity | null {
  if (svc.spec?.sessionAffinity !== 'ClientIP') return null;
  const t = svc.spec.sessionAffinityConfig?.clientIP?.timeoutSeconds;
  if (t === undefined) return { timeoutSeconds: DEFAULT_AFFINITY_TIMEOUT_SECONDS };
  if (!Number.isInteger(t) || t < 1 || t > MAX_AFFINITY_TIMEOUT_SECONDS) {
    warn(
      `spec.sessionAffinityConfig.clientIP.timeoutSeconds: ${t} is not in 1..${MAX_AFFINITY_TIMEOUT_SECONDS}; using ${DEFAULT_AFFINITY_TIMEOUT_SECONDS}`,
    );
    return { timeoutSeconds: DEFAULT_AFFINITY_TIMEOUT_SECONDS };
  }
  return { timeoutSeconds: t };
}

function protocolOf(port: V1ServicePort): Protocol | null {
  const p = port.protocol ?? 'TCP';
  return (PROTOCOLS as readonly string[]).includes(p) ? (p as Protocol) : null;
}

function validPort(n: number | undefined): n is number {
  return n !== undefined && Number.isInteger(n) && n >= 1 && n <= 65535;
}

/** What all virtual services of one Service share. */
interface ServiceContext {
  readonly base: Pick<
    VirtualService,
    'service' | 'scheduler' | 'affinity' | 'externalLocal' | 'internalLocal'
  >;
}

function virtualService(
  ctx: ServiceContext,
  kind: VirtualServiceKind,
  family: IPFamily,
  vip: string,
  port: number,
  protocol: Protocol,
  portName: string,
  endpoints: Endpoint[],
  anyUsable: boolean,
): VirtualService {
  const active = endpoints.some((ep) => ep.weight > 0);
  return {
    key: virtualServiceKey(protocol, vip, port),
    portName,
    kind,
    family,
    vip,
    port,
    protocol,
    ...ctx.base,
    noEndpoints: active ? null : anyUsable ? 'drop' : 'reject',
    endpoints,
  };
}

/** The virtual services of one Service (already known not to be headless or ExternalName). */
function serviceVirtualServices(
  svc: V1Service,
  slices: readonly V1EndpointSlice[],
  node: NodeInfo,
  nodePortAddresses: readonly string[],
  warn: (m: string) => void,
): VirtualService[] {
  const spec = svc.spec ?? {};
  const type = spec.type ?? 'ClusterIP';
  const id = `${svc.metadata?.namespace ?? ''}/${svc.metadata?.name ?? ''}`;
  const { scheduler, warning } = schedulerFor(svc.metadata?.annotations);
  if (warning) warn(warning);
  const externalLocal = spec.externalTrafficPolicy === 'Local';
  const internalLocal = spec.internalTrafficPolicy === 'Local';
  const ctx: ServiceContext = {
    base: { service: id, scheduler, affinity: affinityOf(svc, warn), externalLocal, internalLocal },
  };
  const clusterIPs = uniqueCanonical(
    spec.clusterIPs?.length ? spec.clusterIPs : [spec.clusterIP ?? ''],
    (ip) => warn(`spec.clusterIPs: "${ip}" is not an IP address`),
  );
  const externalIPs = uniqueCanonical(spec.externalIPs ?? [], (ip) =>
    warn(`spec.externalIPs: "${ip}" is not an IP address`),
  );
  const lbIPs =
    type === 'LoadBalancer'
      ? uniqueCanonical(
          (svc.status?.loadBalancer?.ingress ?? [])
            // ipMode Proxy: the load balancer proxies; packets do not arrive with the LB IP.
            .filter((ing) => ing.ip && ing.ipMode !== 'Proxy')
            .map((ing) => ing.ip ?? ''),
          (ip) => warn(`status.loadBalancer.ingress: "${ip}" is not an IP address`),
        )
      : [];
  const hasNodePorts = type === 'NodePort' || type === 'LoadBalancer';

  const out: VirtualService[] = [];
  for (const [i, port] of (spec.ports ?? []).entries()) {
    const protocol = protocolOf(port);
    if (protocol === null) {
      warn(`spec.ports[${i}].protocol: "${port.protocol}" is not one of ${PROTOCOLS.join(', ')}`);
      continue;
    }
    if (!validPort(port.port)) {
      warn(`spec.ports[${i}].port: ${port.port} is not a port number`);
      continue;
    }
    const portName = port.name ?? '';
    const all = collectEndpoints(slices, portName, protocol);
    for (const vip of clusterIPs) {
      const family = ipFamily(vip) as IPFamily;
      const candidates = all.filter((c) => c.family === family);
      const anyUsable = hasUsableEndpoint(candidates);
      const local = (c: EndpointCandidate): boolean => c.nodeName === node.name;
      const pick = (onlyLocal: boolean): Endpoint[] =>
        chooseEndpoints(onlyLocal ? candidates.filter(local) : candidates, node.name);
      const internal = pick(internalLocal);
      const external = pick(externalLocal);
      const make = (kind: VirtualServiceKind, ip: string, p: number, eps: Endpoint[]): VirtualService =>
        virtualService(ctx, kind, family, ip, p, protocol, portName, eps, anyUsable);

      out.push(make('clusterIP', vip, port.port, internal));
      if (hasNodePorts && validPort(port.nodePort)) {
        for (const ip of nodePortAddresses) {
          if (ipFamily(ip) === family) out.push(make('nodePort', ip, port.nodePort, external));
        }
      }
      for (const ip of lbIPs) {
        if (ipFamily(ip) === family) out.push(make('loadBalancer', ip, port.port, external));
      }
      for (const ip of externalIPs) {
        if (ipFamily(ip) === family) out.push(make('externalIP', ip, port.port, external));
      }
    }
  }
  return out;
}

function nodePortAddressesOf(input: ModelInput, warn: (m: string) => void): string[] {
  const addresses = uniqueCanonical(input.node.addresses, (ip) =>
    warn(`node ${input.node.name}: address "${ip}" is not an IP address`),
  );
  if (!input.nodePortCIDRs?.length) return addresses;
  const cidrs: CIDR[] = [];
  for (const text of input.nodePortCIDRs) {
    const c = parseCIDR(text);
    if (c) cidrs.push(c);
    else warn(`nodePortCIDRs: "${text}" is not a CIDR`);
  }
  return addresses.filter((ip) => cidrs.some((c) => cidrContains(c, ip)));
}

/**
 * The desired data path of this node. Headless and ExternalName Services
 * produce nothing; a Service port produces one virtual service per ClusterIP
 * (one per family), per node address (NodePort), per LoadBalancer ingress IP
 * and per externalIP. When two Services claim the same VIP, protocol and
 * port, the first in namespace/name order keeps it and a warning says so.
 */
export function buildDesiredState(input: ModelInput): ModelResult {
  const warnings: string[] = [];
  const nodePortAddresses = nodePortAddressesOf(input, (m) => warnings.push(m));

  const slicesByService = new Map<string, V1EndpointSlice[]>();
  for (const slice of input.endpointSlices) {
    const key = sliceServiceKey(slice);
    if (key === null) continue;
    const list = slicesByService.get(key);
    if (list) list.push(slice);
    else slicesByService.set(key, [slice]);
  }

  const services = [...input.services]
    .map((svc) => ({ svc, id: `${svc.metadata?.namespace ?? ''}/${svc.metadata?.name ?? ''}` }))
    .sort((a, b) => compareStrings(a.id, b.id));
  const byKey = new Map<string, VirtualService>();
  for (const { svc, id } of services) {
    const spec = svc.spec ?? {};
    if (spec.type === 'ExternalName') continue;
    if (!spec.clusterIP || spec.clusterIP === 'None') continue; // headless, or not allocated yet
    const warn = (m: string): void => void warnings.push(`service ${id}: ${m}`);
    for (const vs of serviceVirtualServices(
      svc,
      slicesByService.get(id) ?? [],
      input.node,
      nodePortAddresses,
      warn,
    )) {
      const holder = byKey.get(vs.key);
      if (holder) {
        if (holder.service !== vs.service || holder.kind !== vs.kind) {
          warn(`${vs.kind} ${vs.key} is already used by ${holder.service} (${holder.kind}); skipped`);
        }
        continue;
      }
      byKey.set(vs.key, vs);
    }
  }
  const sorted = [...byKey.values()].sort((a, b) => compareStrings(a.key, b.key));
  return { state: { services: sorted }, warnings };
}
