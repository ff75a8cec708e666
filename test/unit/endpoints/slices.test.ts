import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { DesiredEndpoint } from '../../../operator/controllers/endpoints/backends.ts';
import {
  MANAGED_BY,
  MANAGED_BY_LABEL,
  SERVICE_NAME_LABEL,
  emptyPlan,
  planSlices,
  shortenName,
  sliceName,
} from '../../../operator/controllers/endpoints/slices.ts';
import type {
  EndpointSlice,
  SlicePlan,
  SlicePlanInput,
} from '../../../operator/controllers/endpoints/slices.ts';

const owner = { apiVersion: 'portico.io/v1alpha1', kind: 'ServiceBackends', name: 'web', uid: 'uid-1' };
const ports = [{ name: 'http', port: 8080, protocol: 'TCP' }];

function v4(n: number, ready = true, base = 0): DesiredEndpoint[] {
  return Array.from({ length: n }, (_, i) => ({
    address: `10.${Math.floor((base + i) / 256) % 256}.${(base + i) % 256}.1`,
    family: 'IPv4' as const,
    ready,
  }));
}

const input = (
  endpoints: DesiredEndpoint[],
  existing: EndpointSlice[] = [],
  extra: Partial<SlicePlanInput> = {},
) => ({
  namespace: 'ns',
  serviceName: 'web',
  owner,
  ports,
  endpoints,
  existing,
  ...extra,
});

/** What the apiserver would hold after the plan: existing minus deletes, with updates and creates. */
function apply(existing: EndpointSlice[], plan: SlicePlan): EndpointSlice[] {
  const byName = new Map(existing.map((s) => [s.metadata.name, s]));
  for (const s of plan.delete) byName.delete(s.metadata.name);
  for (const s of [...plan.update, ...plan.create]) byName.set(s.metadata.name, structuredClone(s));
  return [...byName.values()];
}

const sizes = (slices: EndpointSlice[]) => slices.map((s) => s.endpoints?.length ?? 0);

