// The operator binary: checks its CRDs, serves health and metrics, watches its
// objects, and runs the controllers only while it holds the leader Lease.
import { CoordinationV1Api } from '@kubernetes/client-node';
import { ipAddressPoolKind } from '../crds/index.ts';
import { describeError } from '../lib/errors.ts';
import { HealthServer } from '../lib/health-server.ts';
import { LeaderElector } from '../lib/leader-election.ts';
import { createResourceInformer } from '../lib/list-watch.ts';
import { childLogger, rootLogger } from '../lib/logger.ts';
import { createRegistry, getOrCreateGauge } from '../lib/metrics.ts';
import { loadKubeConfig } from '../lib/kubeconfig.ts';
import { RawKubeClient } from '../lib/raw-client.ts';
import { checkCrdsInstalled, MissingCrdsError } from './crd-check.ts';
import { PoolStatusController } from './controllers/pools/controller.ts';
import type { PoolResource } from './controllers/pools/controller.ts';
import { OptionsError, parseOptions, USAGE } from './options.ts';
import { createAdmissionWebhooks } from './webhook/index.ts';
import { poolValidationWebhook } from './webhook/validate-pool.ts';
import { createBgpWebhooks } from './webhook/bgp-wiring.ts';
import { hasIPAddressApi } from './webhook/mutate-service.ts';
import {
  createAuditController,
  createServiceCaches,
  createServiceWebhook,
} from './controllers/audit/wiring.ts';
import { outsidePoolCondition } from './controllers/audit/findings.ts';
import type { PoolKind } from './controllers/audit/findings.ts';
import { NodePortPoolStatusController } from './controllers/pools/port-controller.ts';
import {
  hasServiceCIDRApi,
  serviceCIDRType,
  ServiceCIDRSync,
} from './controllers/pools/service-cidr-sync.ts';
import type { ServiceCIDRResource } from './controllers/pools/service-cidr-sync.ts';
import { createEndpointsControllers } from './controllers/endpoints/wiring.ts';
import { createLoadBalancerController } from './controllers/loadbalancer/wiring.ts';

