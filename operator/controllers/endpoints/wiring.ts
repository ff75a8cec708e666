// Wiring for operator/main.ts: the cluster-wide informers (Services,
// ServiceBackends, Portico's EndpointSlices, hand-written Endpoints) and the
// three controllers that share them: ServiceBackends, Endpoints validation
// and ExternalName. Informers run on every replica (readiness tracks their
// sync); the controllers only on the leader.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import { serviceBackendsKind } from '../../../crds/index.ts';
import { EventRecorder } from '../../../lib/events.ts';
import type { HealthServer } from '../../../lib/health-server.ts';
import type { Informer } from '../../../lib/informer.ts';
import { createResourceInformer } from '../../../lib/list-watch.ts';
import { childLogger } from '../../../lib/logger.ts';
import type { RawKubeClient } from '../../../lib/raw-client.ts';
import type { KubeObject } from '../../../lib/object-cache.ts';
import { ExternalNameController } from '../externalname/controller.ts';
import { SLICES, ServiceBackendsController } from './controller.ts';
import type { ServiceBackendsResource, ServiceResource, SliceResource } from './controller.ts';
import { createResolver } from './dns.ts';
import type { EndpointsOptions } from './options.ts';
import { MANAGED_BY, MANAGED_BY_LABEL } from './slices.ts';
import { EndpointsValidationController, HAND_WRITTEN_ENDPOINTS_SELECTOR } from './validation-controller.ts';
import type { EndpointsResource } from './validation-controller.ts';

export interface EndpointsWiringOptions {
  kc: KubeConfig;
  client: RawKubeClient;
  registry: Registry;
  health: HealthServer;
  options: EndpointsOptions;
  /** Reporting instance of the Events. */
  identity: string;
}

export function createEndpointsControllers(o: EndpointsWiringOptions) {
  const informer = <T extends KubeObject>(
    name: string,
    type: { group: string; version: string; plural: string },
    labelSelector?: string,
  ): Informer<T> => {
    const inf = createResourceInformer<T>(o.kc, type, {
      client: o.client,
      registry: o.registry,
      logger: childLogger(`informer.${name}`),
      ...(labelSelector ? { labelSelector } : {}),
    });
    o.health.addReadinessCheck(`${name} informer synced`, () => inf.hasSynced());
    return inf;
  };
  const services = informer<ServiceResource & KubeObject>('services', {
    group: '',
    version: 'v1',
    plural: 'services',
  });
  const serviceBackends = informer<ServiceBackendsResource & KubeObject>(
    'servicebackends',
    serviceBackendsKind,
  );
  const slices = informer<SliceResource & KubeObject>(
    'endpointslices',
    SLICES,
    `${MANAGED_BY_LABEL}=${MANAGED_BY}`,
  );
  const endpoints = informer<EndpointsResource & KubeObject>(
    'endpoints',
    { group: '', version: 'v1', plural: 'endpoints' },
    HAND_WRITTEN_ENDPOINTS_SELECTOR,
  );
  const informers = [services, serviceBackends, slices, endpoints] as Informer<KubeObject>[];
  const recorder = new EventRecorder({
    client: o.client,
    component: 'portico-operator',
    instance: o.identity,
    logger: childLogger('events'),
  });
  const controllers = [
    new ServiceBackendsController({
      client: o.client,
      serviceBackends,
      services,
      slices,
      registry: o.registry,
      logger: childLogger('controller.servicebackends'),
      resolve: createResolver({ servers: o.options.dnsServers }),
      refresh: { minMs: o.options.dnsMinRefreshMs, maxMs: o.options.dnsMaxRefreshMs },
    }),
    new EndpointsValidationController({
      endpoints,
      services,
      recorder,
      registry: o.registry,
      logger: childLogger('controller.endpoints'),
    }),
    new ExternalNameController({
      client: o.client,
      services,
      serviceBackends,
      recorder,
      registry: o.registry,
      logger: childLogger('controller.externalname'),
    }),
  ];
  return {
    startInformers: () => informers.forEach((i) => i.start()),
    stopInformers: async () => {
      await Promise.all(informers.map((i) => i.stop()));
    },
    /** On becoming leader. */
    start: async () => {
      await Promise.all(informers.map((i) => i.waitForSync()));
      controllers.forEach((c) => c.start());
    },
    /** On losing the lease or shutting down. */
    stop: async () => {
      await Promise.all(controllers.map((c) => c.stop()));
    },
  };
}
