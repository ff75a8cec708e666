import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { elect } from '../../../speaker/l2/election.ts';
import { handover } from '../../../speaker/l2/handover.ts';
import { Liveness } from '../../../speaker/l2/liveness.ts';
import { statusName } from '../../../speaker/l2/status-name.ts';

const nodes = ['n1', 'n2', 'n3', 'n4', 'n5'].map((node) => ({ node }));
const ips = Array.from({ length: 200 }, (_, i) => `192.0.2.${i}`);

describe('election', () => {
  it('is deterministic and independent of candidate order', () => {
    fc.assert(
      fc.property(fc.shuffledSubarray(nodes, { minLength: 1 }), fc.ipV4(), (subset, ip) => {
        expect(elect(ip, subset)).toBe(elect(ip, [...subset].reverse()));
        expect(subset.map((c) => c.node)).toContain(elect(ip, subset));
      }),
    );
  });

  it('moves only the IPs of a node that leaves', () => {
    const before = new Map(ips.map((ip) => [ip, elect(ip, nodes)]));
    const without = nodes.filter((c) => c.node !== 'n3');
    for (const ip of ips) {
      const after = elect(ip, without);
      if (before.get(ip) !== 'n3') expect(after).toBe(before.get(ip));
      else expect(after).not.toBe('n3');
    }
  });

  it('spreads IPs over the nodes', () => {
    const counts = new Map<string, number>();
    for (const ip of ips) counts.set(elect(ip, nodes)!, (counts.get(elect(ip, nodes)!) ?? 0) + 1);
    expect(counts.size).toBe(5);
    for (const n of counts.values()) expect(n).toBeGreaterThan(15);
  });

  it('prefers the highest score, then the hash', () => {
    const scored = nodes.map((c) => ({ ...c, score: c.node === 'n4' ? 10 : 0 }));
    for (const ip of ips.slice(0, 20)) expect(elect(ip, scored)).toBe('n4');
    expect(elect('192.0.2.1', [])).toBeUndefined();
  });
});

describe('liveness', () => {
  it('is live from a heartbeat until dead-after passes', () => {
    const l = new Liveness({ deadAfterMs: 300 });
    expect(l.heard('n2', 1n, 1000)).toBe(true);
    expect(l.heard('n2', 1n, 1100)).toBe(false);
    expect(l.live(1399)).toEqual(['n2']);
    expect(l.live(1400)).toEqual([]);
    expect(l.nextExpiry(1200)).toBe(1400);
  });

  it('drops a node on goodbye, and a stale heartbeat of that incarnation does not revive it', () => {
    const l = new Liveness({ deadAfterMs: 300 });
    l.heard('n2', 5n, 1000);
    expect(l.left('n2', 5n, 1010)).toBe(true);
    expect(l.isLive('n2', 1010)).toBe(false);
    expect(l.heard('n2', 5n, 1020)).toBe(false);
    expect(l.isLive('n2', 1020)).toBe(false);
    // A restarted speaker (later incarnation) is live again.
    expect(l.heard('n2', 9n, 1030)).toBe(true);
  });
});

describe('handover', () => {
  const empty = { previous: new Map<string, string | undefined>(), waitingSince: new Map<string, number>() };

  it('takes over at once from a dead winner', () => {
    const r = handover(
      'n1',
      new Map([['ip', 'n1']]),
      new Set(['n1']),
      new Set(),
      {
        ...empty,
        previous: new Map([['ip', 'n2']]),
      },
      0,
      200,
    );
    expect([...r.acquire]).toEqual(['ip']);
  });

  it('waits for a live old winner to release first', () => {
    const state = { ...empty, previous: new Map([['ip', 'n2']]) };
    const live = new Set(['n1', 'n2']);
    const r1 = handover('n1', new Map([['ip', 'n1']]), live, new Set(), state, 1000, 200);
    expect(r1.acquire.size).toBe(0);
    expect(r1.recheckAt).toBe(1200);
    expect(r1.previous.get('ip')).toBe('n2');
    const r2 = handover('n1', new Map([['ip', 'n1']]), live, new Set(), r1, 1200, 200);
    expect([...r2.acquire]).toEqual(['ip']);
  });

  it('acquires what nobody held, and never what another node won', () => {
    const r = handover(
      'n1',
      new Map([
        ['a', 'n1'],
        ['b', 'n2'],
      ]),
      new Set(['n1', 'n2']),
      new Set(),
      empty,
      0,
      200,
    );
    expect([...r.acquire]).toEqual(['a']);
  });
});

describe('status name', () => {
  it('is readable when it can be and a hash otherwise', () => {
    expect(statusName('node-1', 'web', 'front')).toBe('web.front.node-1');
    const long = statusName('n'.repeat(200), 'a'.repeat(60), 'b'.repeat(60));
    expect(long).toMatch(/^l2-[0-9a-f]{40}$/);
  });
});
