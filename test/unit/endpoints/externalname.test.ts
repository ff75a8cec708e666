import { describe, expect, it } from '@jest/globals';
import {
  COMPANION_OF_LABEL,
  HEALTH_CHECK_ANNOTATION,
  OPT_IN_ANNOTATION,
  backendsCurrent,
  companionName,
  isCompanionOf,
  planCompanion,
  serviceCurrent,
} from '../../../operator/controllers/externalname/companion.ts';
import type { CompanionSource } from '../../../operator/controllers/externalname/companion.ts';
import { checkExternalName } from '../../../operator/controllers/externalname/validate.ts';

describe('checkExternalName', () => {
  it.each(['db.example.com', 'db.example.com.', 'localhost', 'a-b.c-d.example', 'x1.example'])(
    '%s is fine',
    (n) => {
      expect(checkExternalName(n)).toBeUndefined();
    },
  );

  it.each(['10.0.0.5', '192.0.2.1.', '2001:db8::1', '[2001:db8::1]'])('%s is an IP-literal misuse', (n) => {
    const f = checkExternalName(n);
    expect(f?.reason).toBe('ExternalNameIsIPAddress');
    expect(f?.message).toMatch(/^spec\.externalName: ".*" is an IP address/);
  });

  it.each([
    ['', /empty/],
    [`${'a'.repeat(64)}.example.com`, /is 64 characters long \(at most 63\)/],
    [`${'a.'.repeat(127)}ab`, /at most 253/],
    ['a..b', /label 2 is empty/],
    ['-a.example', /label "-a"/],
    ['a_b.example', /label "a_b"/],
    ['host.123', /top-level label is all digits/],
    ['10.0.0.300', /top-level label is all digits/],
  ])('%s is not a DNS name', (n, why) => {
    const f = checkExternalName(n);
    expect(f?.reason).toBe('InvalidExternalName');
    expect(f?.message).toMatch(/^spec\.externalName: /);
    expect(f?.message).toMatch(why);
  });
});

const src = (
  over: Partial<CompanionSource['spec']> = {},
  annotations: Record<string, string> = { [OPT_IN_ANNOTATION]: 'true' },
): CompanionSource => ({
  metadata: { name: 'db', namespace: 'ns', uid: 'u1', annotations },
  spec: {
    type: 'ExternalName',
    externalName: 'DB.Example.com.',
    ports: [
      { name: 'pg', port: 5432, protocol: 'TCP', targetPort: 6432 },
      { name: 'metrics', port: 9187, targetPort: 'metrics' },
    ],
    ...over,
  },
});

describe('planCompanion', () => {
  it('names the companion predictably, within 63 characters', () => {
    expect(companionName('db')).toBe('db-portico-backends');
    const long = companionName('s'.repeat(63));
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^s+-[0-9a-f]{8}-portico-backends$/);
    expect(companionName('s'.repeat(63))).toBe(long);
  });

  it('does nothing without the opt-in, or for other Service types', () => {
    expect(planCompanion(undefined)).toEqual({ kind: 'none' });
    expect(planCompanion(src({}, {}))).toEqual({ kind: 'none' });
    expect(planCompanion(src({}, { [OPT_IN_ANNOTATION]: 'yes' }))).toEqual({ kind: 'none' });
    expect(planCompanion(src({ type: 'ClusterIP' }))).toEqual({ kind: 'none' });
  });

  it('plans a selector-less ClusterIP Service and a ServiceBackends for the name, owned by the Service', () => {
    const plan = planCompanion(src());
    expect(plan.kind).toBe('keep');
    if (plan.kind !== 'keep') return;
    const meta = {
      name: 'db-portico-backends',
      namespace: 'ns',
      labels: { [COMPANION_OF_LABEL]: 'db', 'app.kubernetes.io/managed-by': 'portico' },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: 'db', uid: 'u1', controller: true }],
    };
    expect(plan.service).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta,
      spec: {
        type: 'ClusterIP',
        ports: [
          { name: 'pg', port: 5432, protocol: 'TCP', targetPort: 6432 },
          { name: 'metrics', port: 9187, protocol: 'TCP', targetPort: 'metrics' },
        ],
      },
    });
    expect(plan.backends).toEqual({
      apiVersion: 'portico.io/v1alpha1',
      kind: 'ServiceBackends',
      metadata: meta,
      spec: {
        serviceName: 'db-portico-backends',
        backends: [{ hostname: 'db.example.com' }],
        ports: [
          { name: 'pg', port: 6432, protocol: 'TCP' },
          { name: 'metrics', port: 9187, protocol: 'TCP' },
        ],
      },
    });
  });

  it('uses an IP literal as an IP backend (after warning about it)', () => {
    const plan = planCompanion(src({ externalName: '192.0.2.10' }));
    expect(plan.kind === 'keep' && plan.backends.spec.backends).toEqual([{ ip: '192.0.2.10' }]);
    expect(planCompanion(src({ externalName: '127.0.0.1' }))).toMatchObject({ kind: 'skip' });
  });

  it('adds a health check from the annotation, and rejects a bad one', () => {
    const with_ = (v: string) =>
      planCompanion(src({}, { [OPT_IN_ANNOTATION]: 'true', [HEALTH_CHECK_ANNOTATION]: v }));
    const tcp = with_('tcp');
    expect(tcp.kind === 'keep' && tcp.backends.spec.healthCheck).toEqual({ type: 'tcp' });
    const http = with_('http:/healthz');
    expect(http.kind === 'keep' && http.backends.spec.healthCheck).toEqual({
      type: 'http',
      path: '/healthz',
    });
    expect(with_('icmp')).toMatchObject({
      kind: 'skip',
      message: expect.stringMatching(/must be "tcp", "http" or "http:\/path"/),
    });
  });

  it('skips, naming the field, when the name is invalid or there are no ports', () => {
    expect(planCompanion(src({ externalName: 'bad..name' }))).toMatchObject({
      kind: 'skip',
      message: expect.stringMatching(/^spec\.externalName: /),
    });
    expect(planCompanion(src({ ports: [] }))).toMatchObject({
      kind: 'skip',
      message: expect.stringMatching(/^spec\.ports: /),
    });
  });

  it('tells current companions from stale or foreign ones', () => {
    const plan = planCompanion(src());
    if (plan.kind !== 'keep') throw new Error('expected keep');
    const live = { ...structuredClone(plan.service), spec: { ...plan.service.spec, clusterIP: '10.96.1.1' } };
    expect(serviceCurrent(live, plan.service)).toBe(true);
    expect(
      serviceCurrent({ ...live, spec: { ...live.spec, ports: [{ name: 'pg', port: 1 }] } }, plan.service),
    ).toBe(false);
    expect(serviceCurrent({ ...live, spec: { ...live.spec, selector: { a: 'b' } } }, plan.service)).toBe(
      false,
    );
    const stored = structuredClone(plan.backends);
    // As the apiserver returns it: defaults applied.
    const defaulted = { ...stored, spec: { ...stored.spec, backends: [{ hostname: 'db.example.com' }] } };
    expect(backendsCurrent(defaulted, plan.backends)).toBe(true);
    expect(
      backendsCurrent(
        { ...defaulted, spec: { ...defaulted.spec, backends: [{ hostname: 'old.example' }] } },
        plan.backends,
      ),
    ).toBe(false);
    expect(isCompanionOf(live, 'db')).toBe(true);
    expect(isCompanionOf({ metadata: { labels: {} } }, 'db')).toBe(false);
  });
});