async function main(): Promise<number> {
  let options;
  try {
    options = parseOptions(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof OptionsError) {
      if (err.message) console.error(`portico-operator: ${err.message}`);
      console.error(USAGE);
      return 2;
    }
    throw err;
  }
  const log = childLogger('operator');
  const kc = loadKubeConfig({ path: options.kubeconfig });
  try {
    await checkCrdsInstalled(kc);
  } catch (err) {
    if (err instanceof MissingCrdsError) {
      log.fatal({ missing: err.missing }, err.message);
      return 1;
    }
    throw err;
  }

  const registry = createRegistry();
  const health = new HealthServer({ port: options.healthPort, registry });
  const port = await health.start();
  log.info(
    { port, namespace: options.namespace, identity: options.identity },
    'serving /metrics, /healthz, /readyz',
  );

  const client = RawKubeClient.fromKubeConfig(kc);
  const pools = createResourceInformer<PoolResource>(kc, ipAddressPoolKind, {
    namespace: options.namespace,
    registry,
    logger: childLogger('informer.ipaddresspools'),
  });
  health.addReadinessCheck('ipaddresspools informer synced', () => pools.hasSynced());
  pools.start();
  const endpoints = createEndpointsControllers({
    kc,
    client,
    registry,
    health,
    options: options.endpoints,
    identity: options.identity,
  });
  endpoints.startInformers();

  const webhooks = createAdmissionWebhooks({
    kc,
    client,
    registry,
    logger: childLogger('webhook'),
    namespace: options.namespace,
    flags: options.webhook,
  });
  // Registered before anything else is awaited: until then /readyz must not pass
  // on the pools informer alone while no certificate is served.
  if (webhooks) health.addReadinessCheck('webhook serving certificate loaded', () => webhooks.ready());
  const [ipAddressApi, serviceCIDRApi] = await Promise.all([
    hasIPAddressApi(client),
    hasServiceCIDRApi(client),
  ]);
  // ClusterIP/NodePort pools: every replica serves the Service webhook from caches
  // it shares with the leader's audit.
  const caches = createServiceCaches({
    kc,
    client,
    registry,
    logger: childLogger('informer.service-caches'),
    namespace: options.namespace,
    ipAddressApi,
  });
  caches.start();
  // The Service webhook admits untouched until these caches are synced; stay out of its endpoints till then.
  health.addReadinessCheck('service caches synced', () => caches.hasSynced());
  const serviceCIDRs = serviceCIDRApi
    ? createResourceInformer<ServiceCIDRResource>(kc, serviceCIDRType, {
        client,
        registry,
        logger: childLogger('informer.servicecidrs'),
      })
    : undefined;
  serviceCIDRs?.start();
  const serviceWebhook = webhooks
    ? createServiceWebhook({
        registry,
        logger: childLogger('webhook.services'),
        ipPools: pools,
        caches,
        nodePortRange: options.nodePortRange,
      })
    : undefined;
  // BGPAdvertisement and Community writes, and the BGP side of pool writes.
  const bgpWebhooks = webhooks
    ? createBgpWebhooks({
        kc,
        client,
        registry,
        logger: childLogger('webhook.bgp'),
        namespace: options.namespace,
        pools,
      })
    : undefined;
  bgpWebhooks?.start();
  if (webhooks && bgpWebhooks) {
    webhooks.add(bgpWebhooks.withPoolChecks(poolValidationWebhook(pools, options.namespace)));
    webhooks.add(bgpWebhooks.webhook);
    if (serviceWebhook) webhooks.add(serviceWebhook.webhook);
    await webhooks.start();
  }

  // The audit finds Services outside their ClusterIP/NodePort pool and counts what
  // those pools hand out; both pool status controllers show it.
  const audit = createAuditController({
    client,
    registry,
    logger: childLogger('controller.audit'),
    identity: options.identity,
    namespace: options.namespace,
    caches,
    ipPools: pools,
    intervalMs: options.auditIntervalMs,
    nodePortRange: options.nodePortRange,
    onChange: () => {
      poolStatus.resyncAll();
      portStatus.resyncAll();
    },
  });
  const outside = (kind: PoolKind) => (pool: string) =>
    audit.result() ? outsidePoolCondition(audit.findings(kind, pool)) : undefined;
  // Pool status shows the LoadBalancer controller's assignments (it is told when
  // they change) and, for ClusterIP pools, the addresses Services hold.
  const poolStatus = new PoolStatusController({
    client,
    informer: pools,
    registry,
    logger: childLogger('controller.pools'),
    assigned: (pool) => {
      const lb = loadBalancer.assigned(pool);
      const cluster = audit.ipUsage(pool);
      return { IPv4: lb.IPv4 + cluster.IPv4, IPv6: lb.IPv6 + cluster.IPv6 };
    },
    reserved: (pool) => loadBalancer.reserved(pool),
    serviceCIDRs,
    cidrSync: serviceCIDRs
      ? new ServiceCIDRSync({
          client,
          informer: serviceCIDRs,
          namespace: options.namespace,
          logger: childLogger('controller.pools.servicecidrs'),
        })
      : undefined,
    outside: outside('IPAddressPool'),
  });
  const portStatus = new NodePortPoolStatusController({
    client,
    informer: caches.portPools,
    registry,
    logger: childLogger('controller.nodeportpools'),
    used: (pool) => audit.portUsage(pool),
    outside: outside('NodePortPool'),
    parseOptions: { nodePortRange: options.nodePortRange },
  });
  const loadBalancer = createLoadBalancerController({
    kc,
    client,
    registry,
    health,
    namespace: options.namespace,
    pools,
    options: options.loadBalancer,
    identity: options.identity,
    onAssignmentsChanged: () => poolStatus.resyncAll(),
  });
  loadBalancer.startInformers();
  const startControllers = async () => {
    webhooks?.startLeading();
    await pools.waitForSync();
    // Assignments are rebuilt from the API before any pool status or new address is written.
    await loadBalancer.start();
    poolStatus.start();
    portStatus.start();
    audit.start();
    await endpoints.start();
  };
  const stopControllers = async () => {
    await webhooks?.stopLeading();
    // Pool status first: its counts come from the LoadBalancer controller's state.
    await audit.stop();
    await portStatus.stop();
    await poolStatus.stop();
    await loadBalancer.stop();
    await endpoints.stop();
  };

  const leaderGauge = getOrCreateGauge(registry, {
    name: 'portico_operator_leader',
    help: '1 while this replica holds the leader Lease.',
  });
  let elector: LeaderElector | undefined;
  if (options.leaderElect) {
    elector = new LeaderElector({
      client: kc.makeApiClient(CoordinationV1Api),
      namespace: options.namespace,
      name: options.leaseName,
      identity: options.identity,
      leaseDurationMs: options.leaseDurationMs,
      renewDeadlineMs: options.renewDeadlineMs,
      retryPeriodMs: options.retryPeriodMs,
      logger: childLogger('leader-election'),
      onStartedLeading: async () => {
        leaderGauge.set(1);
        await startControllers();
      },
      onStoppedLeading: async () => {
        leaderGauge.set(0);
        await stopControllers();
      },
    });
    elector.start();
  } else {
    leaderGauge.set(1);
    void startControllers();
  }

  return new Promise<number>((resolve) => {
    let stopping = false;
    const shutdown = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'shutting down');
      // Stopping the elector stops the controllers first, then releases the
      // Lease so another replica takes over at once instead of after it expires.
      if (elector) await elector.stop();
      else await stopControllers();
      await webhooks?.stop();
      serviceWebhook?.stop();
      await bgpWebhooks?.stop();
      await caches.stop();
      await serviceCIDRs?.stop();
      await pools.stop();
      await endpoints.stopInformers();
      await loadBalancer.stopInformers();
      await health.close();
      resolve(0);
    };
    process.once('SIGTERM', () => void shutdown('SIGTERM'));
    process.once('SIGINT', () => void shutdown('SIGINT'));
  });
}

main().then(
  (code) => {
    rootLogger.flush();
    process.exit(code);
  },
  (err: unknown) => {
    rootLogger.fatal({ err: describeError(err) }, 'operator failed');
    rootLogger.flush();
    process.exit(1);
  },
);
