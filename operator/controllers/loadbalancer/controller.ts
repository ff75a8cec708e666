// Adapter: LoadBalancer Services in, addresses out. Feeds the pure allocator
// from the informer caches and writes its answers back (IPReservation, pool
// annotation, status.loadBalancer.ingress, Events). Runs only on the leader.
//
// start(): wait for the Service, Namespace, IPAddressPool and IPReservation
// informers, read a fresh snapshot of Services and reservations, rebuild the
// allocator from it (restore.ts), and only then process the queue. Each key is
// a Service namespace/name; decide.ts says what the API should show for it.
import type { Registry } from 'prom-client';
import { ipReservationKind } from '../../../crds/index.ts';
import { sleep, systemClock } from '../../../lib/clock.ts';
import { enqueueHandlers } from '../../../lib/enqueue.ts';
import { describeError } from '../../../lib/errors.ts';
import type { EventRecorder } from '../../../lib/events.ts';
import type { Informer } from '../../../lib/informer.ts';
import { apiLister } from '../../../lib/list-watch.ts';
import type { Logger } from '../../../lib/logger.ts';
import type { KubeObject } from '../../../lib/object-cache.ts';
import type { RawKubeClient } from '../../../lib/raw-client.ts';
import { WorkQueue } from '../../../lib/workqueue.ts';
import type { ReconcileResult } from '../../../lib/workqueue.ts';
import { IPAllocator } from '../../allocator/index.ts';
import type { IPFamily, Labels } from '../../allocator/index.ts';
import { judgePools } from '../pools/status.ts';
import type { PoolResource } from '../pools/controller.ts';
import { decide } from './decide.ts';
import type { Decision } from './decide.ts';
import { loadBalancerMetrics } from './metrics.ts';
import { reservationName, reservationServiceKey } from './reservation.ts';
import type { ReservationObject } from './reservation.ts';
import { restoreState } from './restore.ts';
import { ingressIPs, isLoadBalancer, poolAnnotation } from './service.ts';
import type { ClassOptions, ServiceObject } from './service.ts';
import { ServiceReporter } from './report.ts';
import { statusDiffers } from './status.ts';
import { patchPoolAnnotation, syncReservation, writeServiceStatus } from './writes.ts';

export type ServiceResource = ServiceObject & KubeObject;
export type NamespaceResource = KubeObject & { metadata: { name?: string; labels?: Record<string, string> } };
export type ReservationResource = ReservationObject & KubeObject;

export interface LoadBalancerControllerOptions {
  client: RawKubeClient;
  services: Informer<ServiceResource>;
  namespaces: Informer<NamespaceResource>;
  pools: Informer<PoolResource>;
  reservations: Informer<ReservationResource>;
  /** Portico's namespace: pools and reservations live there. */
  namespace: string;
  classes: ClassOptions;
  stickyHoldMs: number;
  recorder: Pick<EventRecorder, 'record'>;
  registry: Registry;
  logger: Logger;
  /** Keys reconciled at once; default 16. */
  concurrency?: number;
  /** Told (debounced) when assignments changed, e.g. to refresh pool status. */
  onAssignmentsChanged?: () => void;
  now?: () => number;
}

const NONE: Readonly<Record<IPFamily, bigint>> = { IPv4: 0n, IPv6: 0n };
const SERVICES = { group: '', version: 'v1', plural: 'services' };

export class LoadBalancerController {
  readonly #o: LoadBalancerControllerOptions;
  readonly #metrics;
  readonly #now: () => number;
  #alloc: IPAllocator | undefined;
  #queue: WorkQueue | undefined;
  #unsubscribe: (() => void)[] = [];
  /** Bumped by start and stop, so a start overtaken by a stop gives up. */
  #epoch = 0;
  #running = false;
  #poolSignature = '';
  /** Services that failed for lack of room: retried when addresses free up. */
  readonly #waiting = new Set<string>();
  readonly #reporter: ServiceReporter;
  /**
   * Per key, resourceVersions of the Service that our own writes replaced. A
   * cached copy with one of them is known to be stale: its reconcile writes
   * nothing to the Service and waits for the newer version's event.
   */
  readonly #superseded = new Map<string, Set<string>>();
  /** Per reservation name, the spec last written (or "null" for deleted), until its event arrives. */
  readonly #reservationWritten = new Map<string, string>();
  #changedTimer: NodeJS.Timeout | undefined;

