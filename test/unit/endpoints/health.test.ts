import { describe, expect, it } from '@jest/globals';
import {
  INITIAL_HEALTH,
  isHealthy,
  observeProbe,
  phaseChanged,
} from '../../../operator/controllers/endpoints/health.ts';
import type { HealthState } from '../../../operator/controllers/endpoints/health.ts';

const th = { healthy: 2, unhealthy: 3 };
const ok = { ok: true };
const fail = (message = 'connect ECONNREFUSED') => ({ ok: false, message });

function run(
  results: { ok: boolean; message?: string }[],
  start: HealthState = INITIAL_HEALTH,
): HealthState[] {
  const states: HealthState[] = [];
  let s = start;
  results.forEach((r, i) => {
    s = observeProbe(s, r, th, i * 1000);
    states.push(s);
  });
  return states;
}

describe('health state machine', () => {
  it('publishes a new address after a single success', () => {
    const [s] = run([ok]);
    expect(s).toMatchObject({ phase: 'healthy', successes: 1, failures: 0, sinceMs: 0 });
    expect(isHealthy(s)).toBe(true);
  });

  it('marks a new address unhealthy on its first failure, with the reason', () => {
    const [s] = run([fail()]);
    expect(s).toMatchObject({ phase: 'unhealthy', failures: 1, message: 'connect ECONNREFUSED' });
    expect(isHealthy(s)).toBe(false);
    expect(isHealthy(undefined)).toBe(false);
  });

  it('needs unhealthyThreshold failures in a row to withdraw a healthy address', () => {
    const states = run([ok, fail(), fail(), fail()]);
    expect(states.map((s) => s.phase)).toEqual(['healthy', 'healthy', 'healthy', 'unhealthy']);
    expect(states[3]).toMatchObject({ sinceMs: 3000, message: 'connect ECONNREFUSED' });
  });

  it('resets the failure count on a success', () => {
    const states = run([ok, fail(), fail(), ok, fail(), fail()]);
    expect(states.every((s) => s.phase === 'healthy')).toBe(true);
  });

  it('needs healthyThreshold successes in a row to bring an unhealthy address back', () => {
    const states = run([fail(), ok, fail(), ok, ok]);
    expect(states.map((s) => s.phase)).toEqual([
      'unhealthy',
      'unhealthy',
      'unhealthy',
      'unhealthy',
      'healthy',
    ]);
    expect(states[4]).toMatchObject({ sinceMs: 4000, failures: 0 });
    expect(states[4]?.message).toBeUndefined();
  });

  it('keeps the message of the failure that made it unhealthy, so status does not churn', () => {
    const states = run([fail('HTTP 503'), fail('connect ETIMEDOUT')]);
    expect(states[1]?.message).toBe('HTTP 503');
    expect(phaseChanged(states[0], states[1]!)).toBe(false);
  });

  it('reports phase changes and the first observation', () => {
    const [a, b] = run([ok, fail()]);
    expect(phaseChanged(undefined, a!)).toBe(true);
    expect(phaseChanged(a, b!)).toBe(false);
    expect(phaseChanged(INITIAL_HEALTH, a!)).toBe(true);
  });

  it('with thresholds of 1 flips on every result', () => {
    let s = INITIAL_HEALTH;
    const phases: string[] = [];
    for (const r of [ok, fail(), ok, fail()]) {
      s = observeProbe(s, r, { healthy: 1, unhealthy: 1 }, 0);
      phases.push(s.phase);
    }
    expect(phases).toEqual(['healthy', 'unhealthy', 'healthy', 'unhealthy']);
  });
});
