import { describe, expect, it } from '@jest/globals';
import {
  admits,
  candidatePools,
  parseServiceAllocation,
  splitServiceKey,
} from '../../../operator/allocator/service-allocation.ts';
import type { SelectablePool, ServiceAllocation } from '../../../operator/allocator/service-allocation.ts';

function sa(spec: unknown): ServiceAllocation | undefined {
  const r = parseServiceAllocation(spec, 'spec.serviceAllocation');
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return r.value;
}

describe('parseServiceAllocation', () => {
  it('treats priority 0 as no priority (as MetalLB does)', () => {
    expect(sa({ priority: 0 })?.priority).toBeUndefined();
    expect(sa({ priority: 5 })?.priority).toBe(5);
    expect(sa(undefined)).toBeUndefined();
  });

  it('reports each problem with its field path', () => {
    const r = parseServiceAllocation(
      {
        priority: -1,
        namespaces: ['ok', 'Bad_NS', 'ok'],
        namespaceSelectors: [{ matchLabels: { a: 'b' } }, { matchLabels: { a: 'b' } }],
        serviceSelectors: 'x',
        prority: 1,
      },
      'spec.serviceAllocation',
    );
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.map((e) => e.path)).toEqual([
        'spec.serviceAllocation.prority',
        'spec.serviceAllocation.priority',
        'spec.serviceAllocation.namespaces[1]',
        'spec.serviceAllocation.namespaces[2]',
        'spec.serviceAllocation.namespaceSelectors[1]',
        'spec.serviceAllocation.serviceSelectors',
      ]);
    }
  });

  it('rejects fractional priorities and non-objects', () => {
    expect(parseServiceAllocation({ priority: 1.5 }, 'p').ok).toBe(false);
    expect(parseServiceAllocation([], 'p').ok).toBe(false);
  });
});

describe('admits', () => {
  const subject = { namespace: 'team-a', namespaceLabels: { env: 'prod' }, serviceLabels: { app: 'web' } };

  it('no serviceAllocation, or an empty one, admits everything', () => {
    expect(admits(undefined, subject)).toBe(true);
    expect(admits(sa({}), subject)).toBe(true);
    expect(admits(sa({ priority: 3 }), subject)).toBe(true);
  });

  it('namespaces and namespaceSelectors are alternatives', () => {
    expect(admits(sa({ namespaces: ['team-a'] }), subject)).toBe(true);
    expect(admits(sa({ namespaces: ['team-b'] }), subject)).toBe(false);
    expect(admits(sa({ namespaceSelectors: [{ matchLabels: { env: 'prod' } }] }), subject)).toBe(true);
    expect(admits(sa({ namespaceSelectors: [{ matchLabels: { env: 'dev' } }] }), subject)).toBe(false);
    expect(
      admits(sa({ namespaces: ['team-b'], namespaceSelectors: [{ matchLabels: { env: 'prod' } }] }), subject),
    ).toBe(true);
  });

  it('serviceSelectors must also match when present', () => {
    expect(admits(sa({ serviceSelectors: [{ matchLabels: { app: 'web' } }] }), subject)).toBe(true);
    expect(admits(sa({ serviceSelectors: [{ matchLabels: { app: 'db' } }] }), subject)).toBe(false);
    expect(
      admits(
        sa({ serviceSelectors: [{ matchLabels: { app: 'db' } }, { matchLabels: { app: 'web' } }] }),
        subject,
      ),
    ).toBe(true);
    expect(
      admits(sa({ namespaces: ['team-b'], serviceSelectors: [{ matchLabels: { app: 'web' } }] }), subject),
    ).toBe(false);
  });
});

describe('candidatePools', () => {
  const pool = (name: string, autoAssign: boolean, spec?: unknown): SelectablePool => ({
    name,
    autoAssign,
    serviceAllocation: spec === undefined ? undefined : sa(spec),
  });
  const subject = { namespace: 'ns', serviceLabels: { app: 'web' } };

  it('orders pinned pools by priority (lower first, unset last, ties by name), then the rest by name', () => {
    const pools = [
      pool('z-plain', true),
      pool('a-plain', true),
      pool('no-prio', true, { namespaces: ['ns'] }),
      pool('p10', true, { priority: 10 }),
      pool('p1-b', true, { priority: 1, serviceSelectors: [{ matchLabels: { app: 'web' } }] }),
      pool('p1-a', true, { priority: 1 }),
      pool('manual', false),
      pool('manual-pinned', false, { priority: 1 }),
      pool('other-ns', true, { priority: 1, namespaces: ['elsewhere'] }),
      pool('zero-prio', true, { priority: 0 }),
    ];
    const { pinned, fallback } = candidatePools(pools, subject);
    expect(pinned.map((p) => p.name)).toEqual(['p1-a', 'p1-b', 'p10', 'no-prio', 'zero-prio']);
    expect(fallback.map((p) => p.name)).toEqual(['a-plain', 'z-plain']);
  });
});

describe('splitServiceKey', () => {
  it('needs exactly namespace/name', () => {
    expect(splitServiceKey('ns/name')).toEqual({ namespace: 'ns', name: 'name' });
    for (const bad of ['', 'name', '/name', 'ns/', 'a/b/c']) expect(splitServiceKey(bad)).toBeUndefined();
  });
});
