import { describe, expect, it } from '@jest/globals';
import { decideLease, formatMicroTime, nextTransitions, observeLease } from '../../../lib/lease-decision.ts';
import type { LeaseRecord } from '../../../lib/lease-decision.ts';

const DURATION = 15_000;

function record(overrides: Partial<LeaseRecord> = {}): LeaseRecord {
  return {
    holderIdentity: 'other',
    leaseDurationSeconds: 15,
    leaseTransitions: 3,
    resourceVersion: '10',
    ...overrides,
  };
}

describe('lease decision', () => {
  it('lets the holder renew', () => {
    const obs = observeLease(undefined, record({ holderIdentity: 'me' }), 0);
    expect(decideLease(obs, 'me', 0, DURATION)).toEqual({ action: 'renew' });
  });

  it('lets anyone take a released lease at once', () => {
    const obs = observeLease(undefined, record({ holderIdentity: '', leaseDurationSeconds: 1 }), 0);
    expect(decideLease(obs, 'me', 0, DURATION)).toEqual({ action: 'acquire', reason: 'free' });
  });

  it('waits while the holder renews, measured on the local clock from first sight', () => {
    let obs = observeLease(undefined, record(), 1_000);
    expect(decideLease(obs, 'me', 1_000, DURATION)).toEqual({
      action: 'wait',
      holder: 'other',
      expiresInMs: 15_000,
    });
    expect(decideLease(obs, 'me', 15_999, DURATION)).toMatchObject({ action: 'wait', expiresInMs: 1 });
    // A renewal (new resourceVersion) restarts the wait.
    obs = observeLease(obs, record({ resourceVersion: '11' }), 12_000);
    expect(obs.observedAtMs).toBe(12_000);
    expect(decideLease(obs, 'me', 16_000, DURATION)).toMatchObject({ action: 'wait', expiresInMs: 11_000 });
  });

  it('does not restart the wait when the same version is read again', () => {
    const first = observeLease(undefined, record(), 1_000);
    const again = observeLease(first, record(), 9_000);
    expect(again.observedAtMs).toBe(1_000);
    expect(decideLease(again, 'me', 16_000, DURATION)).toEqual({ action: 'acquire', reason: 'expired' });
  });

  it("uses the holder's stated duration, falling back to ours", () => {
    const short = observeLease(undefined, record({ leaseDurationSeconds: 2 }), 0);
    expect(decideLease(short, 'me', 2_000, DURATION).action).toBe('acquire');
    const unstated = observeLease(undefined, record({ leaseDurationSeconds: 0 }), 0);
    expect(decideLease(unstated, 'me', 14_000, DURATION).action).toBe('wait');
    expect(decideLease(unstated, 'me', 15_000, DURATION).action).toBe('acquire');
  });

  it('counts transitions only when the holder changes', () => {
    expect(nextTransitions(undefined, 'me')).toBe(0);
    expect(nextTransitions(record({ holderIdentity: 'me' }), 'me')).toBe(3);
    expect(nextTransitions(record({ holderIdentity: 'other' }), 'me')).toBe(4);
    expect(nextTransitions(record({ holderIdentity: '' }), 'me')).toBe(4);
  });

  it('formats MicroTime with six fractional digits', () => {
    expect(formatMicroTime(Date.UTC(2025, 0, 2, 3, 4, 5, 678))).toBe('2025-01-02T03:04:05.678000Z');
    expect(formatMicroTime(Date.UTC(2025, 0, 2, 3, 4, 5, 0))).toBe('2025-01-02T03:04:05.000000Z');
  });
});
