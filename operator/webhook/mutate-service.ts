// The mutating webhook for Service CREATE and UPDATE: fills spec.clusterIP(s)
// from the ClusterIP-usage IPAddressPool that selects the Service, and each
// unset spec.ports[].nodePort from the selecting NodePortPool. The planning is
// pure (service-plan.ts); this file holds the state it reads: informer caches
// of Services, Namespaces, pools and (where the API exists) IPAddress objects,
// plus short in-memory reservations so concurrent creates answered by this
// replica never get the same address or port. The apiserver stays the final
// arbiter. See docs/decisions/0007-clusterip-nodeport-webhook.md.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import { nodePortPoolKind } from '../../crds/index.ts';
import type { Informer } from '../../lib/informer.ts';
import { createResourceInformer } from '../../lib/list-watch.ts';
import type { Logger } from '../../lib/logger.ts';
import { getOrCreateCounter } from '../../lib/metrics.ts';
import type { KubeObject } from '../../lib/object-cache.ts';
import type { RawKubeClient } from '../../lib/raw-client.ts';
import { parseNodePortPool, validateNodePortPools } from '../allocator/index.ts';
import type { IPFamily, Labels, NodePortPool, Pool } from '../allocator/index.ts';
import { judgePools } from '../controllers/pools/status.ts';
import type { PoolObject } from '../controllers/pools/status.ts';
import { allow, deny, mutate, pointerSegment } from './admission.ts';
import type { AdmissionRequest, AdmissionResult, JsonPatchOperation } from './admission.ts';
import type { WebhookDefinition } from './configuration.ts';
import type { Webhook } from './index.ts';
import type { AdmissionHandler } from './server.ts';
import { planService, serviceIPs, serviceNodePorts } from './service-plan.ts';
import type { ServiceLike, ServicePlan } from './service-plan.ts';

export const MUTATE_SERVICE_PATH = '/mutate-service';

export const serviceWebhookDefinition: WebhookDefinition = {
  name: 'services.portico.io',
  type: 'mutating',
  path: MUTATE_SERVICE_PATH,
  rules: [
    {
      apiGroups: [''],
      apiVersions: ['v1'],
      resources: ['services'],
      operations: ['CREATE', 'UPDATE'],
      scope: 'Namespaced',
    },
  ],
  // Services must stay creatable while Portico is down: the cluster's own
  // allocator then picks, and the audit flags what lands outside a pool.
  failurePolicy: 'Ignore',
  // Short, as every Service create waits on it; 10 s leaves room for a burst of
  // creates on a busy apiserver (at 5 s a loaded test machine timed some out).
  timeoutSeconds: 10,
  namespaces: 'not-system',
};

/** How long an address or port handed out stays reserved in memory. */
export const DEFAULT_RESERVATION_TTL_MS = 30_000;

export type ServiceResource = ServiceLike & KubeObject;
export type NamespaceResource = KubeObject & { metadata?: { name?: string; labels?: Labels } };
export type NodePortPoolResource = KubeObject & {
  metadata?: { name?: string; creationTimestamp?: string | Date };
  spec?: unknown;
};
export type IPAddressResource = KubeObject & { metadata?: { name?: string } };

/** What the handler reads; informers in the operator, plain arrays in unit tests. */
export interface ServiceWebhookSources {
  services: { list(): readonly ServiceResource[] };
  namespaces: { get(key: string): NamespaceResource | undefined };
  ipPools: { list(): readonly PoolObject[] };
  portPools: { list(): readonly NodePortPoolResource[] };
  /** networking.k8s.io/v1 IPAddress objects, named by their address; absent where the API is. */
  ipAddresses?: { list(): readonly IPAddressResource[] } | undefined;
  hasSynced(): boolean;
}

export interface ServiceMutatorOptions {
  sources: ServiceWebhookSources;
  primaryFamily?: IPFamily;
  reservationTtlMs?: number;
  now?: () => number;
  registry?: Registry;
  logger?: Logger;
}

/** Holds addresses and ports handed out recently, until the Service shows in the cache or the TTL passes. */
export class Reservations<K> {
  readonly #until = new Map<K, number>();
  readonly #ttl: number;
  readonly #now: () => number;

  constructor(ttlMs: number, now: () => number) {
    this.#ttl = ttlMs;
    this.#now = now;
  }

  hold(key: K): void {
    this.#until.set(key, this.#now() + this.#ttl);
  }

  /** The live reservations (expired ones are dropped). */
  keys(): K[] {
    const now = this.#now();
    const out: K[] = [];
    for (const [k, until] of this.#until) {
      if (until <= now) this.#until.delete(k);
      else out.push(k);
    }
    return out;
  }

