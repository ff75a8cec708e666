// The speaker's BGP part: watches BGPPeer, BGPAdvertisement, BFDProfile,
// Community, IPAddressPool and Secret objects of Portico's namespace (plus the
// shared Services, EndpointSlices and Nodes), and after every change builds
// this node's sessions (config.ts) and routes (announce.ts), starting,
// replacing or stopping sessions whose configuration changed. It also keeps
// this node's BGPSessionStatus and ServiceBGPStatus objects (status-writer.ts).
import type { V1Secret } from '@kubernetes/client-node';
import type { z } from 'zod';
import { bfdProfileKind } from '../../crds/bfdprofile.ts';
import { bgpAdvertisementKind } from '../../crds/bgpadvertisement.ts';
import { bgpPeerKind } from '../../crds/bgppeer.ts';
import { bgpSessionStatusKind } from '../../crds/bgpsessionstatus.ts';
import type { KindDefinition } from '../../crds/common.ts';
import { communityKind } from '../../crds/community.ts';
import { ipAddressPoolKind } from '../../crds/ipaddresspool.ts';
import { serviceBGPStatusKind } from '../../crds/servicebgpstatus.ts';
import type { Informer } from '../../lib/informer.ts';
import { createResourceInformer } from '../../lib/list-watch.ts';
import { childLogger } from '../../lib/logger.ts';
import type { Logger } from '../../lib/logger.ts';
import type { KubeObject } from '../../lib/object-cache.ts';
import { RawKubeClient } from '../../lib/raw-client.ts';
import type { SpeakerContext, SpeakerPart } from '../context.ts';
import { planAnnouncements } from './announce.ts';
import type { ServiceAnnouncement } from './announce.ts';
import { BfdEndpoint } from './bfd/endpoint.ts';
import type { BfdPeer } from './bfd/endpoint.ts';
import { buildPeerConfigs, formatConfigError } from './config.ts';
import type { ConfigError, Named, PeerConfig } from './config.ts';
import { BgpListener } from './listener.ts';
import { registerBgpMetrics } from './metrics.ts';
import { BGP_PORT, BgpSession } from './session.ts';
import { NODE_LABEL, planBgpStatus } from './status-plan.ts';
import { BgpStatusWriter } from './status-writer.ts';
import type { StatusObject } from './status-writer.ts';

export interface BgpOptions {
  /** The speaker's --bgp flag; main.ts only calls startBgp when it is on. */
  enabled?: boolean;
  /** Where peers connect to us; "::" (both families) and 179 by default. */
  listenAddress?: string;
  listenPort?: number;
  /** BFD's UDP port; 3784 (RFC 5881) by default. */
  bfdPort?: number;
  /** Changes arriving within this window are handled in one pass. */
  debounceMs?: number;
  /** The same for writes of the status objects; 200 ms by default. */
  statusDebounceMs?: number;
  logger?: Logger;
}

type Obj = KubeObject & { spec?: unknown; data?: Record<string, string> };

interface Running {
  config: PeerConfig;
  fingerprint: string;
  session: BgpSession;
  bfd?: BfdPeer;
}

/** Validates each object's spec with its kind's schema; a bad one is an error naming its field. */
function parseAll<S extends z.ZodType>(
  kind: KindDefinition<S>,
  objects: readonly Obj[],
  errors: ConfigError[],
): Named<z.output<S>>[] {
  return objects.flatMap((o) => {
    const name = o.metadata?.name ?? '';
    const r = kind.spec.safeParse(o.spec ?? {});
    const labels = o.metadata?.labels as Record<string, string> | undefined;
    if (r.success) return [{ name, spec: r.data, ...(labels ? { labels } : {}) }];
    for (const issue of r.error.issues) {
      errors.push({
        kind: kind.kind as ConfigError['kind'],
        name,
        field: ['spec', ...issue.path.map(String)].join('.'),
        message: issue.message,
      });
    }
    return [];
  });
}

