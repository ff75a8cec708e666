// Pure: for an ExternalName Service that opted in with the annotation
// portico.io/externalname-backends: "true", the companion objects Portico
// keeps: a selector-less ClusterIP Service `<name>-portico-backends` with the
// same ports, and a ServiceBackends that resolves the external name into its
// EndpointSlices. Both are owned by the ExternalName Service.
import { API_VERSION, publishableIP, validateServiceBackends } from '../../../crds/index.ts';
import type { ServiceBackendsSpecInput } from '../../../crds/index.ts';
import { jsonEqual } from '../../../lib/json-equal.ts';
import { parseIP } from '../../allocator/index.ts';
import type { ServiceLike, ServicePort } from '../endpoints/binding.ts';
import { nameHash } from '../endpoints/slices.ts';
import type { OwnerReference } from '../endpoints/slices.ts';
import { checkExternalName, normalizeExternalName } from './validate.ts';

export const OPT_IN_ANNOTATION = 'portico.io/externalname-backends';
/** Optional: "tcp", "http" or "http:/path" adds an active health check. */
export const HEALTH_CHECK_ANNOTATION = 'portico.io/externalname-health-check';
/** On both companions: the name of the ExternalName Service they serve. */
export const COMPANION_OF_LABEL = 'portico.io/companion-of';
export const COMPANION_SUFFIX = '-portico-backends';

export interface CompanionSource extends ServiceLike {
  metadata: {
    name?: string;
    namespace?: string;
    uid?: string;
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
  };
}

export interface CompanionService {
  apiVersion: 'v1';
  kind: 'Service';
  metadata: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    ownerReferences: OwnerReference[];
  };
  spec: { type: 'ClusterIP'; ports: ServicePort[] };
}

export interface CompanionBackends {
  apiVersion: string;
  kind: 'ServiceBackends';
  metadata: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    ownerReferences: OwnerReference[];
  };
  spec: ServiceBackendsSpecInput;
}

export type CompanionPlan =
  | { kind: 'none' }
  | { kind: 'skip'; reason: string; message: string }
  | { kind: 'keep'; service: CompanionService; backends: CompanionBackends };

/** `<name>-portico-backends`, shortened with a hash to fit a Service name (63). */
export function companionName(serviceName: string): string {
  const max = 63 - COMPANION_SUFFIX.length;
  if (serviceName.length <= max) return `${serviceName}${COMPANION_SUFFIX}`;
  const prefix = serviceName.slice(0, max - 9).replace(/-+$/, '');
  return `${prefix}-${nameHash(serviceName)}${COMPANION_SUFFIX}`;
}

export const optedIn = (svc: CompanionSource): boolean =>
  svc.spec?.type === 'ExternalName' && svc.metadata.annotations?.[OPT_IN_ANNOTATION] === 'true';

function healthCheck(value: string | undefined): ServiceBackendsSpecInput['healthCheck'] | string {
  if (value === undefined || value === '') return undefined;
  if (value === 'tcp') return { type: 'tcp' };
  if (value === 'http') return { type: 'http' };
  const m = /^http:(\/\S*)$/.exec(value);
  if (m) return { type: 'http', path: m[1] };
  return `annotation ${HEALTH_CHECK_ANNOTATION}: ${JSON.stringify(value)} must be "tcp", "http" or "http:/path"`;
}

