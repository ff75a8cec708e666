import { describe, expect, it } from '@jest/globals';
import {
  INITIAL_RESOLUTION,
  addressesOf,
  applyLookup,
  isDue,
  resolutionChanged,
  retryDelay,
} from '../../../operator/controllers/endpoints/resolution.ts';
import type { Lookup } from '../../../operator/controllers/endpoints/resolution.ts';

const bounds = { minMs: 1000, maxMs: 60_000 };
const v4 = (...addrs: [string, number][]): Lookup => ({
  IPv4: { kind: 'answers', answers: addrs.map(([address, ttl]) => ({ address, ttl })) },
  IPv6: { kind: 'nodata' },
});

describe('DNS resolution state', () => {
  it('takes the answers, sorted and deduplicated, and refreshes after the smallest TTL', () => {
    const s = applyLookup(
      INITIAL_RESOLUTION,
      v4(['192.0.2.2', 30], ['192.0.2.1', 20], ['192.0.2.2', 30]),
      0,
      bounds,
    );
    expect(addressesOf(s)).toEqual(['192.0.2.1', '192.0.2.2']);
    expect(s).toMatchObject({ resolved: true, failures: 0, nextMs: 20_000 });
    expect(s.error).toBeUndefined();
    expect(isDue(s, 19_999)).toBe(false);
    expect(isDue(s, 20_000)).toBe(true);
  });

  it('clamps the TTL to the refresh bounds', () => {
    expect(applyLookup(INITIAL_RESOLUTION, v4(['192.0.2.1', 0]), 5, bounds).nextMs).toBe(1005);
    expect(applyLookup(INITIAL_RESOLUTION, v4(['192.0.2.1', 86_400]), 0, bounds).nextMs).toBe(60_000);
  });

  it('merges A and AAAA answers, IPv4 first', () => {
    const s = applyLookup(
      INITIAL_RESOLUTION,
      {
        IPv4: { kind: 'answers', answers: [{ address: '192.0.2.1', ttl: 10 }] },
        IPv6: { kind: 'answers', answers: [{ address: '2001:db8::1', ttl: 5 }] },
      },
      0,
      bounds,
    );
    expect(addressesOf(s)).toEqual(['192.0.2.1', '2001:db8::1']);
    expect(s.nextMs).toBe(5000);
  });

  it('keeps the last good addresses when the server is down, and says why', () => {
    const good = applyLookup(INITIAL_RESOLUTION, v4(['192.0.2.1', 5]), 0, bounds);
    const down: Lookup = {
      IPv4: { kind: 'error', code: 'ECONNREFUSED' },
      IPv6: { kind: 'error', code: 'ECONNREFUSED' },
    };
    const s = applyLookup(good, down, 5000, bounds);
    expect(addressesOf(s)).toEqual(['192.0.2.1']);
    expect(s).toMatchObject({ resolved: true, failures: 1, nextMs: 6000 });
    expect(s.error).toMatch(/A lookup failed: ECONNREFUSED; AAAA lookup failed: ECONNREFUSED/);
    expect(resolutionChanged(good, s)).toBe(true);
  });

  it('backs off after repeated failures up to the maximum', () => {
    expect([1, 2, 3, 4, 10, 100].map((n) => retryDelay(n, bounds))).toEqual([
      1000, 2000, 4000, 8000, 60_000, 60_000,
    ]);
    let s = INITIAL_RESOLUTION;
    const down: Lookup = {
      IPv4: { kind: 'error', code: 'ETIMEOUT' },
      IPv6: { kind: 'error', code: 'ETIMEOUT' },
    };
    for (let i = 0; i < 3; i++) s = applyLookup(s, down, 0, bounds);
    expect(s).toMatchObject({ resolved: false, failures: 3, nextMs: 4000 });
    expect(addressesOf(s)).toEqual([]);
  });

  it('treats a name without records as a failure that keeps the last good addresses', () => {
    const good = applyLookup(INITIAL_RESOLUTION, v4(['192.0.2.1', 5]), 0, bounds);
    const s = applyLookup(good, { IPv4: { kind: 'nodata' }, IPv6: { kind: 'nodata' } }, 1, bounds);
    expect(addressesOf(s)).toEqual(['192.0.2.1']);
    expect(s.error).toBe('the name has no A or AAAA records');
  });

  it('updates a family that answered while keeping one that failed', () => {
    const both = applyLookup(
      INITIAL_RESOLUTION,
      {
        IPv4: { kind: 'answers', answers: [{ address: '192.0.2.1', ttl: 5 }] },
        IPv6: { kind: 'answers', answers: [{ address: '2001:db8::1', ttl: 5 }] },
      },
      0,
      bounds,
    );
    const s = applyLookup(
      both,
      {
        IPv4: { kind: 'answers', answers: [{ address: '192.0.2.9', ttl: 5 }] },
        IPv6: { kind: 'error', code: 'ESERVFAIL' },
      },
      10,
      bounds,
    );
    expect(addressesOf(s)).toEqual(['192.0.2.9', '2001:db8::1']);
    expect(s.error).toBe('AAAA lookup failed: ESERVFAIL');
  });

  it('recovers: a good answer after failures clears the error and the backoff', () => {
    const down: Lookup = {
      IPv4: { kind: 'error', code: 'ECONNREFUSED' },
      IPv6: { kind: 'error', code: 'ECONNREFUSED' },
    };
    const failed = applyLookup(applyLookup(INITIAL_RESOLUTION, down, 0, bounds), down, 0, bounds);
    const s = applyLookup(failed, v4(['192.0.2.3', 2]), 100, bounds);
    expect(s).toMatchObject({ failures: 0, resolved: true, nextMs: 2100 });
    expect(s.error).toBeUndefined();
  });

  it('sees no change when a refresh returns the same answers', () => {
    const a = applyLookup(INITIAL_RESOLUTION, v4(['192.0.2.1', 5]), 0, bounds);
    const b = applyLookup(a, v4(['192.0.2.1', 5]), 5000, bounds);
    expect(resolutionChanged(a, b)).toBe(false);
    expect(resolutionChanged(a, applyLookup(a, v4(['192.0.2.2', 5]), 5000, bounds))).toBe(true);
  });
});
