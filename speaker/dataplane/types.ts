// The backend-neutral desired state of a node's data path: a sorted list of
// virtual services (one per VIP, protocol and port), each with the endpoints
// that traffic to it may reach. Plain data: backends (nftables, IPVS) render
// it, and diff.ts compares two of them.

export const PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export type IPFamily = 4 | 6;

/**
 * Where the traffic comes from, as kube-proxy distinguishes it:
 * - clusterIP: internal traffic (internalTrafficPolicy applies);
 * - nodePort, loadBalancer, externalIP: external traffic
 *   (externalTrafficPolicy applies).
 */
export type VirtualServiceKind = 'clusterIP' | 'nodePort' | 'loadBalancer' | 'externalIP';

export function isExternalKind(kind: VirtualServiceKind): boolean {
  return kind !== 'clusterIP';
}

/** sessionAffinity: ClientIP. */
export interface Affinity {
  readonly timeoutSeconds: number;
}

export interface Endpoint {
  /** Canonical address (IPv6 per RFC 5952). */
  readonly ip: string;
  readonly port: number;
  /**
   * 1 for an endpoint that takes new connections, 0 for one that is draining:
   * it is terminating but still serving, and ready endpoints exist. IPVS keeps
   * a weight-0 real server for its open connections; nftables sends it nothing
   * new (conntrack keeps the open connections going).
   */
  readonly weight: number;
  /** The endpoint's Pod runs on this node. */
  readonly local: boolean;
  readonly terminating: boolean;
}

/**
 * What to do with a new connection when no endpoint has weight > 0:
 * - reject: the Service has no usable endpoint at all (ICMP port unreachable,
 *   so clients fail fast instead of timing out);
 * - drop: endpoints exist, but none is local and the traffic policy is Local.
 */
export type NoEndpointsAction = 'reject' | 'drop';

export interface VirtualService {
  /** Identity: `PROTOCOL/vip/port`, IPv6 VIPs in brackets. Unique in a state. */
  readonly key: string;
  /** `namespace/name` of the Service. */
  readonly service: string;
  /** The Service port's name ('' when unnamed). */
  readonly portName: string;
  readonly kind: VirtualServiceKind;
  readonly family: IPFamily;
  readonly vip: string;
  readonly port: number;
  readonly protocol: Protocol;
  /** IPVS scheduler (rr, wrr, lc, sh, mh, ...), from `portico.io/ipvs-scheduler`. */
  readonly scheduler: string;
  readonly affinity: Affinity | null;
  /** externalTrafficPolicy: Local (external kinds keep only local endpoints and are not SNATed). */
  readonly externalLocal: boolean;
  /** internalTrafficPolicy: Local (the clusterIP kind keeps only local endpoints). */
  readonly internalLocal: boolean;
  /** Set exactly when no endpoint has weight > 0. */
  readonly noEndpoints: NoEndpointsAction | null;
  /** Sorted by (ip, port). */
  readonly endpoints: readonly Endpoint[];
}

export interface DesiredState {
  /** Sorted by key, keys unique. */
  readonly services: readonly VirtualService[];
}

export const EMPTY_STATE: DesiredState = { services: [] };

export function virtualServiceKey(protocol: Protocol, vip: string, port: number): string {
  return `${protocol}/${vip.includes(':') ? `[${vip}]` : vip}/${port}`;
}

export function endpointKey(ep: Pick<Endpoint, 'ip' | 'port'>): string {
  return ep.ip.includes(':') ? `[${ep.ip}]:${ep.port}` : `${ep.ip}:${ep.port}`;
}

/** Endpoints with weight > 0: the ones new connections may go to. */
export function activeEndpoints(vs: VirtualService): Endpoint[] {
  return vs.endpoints.filter((ep) => ep.weight > 0);
}

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareEndpoints(a: Endpoint, b: Endpoint): number {
  return compareStrings(a.ip, b.ip) || a.port - b.port;
}
