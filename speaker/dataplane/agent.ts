// The speaker's data-path part: informers in, a backend (IPVS or nftables)
// programmed. It waits for all three informers to sync before the first sync,
// so a half-loaded cache never wipes rules; while the apiserver is
// unreachable the informers keep their caches and nothing changes, so the
// last good state stays in place.
import type { Logger } from 'pino';
import { systemClock } from '../../lib/clock.ts';
import type { Clock } from '../../lib/clock.ts';
import { childLogger } from '../../lib/logger.ts';
import type { EndpointSlice, SpeakerContext, SpeakerPart } from '../context.ts';
import { IpvsBackend } from './ipvs/backend.ts';
import { IpvsExecutor } from './ipvs/executor.ts';
import { KubeProxyFoundError, findKubeProxy } from './kube-proxy.ts';
import { cleanupLeftovers } from './leftovers.ts';
import { DataplaneMetrics } from './metrics.ts';
import { buildDesiredState, nodeInfoFromNode } from './model.ts';
import { NftablesBackend } from './nftables/backend.ts';
import { NftExecutor, spawnCommand } from './nftables/executor.ts';
import type { CommandRunner } from './nftables/executor.ts';
import { SYSCTLS, applySysctls } from './sysctl.ts';
import type { DataplaneMode } from './sysctl.ts';
import { SyncLoop } from './sync-loop.ts';
import type { DesiredState } from './types.ts';

