// Adapter: keeps every NodePortPool's status (total/used/available and the
// Ready/Invalid/Overlap/Exhausted/ServicesOutsidePool conditions) in line with
// the pure judgement in port-status.ts. Used ports and findings come from the
// audit controller, which calls resyncAll() when they change. Leader only.
import type { Registry } from 'prom-client';
import { nodePortPoolKind } from '../../../crds/index.ts';
import type { ConditionUpdate } from '../../../lib/conditions.ts';
import type { Informer } from '../../../lib/informer.ts';
import type { Logger } from '../../../lib/logger.ts';
import { getOrCreateGauge } from '../../../lib/metrics.ts';
import { keyOf } from '../../../lib/object-cache.ts';
import type { KubeObject } from '../../../lib/object-cache.ts';
import type { RawKubeClient } from '../../../lib/raw-client.ts';
import { parseObjectKey } from '../../../lib/resource-path.ts';
import { updateStatus } from '../../../lib/status.ts';
import { WorkQueue } from '../../../lib/workqueue.ts';
import type { ParseNodePortPoolOptions } from '../../allocator/index.ts';
import { judgeNodePortPools, nodePortPoolStatus } from './port-status.ts';
import type { NodePortPoolObject } from './port-status.ts';

export type NodePortPoolResource = NodePortPoolObject & KubeObject;

export interface NodePortPoolStatusControllerOptions {
  client: RawKubeClient;
  informer: Informer<NodePortPoolResource>;
  registry: Registry;
  logger: Logger;
  /** Ports of the pool held by Services. */
  used: (pool: string) => number;
  /** The audit's ServicesOutsidePool condition for the pool; undefined before its first pass. */
  outside?: (pool: string) => ConditionUpdate | undefined;
  parseOptions?: ParseNodePortPoolOptions;
  now?: () => number;
}

export class NodePortPoolStatusController {
  readonly #o: NodePortPoolStatusControllerOptions;
  #queue: WorkQueue | undefined;
  #unsubscribe: (() => void) | undefined;
  readonly #gauges;

  constructor(options: NodePortPoolStatusControllerOptions) {
    this.#o = options;
    const gauge = (name: string, help: string) =>
      getOrCreateGauge(options.registry, { name, help, labelNames: ['pool'] });
    this.#gauges = {
      total: gauge('portico_nodeportpool_ports_total', 'Ports in a NodePortPool.'),
      used: gauge('portico_nodeportpool_ports_used', 'Ports of a NodePortPool held by Services.'),
      invalid: gauge(
        'portico_nodeportpool_invalid',
        '1 when a NodePortPool is invalid (bad spec or overlap).',
      ),
    };
  }

  start(): void {
    if (this.#queue) return;
    const queue = new WorkQueue(
      { name: 'nodeportpool-status', registry: this.#o.registry, logger: this.#o.logger },
      (key) => this.reconcile(key),
    );
    this.#queue = queue;
    // One pool's validity depends on the others (overlaps): any change re-judges all.
    const all = () => this.resyncAll();
    this.#unsubscribe = this.#o.informer.addHandlers({
      add: all,
      update: all,
      // A deleted pool is no longer among the keys: queue it too, to drop its gauges.
      delete: (pool) => {
        queue.add(keyOf(pool));
        all();
      },
    });
    all();
  }

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
      for (const g of Object.values(this.#gauges)) g.remove({ pool: name });
      return;
    }
    const judgement = judgeNodePortPools(this.#o.informer.list(), this.#o.parseOptions);
    const now = this.#o.now ?? Date.now;
    const result = await updateStatus<NodePortPoolResource>(
      this.#o.client,
      {
        group: nodePortPoolKind.group,
        version: nodePortPoolKind.version,
        plural: nodePortPoolKind.plural,
        namespace,
        name,
      },
      (obj) => ({
        ...obj,
        status: nodePortPoolStatus(obj, judgement, this.#o.used(name), this.#o.outside?.(name), now()),
      }),
      { current },
    );
    const status = result.object.status;
    const invalid = judgement.errors.has(name);
    this.#gauges.invalid.set({ pool: name }, invalid ? 1 : 0);
    this.#gauges.total.set({ pool: name }, status?.total ?? 0);
    this.#gauges.used.set({ pool: name }, status?.used ?? 0);
    if (result.written) {
      this.#o.logger.info({ pool: key, invalid, errors: judgement.errors.get(name) }, 'pool status updated');
    }
  }
}
