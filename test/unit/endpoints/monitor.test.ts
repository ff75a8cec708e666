import { describe, expect, it } from '@jest/globals';
import { ManualClock } from '../../../lib/clock.ts';
import type { ProbePlan } from '../../../operator/controllers/endpoints/binding.ts';
import { BackendsMonitor } from '../../../operator/controllers/endpoints/monitor.ts';
import type { Lookup } from '../../../operator/controllers/endpoints/resolution.ts';

const flush = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

const plan: ProbePlan = {
  type: 'tcp',
  port: 80,
  path: '/',
  intervalMs: 1000,
  timeoutMs: 500,
  thresholds: { healthy: 2, unhealthy: 2 },
};

function setup() {
  const clock = new ManualClock(0);
  const up = new Set<string>();
  const answers = new Map<string, Lookup>();
  const calls = { probes: [] as string[], lookups: [] as string[], changes: 0, failures: 0 };
  const monitor = new BackendsMonitor({
    clock,
    bounds: { minMs: 1000, maxMs: 8000 },
    resolve: async (name) => {
      calls.lookups.push(name);
      return (
        answers.get(name) ?? {
          IPv4: { kind: 'error', code: 'ECONNREFUSED' },
          IPv6: { kind: 'error', code: 'ECONNREFUSED' },
        }
      );
    },
    probe: async (address) => {
      calls.probes.push(address);
      return up.has(address) ? { ok: true } : { ok: false, message: 'connect ECONNREFUSED' };
    },
    onChange: () => calls.changes++,
    onResolutionFailure: () => calls.failures++,
  });
  const tick = async (ms: number) => {
    clock.advance(ms);
    await flush();
  };
  return { clock, up, answers, calls, monitor, tick };
}

