// Adapter: keeps every IPAddressPool's status (counts per family and the
// Ready/Invalid/Overlap/Exhausted conditions) in line with the pure judgement
// in status.ts. Any pool change re-judges all pools, because one pool's
// validity depends on the others. For ClusterIP pools it also checks the
// cluster's ServiceCIDRs, keeps the pool's own ServiceCIDR (create: true), and
// shows the audit's ServicesOutsidePool condition. Runs only on the leader.
import type { Registry } from 'prom-client';
import { ipAddressPoolKind } from '../../../crds/index.ts';
import type { Informer } from '../../../lib/informer.ts';
import type { Logger } from '../../../lib/logger.ts';
import { getOrCreateGauge } from '../../../lib/metrics.ts';
import type { RawKubeClient } from '../../../lib/raw-client.ts';
import { keyOf } from '../../../lib/object-cache.ts';
import { parseObjectKey } from '../../../lib/resource-path.ts';
import { updateStatus } from '../../../lib/status.ts';
import { WorkQueue } from '../../../lib/workqueue.ts';
import type { ConditionUpdate } from '../../../lib/conditions.ts';
import { describeError } from '../../../lib/errors.ts';
import type { IPFamily } from '../../allocator/index.ts';
import { clusterCIDRs, serviceCIDRCondition } from './service-cidr.ts';
import type { ServiceCIDRObject } from './service-cidr.ts';
import type { ServiceCIDRResource, ServiceCIDRSync } from './service-cidr-sync.ts';
import { judgePools, poolStatus } from './status.ts';
import type { AssignedCounts, PoolObject } from './status.ts';

export type PoolResource = PoolObject & {
  apiVersion?: string;
  kind?: string;
  metadata: { namespace?: string };
};

export interface PoolStatusControllerOptions {
  client: RawKubeClient;
  informer: Informer<PoolResource>;
  registry: Registry;
  logger: Logger;
  /** Addresses in use per pool; until the LoadBalancer controller lands, none are. */
  assigned?: AssignedCounts;
  /** Addresses held by sticky reservations, shown as `reserved` and not available. */
  reserved?: AssignedCounts;
  /** networking.k8s.io/v1 ServiceCIDRs; absent where the API is. */
  serviceCIDRs?: Informer<ServiceCIDRResource> | undefined;
  /** Creates and deletes pools' own ServiceCIDRs; absent where the API is. */
  cidrSync?: ServiceCIDRSync | undefined;
  /** The audit's ServicesOutsidePool condition for a ClusterIP pool; undefined before its first pass. */
  outside?: (pool: string) => ConditionUpdate | undefined;
  now?: () => number;
}

const wantsServiceCIDR = (spec: unknown): boolean =>
  (spec as { serviceCIDR?: { create?: unknown } } | undefined)?.serviceCIDR?.create === true;

const NONE: Readonly<Record<IPFamily, bigint>> = { IPv4: 0n, IPv6: 0n };

export class PoolStatusController {
  readonly #o: PoolStatusControllerOptions;
  #queue: WorkQueue | undefined;
  #unsubscribe: (() => void) | undefined;
  readonly #gauges;

