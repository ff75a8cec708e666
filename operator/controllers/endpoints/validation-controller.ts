// Adapter: Warning Events on hand-written Endpoints (Services without a
// selector) whose addresses are wrong, as judged by address-check.ts. It only
// reads Endpoints; Kubernetes' mirroring to EndpointSlices is left alone. An
// object is reported again only when its findings change.
import type { Registry } from 'prom-client';
import type { EventRecorder } from '../../../lib/events.ts';
import type { Informer } from '../../../lib/informer.ts';
import type { Logger } from '../../../lib/logger.ts';
import { getOrCreateGauge } from '../../../lib/metrics.ts';
import { WorkQueue } from '../../../lib/workqueue.ts';
import { checkEndpoints, clusterIPIndex, findingMessage } from './address-check.ts';
import type { EndpointsLike } from './address-check.ts';
import type { ServiceResource } from './controller.ts';

export type EndpointsResource = EndpointsLike & { metadata: { name?: string; namespace?: string } };

/** Skips the Endpoints that kube-controller-manager writes for Services with a selector. */
export const HAND_WRITTEN_ENDPOINTS_SELECTOR = 'endpoints.kubernetes.io/managed-by!=endpoint-controller';

export interface EndpointsValidationOptions {
  endpoints: Informer<EndpointsResource>;
  services: Informer<ServiceResource>;
  recorder: Pick<EventRecorder, 'record'>;
  registry: Registry;
  logger: Logger;
}

const keyOf = (o: { metadata?: { namespace?: string; name?: string } }) =>
  `${o.metadata?.namespace}/${o.metadata?.name}`;

const clusterIPsOf = (s: ServiceResource) => JSON.stringify(s.spec?.clusterIPs ?? s.spec?.clusterIP ?? null);

export class EndpointsValidationController {
  readonly #o: EndpointsValidationOptions;
  readonly #reported = new Map<string, string>();
  readonly #flagged;
  #index: Map<string, string> | undefined;
  #queue: WorkQueue | undefined;
  #unsubscribe: (() => void)[] = [];

  constructor(options: EndpointsValidationOptions) {
    this.#o = options;
    this.#flagged = getOrCreateGauge(options.registry, {
      name: 'portico_endpoints_flagged_addresses',
      help: 'Addresses of hand-written Endpoints that Portico flagged with a Warning Event.',
      labelNames: ['namespace', 'name'],
    });
  }

  start(): void {
    if (this.#queue) return;
    const queue = new WorkQueue(
      { name: 'endpoints-validation', registry: this.#o.registry, logger: this.#o.logger },
      (key) => this.reconcile(key),
    );
    this.#queue = queue;
    // A ClusterIP change can matter to any Endpoints. Coalesced: a burst of
    // Service events (the replay of every Service at start) enqueues once.
    let scheduled = false;
    const all = () => {
      this.#index = undefined;
      if (scheduled) return;
      scheduled = true;
      queueMicrotask(() => {
        scheduled = false;
        for (const key of this.#o.endpoints.keys()) queue.add(key);
      });
    };
    const ep = (e: EndpointsResource) => queue.add(keyOf(e));
    this.#unsubscribe = [
      this.#o.endpoints.addHandlers({ add: ep, update: (_, e) => ep(e), delete: ep }),
      this.#o.services.addHandlers({
        add: all,
        delete: all,
        update: (old, svc) => {
          if (clusterIPsOf(old) !== clusterIPsOf(svc)) all();
          else queue.add(keyOf(svc));
        },
      }),
    ];
    all();
  }

  async stop(): Promise<void> {
    for (const u of this.#unsubscribe) u();
    this.#unsubscribe = [];
    await this.#queue?.shutdown();
    this.#queue = undefined;
  }

  async reconcile(key: string): Promise<void> {
    const ep = this.#o.endpoints.get(key);
    const [namespace = '', name = ''] = key.split('/');
    if (!ep) {
      this.#reported.delete(key);
      this.#flagged.remove({ namespace, name });
      return;
    }
    this.#index ??= clusterIPIndex(this.#o.services.list());
    const findings = checkEndpoints(ep, this.#o.services.get(key), this.#index);
    if (findings.length > 0) this.#flagged.set({ namespace, name }, findings.length);
    else this.#flagged.remove({ namespace, name });
    const messages = findings.map(findingMessage);
    const signature = JSON.stringify([ep.metadata.uid, messages]);
    const before = this.#reported.get(key);
    if (before === signature) return;
    this.#reported.set(key, signature);
    const previous = new Set<string>(before ? (JSON.parse(before) as [string, string[]])[1] : []);
    for (const [i, f] of findings.entries()) {
      const message = messages[i]!;
      if (previous.has(message)) continue;
      await this.#o.recorder.record(
        {
          apiVersion: 'v1',
          kind: 'Endpoints',
          namespace,
          name,
          ...(ep.metadata.uid ? { uid: ep.metadata.uid } : {}),
        },
        'Warning',
        f.reason,
        message,
      );
    }
    if (findings.length > 0)
      this.#o.logger.info({ endpoints: key, findings: messages }, 'hand-written Endpoints flagged');
  }
}
