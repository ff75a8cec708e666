import { describe, expect, it } from '@jest/globals';
import { ApiException } from '@kubernetes/client-node';
import type { CoordinationV1Api, V1Lease } from '@kubernetes/client-node';
import { ManualClock } from '../../../lib/clock.ts';
import { LeaderElector } from '../../../lib/leader-election.ts';
import type { LeaderElectionOptions } from '../../../lib/leader-election.ts';
import { flush, silentLogger } from './helpers.ts';

function statusError(code: number, reason: string): ApiException<string> {
  return new ApiException(code, reason, JSON.stringify({ kind: 'Status', code, reason }), {});
}

/** One Lease with the apiserver's optimistic concurrency; `down` makes every call fail. */
class FakeLeaseStore {
  lease: V1Lease | undefined;
  rv = 0;
  writes: string[] = [];
  down = new Set<string>();

  client(who: string): CoordinationV1Api {
    const check = () => {
      if (this.down.has(who)) throw new Error('connect ECONNREFUSED');
    };
    const copy = (l: V1Lease): V1Lease => JSON.parse(JSON.stringify(l));
    const api = {
      readNamespacedLease: async () => {
        check();
        if (!this.lease) throw statusError(404, 'NotFound');
        return copy(this.lease);
      },
      createNamespacedLease: async ({ body }: { body: V1Lease }) => {
        check();
        if (this.lease) throw statusError(409, 'AlreadyExists');
        return this.#store(who, body);
      },
      replaceNamespacedLease: async ({ body }: { body: V1Lease }) => {
        check();
        if (body.metadata?.resourceVersion !== this.lease?.metadata?.resourceVersion) {
          throw statusError(409, 'Conflict');
        }
        return this.#store(who, body);
      },
    };
    return api as unknown as CoordinationV1Api;
  }

  #store(who: string, body: V1Lease): V1Lease {
    this.lease = JSON.parse(
      JSON.stringify({ ...body, metadata: { ...body.metadata, resourceVersion: String(++this.rv) } }),
    );
    this.writes.push(`${who}:${this.lease?.spec?.holderIdentity}`);
    return JSON.parse(JSON.stringify(this.lease));
  }
}

function candidate(store: FakeLeaseStore, clock: ManualClock, identity: string, events: string[]) {
  const options: LeaderElectionOptions = {
    client: store.client(identity),
    namespace: 'portico-system',
    name: 'portico-operator',
    identity,
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    clock,
    logger: silentLogger,
    random: () => 0,
    onStartedLeading: () => void events.push(`${identity} started`),
    onStoppedLeading: () => void events.push(`${identity} stopped`),
  };
  return new LeaderElector(options);
}

/** Advances in small steps, checking after each that at most one candidate leads. */
async function run(clock: ManualClock, ms: number, electors: LeaderElector[]): Promise<void> {
  for (let t = 0; t < ms; t += 250) {
    clock.advance(250);
    await flush(8);
    expect(electors.filter((e) => e.isLeader()).length).toBeLessThanOrEqual(1);
  }
}

