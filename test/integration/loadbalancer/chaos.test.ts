// Chaos: many Services created at once while the leading operator (of two
// replicas under a short Lease) is SIGKILLed and replaced three times. The end
// state must have no address used twice outside the sharing rules, no Service
// without an address while the pool has room, and pool counts that add up.
// PORTICO_CHAOS_SERVICES sets how many Services (default 300).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { waitFor } from '../../harness/processes.ts';
import type { OperatorProcess } from '../../harness/operator-process.ts';
import { ingressIPs, LbEnv } from './helpers.ts';
import type { Svc } from './helpers.ts';

const N = Number(process.env.PORTICO_CHAOS_SERVICES ?? 300);
const LEASE = ['--lease-duration=4s', '--renew-deadline=3s', '--retry-period=500ms'];

describe(`loadbalancer: chaos (${N} Services, leader SIGKILLed 3 times)`, () => {
  const env = new LbEnv('lb-chaos');
  const byIdentity = new Map<string, OperatorProcess>();
  let next = 0;

  const startReplica = async () => {
    const identity = `chaos-${next++}`;
    byIdentity.set(identity, await env.startOperator(LEASE, identity));
  };
  const holder = async () =>
    (
      await env.client.getJson<{ spec?: { holderIdentity?: string } }>(
        `/apis/coordination.k8s.io/v1/namespaces/${env.portico}/leases/portico-operator`,
      )
    ).spec?.holderIdentity ?? '';

  beforeAll(async () => {
    await env.setup([]);
    // setup() started one replica with the default lease; replace it with two short-lease replicas.
    await env.stopOperators();
    await startReplica();
    await startReplica();
    await env.pool('chaos', { addresses: ['100.64.0.0/20'] }); // 4096 addresses: always room
  });
  afterAll(() => env.teardown());

  it('ends with every Service served once, sharing only as allowed, and counts that add up', async () => {
    // Every tenth pair shares one address (same key, different ports).
    const spec = (i: number) => {
      const pair = Math.floor(i / 2);
      return pair % 10 === 0
        ? { annotations: { 'portico.io/allow-shared-ip': `pair-${pair}` }, ports: [{ port: 8000 + (i % 2) }] }
        : { ports: [{ port: 80 }] };
    };
    const create = async () => {
      const batch = 25;
      for (let i = 0; i < N; i += batch) {
        await Promise.all(
          Array.from({ length: Math.min(batch, N - i) }, (_, j) => env.service(`svc-${i + j}`, spec(i + j))),
        );
      }
    };
    const chaos = async () => {
      for (let k = 0; k < 3; k++) {
        await new Promise((r) => setTimeout(r, 1_500 + Math.random() * 1_500));
        let leader = '';
        await waitFor('a Lease holder', async () => byIdentity.has((leader = await holder())), 30_000);
        await byIdentity.get(leader)!.stop('SIGKILL');
        byIdentity.delete(leader);
        env.operators = env.operators.filter(
          (op) => op.child.exitCode === null && op.child.signalCode === null,
        );
        await startReplica();
      }
    };
    await Promise.all([create(), chaos()]);

    const list = async () =>
      (await env.client.getJson<{ items: Svc[] }>(`/api/v1/namespaces/${env.ns}/services`)).items;
    try {
      await waitFor(
        `all ${N} Services to have an address`,
        async () => (await list()).filter((s) => ingressIPs(s).length === 1).length === N,
        300_000,
        1_000,
      );
    } catch (err) {
      // Say which Services are left and what their condition says, so a failure
      // tells a stuck reconcile from a slow machine.
      const missing = (await list()).filter((s) => ingressIPs(s).length !== 1);
      const detail = missing
        .slice(0, 10)
        .map(
          (s) =>
            `${s.metadata.name}: ${JSON.stringify((s.status as { conditions?: unknown })?.conditions ?? [])}`,
        );
      throw new Error(`${String(err)}; ${missing.length} without an address, e.g. ${detail.join(' | ')}`, {
        cause: err,
      });
    }
    const services = await list();
    const users = new Map<string, Svc[]>();
    for (const s of services) {
      const [ip] = ingressIPs(s);
      expect(ingressIPs(s)).toHaveLength(1);
      users.set(ip!, [...(users.get(ip!) ?? []), s]);
    }
    const duplicates = [...users.entries()].filter(([, list]) => {
      if (list.length === 1) return false;
      const keys = new Set(list.map((s) => s.metadata.annotations?.['portico.io/allow-shared-ip'] ?? ''));
      const ports = list.flatMap((s) => (s.spec.ports as { port: number }[]).map((p) => p.port));
      return keys.size !== 1 || keys.has('') || new Set(ports).size !== ports.length;
    });
    expect(duplicates.map(([ip, list]) => `${ip}: ${list.map((s) => s.metadata.name).join(', ')}`)).toEqual(
      [],
    );
    const shared = [...users.values()].filter((l) => l.length > 1).length;
    const distinct = users.size;
    expect(distinct).toBe(N - shared);

    await waitFor('pool status to count every address', async () => {
      return (await env.poolStatus('chaos')).ipv4?.assigned === distinct;
    });
    const st = (await env.poolStatus('chaos')).ipv4!;
    expect(st).toMatchObject({ total: 4096, assigned: distinct, available: 4096 - distinct });
    process.stderr.write(
      `chaos: ${N} Services, ${distinct} addresses (${shared} shared), leaders killed: 3, replicas started: ${next}\n`,
    );
  }, 600_000);
});
