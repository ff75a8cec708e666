import { describe, expect, it } from '@jest/globals';
import { desiredEndpoints, expandBackends } from '../../../operator/controllers/endpoints/backends.ts';
import type { Observations } from '../../../operator/controllers/endpoints/backends.ts';
import { bindServiceBackends } from '../../../operator/controllers/endpoints/binding.ts';
import type { HealthState } from '../../../operator/controllers/endpoints/health.ts';
import type { ResolutionState } from '../../../operator/controllers/endpoints/resolution.ts';
import { serviceBackendsStatus } from '../../../operator/controllers/endpoints/status.ts';

const svc = { metadata: { name: 'web', namespace: 'ns' }, spec: { ports: [{ name: 'http', port: 80 }] } };
const obj = (backends: unknown[], healthCheck?: unknown) => ({
  metadata: { name: 'web', namespace: 'ns', generation: 3 },
  spec: {
    serviceName: 'web',
    backends,
    ports: [{ name: 'http', port: 8080 }],
    ...(healthCheck ? { healthCheck } : {}),
  },
});
const healthy: HealthState = { phase: 'healthy', successes: 1, failures: 0, sinceMs: 1000 };
const down: HealthState = {
  phase: 'unhealthy',
  successes: 0,
  failures: 3,
  sinceMs: 2000,
  message: 'connect ECONNREFUSED',
};

function status(o: ReturnType<typeof obj>, obs: Partial<Observations>, service: unknown = svc) {
  const binding = bindServiceBackends(o, service as never);
  const full: Observations = { resolution: new Map(), health: new Map(), probing: false, ...obs };
  const expanded = binding.ok ? expandBackends(binding.spec.backends, full) : [];
  const endpoints = binding.ok ? desiredEndpoints(expanded, full) : [];
  return {
    st: serviceBackendsStatus({ generation: 3, binding, expanded, endpoints, obs: full, nowMs: 5000 }),
    endpoints,
  };
}
const cond = (st: { conditions?: { type: string }[] }, type: string) =>
  st.conditions?.find((c) => c.type === type);

describe('expandBackends and desiredEndpoints', () => {
  it('canonicalises, deduplicates and leaves out unpublishable resolved addresses', () => {
    const resolution = new Map<string, ResolutionState>([
      [
        'db.test',
        { resolved: true, failures: 0, nextMs: 0, IPv4: ['127.0.0.1', '192.0.2.9'], IPv6: ['2001:DB8::1'] },
      ],
    ]);
    const obs: Observations = { resolution, health: new Map(), probing: false };
    const ex = expandBackends([{ ip: '192.0.2.9' }, { hostname: 'db.test' }], obs);
    expect(ex[1]?.addresses).toEqual(['192.0.2.9', '2001:db8::1']);
    expect(ex[1]?.skipped).toEqual([{ address: '127.0.0.1', why: 'loopback, unspecified or link-local' }]);
    expect(desiredEndpoints(ex, obs).map((e) => [e.address, e.family])).toEqual([
      ['192.0.2.9', 'IPv4'],
      ['2001:db8::1', 'IPv6'],
    ]);
  });

  it('orders addresses numerically within a family', () => {
    const obs: Observations = { resolution: new Map(), health: new Map(), probing: false };
    const ex = expandBackends(
      [{ ip: '10.0.0.10' }, { ip: '10.0.0.9' }, { ip: '2001:db8::1' }, { ip: '10.0.0.100' }],
      obs,
    );
    expect(desiredEndpoints(ex, obs).map((e) => e.address)).toEqual([
      '10.0.0.9',
      '10.0.0.10',
      '10.0.0.100',
      '2001:db8::1',
    ]);
  });
});

