// Adapter: keeps every IPAddressPool's status (counts per family and the
// Ready/Invalid/Overlap/Exhausted conditions) in line with the pure judgement
// in status.ts. Any pool change re-judges all pools, because one pool's
// validity depends on the others. Runs only on the leader.
import type { Registry } from 'prom-client';
import { ipAddressPoolKind } from '../../../crds/index.ts';
import type { Informer } from '../../../lib/informer.ts';
import type { Logger } from '../../../lib/logger.ts';
import { getOrCreateGauge } from '../../../lib/metrics.ts';
import type { RawKubeClient } from '../../../lib/raw-client.ts';
import { parseObjectKey } from '../../../lib/resource-path.ts';
import { updateStatus } from '../../../lib/status.ts';
import { WorkQueue } from '../../../lib/workqueue.ts';
import type { IPFamily } from '../../allocator/index.ts';
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
  now?: () => number;
}

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
    this.#unsubscribe = this.#o.informer.addHandlers({
      add: enqueueAll,
      update: enqueueAll,
      delete: enqueueAll,
    });
    enqueueAll();
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
    const result = await updateStatus<PoolResource>(
      this.#o.client,
      {
        group: ipAddressPoolKind.group,
        version: ipAddressPoolKind.version,
        plural: ipAddressPoolKind.plural,
        namespace,
        name,
      },
      (obj) => ({ ...obj, status: poolStatus(obj, judgement, assigned, now()) }),
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
}
