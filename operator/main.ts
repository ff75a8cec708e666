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
import { createServiceWebhook, hasIPAddressApi } from './webhook/mutate-service.ts';
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
  // ClusterIP/NodePort pools: every replica serves the Service webhook from its own caches.
  const serviceWebhook = webhooks
    ? createServiceWebhook({
        kc,
        client,
        registry,
        logger: childLogger('webhook.services'),
        namespace: options.namespace,
        ipPools: pools,
        ipAddressApi: await hasIPAddressApi(client),
      })
    : undefined;
  if (webhooks) {
    webhooks.add(poolValidationWebhook(pools, options.namespace));
    if (serviceWebhook) {
      webhooks.add(serviceWebhook.webhook);
      serviceWebhook.start();
    }
    await webhooks.start();
    health.addReadinessCheck('webhook serving certificate loaded', () => webhooks.ready());
  }

  // Pool status shows the LoadBalancer controller's assignments; it is told when they change.
  const poolStatus = new PoolStatusController({
    client,
    informer: pools,
    registry,
    logger: childLogger('controller.pools'),
    assigned: (pool) => loadBalancer.assigned(pool),
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
    await endpoints.start();
  };
  const stopControllers = async () => {
    await webhooks?.stopLeading();
    // Pool status first: its counts come from the LoadBalancer controller's state.
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
      await serviceWebhook?.stop();
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
