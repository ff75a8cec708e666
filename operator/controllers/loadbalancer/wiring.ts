// Wiring for operator/main.ts: the informers the LoadBalancer controller reads
// (Services and Namespaces cluster-wide, IPReservations in Portico's
// namespace; the IPAddressPool informer is main's) and the controller itself.
// Informers run on every replica, so a new leader starts from warm caches;
// the controller runs only on the leader.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import { ipReservationKind } from '../../../crds/index.ts';
import { EventRecorder } from '../../../lib/events.ts';
import type { HealthServer } from '../../../lib/health-server.ts';
import type { Informer } from '../../../lib/informer.ts';
import { createResourceInformer } from '../../../lib/list-watch.ts';
import { childLogger } from '../../../lib/logger.ts';
import type { KubeObject } from '../../../lib/object-cache.ts';
import type { RawKubeClient } from '../../../lib/raw-client.ts';
import type { PoolResource } from '../pools/controller.ts';
import { LoadBalancerController } from './controller.ts';
import type { NamespaceResource, ReservationResource, ServiceResource } from './controller.ts';
import type { LoadBalancerOptions } from './options.ts';

export interface LoadBalancerWiringOptions {
  kc: KubeConfig;
  client: RawKubeClient;
  registry: Registry;
  health: HealthServer;
  /** Portico's namespace. */
  namespace: string;
  pools: Informer<PoolResource>;
  options: LoadBalancerOptions;
  /** Reporting instance of the Events. */
  identity: string;
  /** Told (debounced) when assignments changed; main refreshes pool status. */
  onAssignmentsChanged?: () => void;
}

export function createLoadBalancerController(o: LoadBalancerWiringOptions) {
  const informer = <T extends KubeObject>(
    name: string,
    type: { group: string; version: string; plural: string },
    namespace?: string,
  ): Informer<T> => {
    const inf = createResourceInformer<T>(o.kc, type, {
      client: o.client,
      registry: o.registry,
      logger: childLogger(`informer.${name}`),
      name: `loadbalancer.${name}`,
      ...(namespace ? { namespace } : {}),
    });
    o.health.addReadinessCheck(`loadbalancer ${name} informer synced`, () => inf.hasSynced());
    return inf;
  };
  const services = informer<ServiceResource>('services', { group: '', version: 'v1', plural: 'services' });
  const namespaces = informer<NamespaceResource>('namespaces', {
    group: '',
    version: 'v1',
    plural: 'namespaces',
  });
  const reservations = informer<ReservationResource>('ipreservations', ipReservationKind, o.namespace);
  const informers = [services, namespaces, reservations] as Informer<KubeObject>[];
  const controller = new LoadBalancerController({
    client: o.client,
    services,
    namespaces,
    pools: o.pools,
    reservations,
    namespace: o.namespace,
    classes: { loadBalancerClass: o.options.loadBalancerClass, isDefault: o.options.defaultLoadBalancer },
    stickyHoldMs: o.options.stickyHoldMs,
    recorder: new EventRecorder({
      client: o.client,
      component: 'portico-operator',
      instance: o.identity,
      logger: childLogger('events'),
    }),
    registry: o.registry,
    logger: childLogger('controller.loadbalancer'),
    ...(o.onAssignmentsChanged ? { onAssignmentsChanged: o.onAssignmentsChanged } : {}),
  });
  return {
    controller,
    /** For the pool status controller: addresses in use per pool and family. */
    assigned: controller.assigned,
    /** For the pool status controller: addresses held by sticky reservations. */
    reserved: controller.reserved,
    startInformers: () => informers.forEach((i) => i.start()),
    stopInformers: async () => {
      await Promise.all(informers.map((i) => i.stop()));
    },
    /** On becoming leader: resolves once the state is rebuilt and the queue runs. */
    start: () => controller.start(),
    /** On losing the lease or shutting down. */
    stop: () => controller.stop(),
  };
}
