import { describe, expect, it } from '@jest/globals';
import { formatFieldError } from '../../../operator/allocator/errors.ts';
import {
  NodePortAllocator,
  parseNodePortPool,
  parsePortRange,
  validateNodePortPools,
} from '../../../operator/allocator/ports.ts';
import type { NodePortPool, NodePortRequest, NodePortResult } from '../../../operator/allocator/ports.ts';

function pool(name: string, spec: Record<string, unknown>): NodePortPool {
  const r = parseNodePortPool(name, spec);
  if (!r.ok) throw new Error(r.error.map(formatFieldError).join('; '));
  return r.value;
}

function ok(r: NodePortResult) {
  if (!r.ok) throw new Error(`${r.reason}: ${r.message}`);
  return r;
}

function fail(r: NodePortResult) {
  if (r.ok) throw new Error(`expected failure, got ${r.nodePorts.join(',')}`);
  return r;
}

const tcp = (port: number, nodePort?: number) => ({
  protocol: 'TCP' as const,
  port,
  ...(nodePort ? { nodePort } : {}),
});
const udp = (port: number, nodePort?: number) => ({
  protocol: 'UDP' as const,
  port,
  ...(nodePort ? { nodePort } : {}),
});
const req = (
  service: string,
  ports: NodePortRequest['ports'],
  extra: Partial<NodePortRequest> = {},
): NodePortRequest => ({
  service,
  ports,
  ...extra,
});

function allocator(...pools: NodePortPool[]) {
  const a = new NodePortAllocator();
  a.setPools(validateNodePortPools(pools).accepted);
  return a;
}

describe('parsePortRange / parseNodePortPool', () => {
  it('parses N and N-M', () => {
    expect(parsePortRange('30080')).toEqual({ ok: true, value: { lo: 30080, hi: 30080 } });
    expect(parsePortRange('30000 - 30010')).toEqual({ ok: true, value: { lo: 30000, hi: 30010 } });
    for (const bad of [
      '',
      'x',
      '0',
      '65536',
      '030000',
      '+30000',
      '1e4',
      '30010-30000',
      '30000-',
      '30000-30001-30002',
    ]) {
      expect(parsePortRange(bad).ok).toBe(false);
    }
  });

  it('builds a pool', () => {
    const p = pool('np', { ports: ['30000-30009', '30100'], serviceAllocation: { namespaces: ['a'] } });
    expect(p).toMatchObject({ name: 'np', autoAssign: true, total: 11 });
    expect(p.serviceAllocation?.namespaces).toEqual(['a']);
  });

  it.each([
    [{ ports: [] }, 'spec.ports: must list at least one port or port range'],
    [{ ports: ['30010-30000'] }, 'spec.ports[0]: "30010-30000" is a reversed range'],
    [{ ports: ['30000', '8080'] }, 'spec.ports[1]: "8080" is outside the node port range 30000-32767'],
    [{ ports: ['30000-32768'] }, 'spec.ports[0]: "30000-32768" is outside the node port range 30000-32767'],
    [{ ports: ['30000-30010', '30005'] }, 'spec.ports[1]: "30005" overlaps spec.ports[0] ("30000-30010")'],
    [{ ports: ['abc'] }, 'spec.ports[0]: "abc" is not a port number from 1 to 65535'],
    [{ ports: ['30000'], autoAssign: 'no' }, 'spec.autoAssign: "no" must be true or false'],
    [{ ports: ['30000'], serviceAllocation: { priority: -1 } }, 'spec.serviceAllocation.priority'],
  ])('rejects %j', (spec, expected) => {
    const r = parseNodePortPool('np', spec);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.map(formatFieldError).some((m) => m.startsWith(expected))).toBe(true);
  });

  it('honours a custom node port range', () => {
    expect(
      parseNodePortPool('np', { ports: ['20000'] }, { nodePortRange: { lo: 20000, hi: 20100 } }).ok,
    ).toBe(true);
  });

  it('validateNodePortPools rejects overlaps naming both pools', () => {
    const r = validateNodePortPools([
      pool('a', { ports: ['30000-30010'] }),
      pool('b', { ports: ['30020', '30010-30015'] }),
    ]);
    expect(r.accepted.map((p) => p.name)).toEqual(['a']);
    expect(r.rejected[0]?.errors.map(formatFieldError)).toEqual([
      'spec.ports[1]: "30010-30015" overlaps spec.ports[0] ("30000-30010") of NodePortPool "a"',
    ]);
    expect(
      validateNodePortPools([pool('a', { ports: ['30000'] }), pool('a', { ports: ['30001'] })]).rejected,
    ).toHaveLength(1);
  });
});

