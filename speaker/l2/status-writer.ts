// Keeps the ServiceL2Status objects in line with the plan: this node owns one
// object per Service it announces (created, updated, deleted by it alone, so
// speakers never race on one object), and cleans up the objects a dead or
// former announcer left behind. Level-based: every pass compares the desired
// objects with the informer's cache; a failed pass is retried.
import { serviceL2StatusKind } from '../../crds/index.ts';
import type { ServiceL2Status, ServiceL2StatusStatus } from '../../crds/index.ts';
import { describeError, isNotFound } from '../../lib/errors.ts';
import type { Informer } from '../../lib/informer.ts';
import type { Logger } from '../../lib/logger.ts';
import type { KubeObject } from '../../lib/object-cache.ts';
import type { RawKubeClient } from '../../lib/raw-client.ts';
import { writeOwnedStatus } from '../../lib/status.ts';
import { statusName } from './status-name.ts';
import type { ServiceRef } from './plan.ts';

export const NODE_LABEL = 'portico.io/node';
export const SERVICE_NAME_LABEL = 'portico.io/service-name';
export const SERVICE_NAMESPACE_LABEL = 'portico.io/service-namespace';

export type StatusObject = ServiceL2Status & KubeObject;

export interface DesiredStatus {
  service: ServiceRef;
  ips: string[];
  interfaces: string[];
}

export interface StatusPlan {
  /** What this node announces, per Service. */
  own: DesiredStatus[];
  /** Services and the nodes that announce them now; other objects for them are stale. */
  announcers: ReadonlyMap<string, ReadonlySet<string>>;
  /** This node also removes objects of Services nobody announces (the lowest-named live speaker does). */
  sweeper: boolean;
}

export interface StatusWriterOptions {
  client: RawKubeClient;
  informer: Informer<StatusObject>;
  namespace: string;
  node: string;
  logger: Logger;
  retryMs?: number;
}

const serviceKey = (ns: string, name: string) => `${ns}/${name}`;

export class StatusWriter {
  readonly #o: StatusWriterOptions;
  #plan: StatusPlan | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #retry: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: StatusWriterOptions) {
    this.#o = options;
  }

  set(plan: StatusPlan): void {
    this.#plan = plan;
    this.#kick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retry);
    await this.#running;
  }

  #kick(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#pass()
      .catch((err: unknown) => {
        this.#o.logger.warn({ err: describeError(err) }, 'ServiceL2Status write failed; retrying');
        clearTimeout(this.#retry);
        this.#retry = setTimeout(() => this.#kick(), this.#o.retryMs ?? 2000);
      })
      .finally(() => {
        this.#running = undefined;
        if (this.#again) {
          this.#again = false;
          this.#kick();
        }
      });
  }

  #path(name?: string): string {
    const base = `/apis/${serviceL2StatusKind.group}/${serviceL2StatusKind.version}/namespaces/${this.#o.namespace}/${serviceL2StatusKind.plural}`;
    return name ? `${base}/${name}` : base;
  }

  async #pass(): Promise<void> {
    const plan = this.#plan;
    if (!plan || !this.#o.informer.hasSynced()) return;
    const { node, namespace } = this.#o;
    const wanted = new Set<string>();
    for (const d of plan.own) {
      const name = statusName(node, d.service.namespace, d.service.name);
      wanted.add(name);
      await this.#ensure(name, d);
    }
    for (const obj of this.#o.informer.list()) {
      const name = obj.metadata?.name ?? '';
      const labels = (obj.metadata?.labels ?? {}) as Record<string, string>;
      const owner = labels[NODE_LABEL];
      const svc = serviceKey(labels[SERVICE_NAMESPACE_LABEL] ?? '', labels[SERVICE_NAME_LABEL] ?? '');
      const announcers = plan.announcers.get(svc);
      const stale =
        owner === node
          ? !wanted.has(name)
          : owner !== undefined &&
            (announcers ? announcers.has(node) && !announcers.has(owner) : plan.sweeper);
      if (!stale) continue;
      try {
        await this.#o.client.deleteJson(`${this.#path(name)}`);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      this.#o.logger.debug({ name, namespace }, 'removed ServiceL2Status');
    }
  }

  async #ensure(name: string, d: DesiredStatus): Promise<void> {
    const status: ServiceL2StatusStatus = {
      node: this.#o.node,
      serviceName: d.service.name,
      serviceNamespace: d.service.namespace,
      ips: d.ips,
      interfaces: d.interfaces.map((i) => ({ name: i })),
    };
    await writeOwnedStatus(
      this.#o.client,
      { ...serviceL2StatusKind, namespace: this.#o.namespace, name },
      {
        labels: {
          [NODE_LABEL]: this.#o.node,
          [SERVICE_NAME_LABEL]: d.service.name,
          [SERVICE_NAMESPACE_LABEL]: d.service.namespace,
        },
      },
      status,
      this.#o.informer.get(`${this.#o.namespace}/${name}`),
    );
  }
}