  constructor(options: LoadBalancerControllerOptions) {
    this.#o = options;
    this.#metrics = loadBalancerMetrics(options.registry);
    this.#reporter = new ServiceReporter(options.recorder, this.#metrics);
    this.#now = options.now ?? Date.now;
  }

  /** Addresses in use per family for the pool status controller. */
  readonly assigned = (pool: string): Readonly<Record<IPFamily, bigint>> => {
    const c = this.#alloc?.counts().find((p) => p.pool === pool);
    return c === undefined ? NONE : { IPv4: c.IPv4.assigned, IPv6: c.IPv6.assigned };
  };

  /** Addresses of a pool held only by sticky reservations of deleted Services. */
  readonly reserved = (pool: string): Readonly<Record<IPFamily, bigint>> => {
    const c = this.#alloc?.counts().find((p) => p.pool === pool);
    return c === undefined ? NONE : { IPv4: c.IPv4.reserved, IPv6: c.IPv6.reserved };
  };

  /** The allocator, once restored (for tests and diagnostics). */
  get allocator(): IPAllocator | undefined {
    return this.#alloc;
  }

  /** Rebuilds state from the API, then starts reconciling. Call on becoming leader. */
  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    const epoch = ++this.#epoch;
    const { services, namespaces, pools, reservations } = this.#o;
    await Promise.all([services, namespaces, pools, reservations].map((i) => i.waitForSync()));
    if (epoch !== this.#epoch) return;
    const alloc = new IPAllocator({
      usage: 'LoadBalancer',
      stickyHoldMs: this.#o.stickyHoldMs,
      now: this.#now,
    });
    this.#setPools(alloc);
    const snapshot = await this.#snapshot(epoch);
    if (snapshot === undefined || epoch !== this.#epoch) return;
    const report = restoreState({
      allocator: alloc,
      services: snapshot.services,
      reservations: snapshot.reservations,
      namespaceLabels: (ns) => this.#namespaceLabels(ns),
      classes: this.#o.classes,
      nowMs: this.#now(),
      holdMs: this.#o.stickyHoldMs,
    });
    this.#alloc = alloc;
    this.#metrics.restored.inc({ outcome: 'restored' }, report.restored);
    this.#metrics.restored.inc({ outcome: 'failed' }, report.failures.length);
    this.#o.logger.info(
      {
        restored: report.restored,
        failed: report.failures.length,
        reservations: report.reservations,
        invalidReservations: report.invalidReservations,
      },
      'rebuilt LoadBalancer assignments from the API',
    );
    await Promise.all(
      report.failures.map(({ service, failure }) =>
        this.#reporter.event(
          service,
          'Warning',
          failure.reason,
          `could not keep ${ingressIPs(service).join(', ')} at start-up: ${failure.message}`,
        ),
      ),
    );
    if (epoch !== this.#epoch) return;
    this.#subscribe();
    this.#metrics.active.set(1);
    this.#changed();
  }