export interface DataplaneOptions {
  readonly mode: DataplaneMode;
  /** Serve NodePorts only on node addresses inside these CIDRs (empty: all addresses). */
  readonly nodePortAddresses?: readonly string[];
  /** At most one sync per this interval; changes in between batch together. */
  readonly minSyncIntervalMs: number;
  /** A full sync (read back, repair drift) at least this often. */
  readonly fullResyncIntervalMs: number;
  /** Pod CIDRs: ClusterIP traffic from outside them is masqueraded. */
  readonly clusterCIDRs?: readonly string[];
  readonly masqueradeAll?: boolean;
  /** Start even when kube-proxy's rules are on the node. */
  readonly allowKubeProxy?: boolean;
  /** Before the first sync, remove what the other backend left (default true; see leftovers.ts). */
  readonly cleanupLeftovers?: boolean;
  /** Prepended to every command, e.g. ['ip', 'netns', 'exec', 'node1'] in tests. */
  readonly commandPrefix?: readonly string[];
  /**
   * IPVS: the companion rules (masquerade marks, no-endpoint verdicts). By
   * default the backend puts them in nftables, else iptables, else has none;
   * false means none at all.
   */
  readonly ipvsCompanion?: boolean;
  readonly run?: CommandRunner;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

interface Backend {
  sync(
    desired: DesiredState,
    options: { full?: boolean },
  ): Promise<{ full: boolean; servicesChanged: number }>;
}

const TRIGGER_ANNOTATION = 'endpoints.kubernetes.io/last-change-trigger-time';
const MAX_PENDING_TRIGGERS = 10_000;

function makeBackend(options: DataplaneOptions, run: CommandRunner, logger: Logger): Backend {
  const prefix = options.commandPrefix ?? [];
  const masq = { clusterCIDRs: options.clusterCIDRs ?? [], masqueradeAll: options.masqueradeAll ?? false };
  if (options.mode === 'nftables') {
    return new NftablesBackend({ runner: new NftExecutor({ prefix, run }), logger, ...masq });
  }
  return new IpvsBackend({
    executor: new IpvsExecutor({ prefix, run }),
    companion: options.ipvsCompanion === false ? false : masq,
    logger,
    ...(options.clock ? { clock: options.clock } : {}),
  });
}

/** When an EndpointSlice change happened: the controller's trigger time if it says, else now. */
function triggerTime(slice: EndpointSlice, now: number): number {
  const raw = slice.metadata?.annotations?.[TRIGGER_ANNOTATION];
  const t = typeof raw === 'string' ? Date.parse(raw) : NaN;
  return Number.isFinite(t) && t <= now ? t : now;
}

export async function startDataplane(ctx: SpeakerContext, options: DataplaneOptions): Promise<SpeakerPart> {
  const logger = options.logger ?? childLogger(`dataplane.${options.mode}`);
  const run = options.run ?? spawnCommand;
  const clock = options.clock ?? systemClock;
  const prefix = options.commandPrefix ?? [];

  const traces = await findKubeProxy(run, prefix);
  if (traces.length > 0) {
    if (!options.allowKubeProxy) throw new KubeProxyFoundError(options.mode, traces);
    logger.warn({ traces }, 'kube-proxy rules found on this node; starting anyway as allowed');
  }
  await applySysctls(SYSCTLS[options.mode], run, prefix);
  // The other backend's rules would fight ours (a node switched between ipvs and nftables).
  if (options.cleanupLeftovers !== false) await cleanupLeftovers({ mode: options.mode, run, prefix, logger });

  const backend = makeBackend(options, run, logger);
  const metrics = new DataplaneMetrics(ctx.registry, options.mode);
  const { services, endpointSlices, nodes } = ctx.informers;
  let triggers: number[] = [];
  let lastWarnings = '';
  let ready = false;
  let started = false;
  let nodeMissingLogged = false;

  const sync = async (full: boolean): Promise<void> => {
    const started = clock.now();
    const pending = triggers;
    triggers = [];
    const node = nodes.get(ctx.nodeName);
    if (!node && !nodeMissingLogged)
      logger.warn({ node: ctx.nodeName }, 'own Node not found; no NodePorts until it appears');
    nodeMissingLogged = !node;
    const { state, warnings } = buildDesiredState({
      services: services.list(),
      endpointSlices: endpointSlices.list(),
      node: node ? nodeInfoFromNode(node) : { name: ctx.nodeName, addresses: [] },
      ...(options.nodePortAddresses ? { nodePortCIDRs: options.nodePortAddresses } : {}),
    });
    const joined = warnings.join('\n');
    if (joined !== lastWarnings && warnings.length) logger.warn({ warnings }, 'data path model warnings');
    lastWarnings = joined;
    try {
      const result = await backend.sync(state, { full });
      const done = clock.now();
      metrics.synced(result.full, (done - started) / 1000, state);
      for (const t of pending) metrics.programmed((done - t) / 1000);
      ready = true;
      logger.debug({ full: result.full, changed: result.servicesChanged }, 'data path synced');
    } catch (err) {
      metrics.failed();
      // The changes are not applied yet: their latency counts until a sync succeeds.
      triggers = [...pending, ...triggers].slice(-MAX_PENDING_TRIGGERS);
      logger.error({ err, full }, 'data path sync failed; retrying with a full sync');
      throw err;
    }
  };

  const loop = new SyncLoop({
    minIntervalMs: options.minSyncIntervalMs,
    fullIntervalMs: options.fullResyncIntervalMs,
    clock,
    sync,
  });
  const changed = (): void => loop.request();
  const sliceChanged = (slice: EndpointSlice): void => {
    // The initial list is not a change someone waits for; only later ones count.
    if (started && triggers.length < MAX_PENDING_TRIGGERS) triggers.push(triggerTime(slice, clock.now()));
    loop.request();
  };
  const nodeChanged = (n: { metadata?: { name?: string } }): void => {
    if (n.metadata?.name === ctx.nodeName) loop.request();
  };
  const unsubscribe = [
    services.addHandlers({ add: changed, update: changed, delete: changed }),
    endpointSlices.addHandlers({
      add: sliceChanged,
      update: (_old, obj) => sliceChanged(obj),
      delete: sliceChanged,
    }),
    nodes.addHandlers({ add: nodeChanged, update: (_old, obj) => nodeChanged(obj), delete: nodeChanged }),
  ];
  for (const inf of [services, endpointSlices, nodes]) inf.start();

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    loop.stop();
    for (const u of unsubscribe) u();
    await loop.idle();
    // The rules stay: pods keep being reachable while the speaker restarts.
  };
  ctx.signal.addEventListener('abort', () => void stop(), { once: true });

  // Nothing is programmed from a partial view: wait for every informer's first list.
  void Promise.all([services.waitForSync(), endpointSlices.waitForSync(), nodes.waitForSync()]).then(() => {
    if (stopped) return;
    started = true;
    loop.start();
  });

  return { name: `dataplane-${options.mode}`, ready: () => ready, stop };
}
