import { describe, expect, it } from '@jest/globals';
import {
  clampCount,
  familyCounts,
  formatCount,
  isClamped,
  isExhausted,
  renderStatusCounts,
} from '../../../operator/allocator/counts.ts';

describe('counts', () => {
  it('computes available and never goes negative', () => {
    expect(familyCounts(10n, 3n, 2n)).toEqual({ total: 10n, assigned: 3n, reserved: 2n, available: 5n });
    expect(familyCounts(1n, 3n).available).toBe(0n);
  });

  it('renders for status with saturation and exact strings', () => {
    const c = { pool: 'p', IPv4: familyCounts(256n, 3n), IPv6: familyCounts(1n << 64n, 1n) };
    expect(renderStatusCounts(c)).toEqual({
      ipv4: { total: 256, assigned: 3, available: 253, totalExact: '256', availableExact: '253' },
      ipv6: {
        total: Number.MAX_SAFE_INTEGER,
        assigned: 1,
        available: Number.MAX_SAFE_INTEGER,
        totalExact: '18446744073709551616',
        availableExact: '18446744073709551615',
      },
    });
    expect(isClamped(c)).toBe(true);
    expect(isClamped({ ...c, IPv6: familyCounts(0n, 0n) })).toBe(false);
    expect(clampCount(-1n)).toBe(0);
  });

  it('knows when a pool is exhausted', () => {
    const full = familyCounts(2n, 2n);
    const empty = familyCounts(0n, 0n);
    expect(isExhausted({ pool: 'p', IPv4: full, IPv6: empty })).toBe(true);
    expect(isExhausted({ pool: 'p', IPv4: full, IPv6: familyCounts(4n, 1n) })).toBe(false);
    expect(isExhausted({ pool: 'p', IPv4: empty, IPv6: empty })).toBe(false);
    expect(isExhausted({ pool: 'p', IPv4: familyCounts(2n, 1n, 1n), IPv6: empty })).toBe(true);
  });

  it('formats huge counts briefly', () => {
    expect(formatCount(12n)).toBe('12');
    expect(formatCount(1n << 64n)).toBe('2^64');
    expect(formatCount((1n << 64n) + 5n)).toBe('~2^64');
  });
});