describe('LeaderElector', () => {
  it('creates the lease, leads, and renews every retry period', async () => {
    const store = new FakeLeaseStore();
    const clock = new ManualClock(1_700_000_000_000);
    const events: string[] = [];
    const a = candidate(store, clock, 'a', events);
    a.start();
    await flush(8);
    expect(a.isLeader()).toBe(true);
    expect(events).toEqual(['a started']);
    expect(store.lease?.spec).toMatchObject({
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      leaseTransitions: 0,
    });
    expect(String(store.lease?.spec?.renewTime)).toMatch(/\.\d{6}Z$/);
    await run(clock, 10_000, [a]);
    expect(store.writes.length).toBe(6);
    expect(a.isLeader()).toBe(true);
    await a.stop();
  });

  it('elects exactly one of two candidates, even when they start together', async () => {
    const store = new FakeLeaseStore();
    const clock = new ManualClock(1_700_000_000_000);
    const events: string[] = [];
    const a = candidate(store, clock, 'a', events);
    const b = candidate(store, clock, 'b', events);
    a.start();
    b.start();
    await run(clock, 20_000, [a, b]);
    expect([a.isLeader(), b.isLeader()].filter(Boolean)).toHaveLength(1);
    expect(events).toHaveLength(1);
    expect(a.leader()).toBe(b.leader());
    await a.stop();
    await b.stop();
  });

  it('on stop, runs onStoppedLeading, then releases so the other takes over at once', async () => {
    const store = new FakeLeaseStore();
    const clock = new ManualClock(1_700_000_000_000);
    const events: string[] = [];
    const a = candidate(store, clock, 'a', events);
    a.start();
    await flush(8);
    const b = candidate(store, clock, 'b', events);
    b.start();
    await run(clock, 4_000, [a, b]);
    await a.stop();
    expect(events).toEqual(['a started', 'a stopped']);
    expect(store.lease?.spec).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
    await run(clock, 2_500, [a, b]);
    expect(b.isLeader()).toBe(true);
    expect(store.lease?.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    await b.stop();
  });

  it('a cut-off leader steps down after renewDeadline; the other waits out the lease', async () => {
    const store = new FakeLeaseStore();
    const clock = new ManualClock(1_700_000_000_000);
    const events: string[] = [];
    const a = candidate(store, clock, 'a', events);
    a.start();
    await flush(8);
    const b = candidate(store, clock, 'b', events);
    b.start();
    await run(clock, 3_000, [a, b]);
    const lastRenewal = clock.now() - (clock.now() % 2_000);
    store.down.add('a');
    let aStoppedAt: number | undefined;
    let bStartedAt: number | undefined;
    for (let t = 0; t < 30_000 && bStartedAt === undefined; t += 250) {
      await run(clock, 250, [a, b]);
      if (aStoppedAt === undefined && !a.isLeader()) aStoppedAt = clock.now();
      if (b.isLeader()) bStartedAt = clock.now();
    }
    expect(aStoppedAt).toBeDefined();
    expect(bStartedAt).toBeDefined();
    expect(aStoppedAt! - lastRenewal).toBeLessThanOrEqual(10_000 + 250);
    expect(bStartedAt! - lastRenewal).toBeGreaterThanOrEqual(15_000);
    expect(bStartedAt! - lastRenewal).toBeLessThanOrEqual(15_000 + 2_000 + 250);
    expect(events).toEqual(['a started', 'a stopped', 'b started']);
    store.down.delete('a');
    await run(clock, 10_000, [a, b]);
    expect(b.isLeader()).toBe(true);
    await a.stop();
    await b.stop();
  });

  it('a renew that lands after renewDeadline leads again only once onStoppedLeading has finished', async () => {
    const store = new FakeLeaseStore();
    const clock = new ManualClock(1_700_000_000_000);
    const events: string[] = [];
    let releaseRenew: (() => void) | undefined;
    let finishStop: (() => void) | undefined;
    const api = store.client('a');
    const slow = {
      ...api,
      readNamespacedLease: api.readNamespacedLease.bind(api),
      createNamespacedLease: api.createNamespacedLease.bind(api),
      replaceNamespacedLease: async (args: { body: V1Lease }) => {
        if (releaseRenew === undefined) {
          await new Promise<void>((resolve) => (releaseRenew = resolve));
        }
        return api.replaceNamespacedLease(args as Parameters<CoordinationV1Api['replaceNamespacedLease']>[0]);
      },
    } as unknown as CoordinationV1Api;
    const a = new LeaderElector({
      client: slow,
      namespace: 'portico-system',
      name: 'portico-operator',
      identity: 'a',
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      clock,
      logger: silentLogger,
      random: () => 0,
      onStartedLeading: () => void events.push('started'),
      onStoppedLeading: async () => {
        events.push('stopping');
        // Only the first step-down is slow.
        if (finishStop === undefined) await new Promise<void>((resolve) => (finishStop = resolve));
        events.push('stopped');
      },
    });
    a.start();
    await flush(8);
    expect(events).toEqual(['started']);
    // The first renew hangs past renewDeadline: a steps down and starts stopping.
    for (let t = 0; t < 12_000; t += 250) {
      clock.advance(250);
      await flush(8);
    }
    expect(events).toEqual(['started', 'stopping']);
    // Then the renew lands: a holds the lease again, but must not start while still stopping.
    releaseRenew!();
    await flush(16);
    expect(a.isLeader()).toBe(true);
    expect(events).toEqual(['started', 'stopping']);
    finishStop!();
    await flush(16);
    expect(events).toEqual(['started', 'stopping', 'stopped', 'started']);
    releaseRenew = () => undefined;
    await a.stop();
  });

  it('rejects timings that could let two leaders overlap', () => {
    const store = new FakeLeaseStore();
    const base = {
      client: store.client('x'),
      namespace: 'n',
      name: 'l',
      identity: 'x',
      logger: silentLogger,
    };
    expect(() => new LeaderElector({ ...base, leaseDurationMs: 10_000, renewDeadlineMs: 10_000 })).toThrow();
    expect(() => new LeaderElector({ ...base, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 })).toThrow();
    expect(() => new LeaderElector({ ...base, identity: '' })).toThrow();
  });
});
