// The L2 part of the speaker: wires the informers, heartbeats, the election
// plan, the packet socket and the status writer. Every input change (an
// informer event, a speaker heard or lost, an interface up or down) schedules
// one pass; a pass recomputes the whole plan from current state (level-based)
// and acts on this node's part of it.
import {
  ipAddressPoolKind,
  l2AdvertisementKind,
  serviceL2StatusKind,
  validateL2Advertisement,
} from '../../crds/index.ts';
import { EventRecorder } from '../../lib/events.ts';
import { createResourceInformer } from '../../lib/list-watch.ts';
import type { Informer } from '../../lib/informer.ts';
import { childLogger } from '../../lib/logger.ts';
import type { KubeObject } from '../../lib/object-cache.ts';
import { RawKubeClient } from '../../lib/raw-client.ts';
import type { ResourceType } from '../../lib/resource-path.ts';
import type { SpeakerContext, SpeakerPart } from '../context.ts';
import { Announcer } from './announcer.ts';
import { nodeAddresses } from './eligibility.ts';
import { handover } from './handover.ts';
import { Heartbeats } from './heartbeat.ts';
import { KIND_ALIVE } from './heartbeat-codec.ts';
import { listLinks, usableLinks } from './interfaces.ts';
import type { Link } from './interfaces.ts';
import { Liveness } from './liveness.ts';
import { l2Metrics } from './metrics.ts';
import { PacketSocket } from './packet-socket.ts';
import { plan } from './plan.ts';
import type { AdvertisementInput, Announcement, PoolInput } from './plan.ts';
import type { AnnouncedIP } from './responder.ts';
import { StatusWriter } from './status-writer.ts';
import type { DesiredStatus, StatusObject } from './status-writer.ts';

export interface L2Options {
  heartbeatPort: number;
  heartbeatIntervalMs: number;
  /** A speaker not heard for this long is dead. */
  deadAfterMs: number;
  /** Interfaces the speaker may use at all; empty means every ARP-capable one. */
  interfaces: string[];
  /** How long a new winner waits for a live old winner to release. */
  handoverDelayMs?: number;
  linkScanMs?: number;
}

type Raw = KubeObject & {
  spec?: Record<string, unknown>;
  metadata?: KubeObject['metadata'] & { labels?: Record<string, string> };
};

const svcKey = (a: Announcement) => `${a.service.namespace}/${a.service.name}`;

