// Adapter: creates and deletes the networking.k8s.io/v1 ServiceCIDR of each
// ClusterIP pool with spec.serviceCIDR.create, on behalf of the pool status
// controller (which writes the resulting condition). A ServiceCIDR is
// cluster-scoped and a pool is namespaced, and Kubernetes' garbage collector
// ignores a namespaced owner of a cluster-scoped object, so the tie is a label
// (the pool's namespace) plus an annotation (its name), and the leader deletes
// what no pool wants: when the pool goes, when it stops asking, and in a sweep
// at start for pools deleted while no leader ran.
import type { ConditionUpdate } from '../../../lib/conditions.ts';
import { describeError, isAlreadyExists, isNotFound } from '../../../lib/errors.ts';
import type { Informer } from '../../../lib/informer.ts';
import type { Logger } from '../../../lib/logger.ts';
import type { KubeObject } from '../../../lib/object-cache.ts';
import type { RawKubeClient } from '../../../lib/raw-client.ts';
import type { Pool } from '../../allocator/index.ts';
import {
  desiredServiceCIDR,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  POOL_ANNOTATION,
  POOL_NAMESPACE_LABEL,
  sameCIDRs,
  serviceCIDRName,
} from './service-cidr.ts';
import type { ServiceCIDRObject } from './service-cidr.ts';

export const SERVICE_CIDRS = '/apis/networking.k8s.io/v1/servicecidrs';
export const serviceCIDRType = { group: 'networking.k8s.io', version: 'v1', plural: 'servicecidrs' };

export type ServiceCIDRResource = ServiceCIDRObject & KubeObject;

export class ServiceCIDRSync {
  readonly #client: RawKubeClient;
  readonly #informer: Informer<ServiceCIDRResource>;
  readonly #namespace: string;
  readonly #logger: Logger;

  constructor(o: {
    client: RawKubeClient;
    informer: Informer<ServiceCIDRResource>;
    namespace: string;
    logger: Logger;
  }) {
    this.#client = o.client;
    this.#informer = o.informer;
    this.#namespace = o.namespace;
    this.#logger = o.logger;
  }

  #ours(o: ServiceCIDRObject | undefined, pool?: string): boolean {
    const m = o?.metadata;
    return (
      m?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY &&
      m.labels[POOL_NAMESPACE_LABEL] === this.#namespace &&
      (pool === undefined || m.annotations?.[POOL_ANNOTATION] === pool)
    );
  }

  /** Brings the pool's ServiceCIDR in line with its spec; returns the ServiceCIDR condition. */
  async ensure(pool: Pool): Promise<ConditionUpdate & { object?: ServiceCIDRObject }> {
    const name = serviceCIDRName(this.#namespace, pool.name);
    const desired = desiredServiceCIDR(pool);
    if (!desired.ok)
      return { type: 'ServiceCIDR', status: 'False', reason: 'InvalidSpec', message: desired.message };
    const existing = this.#informer.get(name);
    if (existing && !this.#ours(existing, pool.name)) {
      return {
        type: 'ServiceCIDR',
        status: 'False',
        reason: 'NameTaken',
        message: `ServiceCIDR ${name} exists and was not created by Portico for this pool; it is left alone`,
      };
    }
    if (existing?.metadata?.deletionTimestamp) {
      return {
        type: 'ServiceCIDR',
        status: 'False',
        reason: 'Deleting',
        message: `ServiceCIDR ${name} is being deleted (it waits until no Service holds an address only it covers); it is created again after`,
      };
    }
    if (existing && !sameCIDRs(existing.spec?.cidrs, desired.cidrs)) {
      // spec.cidrs is immutable: replace the object.
      await this.#delete(name);
      return {
        type: 'ServiceCIDR',
        status: 'False',
        reason: 'Replacing',
        message: `ServiceCIDR ${name} holds ${existing.spec?.cidrs?.join(', ')}, the pool now ${desired.cidrs.join(', ')}; replacing it`,
      };
    }
    if (!existing) {
      try {
        await this.#client.postJson(SERVICE_CIDRS, {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'ServiceCIDR',
          metadata: {
            name,
            labels: { [MANAGED_BY_LABEL]: MANAGED_BY, [POOL_NAMESPACE_LABEL]: this.#namespace },
            annotations: { [POOL_ANNOTATION]: pool.name },
          },
          spec: { cidrs: desired.cidrs },
        });
        this.#logger.info(
          { pool: pool.name, serviceCIDR: name, cidrs: desired.cidrs },
          'ServiceCIDR created',
        );
      } catch (err) {
        if (!isAlreadyExists(err)) {
          return {
            type: 'ServiceCIDR',
            status: 'False',
            reason: 'CreateFailed',
            message: `creating ServiceCIDR ${name} (${desired.cidrs.join(', ')}): ${describeError(err)}`,
          };
        }
      }
    }
    return {
      type: 'ServiceCIDR',
      status: 'True',
      reason: 'Created',
      message: `ServiceCIDR ${name} holds ${desired.cidrs.join(', ')}`,
      // What the informer may not show yet, for the OutsideServiceCIDR check of this same pass.
      object: { metadata: { name }, spec: { cidrs: desired.cidrs } },
    };
  }

  /** Deletes the ServiceCIDR created for a pool, if there is one. */
  async remove(pool: string): Promise<void> {
    const name = serviceCIDRName(this.#namespace, pool);
    const existing = this.#informer.get(name);
    if (existing && this.#ours(existing, pool) && !existing.metadata?.deletionTimestamp)
      await this.#delete(name);
  }

  /** Deletes every ServiceCIDR of this namespace's pools that `wanted` (pool names) no longer holds. */
  async sweep(wanted: ReadonlySet<string>): Promise<void> {
    await this.#informer.waitForSync();
    for (const o of this.#informer.list()) {
      const pool = o.metadata?.annotations?.[POOL_ANNOTATION];
      if (!this.#ours(o) || pool === undefined || wanted.has(pool) || o.metadata?.deletionTimestamp) continue;
      await this.#delete(o.metadata?.name ?? '');
    }
  }

  async #delete(name: string): Promise<void> {
    try {
      await this.#client.deleteJson(`${SERVICE_CIDRS}/${name}`);
      this.#logger.info({ serviceCIDR: name }, 'ServiceCIDR deleted');
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

/** Whether the cluster serves networking.k8s.io/v1 ServiceCIDRs. */
export async function hasServiceCIDRApi(client: RawKubeClient): Promise<boolean> {
  try {
    await client.getJson(SERVICE_CIDRS, { limit: 1 });
    return true;
  } catch {
    return false;
  }
}
