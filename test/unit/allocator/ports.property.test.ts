import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { formatFieldError } from '../../../operator/allocator/errors.ts';
import { NodePortAllocator, parseNodePortPool } from '../../../operator/allocator/ports.ts';
import type { NodePortPool, NodePortRequest } from '../../../operator/allocator/ports.ts';
import { admits } from '../../../operator/allocator/service-allocation.ts';

function pool(name: string, spec: Record<string, unknown>): NodePortPool {
  const r = parseNodePortPool(name, spec);
  if (!r.ok) throw new Error(r.error.map(formatFieldError).join('; '));
  return r.value;
}

const POOLS = [
  pool('plain', { ports: ['30000-30003'] }),
  pool('ns1', { ports: ['30100-30102'], serviceAllocation: { priority: 1, namespaces: ['ns1'] } }),
  pool('manual', { ports: ['30200-30201'], autoAssign: false }),
];
const SERVICES = ['ns0/a', 'ns0/b', 'ns0/c', 'ns1/a', 'ns1/b', 'ns1/c'];

const requestArb: fc.Arbitrary<NodePortRequest> = fc
  .record({
    service: fc.constantFrom(...SERVICES),
    pool: fc.option(fc.constantFrom('plain', 'ns1', 'manual', 'missing'), { freq: 4 }),
    ports: fc.uniqueArray(
      fc.record({
        protocol: fc.constantFrom('TCP' as const, 'UDP' as const),
        port: fc.constantFrom(53, 80, 443),
        nodePort: fc.option(fc.constantFrom(30000, 30001, 30101, 30200, 31000), { freq: 5 }),
      }),
      { maxLength: 3, selector: (p) => `${p.protocol}/${p.port}` },
    ),
  })
  .map((r) => ({
    service: r.service,
    ...(r.pool !== null ? { pool: r.pool } : {}),
    ports: r.ports.map((p) => ({
      protocol: p.protocol,
      port: p.port,
      ...(p.nodePort !== null ? { nodePort: p.nodePort } : {}),
    })),
  }));

type Op = { kind: 'assign'; request: NodePortRequest } | { kind: 'release'; service: string };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: requestArb.map((request) => ({ kind: 'assign' as const, request })) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(...SERVICES).map((service) => ({ kind: 'release' as const, service })),
  },
);

describe('NodePortAllocator properties', () => {
  it('never gives one nodePort to two Services, and counts add up', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 50 }), (ops) => {
        const a = new NodePortAllocator();
        a.setPools(POOLS);
        for (const op of ops) {
          if (op.kind === 'release') {
            const before = a.get(op.service);
            expect(a.release(op.service)).toEqual(before);
          } else {
            const before = a.get(op.request.service);
            const r = a.assign(op.request);
            if (r.ok) {
              expect(r.nodePorts).toHaveLength(op.request.ports.length);
              op.request.ports.forEach((p, i) => {
                if (p.nodePort !== undefined) expect(r.nodePorts[i]).toBe(p.nodePort);
                // Same port number, different protocol: same nodePort.
                op.request.ports.forEach((q, j) => {
                  if (q.port === p.port && p.nodePort === undefined && q.nodePort === undefined) {
                    expect(r.nodePorts[i]).toBe(r.nodePorts[j]);
                  }
                });
              });
              if (r.pool !== undefined) {
                const p = POOLS.find((x) => x.name === r.pool) as NodePortPool;
                const ns = op.request.service.split('/')[0] as string;
                expect(admits(p.serviceAllocation, { namespace: ns })).toBe(true);
                if (op.request.pool === undefined) expect(p.autoAssign).toBe(true);
              }
            } else {
              // A failed request changes nothing.
              expect(a.get(op.request.service)).toEqual(before);
            }
          }
          const owner = new Map<number, string>();
          for (const asg of a.assignments()) {
            for (const p of asg.ports) {
              const o = owner.get(p.nodePort);
              expect(o === undefined || o === asg.service).toBe(true);
              owner.set(p.nodePort, asg.service);
              expect(a.ownerOf(p.nodePort)).toBe(asg.service);
            }
          }
          for (const c of a.counts()) {
            const p = POOLS.find((x) => x.name === c.pool) as NodePortPool;
            const used = [...owner.keys()].filter((n) => p.ranges.contains(BigInt(n))).length;
            expect(c.used).toBe(used);
            expect(c.used + c.available).toBe(c.total);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