  constructor(options: PoolStatusControllerOptions) {
    this.#o = options;
    this.#gauges = {
      total: getOrCreateGauge(options.registry, {
        name: 'portico_pool_addresses_total',
        help: 'Usable addresses in a pool, per family (saturated at 2^53-1).',
        labelNames: ['pool', 'family'],
      }),
      assigned: getOrCreateGauge(options.registry, {
        name: 'portico_pool_addresses_assigned',
        help: 'Addresses of a pool assigned to Services, per family.',
        labelNames: ['pool', 'family'],
      }),
      invalid: getOrCreateGauge(options.registry, {
        name: 'portico_pool_invalid',
        help: '1 when a pool is invalid (bad spec or overlap) and unused.',
        labelNames: ['pool'],
      }),
    };
  }

  /** Starts reconciling; call when this replica becomes leader. */
  start(): void {
    if (this.#queue) return;
    const queue = new WorkQueue(
      { name: 'ipaddresspool-status', registry: this.#o.registry, logger: this.#o.logger },
      (key) => this.reconcile(key),
    );
    this.#queue = queue;
    const enqueueAll = () => {
      for (const key of this.#o.informer.keys()) queue.add(key);
    };
    const handlers = { add: enqueueAll, update: enqueueAll, delete: enqueueAll };
    const unsubscribe = [
      // A deleted pool is no longer among the keys: queue it too, to drop its gauges and ServiceCIDR.
      this.#o.informer.addHandlers({
        ...handlers,
        delete: (pool) => {
          queue.add(keyOf(pool));
          enqueueAll();
        },
      }),
      ...(this.#o.serviceCIDRs ? [this.#o.serviceCIDRs.addHandlers(handlers)] : []),
    ];
    this.#unsubscribe = () => unsubscribe.forEach((u) => u());
    enqueueAll();
    // ServiceCIDRs of pools deleted while no leader ran.
    const sync = this.#o.cidrSync;
    if (sync) {
      const wanted = new Set(
        this.#o.informer
          .list()
          .filter((p) => wantsServiceCIDR(p.spec))
          .map((p) => p.metadata.name ?? ''),
      );
      sync.sweep(wanted).catch((err: unknown) => {
        this.#o.logger.warn({ err: describeError(err) }, 'ServiceCIDR sweep failed');
      });
    }
  }

  /** Re-judges every pool, e.g. after assignments changed. */
  resyncAll(): void {
    for (const key of this.#o.informer.keys()) this.#queue?.add(key);
  }

  async stop(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    await this.#queue?.shutdown();
    this.#queue = undefined;
  }

  async reconcile(key: string): Promise<void> {
    const current = this.#o.informer.get(key);
    const { namespace, name } = parseObjectKey(key);
    if (!current) {
      await this.#o.cidrSync?.remove(name);
      this.#gauges.invalid.remove({ pool: name });
      for (const family of ['IPv4', 'IPv6']) {
        this.#gauges.total.remove({ pool: name, family });
        this.#gauges.assigned.remove({ pool: name, family });
      }
      return;
    }
    const judgement = judgePools(this.#o.informer.list());
    const assigned = this.#o.assigned ?? (() => NONE);
    const now = this.#o.now ?? Date.now;
    const extra = await this.#clusterIPConditions(name, current.spec, judgement);
    const result = await updateStatus<PoolResource>(
      this.#o.client,
      {
        group: ipAddressPoolKind.group,
        version: ipAddressPoolKind.version,
        plural: ipAddressPoolKind.plural,
        namespace,
        name,
      },
      (obj) => ({ ...obj, status: poolStatus(obj, judgement, assigned, now(), extra, this.#o.reserved) }),
      { current },
    );
    const status = result.object.status;
    const invalid = judgement.errors.has(name);
    this.#gauges.invalid.set({ pool: name }, invalid ? 1 : 0);
    for (const [family, counts] of [
      ['IPv4', status?.ipv4],
      ['IPv6', status?.ipv6],
    ] as const) {
      this.#gauges.total.set({ pool: name, family }, counts?.total ?? 0);
      this.#gauges.assigned.set({ pool: name, family }, counts?.assigned ?? 0);
    }
    if (result.written) {
      this.#o.logger.info({ pool: key, invalid, errors: judgement.errors.get(name) }, 'pool status updated');
    }
  }

  /** ServiceCIDR and audit conditions of a valid ClusterIP pool (none for other pools). */
  async #clusterIPConditions(
    name: string,
    spec: unknown,
    judgement: ReturnType<typeof judgePools>,
  ): Promise<ConditionUpdate[]> {
    const pool = judgement.usable.find((p) => p.name === name);
    if (!pool || pool.usage !== 'ClusterIP') return [];
    const out: ConditionUpdate[] = [];
    const own: ServiceCIDRObject[] = [];
    if (this.#o.cidrSync) {
      if (wantsServiceCIDR(spec)) {
        const { object, ...condition } = await this.#o.cidrSync.ensure(pool);
        out.push(condition);
        if (object) own.push(object);
      } else await this.#o.cidrSync.remove(name);
    } else if (wantsServiceCIDR(spec)) {
      out.push({
        type: 'ServiceCIDR',
        status: 'False',
        reason: 'ServiceCIDRAPIMissing',
        message: 'spec.serviceCIDR.create: the cluster does not serve networking.k8s.io/v1 ServiceCIDRs',
      });
    }
    if (this.#o.serviceCIDRs) {
      // Judging against a cache still loading would flag every pool for a moment.
      await this.#o.serviceCIDRs.waitForSync();
      out.push(serviceCIDRCondition(pool, clusterCIDRs([...this.#o.serviceCIDRs.list(), ...own])));
    }
    const outside = this.#o.outside?.(name);
    if (outside) out.push(outside);
    return out;
  }
}
