// From a core/v1 Service (wire JSON) to what the allocator needs, and back to
// the status and annotation the controller writes. Pure.
import type { Condition } from '../../../lib/conditions.ts';
import { requestedIPsFrom } from '../../allocator/index.ts';
import type {
  AssignRequest,
  ExternalTrafficPolicy,
  IPFamily,
  IPFamilyPolicy,
  Labels,
  RestoreInfo,
  ServicePort,
} from '../../allocator/index.ts';
import { POOL_ANNOTATION, readAnnotations } from './annotations.ts';
import type { ServiceAnnotations } from './annotations.ts';

export interface LoadBalancerIngress {
  ip?: string;
  hostname?: string;
  ipMode?: string;
  ports?: unknown[];
}

/** The fields of a Service this controller reads or writes. */
export interface ServiceObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: {
    type?: string;
    loadBalancerClass?: string;
    loadBalancerIP?: string;
    ipFamilies?: string[];
    ipFamilyPolicy?: string;
    ports?: { protocol?: string; port?: number }[];
    externalTrafficPolicy?: string;
    selector?: Record<string, string>;
  };
  status?: {
    loadBalancer?: { ingress?: LoadBalancerIngress[] };
    conditions?: Condition[];
  };
}

/** Which Services are ours: --load-balancer-class and --default-load-balancer. */
export interface ClassOptions {
  readonly loadBalancerClass: string;
  readonly isDefault: boolean;
}

export function isLoadBalancer(svc: ServiceObject): boolean {
  return svc.spec?.type === 'LoadBalancer';
}

/** A LoadBalancer Service of our class, or without class when we are the default. */
export function isOurs(svc: ServiceObject, o: ClassOptions): boolean {
  if (!isLoadBalancer(svc)) return false;
  const cls = svc.spec?.loadBalancerClass;
  return cls === undefined || cls === '' ? o.isDefault : cls === o.loadBalancerClass;
}

export function serviceKey(svc: ServiceObject): string {
  return `${svc.metadata.namespace ?? ''}/${svc.metadata.name ?? ''}`;
}

/** The addresses in status.loadBalancer.ingress, in order. */
export function ingressIPs(svc: ServiceObject): string[] {
  return (svc.status?.loadBalancer?.ingress ?? []).flatMap((i) => (typeof i.ip === 'string' ? [i.ip] : []));
}

/** The ingress list for a set of addresses. */
export function ingressFor(ips: readonly string[]): LoadBalancerIngress[] {
  return ips.map((ip) => ({ ip, ipMode: 'VIP' }));
}

export function poolAnnotation(svc: ServiceObject): string | undefined {
  return svc.metadata.annotations?.[POOL_ANNOTATION];
}

function ports(svc: ServiceObject): ServicePort[] {
  return (svc.spec?.ports ?? []).map((p) => ({
    protocol: (p.protocol ?? 'TCP') as ServicePort['protocol'],
    port: p.port as number,
  }));
}

function trafficPolicy(svc: ServiceObject): ExternalTrafficPolicy {
  // "Global" is the pre-1.14 spelling of Cluster.
  return svc.spec?.externalTrafficPolicy === 'Local' ? 'Local' : 'Cluster';
}

/** What restore() needs besides the addresses. */
export function restoreInfo(
  svc: ServiceObject,
  namespaceLabels: Labels,
  annotations: ServiceAnnotations = readAnnotations(svc.metadata.annotations),
): RestoreInfo {
  return {
    namespaceLabels,
    serviceLabels: svc.metadata.labels ?? {},
    sharingKey: annotations.values['allow-shared-ip']?.value ?? '',
    ports: ports(svc),
    externalTrafficPolicy: trafficPolicy(svc),
    selector: svc.spec?.selector ?? {},
  };
}

export type BuiltRequest =
  | { readonly ok: true; readonly request: AssignRequest; readonly annotations: ServiceAnnotations }
  | { readonly ok: false; readonly message: string; readonly annotations: ServiceAnnotations };

/** The allocator request for a Service; `ok: false` when the Service asks for something malformed. */
export function buildRequest(svc: ServiceObject, namespaceLabels: Labels): BuiltRequest {
  const annotations = readAnnotations(svc.metadata.annotations);
  const requested = requestedIPsFrom(svc.spec?.loadBalancerIP, annotations.values.loadBalancerIPs?.value);
  if (!requested.ok) return { ok: false, message: requested.message, annotations };
  const pool = annotations.values['address-pool']?.value;
  const request: AssignRequest = {
    service: serviceKey(svc),
    ipFamilies: (svc.spec?.ipFamilies ?? []) as IPFamily[],
    ipFamilyPolicy: (svc.spec?.ipFamilyPolicy ?? 'SingleStack') as IPFamilyPolicy,
    ...(requested.value.length > 0 ? { requestedIPs: requested.value } : {}),
    ...(pool !== undefined && pool !== '' ? { pool } : {}),
    ...restoreInfo(svc, namespaceLabels, annotations),
  };
  return { ok: true, request, annotations };
}
