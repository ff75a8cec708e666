// Property tests: random sequences of assign/release/restore/clock moves on a
// small, crowded set of pools. After every step the allocator's state must be
// internally consistent and obey the allocation rules.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { IPAllocator } from '../../../operator/allocator/assign.ts';
import type { AssignRequest, AssignResult, Assignment } from '../../../operator/allocator/assign.ts';
import { parseIP } from '../../../operator/allocator/ip.ts';
import type { IPFamily } from '../../../operator/allocator/ip.ts';
import { poolContains } from '../../../operator/allocator/pool.ts';
import type { Pool } from '../../../operator/allocator/pool.ts';
import { clock, mkPool } from './helpers.ts';

const POOLS: Pool[] = [
  mkPool('a', { addresses: ['10.0.0.0/29', 'fd00::/125'] }),
  mkPool('b', { addresses: ['10.0.1.254-10.0.2.2'], avoidBuggyIPs: true }),
  mkPool('manual', { addresses: ['10.0.3.0/30'], autoAssign: false }),
  mkPool('ns1-only', {
    addresses: ['10.0.4.0/30', 'fd00:1::/126'],
    serviceAllocation: { priority: 1, namespaces: ['ns1'] },
  }),
  mkPool('web', {
    addresses: ['fd00:2::/127'],
    serviceAllocation: { priority: 2, serviceSelectors: [{ matchLabels: { app: 'web' } }] },
  }),
];
// Alternative pool sets the sequence can switch to: a rename (assignments
// follow), and a shrink that evicts some assignments.
const POOL_SETS: Pool[][] = [
  POOLS,
  POOLS.map((p) => (p.name === 'a' ? mkPool('a2', { addresses: ['10.0.0.0/29', 'fd00::/125'] }) : p)),
  [
    mkPool('a', { addresses: ['10.0.0.0/30', 'fd00::/126'] }),
    ...POOLS.filter((p) => p.name !== 'a' && p.name !== 'b'),
  ],
];
const POOL_NAMES = [...POOLS.map((p) => p.name), 'a2', 'missing'];
const CANDIDATE_IPS = [
  '10.0.0.1',
  '10.0.0.7',
  '10.0.2.0',
  '10.0.2.1',
  '10.0.3.2',
  '10.0.4.1',
  '192.0.2.1',
  'fd00::3',
  'fd00:1::1',
  'fd00:2::1',
];
const SERVICES = ['ns0/s0', 'ns0/s1', 'ns0/s2', 'ns1/s0', 'ns1/s1', 'ns1/s2', 'ns1/s3', 'ns0/s3'];
const PORTS = [
  { protocol: 'TCP' as const, port: 80 },
  { protocol: 'TCP' as const, port: 443 },
  { protocol: 'UDP' as const, port: 53 },
];

const requestArb: fc.Arbitrary<AssignRequest> = fc
  .record({
    service: fc.constantFrom(...SERVICES),
    fam: fc.constantFrom<[IPFamily[], AssignRequest['ipFamilyPolicy']]>(
      [['IPv4'], 'SingleStack'],
      [['IPv6'], undefined],
      [['IPv4', 'IPv6'], 'PreferDualStack'],
      [['IPv6', 'IPv4'], 'PreferDualStack'],
      [['IPv4', 'IPv6'], 'RequireDualStack'],
    ),
    requested: fc.option(fc.uniqueArray(fc.constantFrom(...CANDIDATE_IPS), { minLength: 1, maxLength: 2 }), {
      freq: 4,
    }),
    pool: fc.option(fc.constantFrom(...POOL_NAMES), { freq: 4 }),
    sharingKey: fc.constantFrom(undefined, '', 'k1', 'k2'),
    ports: fc.subarray(PORTS),
    local: fc.boolean(),
    app: fc.constantFrom('web', 'db'),
  })
  .map((r) => ({
    service: r.service,
    ipFamilies: r.fam[0],
    ...(r.fam[1] !== undefined ? { ipFamilyPolicy: r.fam[1] } : {}),
    ...(r.requested !== null ? { requestedIPs: r.requested } : {}),
    ...(r.pool !== null ? { pool: r.pool } : {}),
    ...(r.sharingKey !== undefined ? { sharingKey: r.sharingKey } : {}),
    ports: r.ports,
    externalTrafficPolicy: r.local ? ('Local' as const) : ('Cluster' as const),
    selector: { app: r.app },
    serviceLabels: { app: r.app },
  }));

