// Leader election on a real Lease: one leader at a time, a fast hand-over on
// a clean stop, and a takeover after the leader is killed outright.
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CoordinationV1Api } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { LeaderElector } from '../../../lib/leader-election.ts';
import { sharedKubeConfig, sharedKubeconfigPath, uniqueName } from '../../harness/shared.ts';
import { createNamespace, deleteNamespace, testLogger, waitUntil } from './helpers.ts';

jest.setTimeout(90_000);

const candidateScript = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'lease-candidate.ts');
const LEASE_MS = 4_000;
const DEADLINE_MS = 3_000;
const RETRY_MS = 500;

interface Child {
  process: ChildProcess;
  lines: string[];
}

function startCandidate(namespace: string, lease: string, identity: string): Child {
  const child = spawn(
    process.execPath,
    [
      '--disable-warning=ExperimentalWarning',
      candidateScript,
      sharedKubeconfigPath(),
      namespace,
      lease,
      identity,
      String(LEASE_MS),
      String(DEADLINE_MS),
      String(RETRY_MS),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines: string[] = [];
  // Log lines (JSON) share stdout; keep only the markers.
  if (child.stdout) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (/^[A-Z]+$/.test(line)) lines.push(line);
    });
  }
  return { process: child, lines };
}

describe('LeaderElector (real apiserver)', () => {
  let kc: KubeConfig;
  let leases: CoordinationV1Api;
  let namespace: string;
  const children: ChildProcess[] = [];
  const electors: LeaderElector[] = [];

  beforeAll(async () => {
    kc = sharedKubeConfig();
    leases = kc.makeApiClient(CoordinationV1Api);
    namespace = await createNamespace(kc, 'lease');
  });
  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    await Promise.all(electors.splice(0).map((e) => e.stop()));
  });
  afterAll(() => deleteNamespace(kc, namespace));

  function elector(lease: string, identity: string, events: string[]): LeaderElector {
    const e = new LeaderElector({
      client: leases,
      namespace,
      name: lease,
      identity,
      leaseDurationMs: LEASE_MS,
      renewDeadlineMs: DEADLINE_MS,
      retryPeriodMs: RETRY_MS,
      logger: testLogger,
      onStartedLeading: () => void events.push(`${identity} started`),
      onStoppedLeading: () => void events.push(`${identity} stopped`),
    });
    electors.push(e);
    return e;
  }

  const holder = async (lease: string) =>
    (await leases.readNamespacedLease({ name: lease, namespace })).spec?.holderIdentity;

  it('elects exactly one of two candidates and hands over at once on stop', async () => {
    const lease = uniqueName('handover');
    const events: string[] = [];
    const a = elector(lease, 'a', events);
    const b = elector(lease, 'b', events);
    a.start();
    b.start();
    await waitUntil('a leader', () => a.isLeader() || b.isLeader());
    const [leader, follower] = a.isLeader() ? [a, b] : [b, a];
    // Several renew periods later there is still exactly one.
    await new Promise((resolve) => setTimeout(resolve, 4 * RETRY_MS));
    expect([a.isLeader(), b.isLeader()]).toEqual([a === leader, b === leader]);
    expect(await holder(lease)).toBe(leader.identity);
    expect(follower.leader()).toBe(leader.identity);

    await leader.stop();
    expect(events).toEqual([`${leader.identity} started`, `${leader.identity} stopped`]);
    // Released, not left to expire: the follower's next poll takes it.
    const released = Date.now();
    await waitUntil('the follower to lead', () => follower.isLeader());
    expect(Date.now() - released).toBeLessThan(LEASE_MS);
    const spec = (await leases.readNamespacedLease({ name: lease, namespace })).spec;
    expect(spec?.holderIdentity).toBe(follower.identity);
    expect(spec?.leaseTransitions).toBe(1);
  });

  it('takes over within the lease duration after the leader is killed with SIGKILL', async () => {
    const lease = uniqueName('crash');
    const child = startCandidate(namespace, lease, 'doomed');
    children.push(child.process);
    await waitUntil('the child to lead', () => child.lines.includes('LEADING'), 30_000);

    const events: string[] = [];
    const survivor = elector(lease, 'survivor', events);
    survivor.start();
    // While the child lives and renews, the survivor must not lead.
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS + 2 * RETRY_MS));
    expect(survivor.isLeader()).toBe(false);
    expect(survivor.leader()).toBe('doomed');
    expect(await holder(lease)).toBe('doomed');

    child.process.kill('SIGKILL');
    const killed = Date.now();
    await waitUntil('the survivor to lead', () => survivor.isLeader(), 3 * LEASE_MS);
    const takeover = Date.now() - killed;
    // No earlier than the lease allows (the child renewed at most one retry
    // period before it died), and no later than one lease plus a poll or two.
    expect(takeover).toBeGreaterThanOrEqual(LEASE_MS - RETRY_MS - 250);
    expect(takeover).toBeLessThanOrEqual(LEASE_MS + 2 * RETRY_MS + 1_000);
    expect(child.lines).not.toContain('STOPPED');
    expect(await holder(lease)).toBe('survivor');
    expect(events).toEqual(['survivor started']);
  });

  it('a candidate process stopped with SIGTERM releases the lease', async () => {
    const lease = uniqueName('sigterm');
    const child = startCandidate(namespace, lease, 'polite');
    children.push(child.process);
    await waitUntil('the child to lead', () => child.lines.includes('LEADING'), 30_000);
    const exited = new Promise((resolve) => child.process.once('exit', resolve));
    child.process.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(child.lines).toEqual(['LEADING', 'STOPPED']);
    const spec = (await leases.readNamespacedLease({ name: lease, namespace })).spec;
    expect(spec?.holderIdentity ?? '').toBe('');
  });
});
