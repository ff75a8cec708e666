// The mutating webhook for Service CREATE and UPDATE: fills spec.clusterIP(s)
// from the ClusterIP-usage IPAddressPool that selects the Service, and each
// unset spec.ports[].nodePort from the selecting NodePortPool. The planning is
// pure (service-plan.ts); this file holds the state it reads: informer caches
// of Services, Namespaces, pools and (where the API exists) IPAddress objects,
// plus short in-memory reservations so concurrent creates answered by this
// replica never get the same address or port. The apiserver stays the final
// arbiter. See docs/decisions/0007-clusterip-nodeport-webhook.md.
import type { Registry } from 'prom-client';
import type { Informer } from '../../lib/informer.ts';
import type { Logger } from '../../lib/logger.ts';
import { getOrCreateCounter } from '../../lib/metrics.ts';
import type { KubeObject } from '../../lib/object-cache.ts';
import type { RawKubeClient } from '../../lib/raw-client.ts';
import type { IPFamily, Labels, NodePortPool, ParseNodePortPoolOptions, Pool } from '../allocator/index.ts';
import { judgeNodePortPools } from '../controllers/pools/port-status.ts';
import { PickLedger, Reservations } from '../controllers/audit/collisions.ts';
import type { Pick, PickField } from '../controllers/audit/collisions.ts';
import { judgePools } from '../controllers/pools/status.ts';
import type { PortRange } from '../allocator/ports.ts';
import type { PoolObject } from '../controllers/pools/status.ts';
import { allow, deny, mutate, pointerSegment } from './admission.ts';
import type { AdmissionRequest, AdmissionResult, JsonPatchOperation } from './admission.ts';
import type { WebhookDefinition } from './configuration.ts';
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
export type IPAddressResource = KubeObject & {
  metadata?: { name?: string };
  spec?: { parentRef?: { group?: string; resource?: string; namespace?: string; name?: string } };
};

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
  /** The cluster's node-port range, when not 30000-32767. */
  nodePortRange?: PortRange;
  now?: () => number;
  registry?: Registry;
  logger?: Logger;
}

export { Reservations } from '../controllers/audit/collisions.ts';

/** The NodePortPools the webhook may use: valid and not overlapping an older one. */
export function usablePortPools(
  objects: readonly NodePortPoolResource[],
  options: ParseNodePortPoolOptions = {},
): NodePortPool[] {
  return judgeNodePortPools(objects, options).usable;
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
  readonly #collisions;
  readonly #picks: PickLedger;
  #cached: { signature: string; ipPools: Pool[]; portPools: NodePortPool[] } | undefined;

  constructor(options: ServiceMutatorOptions) {
    this.#o = options;
    const now = options.now ?? Date.now;
    const ttl = options.reservationTtlMs ?? DEFAULT_RESERVATION_TTL_MS;
    this.#ips = new Reservations<string>(ttl, now);
    this.#ports = new Reservations<number>(ttl, now);
    this.#picks = new PickLedger(ttl, now);
    this.#collisions = options.registry
      ? getOrCreateCounter(options.registry, {
          name: 'portico_service_webhook_collisions_total',
          help: 'Picks of the webhook the apiserver refused (422) because another object held the value, as inferred from the caches; see decision 0007.',
          labelNames: ['pool', 'field'],
        })
      : undefined;
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
      const outsideServiceCIDR = new Set(
        ip
          .filter((o) =>
            o.status?.conditions?.some((c) => c.type === 'OutsideServiceCIDR' && c.status === 'True'),
          )
          .map((o) => o.metadata.name ?? ''),
      );
      this.#cached = {
        signature,
        // A ClusterIP pool outside every ServiceCIDR would only earn 422s; the leader flags it.
        ipPools: judgePools([...ip]).usable.filter((p) => !outsideServiceCIDR.has(p.name)),
        portPools: usablePortPools(
          port,
          this.#o.nodePortRange ? { nodePortRange: this.#o.nodePortRange } : {},
        ),
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
    const owner = `${namespace}/${name}`;
    if (request.operation === 'CREATE' && !request.dryRun) {
      this.#counted(this.#picks.recheck(owner, (field, value) => this.#holderOf(field, value)));
    }
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
    if (!request.dryRun) {
      // A dry run creates nothing, so it holds nothing either.
      for (const ip of plan.clusterIPs) this.#ips.hold(ip);
      for (const port of plan.nodePorts.values()) this.#ports.hold(port);
      this.#picks.record([
        ...plan.clusterIPs.map((ip) => ({
          owner,
          field: 'clusterIP' as const,
          value: ip,
          pool: plan.ipPool ?? '',
        })),
        ...[...plan.nodePorts.values()].map((port) => ({
          owner,
          field: 'nodePort' as const,
          value: String(port),
          pool: plan.portPool ?? '',
        })),
      ]);
    }
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

  /** The caches show a Service; picks for another Service that it holds collided. */
  observeService(svc: ServiceResource): void {
    const holder = `${svc.metadata?.namespace ?? ''}/${svc.metadata?.name ?? ''}`;
    this.#counted(this.#picks.observe(holder, 'clusterIP', serviceIPs(svc)));
    this.#counted(this.#picks.observe(holder, 'nodePort', serviceNodePorts(svc).map(String)));
  }

  /** The caches show an IPAddress; a pick of its address for another Service collided. */
  observeIPAddress(a: IPAddressResource): void {
    const holder = ipAddressHolder(a);
    if (holder)
      this.#counted(
        this.#picks.observe(holder, 'clusterIP', serviceIPs({ spec: { clusterIP: a.metadata?.name ?? '' } })),
      );
  }

  #counted(collided: Pick[]): void {
    for (const c of collided) {
      this.#collisions?.inc({ pool: c.pool, field: c.field });
      this.#o.logger?.warn(
        { service: c.owner, field: c.field, value: c.value, pool: c.pool },
        'the apiserver refused a pick held by another object (collision)',
      );
    }
  }

  #holderOf(field: PickField, value: string): string | undefined {
    if (field === 'clusterIP') {
      for (const a of this.#o.sources.ipAddresses?.list() ?? []) {
        if (serviceIPs({ spec: { clusterIP: a.metadata?.name ?? '' } })[0] === value)
          return ipAddressHolder(a);
      }
    }
    for (const svc of this.#o.sources.services.list()) {
      const held = field === 'clusterIP' ? serviceIPs(svc) : serviceNodePorts(svc).map(String);
      if (held.includes(value)) return `${svc.metadata?.namespace ?? ''}/${svc.metadata?.name ?? ''}`;
    }
    return undefined;
  }

  handler(): AdmissionHandler {
    return (request) => this.handle(request);
  }
}

/** The Service an IPAddress is allocated to, as namespace/name (other parents: the other kind). */
function ipAddressHolder(a: IPAddressResource): string | undefined {
  const ref = a.spec?.parentRef;
  if (!ref?.name) return undefined;
  return ref.resource === 'services' && !ref.group
    ? `${ref.namespace ?? ''}/${ref.name}`
    : `${ref.resource}:${ref.name}`;
}

/** The shared informer caches the webhook reads (see createServiceCaches). */
export interface ServiceCaches {
  services: Informer<ServiceResource>;
  namespaces: Informer<NamespaceResource>;
  portPools: Informer<NodePortPoolResource>;
  ipAddresses?: Informer<IPAddressResource> | undefined;
  hasSynced(): boolean;
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