describe('NodePortAllocator', () => {
  it('fills the lowest free ports from one pool', () => {
    const a = allocator(pool('np', { ports: ['30000-30004'] }));
    expect(ok(a.assign(req('ns/a', [tcp(80), tcp(443)])))).toMatchObject({
      nodePorts: [30000, 30001],
      pool: 'np',
    });
    expect(ok(a.assign(req('ns/b', [tcp(80)]))).nodePorts).toEqual([30002]);
    expect(a.counts()).toEqual([{ pool: 'np', total: 5, used: 3, available: 2 }]);
  });

  it('gives TCP and UDP of the same port one nodePort', () => {
    const a = allocator(pool('np', { ports: ['30000-30004'] }));
    expect(ok(a.assign(req('ns/dns', [tcp(53), udp(53), tcp(80)]))).nodePorts).toEqual([30000, 30000, 30001]);
  });

  it('keeps explicit nodePorts and refuses those held by another Service, protocol notwithstanding', () => {
    const a = allocator(pool('np', { ports: ['30000-30004'] }));
    expect(ok(a.assign(req('ns/a', [tcp(80, 30080), tcp(443)]))).nodePorts).toEqual([30080, 30000]);
    const f = fail(a.assign(req('ns/b', [udp(80, 30080)])));
    expect(f).toMatchObject({ reason: 'PortInUse', nodePort: 30080, conflictsWith: 'ns/a' });
    expect(f.message).toBe('nodePort 30080 is already used by ns/a');
  });

  it('rejects nodePorts outside the range and duplicates', () => {
    const a = allocator(pool('np', { ports: ['30000-30004'] }));
    expect(fail(a.assign(req('ns/a', [tcp(80, 8080)]))).message).toBe(
      'ports[0].nodePort: 8080 is outside the node port range 30000-32767',
    );
    expect(fail(a.assign(req('ns/a', [tcp(80, 30001), tcp(81, 30001)]))).reason).toBe('InvalidRequest');
    expect(fail(a.assign(req('ns/a', [{ protocol: 'ICMP', port: 1 } as never]))).reason).toBe(
      'InvalidRequest',
    );
    expect(fail(a.assign(req('nokey', [tcp(80)]))).reason).toBe('InvalidRequest');
  });

  it('is idempotent and keeps nodePorts across updates that omit them', () => {
    const a = allocator(pool('np', { ports: ['30000-30004'] }));
    ok(a.assign(req('ns/a', [tcp(80), tcp(443)])));
    expect(ok(a.assign(req('ns/a', [tcp(80), tcp(443)])))).toMatchObject({
      nodePorts: [30000, 30001],
      changed: false,
    });
    expect(ok(a.assign(req('ns/a', [tcp(443), tcp(8080)]))).nodePorts).toEqual([30001, 30000]);
    expect(a.ownerOf(30000)).toBe('ns/a');
  });

  it('picks pools by serviceAllocation priority, then the plain ones', () => {
    const a = allocator(
      pool('plain', { ports: ['30000-30001'] }),
      pool('team-2', { ports: ['30100'], serviceAllocation: { priority: 2, namespaces: ['team'] } }),
      pool('team-1', { ports: ['30200'], serviceAllocation: { priority: 1, namespaces: ['team'] } }),
      pool('manual', { ports: ['30300'], autoAssign: false }),
    );
    expect(ok(a.assign(req('team/a', [tcp(80)]))).pool).toBe('team-1');
    expect(ok(a.assign(req('team/b', [tcp(80)]))).pool).toBe('team-2');
    expect(ok(a.assign(req('team/c', [tcp(80)]))).pool).toBe('plain');
    expect(ok(a.assign(req('other/a', [tcp(80)]))).nodePorts).toEqual([30001]);
    expect(fail(a.assign(req('other/b', [tcp(80)]))).reason).toBe('PoolExhausted');
    expect(ok(a.assign(req('other/b', [tcp(80)], { pool: 'manual' }))).nodePorts).toEqual([30300]);
  });

  it('takes all new ports of a request from one pool with room for all', () => {
    const a = allocator(
      pool('small', { ports: ['30000'], serviceAllocation: { priority: 1 } }),
      pool('big', { ports: ['30100-30110'], serviceAllocation: { priority: 2 } }),
    );
    expect(ok(a.assign(req('ns/a', [tcp(1), tcp(2)])))).toMatchObject({
      pool: 'big',
      nodePorts: [30100, 30101],
    });
  });

  it('reports pool errors', () => {
    const a = allocator(pool('team', { ports: ['30000'], serviceAllocation: { namespaces: ['team'] } }));
    expect(fail(a.assign(req('ns/a', [tcp(80)]))).reason).toBe('NoEligiblePool');
    expect(fail(a.assign(req('ns/a', [tcp(80)], { pool: 'nope' }))).reason).toBe('PoolNotFound');
    expect(fail(a.assign(req('ns/a', [tcp(80)], { pool: 'team' }))).reason).toBe('PoolNotEligible');
    ok(a.assign(req('team/a', [tcp(80)])));
    expect(fail(a.assign(req('team/b', [tcp(80)], { pool: 'team' })))).toMatchObject({
      reason: 'PoolExhausted',
      pool: 'team',
    });
  });

  it('needs no pool when every nodePort is explicit', () => {
    const a = new NodePortAllocator();
    expect(ok(a.assign(req('ns/a', [tcp(80, 31000)])))).toMatchObject({
      nodePorts: [31000],
      pool: undefined,
    });
    expect(a.get('ns/a')?.ports).toEqual([{ protocol: 'TCP', port: 80, nodePort: 31000, pool: undefined }]);
  });

  it('releases and restores', () => {
    const a = allocator(pool('np', { ports: ['30000-30004'] }));
    ok(a.assign(req('ns/a', [tcp(80)])));
    expect(a.release('ns/a')?.ports.map((p) => p.nodePort)).toEqual([30000]);
    expect(a.release('ns/a')).toBeUndefined();
    const b = allocator(pool('np', { ports: ['30000-30004'] }));
    expect(ok(b.restore('ns/a', [tcp(80, 30003), udp(80, 30003)]))).toMatchObject({ changed: true });
    expect(fail(b.restore('ns/b', [tcp(81, 30003)]))).toMatchObject({
      reason: 'PortInUse',
      conflictsWith: 'ns/a',
    });
    expect(fail(b.restore('ns/b', [tcp(81)])).message).toBe('ports[0].nodePort is missing');
    expect(b.assignments().map((x) => x.service)).toEqual(['ns/a']);
    expect(ok(b.assign(req('ns/c', [tcp(80)]))).nodePorts).toEqual([30000]);
  });
});
