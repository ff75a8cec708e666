// Adapter: for every ExternalName Service, a Warning Event when its
// externalName is not a resolvable DNS name (validate.ts), and for those that
// opted in, the companion ClusterIP Service and ServiceBackends (companion.ts)
// created, kept in line, and deleted when the opt-in or the Service goes away.
// Owner references make the garbage collector clean up too when the operator
// is not running. Runs only on the leader.
import type { Registry } from 'prom-client';
import { serviceBackendsKind } from '../../../crds/index.ts';
import { isAlreadyExists, isNotFound } from '../../../lib/errors.ts';
import type { EventRecorder, InvolvedObject } from '../../../lib/events.ts';
import type { Informer } from '../../../lib/informer.ts';
import type { Logger } from '../../../lib/logger.ts';
import { MERGE_PATCH } from '../../../lib/raw-client.ts';
import type { RawKubeClient } from '../../../lib/raw-client.ts';
import { collectionPath, objectPath, parseObjectKey } from '../../../lib/resource-path.ts';
import { WorkQueue } from '../../../lib/workqueue.ts';
import type { ServiceBackendsResource, ServiceResource } from '../endpoints/controller.ts';
import {
  COMPANION_OF_LABEL,
  backendsCurrent,
  companionName,
  isCompanionOf,
  planCompanion,
  serviceCurrent,
} from './companion.ts';
import type { CompanionSource } from './companion.ts';
import { checkExternalName } from './validate.ts';

export interface ExternalNameControllerOptions {
  client: RawKubeClient;
  services: Informer<ServiceResource>;
  serviceBackends: Informer<ServiceBackendsResource>;
  recorder: Pick<EventRecorder, 'record'>;
  registry: Registry;
  logger: Logger;
}

const SERVICES = { group: '', version: 'v1', plural: 'services' };

type Labelled = { metadata?: { namespace?: string; name?: string; labels?: Record<string, string> } };

export class ExternalNameController {
  readonly #o: ExternalNameControllerOptions;
  /** What was last reported per Service, so each finding is an Event once. */
  readonly #reported = new Map<string, string>();
  #queue: WorkQueue | undefined;
  #unsubscribe: (() => void)[] = [];

  constructor(options: ExternalNameControllerOptions) {
    this.#o = options;
  }

  start(): void {
    if (this.#queue) return;
    const queue = new WorkQueue(
      { name: 'externalname', registry: this.#o.registry, logger: this.#o.logger },
      (key) => this.reconcile(key),
    );
    this.#queue = queue;
    const keys = (o: Labelled) => {
      const ns = o.metadata?.namespace;
      const owner = o.metadata?.labels?.[COMPANION_OF_LABEL];
      if (owner) queue.add(`${ns}/${owner}`);
      return `${ns}/${o.metadata?.name}`;
    };
    const svc = (s: ServiceResource) => queue.add(keys(s));
    const sb = (b: ServiceBackendsResource) => void keys(b);
    this.#unsubscribe = [
      this.#o.services.addHandlers({ add: svc, update: (_, s) => svc(s), delete: svc }),
      this.#o.serviceBackends.addHandlers({ add: sb, update: (_, b) => sb(b), delete: sb }),
    ];
    for (const key of this.#o.services.keys()) queue.add(key);
  }

  async stop(): Promise<void> {
    for (const u of this.#unsubscribe) u();
    this.#unsubscribe = [];
    await this.#queue?.shutdown();
    this.#queue = undefined;
  }

  async #report(
    svc: CompanionSource,
    findings: { reason: string; message: string; type?: 'Normal' | 'Warning' }[],
  ) {
    const key = `${svc.metadata.namespace}/${svc.metadata.name}`;
    const signature = JSON.stringify([svc.metadata.uid, findings]);
    const before = this.#reported.get(key);
    if (before === signature) return;
    this.#reported.set(key, signature);
    const previous = new Set(
      (before ? (JSON.parse(before) as [string, unknown[]])[1] : []).map((f) => JSON.stringify(f)),
    );
    const involved: InvolvedObject = {
      apiVersion: 'v1',
      kind: 'Service',
      namespace: svc.metadata.namespace ?? '',
      name: svc.metadata.name ?? '',
      ...(svc.metadata.uid ? { uid: svc.metadata.uid } : {}),
    };
    for (const f of findings) {
      if (previous.has(JSON.stringify(f))) continue;
      await this.#o.recorder.record(involved, f.type ?? 'Warning', f.reason, f.message);
    }
  }

  async reconcile(key: string): Promise<void> {
    const { namespace = '', name } = parseObjectKey(key);
    const svc = this.#o.services.get(key) as CompanionSource | undefined;
    const findings: { reason: string; message: string }[] = [];
    if (svc?.spec?.type === 'ExternalName') {
      const f = checkExternalName(svc.spec.externalName);
      if (f) findings.push(f);
    }
    const plan = planCompanion(svc);
    if (plan.kind === 'skip') findings.push({ reason: plan.reason, message: plan.message });
    if (svc && (findings.length > 0 || this.#reported.has(key))) await this.#report(svc, findings);
    if (!svc) this.#reported.delete(key);

    const companion = companionName(name);
    const companionKey = `${namespace}/${companion}`;
    const existingSvc = this.#o.services.get(companionKey);
    const existingSb = this.#o.serviceBackends.get(companionKey);
    const client = this.#o.client;
    const sbRef = {
      group: serviceBackendsKind.group,
      version: serviceBackendsKind.version,
      plural: serviceBackendsKind.plural,
      namespace,
      name: companion,
    };
    const svcRef = { ...SERVICES, namespace, name: companion };

    if (plan.kind !== 'keep') {
      // Opt-in removed, Service gone or no longer ExternalName: delete what is ours.
      const gone = (err: unknown) => {
        if (!isNotFound(err)) throw err;
      };
      if (existingSb && isCompanionOf(existingSb, name))
        await client.deleteJson(objectPath(sbRef)).catch(gone);
      if (existingSvc && isCompanionOf(existingSvc, name)) {
        await client.deleteJson(objectPath(svcRef)).catch(gone);
        this.#o.logger.info({ service: key, companion }, 'externalname companion deleted');
      }
      return;
    }
    const foreign = [existingSvc, existingSb].find((o) => o && !isCompanionOf(o, name));
    if (foreign) {
      await this.#report(svc!, [
        ...findings,
        {
          reason: 'CompanionNameTaken',
          message: `${foreign.kind ?? 'An object'} ${JSON.stringify(companion)} exists and is not Portico's companion of this Service; not touching it`,
        },
      ]);
      return;
    }
    const create = async (path: string, body: unknown) => {
      await client.postJson(path, body).catch((err: unknown) => {
        if (!isAlreadyExists(err)) throw err; // the informer has not seen it yet
      });
    };
    if (!existingSvc) {
      await create(collectionPath(SERVICES, namespace), plan.service);
      this.#o.logger.info({ service: key, companion }, 'externalname companion created');
    } else if (!serviceCurrent(existingSvc, plan.service)) {
      await client.patchJson(
        objectPath(svcRef),
        { metadata: plan.service.metadata, spec: { ...plan.service.spec, selector: null } },
        MERGE_PATCH,
      );
    }
    if (!existingSb) {
      await create(collectionPath(sbRef, namespace), plan.backends);
    } else if (!backendsCurrent(existingSb, plan.backends)) {
      await client.patchJson(
        objectPath(sbRef),
        { metadata: plan.backends.metadata, spec: { healthCheck: null, ...plan.backends.spec } },
        MERGE_PATCH,
      );
    }
  }
}
