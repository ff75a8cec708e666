import { describe, expect, it } from '@jest/globals';
import { judgePools, poolStatus } from '../../../operator/controllers/pools/status.ts';
import type { PoolObject } from '../../../operator/controllers/pools/status.ts';

const NOW = Date.parse('2026-11-30T08:00:00Z');
const none = () => ({ IPv4: 0n, IPv6: 0n });
const pool = (
  name: string,
  addresses: string[],
  created = '2026-11-30T07:00:00Z',
  extra = {},
): PoolObject => ({
  metadata: { name, creationTimestamp: created, generation: 1 },
  spec: { addresses, ...extra },
});
const cond = (s: ReturnType<typeof poolStatus>, type: string) => s.conditions?.find((c) => c.type === type);

describe('pool status core', () => {
  it('counts a valid pool per family and is Ready', () => {
    const p = pool('a', ['192.0.2.0/30', '2001:db8::/126']);
    const s = poolStatus(p, judgePools([p]), () => ({ IPv4: 1n, IPv6: 0n }), NOW);
    expect(s.ipv4).toMatchObject({ total: 4, assigned: 1, available: 3 });
    expect(s.ipv6).toMatchObject({ total: 4, assigned: 0, available: 4 });
    expect(cond(s, 'Ready')?.status).toBe('True');
    expect(cond(s, 'Invalid')?.status).toBe('False');
    expect(cond(s, 'Exhausted')?.status).toBe('False');
    expect(cond(s, 'Ready')?.observedGeneration).toBe(1);
  });

  it('omits a family the pool does not have', () => {
    const p = pool('v4', ['192.0.2.1']);
    const s = poolStatus(p, judgePools([p]), none, NOW);
    expect(s.ipv6).toBeUndefined();
  });

  it('is Exhausted when every address is assigned', () => {
    const p = pool('a', ['192.0.2.0/31']);
    const s = poolStatus(p, judgePools([p]), () => ({ IPv4: 2n, IPv6: 0n }), NOW);
    expect(cond(s, 'Exhausted')).toMatchObject({ status: 'True', reason: 'PoolExhausted' });
  });

  it('honours avoidBuggyIPs in the totals', () => {
    const p = pool('a', ['192.0.2.0/24'], undefined, { avoidBuggyIPs: true });
    expect(poolStatus(p, judgePools([p]), none, NOW).ipv4?.total).toBe(254);
  });

  it('names the field of a reversed range', () => {
    const p = pool('r', ['192.0.2.1', '192.0.2.9-192.0.2.1']);
    const s = poolStatus(p, judgePools([p]), none, NOW);
    expect(cond(s, 'Invalid')).toMatchObject({ status: 'True', reason: 'InvalidSpec' });
    expect(cond(s, 'Invalid')?.message).toMatch(/^spec\.addresses\[1\]: /);
    expect(cond(s, 'Ready')?.status).toBe('False');
    expect(s.ipv4).toBeUndefined();
  });

  it('flags the newer of two overlapping pools and keeps the older', () => {
    const older = pool('z-older', ['10.0.0.0/24'], '2026-11-30T07:00:00Z');
    const newer = pool('a-newer', ['10.0.0.128/25'], '2026-11-30T07:00:05Z');
    const j = judgePools([newer, older]);
    expect(cond(poolStatus(older, j, none, NOW), 'Ready')?.status).toBe('True');
    const s = poolStatus(newer, j, none, NOW);
    expect(cond(s, 'Overlap')?.status).toBe('True');
    expect(cond(s, 'Overlap')?.message).toMatch(/spec\.addresses\[0\].*"z-older"/);
  });

  it('within the same second, the pool already Ready keeps working', () => {
    const t = '2026-11-30T07:00:00Z';
    const inUse: PoolObject = {
      ...pool('z', ['10.0.0.0/24'], t),
      status: {
        conditions: [{ type: 'Ready', status: 'True', reason: 'Valid', message: '', lastTransitionTime: t }],
      },
    };
    const newcomer = pool('a', ['10.0.0.0/25'], t);
    const j = judgePools([newcomer, inUse]);
    expect(j.overlapping.has('a')).toBe(true);
    expect(j.overlapping.has('z')).toBe(false);
  });

  it('keeps lastTransitionTime when nothing changed', () => {
    const p = pool('a', ['192.0.2.0/30']);
    const first = poolStatus(p, judgePools([p]), none, NOW);
    const again = poolStatus({ ...p, status: first }, judgePools([p]), none, NOW + 60_000);
    expect(again).toEqual(first);
  });
});

describe('pool status core: ClusterIP extras', () => {
  const p = pool('c', ['10.96.0.0/28'], '2026-11-30T07:00:00Z', { usage: 'ClusterIP' });
  it('shows extra conditions and stays Ready when inside a ServiceCIDR', () => {
    const s = poolStatus(p, judgePools([p]), none, NOW, [
      { type: 'OutsideServiceCIDR', status: 'False', reason: 'InsideServiceCIDR' },
      { type: 'ServicesOutsidePool', status: 'True', reason: 'ValuesOutsidePool', message: '1 Service' },
    ]);
    expect(cond(s, 'ServicesOutsidePool')).toMatchObject({ status: 'True', message: '1 Service' });
    expect(cond(s, 'Ready')?.status).toBe('True');
  });

  it('is not Ready when outside every ServiceCIDR, with the reason and message', () => {
    const s = poolStatus(p, judgePools([p]), none, NOW, [
      {
        type: 'OutsideServiceCIDR',
        status: 'True',
        reason: 'OutsideServiceCIDR',
        message: 'outside 10.0.0.0/8',
      },
    ]);
    expect(cond(s, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'OutsideServiceCIDR',
      message: 'outside 10.0.0.0/8',
    });
  });

  it('drops the ClusterIP-only conditions once the pool is a LoadBalancer pool again', () => {
    const before = poolStatus(p, judgePools([p]), none, NOW, [
      { type: 'OutsideServiceCIDR', status: 'False', reason: 'InsideServiceCIDR' },
      { type: 'ServicesOutsidePool', status: 'False', reason: 'AllInside' },
    ]);
    const lb = { ...pool('c', ['10.96.0.0/28']), status: before };
    const after = poolStatus(lb, judgePools([lb]), none, NOW);
    expect(after.conditions?.map((c) => c.type).sort()).toEqual(['Exhausted', 'Invalid', 'Overlap', 'Ready']);
  });
});