describe('BackendsMonitor', () => {
  it('probes new addresses at once and then every interval, reporting phase changes', async () => {
    const { up, calls, monitor, tick } = setup();
    up.add('192.0.2.1');
    monitor.setProbes(['192.0.2.1', '192.0.2.2'], plan);
    await tick(0);
    expect(calls.probes).toEqual(['192.0.2.1', '192.0.2.2']);
    expect(calls.changes).toBe(2);
    const obs = monitor.observations();
    expect(obs.probing).toBe(true);
    expect(obs.health.get('192.0.2.1')?.phase).toBe('healthy');
    expect(obs.health.get('192.0.2.2')?.phase).toBe('unhealthy');
    await tick(1000);
    expect(calls.probes).toHaveLength(4);
    expect(calls.changes).toBe(2);
  });

  it('withdraws an address after unhealthyThreshold failed intervals and restores it after healthyThreshold', async () => {
    const { up, calls, monitor, tick } = setup();
    up.add('192.0.2.1');
    monitor.setProbes(['192.0.2.1'], plan);
    await tick(0);
    up.delete('192.0.2.1');
    await tick(1000);
    expect(monitor.observations().health.get('192.0.2.1')?.phase).toBe('healthy');
    await tick(1000);
    expect(monitor.observations().health.get('192.0.2.1')?.phase).toBe('unhealthy');
    up.add('192.0.2.1');
    await tick(1000);
    expect(monitor.observations().health.get('192.0.2.1')?.phase).toBe('unhealthy');
    await tick(1000);
    expect(monitor.observations().health.get('192.0.2.1')?.phase).toBe('healthy');
    expect(calls.changes).toBe(3);
  });

  it('stops probing removed addresses and everything without a plan', async () => {
    const { clock, calls, monitor, tick } = setup();
    monitor.setProbes(['192.0.2.1', '192.0.2.2'], plan);
    await tick(0);
    monitor.setProbes(['192.0.2.2'], plan);
    expect([...monitor.observations().health.keys()]).toEqual(['192.0.2.2']);
    monitor.setProbes(['192.0.2.2'], undefined);
    expect(monitor.observations()).toMatchObject({ probing: false });
    expect(clock.pending()).toBe(0);
    const before = calls.probes.length;
    await tick(5000);
    expect(calls.probes.length).toBe(before);
  });

  it('starts over when the plan changes', async () => {
    const { up, monitor, tick } = setup();
    up.add('192.0.2.1');
    monitor.setProbes(['192.0.2.1'], plan);
    await tick(0);
    monitor.setProbes(['192.0.2.1'], { ...plan, port: 81 });
    expect(monitor.observations().health.get('192.0.2.1')?.phase).toBe('pending');
  });

  it('looks names up at once, follows the TTL, keeps last good on failure', async () => {
    const { answers, calls, monitor, tick } = setup();
    answers.set('db.test', {
      IPv4: { kind: 'answers', answers: [{ address: '192.0.2.5', ttl: 3 }] },
      IPv6: { kind: 'nodata' },
    });
    monitor.setHostnames(['db.test']);
    expect(monitor.observations().resolution.has('db.test')).toBe(false);
    await tick(0);
    expect(monitor.observations().resolution.get('db.test')?.IPv4).toEqual(['192.0.2.5']);
    expect(calls.changes).toBe(1);
    await tick(2999);
    expect(calls.lookups).toHaveLength(1);
    answers.delete('db.test');
    await tick(1);
    expect(calls.lookups).toHaveLength(2);
    const r = monitor.observations().resolution.get('db.test');
    expect(r?.IPv4).toEqual(['192.0.2.5']);
    expect(r?.error).toMatch(/ECONNREFUSED/);
    expect(calls.failures).toBe(1);
    expect(calls.changes).toBe(2);
    await tick(1000);
    expect(calls.lookups).toHaveLength(3);
    expect(calls.changes).toBe(2);
    monitor.stop();
    await tick(60_000);
    expect(calls.lookups).toHaveLength(3);
  });

  it('ignores a result that arrives after its loop was dropped', async () => {
    const clock = new ManualClock(0);
    let release: (v: { ok: boolean }) => void = () => undefined;
    let changes = 0;
    const monitor = new BackendsMonitor({
      clock,
      bounds: { minMs: 1000, maxMs: 1000 },
      resolve: async () => ({ IPv4: { kind: 'nodata' }, IPv6: { kind: 'nodata' } }),
      probe: () => new Promise((r) => (release = r)),
      onChange: () => changes++,
    });
    monitor.setProbes(['192.0.2.1'], plan);
    monitor.setProbes([], plan);
    release({ ok: true });
    await flush();
    expect(changes).toBe(0);
    expect(clock.pending()).toBe(0);
  });

  it('carries over addresses published ready before a restart, so they do not flap', async () => {
    const { monitor, tick, calls } = setup();
    monitor.setProbes(['192.0.2.1', '192.0.2.2'], plan, (a) => a === '192.0.2.1');
    expect(monitor.observations().health.get('192.0.2.1')?.phase).toBe('healthy');
    expect(monitor.observations().health.get('192.0.2.2')?.phase).toBe('pending');
    await tick(0); // both probes fail
    expect(monitor.observations().health.get('192.0.2.1')?.phase).toBe('healthy');
    expect(calls.changes).toBe(1); // only the pending one changed
    await tick(1000);
    expect(monitor.observations().health.get('192.0.2.1')?.phase).toBe('unhealthy');
  });

  it('carries over resolved addresses, kept while DNS is down at start', async () => {
    const { monitor, tick, calls } = setup();
    monitor.setHostnames(['db.test'], () => ['2001:db8::5', '192.0.2.5']);
    expect(monitor.observations().resolution.get('db.test')).toMatchObject({
      IPv4: ['192.0.2.5'],
      IPv6: ['2001:db8::5'],
    });
    await tick(0);
    const r = monitor.observations().resolution.get('db.test');
    expect(r).toMatchObject({ IPv4: ['192.0.2.5'], IPv6: ['2001:db8::5'], failures: 1 });
    expect(r?.error).toMatch(/ECONNREFUSED/);
    expect(calls.lookups).toEqual(['db.test']);
  });
});
