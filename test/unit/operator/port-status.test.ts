import { describe, expect, it } from '@jest/globals';
import { judgeNodePortPools, nodePortPoolStatus } from '../../../operator/controllers/pools/port-status.ts';
import type { NodePortPoolObject } from '../../../operator/controllers/pools/port-status.ts';

const NOW = Date.parse('2026-11-30T08:00:00Z');
const pool = (name: string, ports: string[], created = '2026-11-30T07:00:00Z'): NodePortPoolObject => ({
  metadata: { name, creationTimestamp: created, generation: 2 },
  spec: { ports },
});
const cond = (s: ReturnType<typeof nodePortPoolStatus>, type: string) =>
  s.conditions?.find((c) => c.type === type);

describe('NodePortPool status core', () => {
  it('counts total, used and available and is Ready', () => {
    const p = pool('a', ['31000-31099', '31200']);
    const s = nodePortPoolStatus(p, judgeNodePortPools([p]), 3, undefined, NOW);
    expect(s).toMatchObject({ total: 101, used: 3, available: 98, observedGeneration: 2 });
    expect(cond(s, 'Ready')).toMatchObject({ status: 'True', reason: 'Valid', observedGeneration: 2 });
    expect(cond(s, 'Invalid')?.status).toBe('False');
    expect(cond(s, 'Exhausted')?.status).toBe('False');
  });

  it('is Exhausted when every port is used', () => {
    const p = pool('a', ['31000-31001']);
    const s = nodePortPoolStatus(p, judgeNodePortPools([p]), 2, undefined, NOW);
    expect(cond(s, 'Exhausted')).toMatchObject({ status: 'True', reason: 'PoolExhausted' });
    expect(s.available).toBe(0);
  });

  it('names the field of a range outside the configured node-port range', () => {
    const p = pool('a', ['31000-31099', '32000-32100']);
    const judgement = judgeNodePortPools([p], { nodePortRange: { lo: 30000, hi: 32000 } });
    const s = nodePortPoolStatus(p, judgement, 0, undefined, NOW);
    expect(cond(s, 'Ready')).toMatchObject({ status: 'False', reason: 'InvalidSpec' });
    expect(cond(s, 'Invalid')?.message).toContain('spec.ports[1]');
    expect(cond(s, 'Invalid')?.message).toContain('outside the node port range 30000-32000');
    expect(s.total).toBeUndefined();
  });

  it('rejects the younger of two overlapping pools, naming the older', () => {
    const old = pool('old', ['31000-31099'], '2026-11-30T06:00:00Z');
    const young = pool('young', ['31050-31150']);
    const judgement = judgeNodePortPools([young, old]);
    expect(judgement.usable.map((p) => p.name)).toEqual(['old']);
    const s = nodePortPoolStatus(young, judgement, 0, undefined, NOW);
    expect(cond(s, 'Overlap')).toMatchObject({ status: 'True', reason: 'Overlap' });
    expect(cond(s, 'Overlap')?.message).toContain('NodePortPool "old"');
  });

  it('shows the audit condition and keeps transition times when nothing changed', () => {
    const p = pool('a', ['31000-31099']);
    const outside = {
      type: 'ServicesOutsidePool',
      status: 'True' as const,
      reason: 'ValuesOutsidePool',
      message: 'm',
    };
    const first = nodePortPoolStatus(p, judgeNodePortPools([p]), 0, outside, NOW);
    expect(cond(first, 'ServicesOutsidePool')).toMatchObject({ status: 'True', message: 'm' });
    const again = nodePortPoolStatus(
      { ...p, status: first },
      judgeNodePortPools([p]),
      0,
      outside,
      NOW + 60_000,
    );
    expect(again).toEqual(first);
  });
});