  /** Stops reconciling and forgets the in-memory state. Call on losing the lease. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#epoch++;
    this.#metrics.active.set(0);
    for (const u of this.#unsubscribe) u();
    this.#unsubscribe = [];
    if (this.#changedTimer !== undefined) clearTimeout(this.#changedTimer);
    this.#changedTimer = undefined;
    await this.#queue?.shutdown();
    this.#queue = undefined;
    this.#alloc = undefined;
    this.#waiting.clear();
    this.#reporter.reset();
    this.#superseded.clear();
    this.#reservationWritten.clear();
    this.#poolSignature = '';
  }

  #subscribe(): void {
    const queue = new WorkQueue(
      {
        name: 'loadbalancer',
        concurrency: this.#o.concurrency ?? 16,
        registry: this.#o.registry,
        logger: this.#o.logger,
      },
      (key) => this.reconcile(key),
    );
    this.#queue = queue;
    const { services, namespaces, pools, reservations } = this.#o;
    this.#unsubscribe = [
      services.addHandlers(enqueueHandlers(queue)),
      reservations.addHandlers(
        enqueueHandlers(queue, (obj: ReservationResource) => {
          // The cache now shows this object as it is: compare against it again.
          this.#reservationWritten.delete(obj.metadata.name ?? '');
          const key = reservationServiceKey(obj);
          return key === undefined ? [] : [key];
        }),
      ),
      namespaces.addHandlers({
        update: (before, after) => {
          if (
            JSON.stringify(before.metadata?.labels ?? {}) === JSON.stringify(after.metadata?.labels ?? {})
          ) {
            return;
          }
          const ns = after.metadata?.name ?? '';
          for (const svc of services.list()) {
            if (svc.metadata.namespace === ns && isLoadBalancer(svc)) queue.add(`${ns}/${svc.metadata.name}`);
          }
        },
      }),
      pools.addHandlers({
        add: () => this.#poolsChanged(),
        update: () => this.#poolsChanged(),
        delete: () => this.#poolsChanged(),
      }),
    ];
  }

  /** Re-reads the pools; when they changed, every LoadBalancer Service is reconciled again. */
  #poolsChanged(): void {
    const alloc = this.#alloc;
    if (alloc === undefined || !this.#setPools(alloc)) return;
    const keys = new Set(alloc.assignments().map((a) => a.service));
    for (const svc of this.#o.services.list()) {
      if (isLoadBalancer(svc)) keys.add(`${svc.metadata.namespace}/${svc.metadata.name}`);
    }
    for (const key of keys) this.#queue?.add(key);
    this.#changed();
  }

  /** Hands the usable pools to the allocator; false when nothing relevant changed. */
  #setPools(alloc: IPAllocator): boolean {
    const objects = this.#o.pools.list();
    const judgement = judgePools(objects);
    const signature = JSON.stringify([
      judgement.usable.map((p) => p.name),
      objects
        .map((o) => [o.metadata.name, (o.metadata as { uid?: string }).uid, o.metadata.generation])
        .sort(),
    ]);
    if (signature === this.#poolSignature) return false;
    this.#poolSignature = signature;
    const evictions = alloc.setPools(judgement.usable);
    for (const e of evictions) {
      this.#o.logger.info({ service: e.assignment.service, ips: e.assignment.ips }, e.message);
    }
    return true;
  }