  get size(): number {
    return this.keys().length;
  }
}

function creationOrder(a: NodePortPoolResource, b: NodePortPoolResource): number {
  const ta = String(a.metadata?.creationTimestamp ?? '');
  const tb = String(b.metadata?.creationTimestamp ?? '');
  if (ta !== tb) return ta < tb ? -1 : 1;
  return (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
}

/** The NodePortPools the webhook may use: valid and not overlapping an older one. */
export function usablePortPools(objects: readonly NodePortPoolResource[]): NodePortPool[] {
  const parsed: NodePortPool[] = [];
  for (const o of [...objects].sort(creationOrder)) {
    const r = parseNodePortPool(o.metadata?.name ?? '', o.spec);
    if (r.ok) parsed.push(r.value);
  }
  return validateNodePortPools(parsed).accepted;
}

/** The JSON patch that writes a plan into the Service. */
export function planPatch(service: ServiceLike, plan: ServicePlan): JsonPatchOperation[] {
  const ops: JsonPatchOperation[] = [];
  const spec = service.spec ?? {};
  if (plan.clusterIPs.length > 0) {
    ops.push({ op: 'add', path: '/spec/clusterIP', value: plan.clusterIPs[0] });
    ops.push({ op: 'add', path: '/spec/clusterIPs', value: plan.clusterIPs });
  }
  for (const [index, nodePort] of [...plan.nodePorts].sort((a, b) => a[0] - b[0])) {
    if (!spec.ports?.[index]) continue;
    ops.push({ op: 'add', path: `/spec/ports/${pointerSegment(index)}/nodePort`, value: nodePort });
  }
  return ops;
}

export class ServiceMutator {
  readonly #o: ServiceMutatorOptions;
  readonly #ips: Reservations<string>;
  readonly #ports: Reservations<number>;
  readonly #requests;
  #cached: { signature: string; ipPools: Pool[]; portPools: NodePortPool[] } | undefined;

  constructor(options: ServiceMutatorOptions) {
    this.#o = options;
    const now = options.now ?? Date.now;
    const ttl = options.reservationTtlMs ?? DEFAULT_RESERVATION_TTL_MS;
    this.#ips = new Reservations<string>(ttl, now);
    this.#ports = new Reservations<number>(ttl, now);
    this.#requests = options.registry
      ? getOrCreateCounter(options.registry, {
          name: 'portico_service_webhook_allocations_total',
          help: 'Service admissions by the ClusterIP/NodePort webhook, by outcome (filled, untouched, exhausted, not_synced).',
          labelNames: ['outcome'],
        })
      : undefined;
  }

  /** The usable pools, parsed again only when a pool object changed. */
  #pools(): { ipPools: Pool[]; portPools: NodePortPool[] } {
    const ip = this.#o.sources.ipPools.list();
    const port = this.#o.sources.portPools.list();
    const signature = [...ip, ...port]
      .map((o) => {
        const m = o.metadata as { name?: string; resourceVersion?: string };
        return `${m.name ?? ''}@${m.resourceVersion ?? JSON.stringify(o)}`;
      })
      .join(',');
    if (this.#cached?.signature !== signature) {
      this.#cached = {
        signature,
        ipPools: judgePools([...ip]).usable,
        portPools: usablePortPools(port),
      };
    }
    return this.#cached;
  }

  /** Used addresses and ports: every Service in the cache, IPAddress objects, and live reservations. */
  #used(): { ips: Set<string>; ports: Set<number> } {
    const ips = new Set<string>(this.#ips.keys());
    const ports = new Set<number>(this.#ports.keys());
    for (const svc of this.#o.sources.services.list()) {
      for (const ip of serviceIPs(svc)) ips.add(ip);
      for (const p of serviceNodePorts(svc)) ports.add(p);
    }
    for (const a of this.#o.sources.ipAddresses?.list() ?? []) {
      const name = a.metadata?.name;
      if (!name) continue;
      for (const ip of serviceIPs({ spec: { clusterIP: name } })) ips.add(ip);
    }
    return { ips, ports };
  }

  handle(request: AdmissionRequest): AdmissionResult {
    if (request.operation !== 'CREATE' && request.operation !== 'UPDATE') return allow();
    const service = request.object as ServiceResource | undefined;
    if (!service?.spec) return allow();
    const namespace = request.namespace ?? service.metadata?.namespace ?? '';
    const sources = this.#o.sources;
    if (!sources.hasSynced()) {
      // Admit untouched rather than guess; the cluster allocates, the audit reports.
      this.#requests?.inc({ outcome: 'not_synced' });
      return allow(['Portico has not loaded its pools yet; the cluster allocates this Service']);
    }
    const { ipPools, portPools } = this.#pools();
    const used = this.#used();
    const name = service.metadata?.name ?? request.name ?? '';
    const plan = planService({
      service: { ...service, metadata: { ...service.metadata, name } },
      old: request.operation === 'UPDATE' ? (request.oldObject as ServiceResource | undefined) : undefined,
      namespace,
      namespaceLabels: sources.namespaces.get(namespace)?.metadata?.labels,
      ipPools,
      portPools,
      usedIPs: used.ips,
      usedPorts: used.ports,
      ...(this.#o.primaryFamily ? { primaryFamily: this.#o.primaryFamily } : {}),
    });
    if (plan.error !== undefined) {
      this.#requests?.inc({ outcome: 'exhausted' });
      this.#o.logger?.warn({ service: `${namespace}/${name}`, error: plan.error }, 'pool exhausted');
      return deny(plan.error, { code: 409, reason: 'Conflict' });
    }
    const patch = planPatch(service, plan);
    if (patch.length === 0) {
      this.#requests?.inc({ outcome: 'untouched' });
      return allow(plan.warnings);
    }
    for (const ip of plan.clusterIPs) this.#ips.hold(ip);
    for (const port of plan.nodePorts.values()) this.#ports.hold(port);
    this.#requests?.inc({ outcome: 'filled' });
    this.#o.logger?.debug(
      {
        service: `${namespace}/${name}`,
        clusterIPs: plan.clusterIPs,
        nodePorts: [...plan.nodePorts.values()],
      },
      'filled from pools',
    );
    return mutate(patch, plan.warnings);
  }

  handler(): AdmissionHandler {
    return (request) => this.handle(request);
  }
}