describe('serviceBackendsStatus', () => {
  it('is Ready with every address healthy when there are no health checks', () => {
    const { st } = status(obj([{ ip: '192.0.2.1' }, { ip: '192.0.2.2' }]), {});
    expect(st).toMatchObject({ observedGeneration: 3, healthy: 2, total: 2 });
    expect(cond(st, 'Ready')).toMatchObject({
      status: 'True',
      reason: 'BackendsPublished',
      message: '2 of 2 address(es) ready',
    });
    expect(cond(st, 'Invalid')).toMatchObject({ status: 'False', reason: 'Valid' });
    expect(cond(st, 'ResolutionFailing')).toMatchObject({ status: 'False', reason: 'NoHostnames' });
    expect(st.backends).toEqual([
      { ip: '192.0.2.1', healthy: true },
      { ip: '192.0.2.2', healthy: true },
    ]);
  });

  it('shows per-backend health with the failure and its time', () => {
    const health = new Map([
      ['192.0.2.1', healthy],
      ['192.0.2.2', down],
    ]);
    const { st, endpoints } = status(
      obj([{ ip: '192.0.2.1' }, { ip: '192.0.2.2' }, { ip: '192.0.2.3' }], {}),
      {
        health,
        probing: true,
      },
    );
    expect(endpoints.map((e) => e.ready)).toEqual([true, false, false]);
    expect(st.backends).toEqual([
      { ip: '192.0.2.1', healthy: true, lastTransitionTime: '1970-01-01T00:00:01Z' },
      {
        ip: '192.0.2.2',
        healthy: false,
        lastTransitionTime: '1970-01-01T00:00:02Z',
        message: '192.0.2.2: connect ECONNREFUSED',
      },
      { ip: '192.0.2.3', healthy: false, message: '192.0.2.3: waiting for the first health check' },
    ]);
    expect(cond(st, 'Ready')).toMatchObject({ status: 'True', message: '1 of 3 address(es) ready' });
  });

  it('is not Ready when no address passes its health check', () => {
    const { st } = status(obj([{ ip: '192.0.2.2' }]), {
      health: new Map([['192.0.2.2', down]]),
      probing: true,
    });
    expect(cond(st, 'Ready')).toMatchObject({ status: 'False', reason: 'NoHealthyBackends' });
  });

  it('flags a Service with a selector as Invalid, naming the field', () => {
    const { st } = status(
      obj([{ ip: '192.0.2.1' }]),
      {},
      { ...svc, spec: { ...svc.spec, selector: { app: 'x' } } },
    );
    expect(cond(st, 'Invalid')).toMatchObject({ status: 'True', reason: 'ServiceHasSelector' });
    expect(cond(st, 'Invalid')).toHaveProperty('message', expect.stringMatching(/^spec\.serviceName: /));
    expect(cond(st, 'Ready')).toMatchObject({ status: 'False', reason: 'ServiceHasSelector' });
    expect(st).toMatchObject({ healthy: 0, total: 0 });
    expect(st.backends).toBeUndefined();
  });

  it('shows resolved addresses, and keeps the last good ones with a condition when DNS fails', () => {
    const resolution = new Map<string, ResolutionState>([
      [
        'db.test',
        {
          resolved: true,
          failures: 2,
          nextMs: 0,
          error: 'A lookup failed: ECONNREFUSED',
          IPv4: ['192.0.2.7', '192.0.2.8'],
        },
      ],
    ]);
    const { st } = status(obj([{ hostname: 'db.test' }]), { resolution });
    expect(st.backends).toEqual([
      {
        hostname: 'db.test',
        addresses: ['192.0.2.7', '192.0.2.8'],
        healthy: true,
        message: 'A lookup failed: ECONNREFUSED; keeping 2 last good address(es)',
      },
    ]);
    expect(cond(st, 'ResolutionFailing')).toMatchObject({
      status: 'True',
      reason: 'LookupFailed',
      message:
        'spec.backends[0].hostname "db.test": A lookup failed: ECONNREFUSED; keeping 2 last good address(es)',
    });
    expect(cond(st, 'Ready')).toMatchObject({ status: 'True' });
  });

  it('waits for DNS before the first answer', () => {
    const { st } = status(obj([{ hostname: 'db.test' }]), {});
    expect(st.backends).toEqual([
      { hostname: 'db.test', addresses: [], healthy: false, message: 'not resolved yet' },
    ]);
    expect(cond(st, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'NoAddresses',
      message: 'waiting for DNS',
    });
  });

  it('keeps transition times when recomputed unchanged', () => {
    const first = status(obj([{ ip: '192.0.2.1' }]), {}).st;
    const binding = bindServiceBackends(obj([{ ip: '192.0.2.1' }]), svc);
    const obs: Observations = { resolution: new Map(), health: new Map(), probing: false };
    const expanded = binding.ok ? expandBackends(binding.spec.backends, obs) : [];
    const again = serviceBackendsStatus({
      generation: 3,
      previous: first,
      binding,
      expanded,
      endpoints: desiredEndpoints(expanded, obs),
      obs,
      nowMs: 999_999,
    });
    expect(again).toEqual(first);
  });
});
