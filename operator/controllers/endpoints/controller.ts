// Adapter: keeps each ServiceBackends' EndpointSlices and status in line with
// its spec, its Service, and what DNS and the health checks observe. The
// decisions are made by the pure cores (binding, backends, slices, status);
// this file wires informers, the monitors and the apiserver writes. Runs only
// on the leader.
import type { Registry } from 'prom-client';
import { serviceBackendsKind } from '../../../crds/index.ts';
import type { ServiceBackends } from '../../../crds/index.ts';
import { systemClock } from '../../../lib/clock.ts';
import type { Clock } from '../../../lib/clock.ts';
import { isAlreadyExists, isConflict, isNotFound } from '../../../lib/errors.ts';
import type { Informer } from '../../../lib/informer.ts';
import type { Logger } from '../../../lib/logger.ts';
import type { RawKubeClient } from '../../../lib/raw-client.ts';
import { parseObjectKey } from '../../../lib/resource-path.ts';
import { updateStatus } from '../../../lib/status.ts';
import { WorkQueue } from '../../../lib/workqueue.ts';
import type { ReconcileResult } from '../../../lib/workqueue.ts';
import { desiredEndpoints, expandBackends, probeTargets } from './backends.ts';
import { bindServiceBackends } from './binding.ts';
import type { ServiceLike } from './binding.ts';
import { createResolver } from './dns.ts';
import type { HostResolver } from './dns.ts';
import { backendsMetrics } from './metrics.ts';
import { BackendsMonitor } from './monitor.ts';
import { probe as defaultProbe } from './prober.ts';
import type { Prober } from './prober.ts';
import type { RefreshBounds } from './resolution.ts';
import { planSlices } from './slices.ts';
import type { EndpointSlice, OwnerReference, SlicePlan } from './slices.ts';
import { serviceBackendsStatus } from './status.ts';

type Meta = {
  name?: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
};
export type ServiceBackendsResource = Omit<ServiceBackends, 'metadata'> & { metadata: Meta };
export type ServiceResource = ServiceLike & { apiVersion?: string; kind?: string; metadata: Meta };
export type SliceResource = EndpointSlice;