type Op =
  | { kind: 'assign'; request: AssignRequest }
  | { kind: 'release'; service: string; keep: boolean }
  | { kind: 'tick'; ms: number }
  | { kind: 'pools'; set: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: requestArb.map((request) => ({ kind: 'assign' as const, request })) },
  {
    weight: 3,
    arbitrary: fc
      .record({ service: fc.constantFrom(...SERVICES), keep: fc.boolean() })
      .map((r) => ({ kind: 'release' as const, ...r })),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 0, max: 3 * 3600_000 }).map((ms) => ({ kind: 'tick' as const, ms })),
  },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 0, max: POOL_SETS.length - 1 })
      .map((set) => ({ kind: 'pools' as const, set })),
  },
);

function addr(ip: string) {
  const r = parseIP(ip);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

/** Plain assertion: much cheaper than expect() inside hot property loops. */
function check(cond: boolean, what: string, detail?: unknown): void {
  if (!cond)
    throw new Error(
      `invariant broken: ${what}${detail === undefined ? '' : ` ${JSON.stringify(detail, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`}`,
    );
}

function checkInvariants(a: IPAllocator): void {
  const all = a.assignments();
  const byIP = new Map<string, Assignment[]>();
  const pools = a.pools();
  for (const asg of all) {
    const pool = pools.find((p) => p.name === asg.pool);
    check(pool !== undefined, 'assignment names a known pool', asg);
    check(asg.ips.length >= 1 && asg.ips.length <= 2, 'one or two addresses', asg);
    check(
      new Set(asg.ips.map((ip) => addr(ip).family)).size === asg.ips.length,
      'one address per family',
      asg,
    );
    for (const ip of asg.ips) {
      // Never an address outside its pool (or one its pool avoids).
      check(poolContains(pool as Pool, addr(ip)), 'address inside its pool', asg);
      byIP.set(ip, [...(byIP.get(ip) ?? []), asg]);
    }
  }
  // Never the same address twice outside the sharing rules.
  for (const [ip, users] of byIP) {
    const names = users.map((u) => u.service).sort();
    check(a.usersOf(ip).join() === names.join(), 'usersOf agrees', { ip, names });
    if (users.length < 2) continue;
    const [first] = users as [Assignment];
    for (const u of users) {
      check(
        u.sharingKey !== '' && u.sharingKey === first.sharingKey,
        'sharers have one non-empty key',
        users,
      );
      check(u.backendKey === first.backendKey, 'sharers have one backend key', users);
      check(u.pool === first.pool, 'sharers have one pool', users);
    }
    const seen = new Set<string>();
    for (const u of users) {
      for (const p of u.ports) {
        const k = `${p.protocol}/${p.port}`;
        check(!seen.has(k), 'no protocol/port used twice on a shared address', users);
        seen.add(k);
      }
    }
  }
  // Counts add up.
  const live = a.reservations();
  for (const c of a.counts()) {
    const pool = pools.find((p) => p.name === c.pool) as Pool;
    for (const f of ['IPv4', 'IPv6'] as const) {
      const used = [...byIP.keys()].filter(
        (ip) => addr(ip).family === f && pool.ranges[f].contains(addr(ip).value),
      );
      const reservedFree = new Set(
        live
          .flatMap((r) => r.ips)
          .filter((ip) => addr(ip).family === f && poolContains(pool, addr(ip)) && !byIP.has(ip)),
      );
      check(c[f].total === pool.total[f], 'total', c);
      check(c[f].assigned === BigInt(used.length), 'assigned = distinct addresses in use', c);
      check(c[f].reserved === BigInt(reservedFree.size), 'reserved = free reserved addresses', c);
      check(c[f].available + c[f].assigned + c[f].reserved === c[f].total, 'counts add up', c);
    }
  }
}

function run(
  ops: readonly Op[],
  onStep?: (op: Op, result: AssignResult | undefined, a: IPAllocator) => void,
) {
  const c = clock();
  const a = new IPAllocator({ now: c.now, stickyHoldMs: 4 * 3600_000 });
  a.setPools(POOLS);
  const results: unknown[] = [];
  for (const op of ops) {
    if (op.kind === 'pools') {
      const before = a.assignments();
      const evicted = a.setPools(POOL_SETS[op.set] as Pool[]);
      // Evicted assignments are gone, the others stay (possibly under a new pool name).
      const gone = new Set(evicted.map((e) => e.assignment.service));
      expect(a.assignments().map((x) => [x.service, x.ips])).toEqual(
        before.filter((x) => !gone.has(x.service)).map((x) => [x.service, x.ips]),
      );
      results.push(evicted);
      onStep?.(op, undefined, a);
      continue;
    }
    if (op.kind === 'tick') {
      c.advance(op.ms);
      results.push(null);
      onStep?.(op, undefined, a);
      continue;
    }
    if (op.kind === 'release') {
      const before = a.get(op.service);
      const rel = a.release(op.service, { keepReservation: op.keep });
      // Release returns exactly what was taken.
      expect(rel?.released).toEqual(before);
      expect(a.get(op.service)).toBeUndefined();
      for (const ip of before?.ips ?? []) expect(a.usersOf(ip)).not.toContain(op.service);
      results.push(rel ?? null);
      onStep?.(op, undefined, a);
      continue;
    }
    const reservedBefore = a.reservations();
    const stateBefore = a.assignments();
    const r = a.assign(op.request);
    results.push(r);
    if (r.ok) {
      expect(a.get(op.request.service)?.ips).toEqual(r.ips);
      expect(a.get(op.request.service)?.pool).toBe(r.pool);
      if (r.source === 'auto' || r.source === 'pool') {
        // Automatic choices never take an address reserved for someone else.
        for (const res of reservedBefore) {
          if (res.service === op.request.service) continue;
          for (const ip of r.ips) expect(res.ips).not.toContain(ip);
        }
      }
      if (op.request.requestedIPs !== undefined) {
        expect([...r.ips].sort()).toEqual(
          op.request.requestedIPs.map((ip) => r.ips.find((x) => x === ip) ?? ip).sort(),
        );
      }
    } else if (r.reason === 'InvalidRequest') {
      // A malformed request changes nothing: the Service keeps what it had.
      expect(a.assignments()).toEqual(stateBefore);
    } else {
      expect(a.get(op.request.service)).toBeUndefined();
    }
    onStep?.(op, r, a);
  }
  return { a, results };
}

describe('IPAllocator properties', () => {
  it('keeps every invariant across random operation sequences', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        run(ops, (_op, _r, a) => checkInvariants(a));
      }),
      { numRuns: 300 },
    );
  });

  it('is deterministic: the same operations give the same results', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => {
        expect(run(ops).results).toEqual(run(ops).results);
      }),
      { numRuns: 100 },
    );
  });

  it('re-admits its whole state into a fresh allocator (restart)', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        const { a } = run(ops);
        const fresh = new IPAllocator();
        fresh.setPools(a.pools());
        for (const asg of a.assignments()) {
          const r = fresh.restore(asg.service, asg.ips, {
            ...(asg.sharingKey !== '' ? { sharingKey: asg.sharingKey } : {}),
            ports: asg.ports,
            ...(asg.backendKey !== ''
              ? {
                  externalTrafficPolicy: 'Local' as const,
                  selector: Object.fromEntries([
                    asg.backendKey.replace(/^local:/, '').split('=') as [string, string],
                  ]),
                }
              : {}),
          });
          expect(r.ok).toBe(true);
        }
        expect(fresh.assignments()).toEqual(a.assignments());
        expect(fresh.counts().map((c) => [c.IPv4.assigned, c.IPv6.assigned])).toEqual(
          a.counts().map((c) => [c.IPv4.assigned, c.IPv6.assigned]),
        );
      }),
      { numRuns: 200 },
    );
  });

  it('gives a released Service its addresses back when it returns unchanged', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), requestArb, (ops, request) => {
        const { a } = run(ops);
        const first = a.assign(request);
        if (!first.ok) return;
        a.release(request.service);
        const again = a.assign(request);
        expect(again.ok).toBe(true);
        if (first.ok && again.ok) expect(again.ips).toEqual(first.ips);
      }),
      { numRuns: 200 },
    );
  });

  it('assigning twice is idempotent', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), requestArb, (ops, request) => {
        const { a } = run(ops);
        const first = a.assign(request);
        const before = a.assignments();
        const again = a.assign(request);
        if (first.ok) {
          expect(again).toMatchObject({ ok: true, ips: first.ips, changed: false });
          // PreferDualStack may widen on the second call only if the first one left a family out.
          if (again.ok && again.ips.length === first.ips.length) expect(a.assignments()).toEqual(before);
        }
      }),
      { numRuns: 200 },
    );
  });
});