  async #snapshot(
    epoch: number,
  ): Promise<{ services: ServiceObject[]; reservations: ReservationObject[] } | undefined> {
    const listServices = apiLister<ServiceObject>(this.#o.client, SERVICES);
    const listReservations = apiLister<ReservationObject>(this.#o.client, ipReservationKind, {
      namespace: this.#o.namespace,
    });
    for (let attempt = 0; epoch === this.#epoch; attempt++) {
      try {
        const [s, r] = await Promise.all([listServices(), listReservations()]);
        return { services: s.items, reservations: r.items };
      } catch (err) {
        this.#o.logger.warn({ err: describeError(err) }, 'could not list Services for the start-up restore');
        await sleep(systemClock, Math.min(30_000, 500 * 2 ** attempt));
      }
    }
    return undefined;
  }

  #namespaceLabels(namespace: string): Labels {
    return this.#o.namespaces.get(namespace)?.metadata?.labels ?? {};
  }

  /** Debounced: pool counts and gauges are refreshed at most once a second, to spare the apiserver. */
  #changed(): void {
    if (this.#changedTimer !== undefined) return;
    this.#changedTimer = setTimeout(() => {
      this.#changedTimer = undefined;
      const alloc = this.#alloc;
      if (alloc === undefined) return;
      this.#metrics.setCounts(alloc.counts());
      this.#o.onAssignmentsChanged?.();
    }, 1_000);
  }

  #wakeWaiting(): void {
    for (const key of this.#waiting) this.#queue?.add(key);
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const alloc = this.#alloc;
    if (alloc === undefined) return;
    const stop = this.#metrics.duration.startTimer();
    try {
      return await this.#reconcile(key, alloc);
    } finally {
      stop();
    }
  }

  async #reconcile(key: string, alloc: IPAllocator): Promise<ReconcileResult> {
    const slash = key.indexOf('/');
    const [namespace, name] = [key.slice(0, slash), key.slice(slash + 1)];
    const svc = this.#o.services.get(key);
    const resName = reservationName(namespace, name);
    const stored = this.#o.reservations.get(`${this.#o.namespace}/${resName}`);
    const d = decide({
      key,
      service: svc,
      namespaceLabels: this.#namespaceLabels(namespace),
      classes: this.#o.classes,
      allocator: alloc,
      reservation: stored,
      holdMs: this.#o.stickyHoldMs,
      nowMs: this.#now(),
    });
    this.#o.logger.debug(
      {
        key,
        ips: d.status?.ips,
        reason: d.invalid?.reason ?? (d.result && !d.result.ok ? d.result.reason : undefined),
        reservation: d.reservation?.ips,
      },
      'reconcile',
    );
    if (d.changed) this.#changed();
    if (d.freed) this.#wakeWaiting();
    if (d.waitingForRoom) this.#waiting.add(key);
    else this.#waiting.delete(key);
    if (d.result?.ok) for (const other of d.result.droppedReservations) this.#queue?.add(other);

    // The reservation is stored before the address shows in status, so that
    // it exists even if the operator is down when the Service is deleted.
    const reservation = this.#syncReservation(resName, stored, d);
    const stale = svc !== undefined && this.#superseded.get(key)?.has(svc.metadata.resourceVersion ?? '');
    if (!stale) this.#superseded.delete(key);
    if (svc === undefined || stale) {
      await reservation;
    } else {
      const previous = await this.#writeService(key, svc, d, reservation);
      // Events are a courtesy: they do not hold up the next key.
      void this.#reporter.report(svc, d, previous);
    }
    return d.requeueAfterMs !== undefined ? { requeueAfterMs: d.requeueAfterMs + 100 } : undefined;
  }

  /**
   * Writes the annotation (alongside the reservation write) and then the
   * status; returns the ingress a status write replaced, if one was made.
   */
  async #writeService(
    key: string,
    svc: ServiceObject,
    d: Decision,
    reservation: Promise<unknown>,
  ): Promise<string[] | undefined> {
    const replaced = new Set<string>();
    const annotate =
      d.poolAnnotation !== undefined && (poolAnnotation(svc) ?? null) !== d.poolAnnotation
        ? patchPoolAnnotation(this.#o.client, svc, d.poolAnnotation)
        : Promise.resolve(svc);
    const [current] = await Promise.all([annotate, reservation]);
    if (typeof current === 'string') return undefined;
    if (current !== svc) replaced.add(svc.metadata.resourceVersion ?? '');
    let previous: string[] | undefined;
    if (d.status !== undefined && statusDiffers(current, d.status)) {
      const r = await writeServiceStatus(this.#o.client, current, d.status, this.#now());
      if (typeof r !== 'string' && r.written) {
        replaced.add(current.metadata.resourceVersion ?? '');
        previous = ingressIPs(current);
      }
    }
    if (replaced.size > 0) this.#superseded.set(key, replaced);
    return previous;
  }

  /** Makes the IPReservation match the decision, unless that exact write is already on its way to the cache. */
  async #syncReservation(name: string, stored: ReservationObject | undefined, d: Decision): Promise<void> {
    const want = JSON.stringify(d.reservation ?? null);
    if (this.#reservationWritten.get(name) === want) return;
    const outcome = await syncReservation(this.#o.client, this.#o.namespace, name, stored, d.reservation);
    if (outcome !== 'unchanged') this.#reservationWritten.set(name, want);
  }
}