export const SLICES = { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices' };
export const DEFAULT_REFRESH: RefreshBounds = { minMs: 5_000, maxMs: 300_000 };

export interface ServiceBackendsControllerOptions {
  client: RawKubeClient;
  serviceBackends: Informer<ServiceBackendsResource>;
  services: Informer<ServiceResource>;
  /** Only the slices Portico manages (label selector on managed-by). */
  slices: Informer<SliceResource>;
  registry: Registry;
  logger: Logger;
  resolve?: HostResolver;
  probe?: Prober;
  refresh?: RefreshBounds;
  clock?: Clock;
}

const slicePath = (ns: string, name?: string) =>
  `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices${name ? `/${name}` : ''}`;

export class ServiceBackendsController {
  readonly #o: ServiceBackendsControllerOptions;
  readonly #monitors = new Map<string, BackendsMonitor>();
  readonly #metrics;
  readonly #resolve: HostResolver;
  #queue: WorkQueue | undefined;
  #unsubscribe: (() => void)[] = [];

  constructor(options: ServiceBackendsControllerOptions) {
    this.#o = options;
    this.#metrics = backendsMetrics(options.registry);
    this.#resolve = options.resolve ?? createResolver();
  }

  start(): void {
    if (this.#queue) return;
    const queue = new WorkQueue(
      { name: 'servicebackends', registry: this.#o.registry, logger: this.#o.logger },
      (key) => this.reconcile(key),
    );
    this.#queue = queue;
    // Service key -> the ServiceBackends naming it, kept by the handlers below
    // so that a Service event does not scan every object.
    const byServiceKey = new Map<string, Set<string>>();
    const sbKey = (o: ServiceBackendsResource) => `${o.metadata.namespace}/${o.metadata.name}`;
    const svcKeyOf = (o: ServiceBackendsResource) => `${o.metadata.namespace}/${o.spec?.serviceName}`;
    const index = (o: ServiceBackendsResource, add: boolean) => {
      const k = svcKeyOf(o);
      const set = byServiceKey.get(k) ?? new Set<string>();
      if (add) set.add(sbKey(o));
      else set.delete(sbKey(o));
      if (set.size > 0) byServiceKey.set(k, set);
      else byServiceKey.delete(k);
    };
    const own = (obj: ServiceBackendsResource) => queue.add(sbKey(obj));
    const byService = (svc: ServiceResource) => {
      for (const key of byServiceKey.get(`${svc.metadata?.namespace}/${svc.metadata?.name}`) ?? [])
        queue.add(key);
    };
    const byOwner = (slice: SliceResource) => {
      for (const ref of slice.metadata.ownerReferences ?? []) {
        if (ref.kind === serviceBackendsKind.kind && ref.controller)
          queue.add(`${slice.metadata.namespace}/${ref.name}`);
      }
    };
    this.#unsubscribe = [
      this.#o.serviceBackends.addHandlers({
        add: (o) => {
          index(o, true);
          own(o);
        },
        update: (old, o) => {
          index(old, false);
          index(o, true);
          own(o);
        },
        delete: (o) => {
          index(o, false);
          own(o);
        },
      }),
      this.#o.services.addHandlers({ add: byService, update: (_, s) => byService(s), delete: byService }),
      this.#o.slices.addHandlers({ add: byOwner, update: (_, s) => byOwner(s), delete: byOwner }),
    ];
  }

  async stop(): Promise<void> {
    for (const u of this.#unsubscribe) u();
    this.#unsubscribe = [];
    await this.#queue?.shutdown();
    this.#queue = undefined;
    for (const m of this.#monitors.values()) m.stop();
    this.#monitors.clear();
  }

  #monitor(key: string): BackendsMonitor {
    let m = this.#monitors.get(key);
    if (!m) {
      const { namespace = '', name } = parseObjectKey(key);
      m = new BackendsMonitor({
        clock: this.#o.clock ?? systemClock,
        resolve: this.#resolve,
        probe: this.#o.probe ?? defaultProbe,
        bounds: this.#o.refresh ?? DEFAULT_REFRESH,
        onChange: () => this.#queue?.add(key),
        onProbe: (type, ok, seconds) =>
          this.#metrics.probeSeconds.observe({ type, result: ok ? 'success' : 'failure' }, seconds),
        onResolutionFailure: () => this.#metrics.resolutionFailures.inc({ namespace, name }),
      });
      this.#monitors.set(key, m);
    }
    return m;
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const { namespace = '', name } = parseObjectKey(key);
    const sb = this.#o.serviceBackends.get(key);
    if (!sb) {
      this.#monitors.get(key)?.stop();
      this.#monitors.delete(key);
      this.#metrics.forget(namespace, name);
      return; // the slices follow through their owner reference
    }
    const serviceName = sb.spec?.serviceName;
    const service =
      typeof serviceName === 'string' ? this.#o.services.get(`${namespace}/${serviceName}`) : undefined;
    const binding = bindServiceBackends(sb, service);
    const inNamespace = this.#o.slices.list().filter((s) => s.metadata.namespace === namespace);
    const owned = inNamespace.filter((s) =>
      s.metadata.ownerReferences?.some((r) => r.uid === sb.metadata.uid && r.controller),
    );
    const monitor = this.#monitor(key);
    if (binding.ok) {
      // What was published before (another leader, a restart) carries over.
      const ready = new Set(
        owned.flatMap((s) =>
          (s.endpoints ?? []).filter((e) => e.conditions?.ready).map((e) => e.addresses[0]),
        ),
      );
      const resolved = new Map(
        (sb.status?.backends ?? []).flatMap((b) =>
          b.hostname ? [[b.hostname, b.addresses ?? []] as const] : [],
        ),
      );
      monitor.setHostnames(
        binding.spec.backends.flatMap((b) => (b.hostname ? [b.hostname] : [])),
        (n) => resolved.get(n),
      );
      monitor.setProbes(
        probeTargets(expandBackends(binding.spec.backends, monitor.observations())),
        binding.probe,
        (a) => ready.has(a),
      );
    } else {
      monitor.stop();
    }
    const obs = monitor.observations();
    const expanded = binding.ok ? expandBackends(binding.spec.backends, obs) : [];
    const endpoints = binding.ok ? desiredEndpoints(expanded, obs) : [];

    const plan = planSlices({
      namespace,
      serviceName: binding.ok ? binding.spec.serviceName : '',
      owner: {
        apiVersion: `${serviceBackendsKind.group}/${serviceBackendsKind.version}`,
        kind: serviceBackendsKind.kind,
        name,
        uid: sb.metadata.uid ?? '',
      },
      ports: binding.ok ? binding.ports : [],
      endpoints,
      existing: owned,
      takenNames: new Set(inNamespace.map((s) => s.metadata.name ?? '')),
    });
    const stale = await this.#apply(namespace, plan);

    const result = await updateStatus<ServiceBackendsResource>(
      this.#o.client,
      {
        group: serviceBackendsKind.group,
        version: serviceBackendsKind.version,
        plural: serviceBackendsKind.plural,
        namespace,
        name,
      },
      (obj) => ({
        ...obj,
        status: serviceBackendsStatus({
          generation: obj.metadata.generation,
          previous: obj.status,
          binding,
          expanded,
          endpoints,
          obs,
          nowMs: (this.#o.clock ?? systemClock).now(),
        }),
      }),
      { current: sb },
    ).catch((err: unknown) => {
      if (isNotFound(err)) return undefined; // deleted meanwhile
      throw err;
    });
    const healthy = endpoints.filter((e) => e.ready).length;
    this.#metrics.addresses.set({ namespace, name, state: 'healthy' }, healthy);
    this.#metrics.addresses.set({ namespace, name, state: 'unhealthy' }, endpoints.length - healthy);
    if (result?.written) {
      this.#o.logger.info(
        { servicebackends: key, valid: binding.ok, healthy, total: endpoints.length },
        'servicebackends status updated',
      );
    }
    // Our informer had not seen an earlier write yet: try again once it has.
    return stale ? { requeueAfterMs: 250 } : undefined;
  }

  /** Creates, then updates, then deletes. Returns true when the cache was stale. */
  async #apply(namespace: string, plan: SlicePlan): Promise<boolean> {
    let stale = false;
    const client = this.#o.client;
    for (const s of plan.create) {
      try {
        await client.postJson(slicePath(namespace), s);
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
        stale = true;
      }
    }
    for (const s of plan.update) {
      try {
        await client.putJson(slicePath(namespace, s.metadata.name), s);
      } catch (err) {
        if (!isConflict(err) && !isNotFound(err)) throw err;
        stale = true;
      }
    }
    for (const s of plan.delete) {
      try {
        await client.deleteJson(slicePath(namespace, s.metadata.name), {});
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    const writes = plan.create.length + plan.update.length + plan.delete.length;
    if (writes > 0) {
      this.#o.logger.debug(
        { namespace, create: plan.create.length, update: plan.update.length, delete: plan.delete.length },
        'endpointslices written',
      );
    }
    return stale;
  }
}