describe('planSlices', () => {
  it('creates one labelled, owned slice per family', () => {
    const plan = planSlices(input([...v4(2), { address: '2001:db8::1', family: 'IPv6', ready: false }]));
    expect(plan.update).toEqual([]);
    expect(plan.delete).toEqual([]);
    expect(plan.create.map((s) => [s.metadata.name, s.addressType])).toEqual([
      ['web-ipv4-0', 'IPv4'],
      ['web-ipv6-0', 'IPv6'],
    ]);
    const [a, b] = plan.create;
    expect(a?.metadata.labels).toEqual({ [SERVICE_NAME_LABEL]: 'web', [MANAGED_BY_LABEL]: MANAGED_BY });
    expect(a?.metadata.ownerReferences).toEqual([{ ...owner, controller: true }]);
    expect(a?.ports).toEqual(ports);
    expect(b?.endpoints).toEqual([
      { addresses: ['2001:db8::1'], conditions: { ready: false, serving: false, terminating: false } },
    ]);
  });

  it('splits 250 endpoints 100/100/50 and sorts each slice by address', () => {
    const plan = planSlices(input(v4(250)));
    expect(sizes(plan.create)).toEqual([100, 100, 50]);
    expect(plan.create.map((s) => s.metadata.name)).toEqual(['web-ipv4-0', 'web-ipv4-1', 'web-ipv4-2']);
    const first = plan.create[0]!.endpoints!.map((e) => e.addresses[0]);
    expect(first.slice(0, 3)).toEqual(['10.0.0.1', '10.0.1.1', '10.0.2.1']);
  });

  it('rewrites nothing when nothing changed', () => {
    const slices = apply([], planSlices(input(v4(250))));
    expect(emptyPlan(planSlices(input(v4(250), slices)))).toBe(true);
  });

  it('updates only the slice holding an address whose readiness changed', () => {
    const slices = apply([], planSlices(input(v4(250))));
    const eps = v4(250);
    eps[120] = { ...eps[120]!, ready: false };
    const plan = planSlices(input(eps, slices));
    expect(plan.create).toEqual([]);
    expect(plan.delete).toEqual([]);
    expect(plan.update.map((s) => s.metadata.name)).toEqual(['web-ipv4-1']);
    const changed = plan.update[0]!.endpoints!.find((e) => e.addresses[0] === eps[120]!.address);
    expect(changed?.conditions).toEqual({ ready: false, serving: false, terminating: false });
  });

  it('keeps addresses where they are and puts new ones into a slice with room', () => {
    const slices = apply([], planSlices(input(v4(150))));
    const plan = planSlices(input(v4(160), slices));
    expect(plan.create).toEqual([]);
    expect(plan.update.map((s) => s.metadata.name)).toEqual(['web-ipv4-1']);
    expect(plan.update[0]?.endpoints).toHaveLength(60);
  });

  it('prefers a slice already being updated for new addresses', () => {
    const slices = apply([], planSlices(input(v4(150))));
    const eps = v4(151);
    eps[10] = { ...eps[10]!, ready: false }; // in web-ipv4-0, which has no room
    eps[120] = { ...eps[120]!, ready: false }; // in web-ipv4-1
    const plan = planSlices(input(eps, slices));
    expect(plan.update.map((s) => [s.metadata.name, s.endpoints?.length])).toEqual([
      ['web-ipv4-0', 100],
      ['web-ipv4-1', 51],
    ]);
  });

  it('deletes slices left empty and removes gone addresses from the others', () => {
    const slices = apply([], planSlices(input(v4(250))));
    const plan = planSlices(input(v4(90), slices));
    expect(plan.delete.map((s) => s.metadata.name)).toEqual(['web-ipv4-1', 'web-ipv4-2']);
    expect(plan.update.map((s) => [s.metadata.name, s.endpoints?.length])).toEqual([['web-ipv4-0', 90]]);
  });

  it('deletes every slice when there is nothing to publish (invalid object)', () => {
    const slices = apply([], planSlices(input(v4(3))));
    const plan = planSlices(input([], slices, { ports: [] }));
    expect(plan.delete.map((s) => s.metadata.name)).toEqual(['web-ipv4-0']);
    expect(plan.create).toEqual([]);
  });

  it('rewrites slices whose ports or Service label changed', () => {
    const slices = apply([], planSlices(input(v4(3))));
    const newPorts = planSlices(
      input(v4(3), slices, { ports: [{ name: 'http', port: 9090, protocol: 'TCP' }] }),
    );
    expect(newPorts.update.map((s) => s.ports)).toEqual([[{ name: 'http', port: 9090, protocol: 'TCP' }]]);
    const renamed = planSlices(input(v4(3), slices, { serviceName: 'other' }));
    expect(renamed.update[0]?.metadata.labels?.[SERVICE_NAME_LABEL]).toBe('other');
  });

  it('keeps labels and owners that others added when updating', () => {
    const [slice] = apply([], planSlices(input(v4(1))));
    slice!.metadata.labels = { ...slice!.metadata.labels, team: 'a' };
    slice!.metadata.resourceVersion = '42';
    const plan = planSlices(input(v4(1, false), [slice!]));
    expect(plan.update[0]?.metadata).toMatchObject({ resourceVersion: '42', labels: { team: 'a' } });
  });

  it('drops duplicate addresses across slices and never reuses a taken name', () => {
    const [a] = apply([], planSlices(input(v4(2))));
    const dup = { ...structuredClone(a!), metadata: { ...a!.metadata, name: 'web-ipv4-5' } };
    const plan = planSlices(input(v4(2), [a!, dup]));
    expect(plan.delete.map((s) => s.metadata.name)).toEqual(['web-ipv4-5']);
    const fresh = planSlices(input(v4(1), [], { takenNames: new Set(['web-ipv4-0', 'web-ipv4-1']) }));
    expect(fresh.create[0]?.metadata.name).toBe('web-ipv4-2');
  });

  it('deletes slices of an address type it does not write', () => {
    const fqdn: EndpointSlice = { metadata: { name: 'web-fqdn' }, addressType: 'FQDN', endpoints: [] };
    expect(planSlices(input([], [fqdn])).delete).toEqual([fqdn]);
  });

  it('names slices within the 253-character limit', () => {
    const long = 'a'.repeat(253);
    const name = sliceName(long, 'IPv6', 12);
    expect(name.length).toBeLessThanOrEqual(253);
    expect(name).toMatch(/^a+-[0-9a-f]{8}-ipv6-12$/);
    expect(shortenName('abc', 10)).toBe('abc');
    expect(shortenName('abcdefghij-.klmnop', 12)).toMatch(/^abc-[0-9a-f]{8}$/);
  });

  it('converges: any plan applied gives a state whose plan is empty, with each address once', () => {
    const addr = fc.integer({ min: 0, max: 400 });
    const state = fc.uniqueArray(fc.record({ i: addr, ready: fc.boolean() }), {
      selector: (r) => r.i,
      maxLength: 300,
    });
    fc.assert(
      fc.property(state, state, fc.integer({ min: 1, max: 100 }), (before, after, max) => {
        const eps = (xs: { i: number; ready: boolean }[]) =>
          xs.map(({ i, ready }) => ({
            address: `10.1.${i >> 8}.${i & 255}`,
            family: 'IPv4' as const,
            ready,
          }));
        const s1 = apply([], planSlices(input(eps(before), [], { maxPerSlice: max })));
        const plan = planSlices(input(eps(after), s1, { maxPerSlice: max }));
        const s2 = apply(s1, plan);
        expect(emptyPlan(planSlices(input(eps(after), s2, { maxPerSlice: max })))).toBe(true);
        const published = s2.flatMap((s) =>
          (s.endpoints ?? []).map((e) => `${e.addresses[0]}=${e.conditions?.ready}`),
        );
        expect(published.sort()).toEqual(
          eps(after)
            .map((e) => `${e.address}=${e.ready}`)
            .sort(),
        );
        expect(s2.every((s) => (s.endpoints?.length ?? 0) <= max && (s.endpoints?.length ?? 0) > 0)).toBe(
          true,
        );
      }),
      { numRuns: 200 },
    );
  });
});
