// The speaker binary (a DaemonSet, one per node): shared informers for
// Services, EndpointSlices and Nodes, a health server whose readiness is every
// part's, and the enabled parts (data path, L2, BGP). On SIGTERM it aborts the
// context and awaits each part's stop(), so announcements are withdrawn and
// peers take over before the process exits.
import { describeError } from '../lib/errors.ts';
import { HealthServer } from '../lib/health-server.ts';
import { loadKubeConfig } from '../lib/kubeconfig.ts';
import { childLogger, rootLogger } from '../lib/logger.ts';
import { createRegistry } from '../lib/metrics.ts';
import { createSpeakerInformers } from './context.ts';
import type { SpeakerContext, SpeakerPart } from './context.ts';
import { startBgp } from './bgp/agent.ts';
import { startDataplane } from './dataplane/agent.ts';
import { cleanupLeftovers } from './dataplane/leftovers.ts';
import { startL2 } from './l2/agent.ts';
import { OptionsError, parseOptions, USAGE } from './options.ts';
import type { SpeakerOptions } from './options.ts';

async function startParts(ctx: SpeakerContext, options: SpeakerOptions): Promise<SpeakerPart[]> {
  const parts: SpeakerPart[] = [];
  const dp = options.dataplane;
  if (dp.mode === 'none' && dp.cleanupLeftovers) {
    // kube-proxy forwards: rules Portico left from mode ipvs or nftables would fight it.
    // cleanupLeftovers logs what it removes and what failed; nothing here stops the speaker.
    const logger = childLogger('dataplane.leftovers');
    await cleanupLeftovers({ mode: 'none', logger }).catch((err: unknown) =>
      logger.warn({ err: describeError(err) }, 'leftover cleanup failed'),
    );
  }
  if (dp.mode !== 'none') {
    parts.push(
      await startDataplane(ctx, {
        mode: dp.mode,
        minSyncIntervalMs: dp.minSyncIntervalMs,
        fullResyncIntervalMs: dp.fullResyncIntervalMs,
        clusterCIDRs: dp.clusterCIDRs,
        nodePortAddresses: dp.nodePortAddresses,
        masqueradeAll: dp.masqueradeAll,
        allowKubeProxy: dp.allowKubeProxy,
        cleanupLeftovers: dp.cleanupLeftovers,
      }),
    );
  }
  if (options.l2.enabled) parts.push(await startL2(ctx, options.l2));
  if (options.bgp.enabled) parts.push(await startBgp(ctx, options.bgp));
  return parts;
}

async function main(): Promise<number> {
  let options: SpeakerOptions;
  try {
    options = parseOptions(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof OptionsError) {
      if (err.message) console.error(`portico-speaker: ${err.message}`);
      console.error(USAGE);
      return 2;
    }
    throw err;
  }
  const log = childLogger('speaker');
  const kc = loadKubeConfig({ path: options.kubeconfig });
  const registry = createRegistry();
  const health = new HealthServer({ port: options.healthPort, registry });
  const port = await health.start();
  log.info(
    { port, node: options.nodeName, namespace: options.namespace },
    'serving /metrics, /healthz, /readyz',
  );

  const informers = createSpeakerInformers(kc, registry);
  const abort = new AbortController();
  const ctx: SpeakerContext = {
    kc,
    nodeName: options.nodeName,
    namespace: options.namespace,
    registry,
    informers,
    signal: abort.signal,
  };
  for (const inf of [informers.services, informers.endpointSlices, informers.nodes]) {
    health.addReadinessCheck(`${inf.name} informer synced`, () => inf.hasSynced());
    inf.start();
  }

  // A signal during startup is honoured once the parts are up, so that none is left running.
  let signalled: string | undefined;
  let onSignal: ((s: string) => void) | undefined;
  const handler = (s: string) => (onSignal ? onSignal(s) : (signalled = s));
  process.once('SIGTERM', () => handler('SIGTERM'));
  process.once('SIGINT', () => handler('SIGINT'));

  const parts = await startParts(ctx, options);
  for (const p of parts) health.addReadinessCheck(`${p.name} ready`, () => p.ready());
  log.info({ parts: parts.map((p) => p.name) }, 'speaker started');

  return new Promise<number>((resolve) => {
    let stopping = false;
    onSignal = (signal) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'shutting down');
      abort.abort();
      void (async () => {
        let code = 0;
        for (const p of parts) {
          try {
            await p.stop();
          } catch (err) {
            code = 1;
            log.error({ err: describeError(err), part: p.name }, 'part failed to stop');
          }
        }
        await Promise.all([
          informers.services.stop(),
          informers.endpointSlices.stop(),
          informers.nodes.stop(),
        ]);
        await health.close();
        resolve(code);
      })();
    };
    if (signalled) onSignal(signalled);
  });
}

main().then(
  (code) => {
    rootLogger.flush();
    process.exit(code);
  },
  (err: unknown) => {
    rootLogger.fatal({ err: describeError(err) }, 'speaker failed');
    rootLogger.flush();
    process.exit(1);
  },
);
