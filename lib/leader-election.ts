// Leader election on a coordination.k8s.io/v1 Lease, the way client-go does
// it: candidates poll the Lease every retryPeriod; the holder renews it and
// steps down if it cannot renew within renewDeadline, which is shorter than the
// leaseDuration others wait, so two leaders never overlap while clocks run at
// the same rate. Writes carry the resourceVersion they read, so two candidates
// racing for a free lease cannot both win. Only the leader allocates.
import type { CoordinationV1Api, V1Lease, V1LeaseSpec } from '@kubernetes/client-node';
import { sleep, systemClock } from './clock.ts';
import type { Clock, TimerHandle } from './clock.ts';
import { describeError, isAlreadyExists, isConflict, isNotFound } from './errors.ts';
import { decideLease, formatMicroTime, nextTransitions, observeLease } from './lease-decision.ts';
import type { LeaseObservation, LeaseRecord } from './lease-decision.ts';
import { childLogger } from './logger.ts';
import type { Logger } from './logger.ts';

export interface LeaderElectionOptions {
  client: CoordinationV1Api;
  namespace: string;
  /** Lease name, e.g. "portico-operator". */
  name: string;
  /** Unique per process, e.g. pod name plus a random suffix. */
  identity: string;
  /** How long others wait after the last renewal they saw; default 15s. */
  leaseDurationMs?: number;
  /** The leader steps down if it has not renewed for this long; default 10s. */
  renewDeadlineMs?: number;
  /** Time between attempts to acquire or renew; default 2s. */
  retryPeriodMs?: number;
  /** Start the leader-only work. Not awaited; a rejection is logged. */
  onStartedLeading?: () => void | Promise<void>;
  /** Stop the leader-only work. Awaited before the lease is released or retaken. */
  onStoppedLeading?: () => void | Promise<void>;
  /** Called whenever a different holder is observed (including ourselves). */
  onNewLeader?: (identity: string) => void;
  clock?: Clock;
  logger?: Logger;
  random?: () => number;
}

const STOPPING = 'stopping';

type LeaseSpecWire = Omit<V1LeaseSpec, 'acquireTime' | 'renewTime'> & {
  acquireTime?: string;
  renewTime?: string;
};

export class LeaderElector {
  readonly identity: string;
  readonly #o: Required<
    Pick<
      LeaderElectionOptions,
      'leaseDurationMs' | 'renewDeadlineMs' | 'retryPeriodMs' | 'namespace' | 'name'
    >
  >;
  readonly #options: LeaderElectionOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  #observation: LeaseObservation | undefined;
  #lastHolder: string | undefined;
  #leading = false;
  #transitions: Promise<void> = Promise.resolve();
  #acquiredAtMs: number | undefined;
  #deadline: TimerHandle | undefined;
  #stepping: Promise<void> = Promise.resolve();
  #abort: AbortController | undefined;
  #running: Promise<void> | undefined;