export async function startL2(ctx: SpeakerContext, options: L2Options): Promise<SpeakerPart> {
  const log = childLogger('l2');
  const client = RawKubeClient.fromKubeConfig(ctx.kc);
  const informer = <T extends KubeObject>(kind: ResourceType, name: string): Informer<T> =>
    createResourceInformer<T>(ctx.kc, kind, {
      client,
      namespace: ctx.namespace,
      registry: ctx.registry,
      logger: childLogger(`informer.${name}`),
    });
  const pools = informer<Raw>(ipAddressPoolKind, 'ipaddresspools');
  const ads = informer<Raw>(l2AdvertisementKind, 'l2advertisements');
  const statuses = informer<StatusObject>(serviceL2StatusKind, 'servicel2statuses');
  const metrics = l2Metrics(ctx.registry);
  const liveness = new Liveness({ deadAfterMs: options.deadAfterMs });
  const socket = PacketSocket.open();
  const announcer = new Announcer({ socket, metrics, logger: log });
  const writer = new StatusWriter({
    client,
    informer: statuses,
    namespace: ctx.namespace,
    node: ctx.nodeName,
    logger: log,
  });
  const events = new EventRecorder({
    client,
    component: 'portico-speaker',
    instance: ctx.nodeName,
    logger: log,
  });
  const { services, endpointSlices, nodes } = ctx.informers;

  let scheduled = false;
  let stopped = false;
  let firstPass = false;
  let graceUntil = Infinity;
  let liveKey = '';
  let links: Link[] = [];
  let linksKey = '';
  let state = { previous: new Map<string, string | undefined>(), waitingSince: new Map<string, number>() };
  let recheck: NodeJS.Timeout | undefined;

  const schedule = () => {
    if (scheduled || stopped) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      if (!stopped) pass();
    });
  };

  const heartbeats = new Heartbeats({
    node: ctx.nodeName,
    port: options.heartbeatPort,
    intervalMs: options.heartbeatIntervalMs,
    logger: log,
    peers: () =>
      nodes
        .list()
        .filter((n) => n.metadata?.name !== ctx.nodeName)
        .flatMap((n) => nodeAddresses(n).slice(0, 1)),
    onHeartbeat: (h) => {
      const now = Date.now();
      const changed =
        h.kind === KIND_ALIVE
          ? liveness.heard(h.node, h.incarnation, now)
          : liveness.left(h.node, h.incarnation, now);
      if (changed) {
        log.info({ node: h.node, live: h.kind === KIND_ALIVE }, 'speaker liveness changed');
        schedule();
      }
    },
  });

  const liveSet = (now: number) => new Set([...liveness.live(now), ctx.nodeName]);

  function pass(): void {
    const now = Date.now();
    if (now < graceUntil) {
      // Timers and Date.now() use different clocks: a timer may fire a little early.
      if (graceUntil !== Infinity) setTimeout(schedule, graceUntil - now + 1);
      return;
    }
    const live = liveSet(now);
    metrics.liveSpeakers.set(live.size);
    const announcements = plan({
      nodes: nodes.list(),
      live,
      pools: pools.list().map(poolInput),
      advertisements: ads.list().flatMap(adInput),
      services: services.list(),
      endpointSlices: endpointSlices.list(),
    });
    const winners = new Map(announcements.map((a) => [a.ip, a.winner]));
    const held = new Set(announcer.announced().keys());
    const h = handover(
      ctx.nodeName,
      winners,
      live,
      held,
      state,
      now,
      options.handoverDelayMs ?? 2 * options.heartbeatIntervalMs,
    );
    state = { previous: h.previous, waitingSince: h.waitingSince };
    clearTimeout(recheck);
    if (h.recheckAt !== undefined) recheck = setTimeout(schedule, Math.max(0, h.recheckAt - now));

    const desired = new Map<string, AnnouncedIP>();
    for (const a of announcements) if (h.acquire.has(a.ip)) desired.set(a.ip, { interfaces: a.interfaces });
    const { taken, released } = announcer.set(desired);
    for (const ip of released) log.info({ ip }, 'stopped announcing');
    for (const ip of taken) {
      const a = announcements.find((x) => x.ip === ip)!;
      log.info({ ip, service: svcKey(a), interfaces: a.interfaces }, 'announcing');
      metrics.takeovers.inc();
      const where = a.interfaces.length ? `interfaces ${a.interfaces.join(', ')}` : 'all interfaces';
      void events.record(
        {
          apiVersion: 'v1',
          kind: 'Service',
          namespace: a.service.namespace,
          name: a.service.name,
          uid: a.service.uid,
        },
        'Normal',
        'L2Announcing',
        `${ip} is announced over ${a.family === 4 ? 'ARP' : 'NDP'} by node ${ctx.nodeName} on ${where}`,
      );
    }
    updateGauges(announcements, desired);
    writer.set(statusPlan(announcements, desired, live));
    firstPass = true;
  }

  function updateGauges(announcements: Announcement[], desired: Map<string, AnnouncedIP>): void {
    metrics.announcer.reset();
    metrics.announcing.reset();
    for (const a of announcements) {
      if (a.winner)
        metrics.announcer.set(
          { ip: a.ip, namespace: a.service.namespace, service: a.service.name, node: a.winner },
          1,
        );
    }
    for (const ip of desired.keys()) metrics.announcing.set({ ip }, 1);
  }

  function statusPlan(announcements: Announcement[], desired: Map<string, AnnouncedIP>, live: Set<string>) {
    const own = new Map<string, DesiredStatus>();
    const announcers = new Map<string, Set<string>>();
    for (const a of announcements) {
      const key = svcKey(a);
      if (a.winner) announcers.set(key, (announcers.get(key) ?? new Set()).add(a.winner));
      if (!desired.has(a.ip)) continue;
      const d = own.get(key) ?? { service: a.service, ips: [], interfaces: [] };
      d.ips.push(a.ip);
      d.interfaces = [...new Set([...d.interfaces, ...a.interfaces])].sort();
      own.set(key, d);
    }
    return { own: [...own.values()], announcers, sweeper: [...live].sort()[0] === ctx.nodeName };
  }

  function scanLinks(): void {
    const next = usableLinks(listLinks(), options.interfaces);
    const key = next.map((l) => `${l.index}:${l.name}:${l.mac}`).join(',');
    if (key === linksKey) return;
    linksKey = key;
    links = next;
    log.info({ interfaces: links.map((l) => l.name) }, 'interfaces');
    announcer.setLinks(links);
  }

  for (const inf of [services, endpointSlices, nodes, pools, ads] as Informer<KubeObject>[]) {
    inf.addHandlers({ add: schedule, update: schedule, delete: schedule });
  }
  // Someone else's edit or delete of a status object is repaired by the next pass.
  statuses.addHandlers({ add: schedule, update: schedule, delete: schedule });

  pools.start();
  ads.start();
  statuses.start();
  scanLinks();
  socket.start(
    (f) => announcer.onFrame(f),
    (err) => log.warn({ err }, 'packet socket receive failed'),
  );
  await heartbeats.start();
  let lastTick = Date.now();
  const tick = setInterval(
    () => {
      const t = Date.now();
      if (t - lastTick > options.deadAfterMs) {
        log.warn(
          { stalledMs: t - lastTick },
          'event loop stalled past dead-after; peers may have taken over meanwhile',
        );
      }
      lastTick = t;
      const key = [...liveSet(Date.now())].sort().join(',');
      if (key !== liveKey) {
        liveKey = key;
        schedule();
      }
    },
    Math.max(10, Math.floor(options.heartbeatIntervalMs / 2)),
  );
  const linkTimer = setInterval(() => {
    const before = linksKey;
    scanLinks();
    if (linksKey !== before) schedule();
  }, options.linkScanMs ?? 1000);

  // Nothing is announced before every input is synced and the other speakers
  // have had a dead-after period to be heard: a speaker that started alone
  // would otherwise claim every IP for an instant.
  void Promise.all([services, endpointSlices, nodes, pools, ads].map((i) => i.waitForSync())).then(() => {
    graceUntil = Date.now() + options.deadAfterMs;
    setTimeout(schedule, options.deadAfterMs);
  });

  return {
    name: 'l2',
    ready: () => firstPass,
    async stop() {
      stopped = true;
      clearInterval(tick);
      clearInterval(linkTimer);
      clearTimeout(recheck);
      // Stop answering first, then say goodbye so that peers take over at once.
      announcer.close();
      await heartbeats.stop();
      socket.close();
      await writer.stop();
      await Promise.all([pools.stop(), ads.stop(), statuses.stop()]);
      log.info('stopped');
    },
  };
}

function poolInput(p: Raw): PoolInput {
  const addresses = p.spec?.addresses;
  return {
    name: p.metadata?.name ?? '',
    ...(p.metadata?.labels ? { labels: p.metadata.labels } : {}),
    addresses: Array.isArray(addresses) ? addresses.filter((a): a is string => typeof a === 'string') : [],
  };
}

function adInput(a: Raw): AdvertisementInput[] {
  const r = validateL2Advertisement(a);
  if (!r.ok) return []; // flagged by the operator; an invalid object announces nothing
  return [{ name: a.metadata?.name ?? '', ...r.value.spec }];
}
