// Keeps this node's BGPSessionStatus and ServiceBGPStatus objects in line with
// planBgpStatus. Each node writes only objects carrying its own node label
// (its informers watch only those), so speakers never race on an object, and
// whatever of its own is not planned is deleted: peers and Services it no
// longer has, and objects a previous run left behind. Debounced, since a
// flapping session changes state often; level-based, since every pass
// compares the plan with the cache and writes only what differs; a failed
// pass is retried.
import type { KindDefinition } from '../../crds/common.ts';
import { bgpSessionStatusKind } from '../../crds/bgpsessionstatus.ts';
import { serviceBGPStatusKind } from '../../crds/servicebgpstatus.ts';
import { describeError, isNotFound } from '../../lib/errors.ts';
import type { Informer } from '../../lib/informer.ts';
import type { Logger } from '../../lib/logger.ts';
import type { KubeObject } from '../../lib/object-cache.ts';
import type { RawKubeClient } from '../../lib/raw-client.ts';
import { objectPath } from '../../lib/resource-path.ts';
import { writeOwnedStatus } from '../../lib/status.ts';
import type { BgpStatusPlan, DesiredObject, NodeOwner } from './status-plan.ts';

export type StatusObject = KubeObject & { spec?: unknown; status?: unknown };

export interface BgpStatusWriterOptions {
  client: RawKubeClient;
  /** Informers of this node's objects of each kind (label selector portico.io/node=<node>). */
  sessions: Informer<StatusObject>;
  services: Informer<StatusObject>;
  namespace: string;
  /** Called at each pass for the current plan. */
  plan: () => BgpStatusPlan | undefined;
  logger: Logger;
  debounceMs?: number;
  retryMs?: number;
}

export class BgpStatusWriter {
  readonly #o: BgpStatusWriterOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  constructor(options: BgpStatusWriterOptions) {
    this.#o = options;
  }

  /** Something the plan depends on changed: a pass follows within the debounce window. */
  kick(delayMs = this.#o.debounceMs ?? 200): void {
    if (this.#stopped || this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#run();
    }, delayMs);
  }

  /** Runs a pass now (after one under way) and waits for it; for tests and callers that must see it written. */
  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
    if (this.#stopped) return;
    this.#run();
    await this.#running;
  }

  /** Waits for a pass under way; later kicks do nothing. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  #run(): void {
    if (this.#stopped) return;
    if (this.#running) return void (this.#again = true);
    this.#running = this.#pass()
      .catch((err: unknown) => {
        this.#o.logger.warn({ err: describeError(err) }, 'BGP status write failed; retrying');
        this.kick(this.#o.retryMs ?? 2000);
      })
      .finally(() => {
        this.#running = undefined;
        if (this.#again) {
          this.#again = false;
          this.kick();
        }
      });
  }

  async #pass(): Promise<void> {
    const { sessions, services } = this.#o;
    if (!sessions.hasSynced() || !services.hasSynced()) return;
    const plan = this.#o.plan();
    if (!plan) return;
    await this.#sync(bgpSessionStatusKind, sessions, plan.sessions, plan.owner);
    await this.#sync(serviceBGPStatusKind, services, plan.services, plan.owner);
  }

  async #sync(
    kind: KindDefinition,
    informer: Informer<StatusObject>,
    desired: DesiredObject<unknown>[],
    owner: NodeOwner | undefined,
  ) {
    const ns = this.#o.namespace;
    const wanted = new Set(desired.map((d) => d.name));
    for (const d of desired) await this.#ensure(kind, informer, d, owner);
    for (const obj of informer.list()) {
      const name = obj.metadata?.name ?? '';
      if (wanted.has(name)) continue;
      try {
        await this.#o.client.deleteJson(objectPath({ ...kind, namespace: ns, name }));
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      this.#o.logger.debug({ kind: kind.kind, name }, 'removed BGP status object');
    }
  }

  async #ensure(
    kind: KindDefinition,
    informer: Informer<StatusObject>,
    d: DesiredObject<unknown>,
    owner: NodeOwner | undefined,
  ) {
    const ns = this.#o.namespace;
    await writeOwnedStatus(
      this.#o.client,
      { ...kind, namespace: ns, name: d.name },
      // No blockOwnerDeletion: that would need rights on the Node's finalizers.
      { labels: d.labels, ...(owner ? { ownerReferences: [owner] } : {}) },
      d.status,
      informer.get(`${ns}/${d.name}`),
    );
  }
}