export function planCompanion(svc: CompanionSource | undefined): CompanionPlan {
  if (!svc || !optedIn(svc)) return { kind: 'none' };
  const name = svc.metadata.name ?? '';
  const namespace = svc.metadata.namespace ?? '';
  const external = svc.spec?.externalName;
  const finding = checkExternalName(external);
  if (finding && finding.reason !== 'ExternalNameIsIPAddress') {
    return { kind: 'skip', reason: 'CompanionNotCreated', message: finding.message };
  }
  const target = normalizeExternalName(external ?? '');
  if (parseIP(target).ok && !publishableIP(target)) {
    return {
      kind: 'skip',
      reason: 'CompanionNotCreated',
      message: `spec.externalName: ${JSON.stringify(target)} cannot be an endpoint`,
    };
  }
  const ports = svc.spec?.ports ?? [];
  if (ports.length === 0) {
    return {
      kind: 'skip',
      reason: 'CompanionNotCreated',
      message: `spec.ports: ${OPT_IN_ANNOTATION} needs at least one port to load-balance`,
    };
  }
  const hc = healthCheck(svc.metadata.annotations?.[HEALTH_CHECK_ANNOTATION]);
  if (typeof hc === 'string') return { kind: 'skip', reason: 'CompanionNotCreated', message: hc };

  const companion = companionName(name);
  const meta = {
    name: companion,
    namespace,
    labels: { [COMPANION_OF_LABEL]: name, 'app.kubernetes.io/managed-by': 'portico' },
    ownerReferences: [
      { apiVersion: 'v1', kind: 'Service', name, uid: svc.metadata.uid ?? '', controller: true },
    ],
  };
  const service: CompanionService = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta,
    spec: {
      type: 'ClusterIP',
      ports: ports.map((p) => ({
        ...(p.name ? { name: p.name } : {}),
        port: p.port,
        protocol: p.protocol ?? 'TCP',
        targetPort: p.targetPort ?? p.port,
        ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
      })),
    },
  };
  const backends: CompanionBackends = {
    apiVersion: API_VERSION,
    kind: 'ServiceBackends',
    metadata: meta,
    spec: {
      serviceName: companion,
      backends: [parseIP(target).ok ? { ip: target } : { hostname: target }],
      ports: ports.map((p) => ({
        ...(p.name ? { name: p.name } : {}),
        // A named targetPort means nothing outside a Pod: use the Service port.
        port: typeof p.targetPort === 'number' ? p.targetPort : p.port,
        protocol: (p.protocol ?? 'TCP') as 'TCP' | 'UDP' | 'SCTP',
      })),
      ...(hc ? { healthCheck: hc } : {}),
    },
  };
  return { kind: 'keep', service, backends };
}

const normalizePorts = (ports: readonly ServicePort[] | undefined) =>
  (ports ?? []).map((p) => ({
    name: p.name ?? '',
    port: p.port,
    protocol: p.protocol ?? 'TCP',
    targetPort: p.targetPort ?? p.port,
    appProtocol: p.appProtocol ?? '',
  }));

interface Existing {
  metadata?: { labels?: Record<string, string>; ownerReferences?: OwnerReference[] };
}

function metadataCurrent(existing: Existing, wanted: CompanionService['metadata']): boolean {
  const labels = existing.metadata?.labels ?? {};
  const refs = existing.metadata?.ownerReferences ?? [];
  return (
    Object.entries(wanted.labels).every(([k, v]) => labels[k] === v) &&
    wanted.ownerReferences.every((w) => refs.some((r) => r.uid === w.uid && r.controller))
  );
}

/** Whether an existing companion Service already matches (ClusterIP and other server fields aside). */
export function serviceCurrent(existing: ServiceLike & Existing, wanted: CompanionService): boolean {
  return (
    metadataCurrent(existing, wanted.metadata) &&
    existing.spec?.type === 'ClusterIP' &&
    !(existing.spec.selector && Object.keys(existing.spec.selector).length > 0) &&
    jsonEqual(normalizePorts(existing.spec.ports), normalizePorts(wanted.spec.ports))
  );
}

/** Whether an existing companion ServiceBackends already matches (defaults applied on both sides). */
export function backendsCurrent(existing: Existing & { spec?: unknown }, wanted: CompanionBackends): boolean {
  const a = validateServiceBackends({ spec: existing.spec });
  const b = validateServiceBackends({ spec: wanted.spec });
  return metadataCurrent(existing, wanted.metadata) && a.ok && b.ok && jsonEqual(a.value.spec, b.value.spec);
}

/** Whether an object is a companion of the named Service (so Portico may change or delete it). */
export function isCompanionOf(obj: Existing, serviceName: string): boolean {
  return obj.metadata?.labels?.[COMPANION_OF_LABEL] === serviceName;
}
