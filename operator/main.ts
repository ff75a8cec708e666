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

  const poolStatus = new PoolStatusController({
    client,
    informer: pools,
    registry,
    logger: childLogger('controller.pools'),
  });
  const startControllers = async () => {
    await pools.waitForSync();
    poolStatus.start();
  };
  const stopControllers = () => poolStatus.stop();

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
      await pools.stop();
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
