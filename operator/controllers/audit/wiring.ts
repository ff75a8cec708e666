// Operator wiring for the ClusterIP/NodePort side: the informer caches that
// the Service webhook (every replica) and the audit (leader) share, and the
// audit controller with its Event recorder.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import { nodePortPoolKind } from '../../../crds/index.ts';
import { EventRecorder } from '../../../lib/events.ts';
import type { Informer } from '../../../lib/informer.ts';
import { createResourceInformer } from '../../../lib/list-watch.ts';
import type { Logger } from '../../../lib/logger.ts';
import type { KubeObject } from '../../../lib/object-cache.ts';
import type { RawKubeClient } from '../../../lib/raw-client.ts';
import type { PortRange } from '../../allocator/ports.ts';
import type { Webhook } from '../../webhook/index.ts';
import { ServiceMutator, serviceWebhookDefinition } from '../../webhook/mutate-service.ts';
import type {
  IPAddressResource,
  NamespaceResource,
  NodePortPoolResource,
  ServiceCaches,
  ServiceResource,
} from '../../webhook/mutate-service.ts';
import type { PoolObject } from '../pools/status.ts';
import { AuditController } from './controller.ts';

export function createServiceCaches(o: {
  kc: KubeConfig;
  client: RawKubeClient;
  registry: Registry;
  logger: Logger;
  /** Portico's namespace, where the NodePortPools live. */
  namespace: string;
  /** Whether to follow networking.k8s.io/v1 IPAddress objects (the API exists). */
  ipAddressApi: boolean;
}): ServiceCaches & { start(): void; stop(): Promise<void> } {
  const informer = <T extends KubeObject>(
    name: string,
    type: { group: string; version: string; plural: string },
    namespace?: string,
  ): Informer<T> =>
    createResourceInformer<T>(o.kc, type, {
      client: o.client,
      registry: o.registry,
      logger: o.logger.child({ informer: name }),
      name: `service-caches.${name}`,
      ...(namespace ? { namespace } : {}),
    });
  const services = informer<ServiceResource>('services', { group: '', version: 'v1', plural: 'services' });
  const namespaces = informer<NamespaceResource>('namespaces', {
    group: '',
    version: 'v1',
    plural: 'namespaces',
  });
  const portPools = informer<NodePortPoolResource>('nodeportpools', nodePortPoolKind, o.namespace);
  const ipAddresses = o.ipAddressApi
    ? informer<IPAddressResource>('ipaddresses', {
        group: 'networking.k8s.io',
        version: 'v1',
        plural: 'ipaddresses',
      })
    : undefined;
  const all = [
    services,
    namespaces,
    portPools,
    ...(ipAddresses ? [ipAddresses] : []),
  ] as Informer<KubeObject>[];
  return {
    services,
    namespaces,
    portPools,
    ipAddresses,
    hasSynced: () => all.every((i) => i.hasSynced()),
    start: () => all.forEach((i) => i.start()),
    stop: async () => {
      await Promise.all(all.map((i) => i.stop()));
    },
  };
}

export function createAuditController(o: {
  client: RawKubeClient;
  registry: Registry;
  logger: Logger;
  identity: string;
  namespace: string;
  caches: ServiceCaches;
  ipPools: Informer<PoolObject & KubeObject>;
  intervalMs: number;
  nodePortRange?: PortRange | undefined;
  onChange: () => void;
}): AuditController {
  return new AuditController({
    services: o.caches.services,
    namespaces: o.caches.namespaces,
    ipPools: o.ipPools,
    portPools: o.caches.portPools,
    recorder: new EventRecorder({
      client: o.client,
      component: 'portico-operator',
      instance: o.identity,
      logger: o.logger.child({ part: 'events' }),
    }),
    registry: o.registry,
    logger: o.logger,
    poolNamespace: o.namespace,
    intervalMs: o.intervalMs,
    ...(o.nodePortRange ? { nodePortRange: o.nodePortRange } : {}),
    onChange: o.onChange,
  });
}

/** Operator wiring: the webhook over the shared caches, counting collisions as the caches change. */
export function createServiceWebhook(o: {
  registry: Registry;
  logger: Logger;
  ipPools: Informer<PoolObject & KubeObject>;
  caches: ServiceCaches;
  nodePortRange?: PortRange | undefined;
}) {
  const { caches } = o;
  const hasSynced = () => o.ipPools.hasSynced() && caches.hasSynced();
  const mutator = new ServiceMutator({
    sources: {
      services: caches.services,
      namespaces: { get: (key) => caches.namespaces.get(key) },
      ipPools: o.ipPools,
      portPools: caches.portPools,
      ipAddresses: caches.ipAddresses,
      hasSynced,
    },
    registry: o.registry,
    logger: o.logger,
    ...(o.nodePortRange ? { nodePortRange: o.nodePortRange } : {}),
  });
  const observe = (svc: ServiceResource) => mutator.observeService(svc);
  const unsubscribe = [
    caches.services.addHandlers({ add: observe, update: (_old, svc) => observe(svc) }),
    ...(caches.ipAddresses
      ? [caches.ipAddresses.addHandlers({ add: (a) => mutator.observeIPAddress(a) })]
      : []),
  ];
  return {
    webhook: { definition: serviceWebhookDefinition, handler: mutator.handler() } satisfies Webhook,
    hasSynced,
    stop: () => unsubscribe.forEach((u) => u()),
  };
}