  constructor(options: LeaderElectionOptions) {
    this.identity = options.identity;
    this.#options = options;
    this.#o = {
      namespace: options.namespace,
      name: options.name,
      leaseDurationMs: options.leaseDurationMs ?? 15_000,
      renewDeadlineMs: options.renewDeadlineMs ?? 10_000,
      retryPeriodMs: options.retryPeriodMs ?? 2_000,
    };
    const { leaseDurationMs, renewDeadlineMs, retryPeriodMs } = this.#o;
    if (!(leaseDurationMs > renewDeadlineMs && renewDeadlineMs > retryPeriodMs && retryPeriodMs > 0)) {
      throw new Error('leader election needs leaseDuration > renewDeadline > retryPeriod > 0');
    }
    if (!options.identity) throw new Error('leader election needs a non-empty identity');
    this.#clock = options.clock ?? systemClock;
    this.#log = options.logger ?? childLogger(`lease/${options.name}`);
  }

  isLeader(): boolean {
    return this.#leading;
  }

  /** The holder we last observed, if any ('' when the lease is released). */
  leader(): string | undefined {
    return this.#lastHolder;
  }

  start(): void {
    if (this.#running) return;
    const abort = new AbortController();
    this.#abort = abort;
    this.#running = this.#run(abort.signal);
  }

  /**
   * Leaves the election. A leader first runs onStoppedLeading, then releases
   * the lease (empty holder, 1s duration) so another candidate takes over at
   * once instead of waiting out the lease. Call it on SIGTERM.
   */
  async stop(): Promise<void> {
    this.#abort?.abort();
    await this.#running;
    this.#running = undefined;
    if (this.#leading) await this.#stepDown(STOPPING);
    else await this.#stepping;
    // Also covers a lease won in the very round that stop() interrupted.
    if (this.#lastHolder === this.identity) await this.#release();
  }

  async #run(signal: AbortSignal): Promise<void> {
    const random = this.#options.random ?? Math.random;
    while (!signal.aborted) {
      await this.#stepping;
      if (signal.aborted) break;
      const attemptStart = this.#clock.now();
      const held = await this.#tryAcquireOrRenew();
      if (signal.aborted) break;
      if (held) {
        // The apiserver's copy is at least as fresh as the moment we sent it.
        this.#armDeadline(attemptStart);
        if (!this.#leading) this.#startLeading();
      } else if (this.#leading && this.#lastHolder !== this.identity) {
        void this.#stepDown(`lease taken by ${this.#lastHolder || 'nobody'}`);
      }
      // Candidates spread their polls; the leader renews on the beat.
      const jitter = this.#leading ? 0 : random() * 0.2 * this.#o.retryPeriodMs;
      await sleep(this.#clock, this.#o.retryPeriodMs + jitter, signal);
    }
  }

  /** One round: read the lease, decide, write if allowed. True when we hold it afterwards. */
  async #tryAcquireOrRenew(): Promise<boolean> {
    const { client } = this.#options;
    const { namespace, name } = this.#o;
    const now = this.#clock.now();
    let lease: V1Lease;
    try {
      lease = await client.readNamespacedLease({ namespace, name });
    } catch (err) {
      if (!isNotFound(err)) {
        this.#log.warn({ err: describeError(err) }, 'cannot read lease');
        return false;
      }
      return this.#create(now);
    }

    const record = recordOf(lease);
    this.#observation = observeLease(this.#observation, record, now);
    this.#noteHolder(record.holderIdentity);
    const decision = decideLease(this.#observation, this.identity, now, this.#o.leaseDurationMs);
    if (decision.action === 'wait') return false;

    const body: V1Lease = {
      ...lease,
      metadata: { ...lease.metadata, managedFields: undefined },
      spec: this.#spec(record, lease, now) as V1LeaseSpec,
    };
    try {
      const written = await client.replaceNamespacedLease({ namespace, name, body });
      if (decision.action === 'acquire') this.#log.info({ reason: decision.reason }, 'acquired lease');
      this.#observation = observeLease(undefined, recordOf(written), now);
      this.#noteHolder(this.identity);
      return true;
    } catch (err) {
      if (isConflict(err)) this.#log.debug('lease changed while writing it; will re-read');
      else this.#log.warn({ err: describeError(err) }, 'cannot write lease');
      return false;
    }
  }

  async #create(now: number): Promise<boolean> {
    const { namespace, name } = this.#o;
    const body: V1Lease = {
      metadata: { name, namespace },
      spec: this.#spec(undefined, undefined, now) as V1LeaseSpec,
    };
    try {
      const created = await this.#options.client.createNamespacedLease({ namespace, body });
      this.#log.info('created and acquired lease');
      this.#observation = observeLease(undefined, recordOf(created), now);
      this.#noteHolder(this.identity);
      return true;
    } catch (err) {
      if (!isAlreadyExists(err)) this.#log.warn({ err: describeError(err) }, 'cannot create lease');
      return false;
    }
  }

  // Times go out as strings: the client would send a Date with millisecond
  // precision, which the apiserver rejects for MicroTime fields.
  #spec(record: LeaseRecord | undefined, lease: V1Lease | undefined, now: number): LeaseSpecWire {
    const renewing = record?.holderIdentity === this.identity;
    if (!renewing) this.#acquiredAtMs = now;
    const previousAcquire = lease?.spec?.acquireTime;
    this.#acquiredAtMs ??= previousAcquire ? new Date(previousAcquire).getTime() : now;
    return {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.ceil(this.#o.leaseDurationMs / 1000),
      acquireTime: formatMicroTime(this.#acquiredAtMs),
      renewTime: formatMicroTime(now),
      leaseTransitions: nextTransitions(record, this.identity),
    };
  }

  /**
   * Runs leadership callbacks one after another, in the order of the
   * transitions. A renew already in flight when renewDeadline fires can still
   * succeed and make us leader again at once; without this chain the new
   * onStartedLeading would run while the old onStoppedLeading was still
   * stopping the same controllers, leaving them stopped under a leader.
   */
  #transition(callback: (() => void | Promise<void>) | undefined, what: string): Promise<void> {
    this.#transitions = this.#transitions
      .then(callback)
      .catch((err: unknown) => this.#log.error({ err }, `${what} failed`));
    return this.#transitions;
  }

  #startLeading(): void {
    this.#leading = true;
    this.#log.info({ identity: this.identity }, 'became leader');
    void this.#transition(this.#options.onStartedLeading, 'onStartedLeading');
  }

  #armDeadline(renewedAt: number): void {
    if (this.#deadline !== undefined) this.#clock.clearTimeout(this.#deadline);
    const remaining = renewedAt + this.#o.renewDeadlineMs - this.#clock.now();
    this.#deadline = this.#clock.setTimeout(() => {
      this.#deadline = undefined;
      void this.#stepDown('could not renew the lease within renewDeadline');
    }, remaining);
  }

  /** Leaves the leader role (once); the run loop waits for it before competing again. */
  #stepDown(reason: string): Promise<void> {
    if (!this.#leading) return this.#stepping;
    this.#leading = false;
    if (this.#deadline !== undefined) this.#clock.clearTimeout(this.#deadline);
    this.#deadline = undefined;
    // Stepping down on request is routine; losing the lease is worth a warning.
    if (reason === STOPPING) this.#log.info('stopped leading');
    else this.#log.warn({ reason }, 'stopped leading');
    this.#stepping = this.#transition(this.#options.onStoppedLeading, 'onStoppedLeading');
    return this.#stepping;
  }

  /** Hands the lease back if we still hold it; a lost race is fine (someone took it). */
  async #release(): Promise<void> {
    const { client } = this.#options;
    const { namespace, name } = this.#o;
    try {
      const lease = await client.readNamespacedLease({ namespace, name });
      if (lease.spec?.holderIdentity !== this.identity) return;
      const now = this.#clock.now();
      const spec: LeaseSpecWire = {
        holderIdentity: '',
        leaseDurationSeconds: 1,
        acquireTime: formatMicroTime(now),
        renewTime: formatMicroTime(now),
        leaseTransitions: lease.spec?.leaseTransitions ?? 0,
      };
      const body: V1Lease = {
        ...lease,
        metadata: { ...lease.metadata, managedFields: undefined },
        spec: spec as V1LeaseSpec,
      };
      await client.replaceNamespacedLease({ namespace, name, body });
      this.#lastHolder = '';
      this.#log.info('released lease');
    } catch (err) {
      this.#log.warn(
        { err: describeError(err) },
        'could not release lease; others will wait for it to expire',
      );
    }
  }

  #noteHolder(holder: string): void {
    if (holder === this.#lastHolder) return;
    this.#lastHolder = holder;
    if (holder) this.#options.onNewLeader?.(holder);
  }
}

function recordOf(lease: V1Lease): LeaseRecord {
  return {
    holderIdentity: lease.spec?.holderIdentity ?? '',
    leaseDurationSeconds: lease.spec?.leaseDurationSeconds ?? 0,
    leaseTransitions: lease.spec?.leaseTransitions ?? 0,
    resourceVersion: lease.metadata?.resourceVersion ?? '',
  };
}