/** The webhook, ready to `add()` to the operator's AdmissionWebhooks. */
export function serviceMutatingWebhook(options: ServiceMutatorOptions): Webhook {
  return { definition: serviceWebhookDefinition, handler: new ServiceMutator(options).handler() };
}

/**
 * Operator wiring: the informers the webhook reads (every replica runs them,
 * since every replica serves admission) and the webhook itself.
 */
export function createServiceWebhook(o: {
  kc: KubeConfig;
  client: RawKubeClient;
  registry: Registry;
  logger: Logger;
  namespace: string;
  ipPools: Informer<PoolObject & KubeObject>;
  /** Whether to follow networking.k8s.io/v1 IPAddress objects (the API exists). */
  ipAddressApi: boolean;
}) {
  const informer = <T extends KubeObject>(
    name: string,
    type: { group: string; version: string; plural: string },
    namespace?: string,
  ): Informer<T> =>
    createResourceInformer<T>(o.kc, type, {
      client: o.client,
      registry: o.registry,
      logger: o.logger.child({ informer: name }),
      name: `service-webhook.${name}`,
      ...(namespace ? { namespace } : {}),
    });
  const services = informer<ServiceResource>('services', { group: '', version: 'v1', plural: 'services' });
  const namespaces = informer<NamespaceResource>('namespaces', {
    group: '',
    version: 'v1',
    plural: 'namespaces',
  });
  const portPools = informer<NodePortPoolResource>('nodeportpools', nodePortPoolKind, o.namespace);
  const ipAddresses = o.ipAddressApi
    ? informer<IPAddressResource>('ipaddresses', {
        group: 'networking.k8s.io',
        version: 'v1',
        plural: 'ipaddresses',
      })
    : undefined;
  const all = [
    services,
    namespaces,
    portPools,
    ...(ipAddresses ? [ipAddresses] : []),
  ] as Informer<KubeObject>[];
  const hasSynced = () => o.ipPools.hasSynced() && all.every((i) => i.hasSynced());
  const webhook = serviceMutatingWebhook({
    sources: {
      services,
      namespaces: { get: (key) => namespaces.get(key) },
      ipPools: o.ipPools,
      portPools,
      ipAddresses,
      hasSynced,
    },
    registry: o.registry,
    logger: o.logger,
  });
  return {
    webhook,
    hasSynced,
    start: () => all.forEach((i) => i.start()),
    stop: async () => {
      await Promise.all(all.map((i) => i.stop()));
    },
  };
}

/** Whether the cluster serves networking.k8s.io/v1 IPAddress objects. */
export async function hasIPAddressApi(client: RawKubeClient): Promise<boolean> {
  try {
    await client.getJson('/apis/networking.k8s.io/v1/ipaddresses?limit=1');
    return true;
  } catch {
    return false;
  }
}