export async function startBgp(ctx: SpeakerContext, options: BgpOptions = {}): Promise<SpeakerPart> {
  const log = options.logger ?? childLogger('bgp');
  const client = RawKubeClient.fromKubeConfig(ctx.kc);
  const informer = (type: { group: string; version: string; plural: string }, labelSelector?: string) =>
    createResourceInformer<Obj>(ctx.kc, type, {
      client,
      namespace: ctx.namespace,
      registry: ctx.registry,
      logger: log,
      ...(labelSelector ? { labelSelector } : {}),
    });
  const own = {
    peers: informer(bgpPeerKind),
    ads: informer(bgpAdvertisementKind),
    bfd: informer(bfdProfileKind),
    communities: informer(communityKind),
    pools: informer(ipAddressPoolKind),
    secrets: informer({ group: '', version: 'v1', plural: 'secrets' }),
  };
  const shared = ctx.informers;
  const all: Informer<KubeObject>[] = [
    ...Object.values(own),
    shared.services,
    shared.endpointSlices,
    shared.nodes,
  ];

  // Only this node's status objects: it writes no others, and deletes any of these it did not plan.
  const statuses = {
    sessions: informer(bgpSessionStatusKind, `${NODE_LABEL}=${ctx.nodeName}`) as Informer<StatusObject>,
    services: informer(serviceBGPStatusKind, `${NODE_LABEL}=${ctx.nodeName}`) as Informer<StatusObject>,
  };
  const running = new Map<string, Running>();
  const sessions = new Map<string, BgpSession>();
  const writer = new BgpStatusWriter({
    client,
    ...statuses,
    namespace: ctx.namespace,
    logger: log,
    ...(options.statusDebounceMs !== undefined ? { debounceMs: options.statusDebounceMs } : {}),
    // Nothing before the first pass: an empty plan would delete every object.
    plan: () =>
      synced
        ? planBgpStatus(
            ctx.nodeName,
            [...running.values()].map((r) => ({
              peer: r.config.name,
              peerAddress: r.config.session.peerAddress,
              state: r.session.state,
              stateSince: r.session.stateSince,
              ...(r.session.lastError !== undefined ? { lastError: r.session.lastError } : {}),
              ...(r.bfd ? { bfd: r.bfd.state } : {}),
              prefixesAnnounced: r.session.advertised.size,
            })),
            announcements,
            shared.nodes.get(ctx.nodeName)?.metadata?.uid,
          )
        : undefined,
  });
  registerBgpMetrics(ctx.registry, () => sessions);
  const listener = new BgpListener(log.child({ component: 'listener' }));
  await listener.listen(options.listenPort ?? BGP_PORT, options.listenAddress ?? '::');
  let bfd: BfdEndpoint | undefined;
  let restarting = true;
  let synced = false;
  let stopped = false;
  let lastErrors = '';
  let announcements: ServiceAnnouncement[] = [];

  const stopPeer = async (name: string, r: Running) => {
    running.delete(name);
    sessions.delete(name);
    listener.remove(r.session);
    await Promise.all([r.session.stop(), r.bfd?.close()]);
  };

  const startPeer = async (config: PeerConfig, fingerprint: string) => {
    const session = new BgpSession({
      ...config.session,
      logger: log,
      onStateChange: (to, from) => {
        log.info({ peer: config.name, from, to }, 'BGP session state');
        writer.kick();
      },
      onError: () => writer.kick(),
    });
    const r: Running = { config, fingerprint, session };
    running.set(config.name, r);
    sessions.set(config.name, session);
    listener.add(session);
    if (config.bfd) {
      if (!bfd) {
        bfd = new BfdEndpoint({
          logger: log.child({ component: 'bfd' }),
          ...(options.bfdPort ? { port: options.bfdPort } : {}),
        });
        await bfd.start();
      }
      r.bfd = await bfd.add({
        ...config.bfd,
        peer: config.session.peerAddress,
        ...(config.session.localAddress ? { localAddress: config.session.localAddress } : {}),
        // RFC 5882: BFD down takes the BGP session down at once.
        onState: (t) => {
          if (t.from === 'Up' && t.to === 'Down') session.bfdDown();
          writer.kick();
        },
      });
    }
    session.start();
  };

  const reconcile = async () => {
    const node = shared.nodes.get(ctx.nodeName);
    if (!node) {
      log.warn({ node: ctx.nodeName }, 'this node is not in the cache yet; no BGP sessions');
      return;
    }
    const errors: ConfigError[] = [];
    const secrets = new Map(own.secrets.list().map((s) => [s.metadata?.name ?? '', s as V1Secret]));
    const { peers, errors: peerErrors } = buildPeerConfigs({
      node,
      peers: parseAll(bgpPeerKind, own.peers.list(), errors),
      bfdProfiles: parseAll(bfdProfileKind, own.bfd.list(), errors),
      secrets,
      restarting,
    });
    errors.push(...peerErrors);
    const wanted = new Map(peers.map((p) => [p.name, p]));
    for (const [name, r] of running) {
      const w = wanted.get(name);
      if (!w || JSON.stringify(w) !== r.fingerprint) await stopPeer(name, r);
    }
    for (const p of peers) if (!running.has(p.name)) await startPeer(p, JSON.stringify(p));
    // Sessions made after the first pass are not restarts.
    restarting = false;
    const plan = planAnnouncements({
      node,
      peers,
      pools: parseAll(ipAddressPoolKind, own.pools.list(), errors).map((p) => ({
        name: p.name,
        addresses: p.spec.addresses,
        ...(p.labels ? { labels: p.labels } : {}),
      })),
      advertisements: parseAll(bgpAdvertisementKind, own.ads.list(), errors),
      communities: parseAll(communityKind, own.communities.list(), errors),
      services: shared.services.list(),
      endpointSlices: shared.endpointSlices.list(),
    });
    errors.push(...plan.errors);
    for (const [name, routes] of plan.routes) running.get(name)?.session.setRoutes(routes);
    announcements = plan.announcements;
    const text = errors.map(formatConfigError).sort().join('\n');
    if (text !== lastErrors) {
      lastErrors = text;
      if (text)
        log.error({ errors: text.split('\n') }, 'BGP configuration has errors; those objects are ignored');
      else log.info('BGP configuration is valid');
    }
  };

  // One pass at a time; changes during a pass make one more pass.
  let timer: NodeJS.Timeout | undefined;
  let busy: Promise<void> | undefined;
  let again = false;
  const pass = async () => {
    if (busy) return void (again = true);
    busy = reconcile().catch((err: unknown) => log.error({ err }, 'BGP reconcile failed'));
    await busy;
    busy = undefined;
    synced = true;
    writer.kick();
    if (again && !stopped) {
      again = false;
      schedule();
    }
  };
  const schedule = () => {
    if (stopped || !all.every((i) => i.hasSynced())) return;
    clearTimeout(timer);
    timer = setTimeout(() => void pass(), options.debounceMs ?? 100);
  };
  const removers = all.map((i) => i.addHandlers({ add: schedule, update: schedule, delete: schedule }));
  for (const i of all) i.start();
  // Someone else's edit or delete of a status object is repaired by the next write pass.
  for (const i of Object.values(statuses)) {
    i.addHandlers({ add: () => writer.kick(), update: () => writer.kick(), delete: () => writer.kick() });
    i.start();
  }
  // A pass before they synced did nothing, and an empty list brings no event.
  void Promise.all(Object.values(statuses).map((i) => i.waitForSync())).then(() => writer.kick());
  void Promise.all(all.map((i) => i.waitForSync())).then(schedule);

  return {
    name: 'bgp',
    ready: () => synced,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      for (const remove of removers) remove();
      await busy;
      await writer.stop();
      await Promise.all([...Object.values(own), ...Object.values(statuses)].map((i) => i.stop()));
      // Graceful-restart peers keep our routes if the connection just closes.
      await Promise.all(
        [...running.values()].map(async (r) => {
          await Promise.all([
            r.session.stop(undefined, r.config.session.gracefulRestart !== undefined),
            r.bfd?.close(),
          ]);
        }),
      );
      running.clear();
      sessions.clear();
      await Promise.all([listener.close(), bfd?.close()]);
      log.info({ announced: announcements.length }, 'BGP stopped');
    },
  };
}
