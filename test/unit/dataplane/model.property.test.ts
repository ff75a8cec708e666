// Invariants of the model over random Services and EndpointSlices.
import { describe, expect, it } from '@jest/globals';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import fc from 'fast-check';
import { buildDesiredState } from '../../../speaker/dataplane/model.ts';
import { ipFamily } from '../../../speaker/dataplane/ip.ts';
import { isExternalKind } from '../../../speaker/dataplane/types.ts';
import { NODE, endpoint, service, slice } from './helpers.ts';

const NAMES = ['a', 'b', 'c', 'd'];
const V4 = ['198.51.100.11', '198.51.100.12', '198.51.100.13'];
const V6 = ['2001:db8:1::11', '2001:db8:1::12'];

const serviceArb: fc.Arbitrary<V1Service> = fc
  .record({
    name: fc.constantFrom(...NAMES),
    type: fc.constantFrom('ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'),
    headless: fc.boolean(),
    ip: fc.nat(9),
    families: fc.constantFrom(['v4'], ['v6'], ['v4', 'v6']),
    ports: fc.subarray(
      [
        { name: 'http', port: 80, nodePort: 30080 },
        { name: 'dns', port: 53, protocol: 'UDP', nodePort: 30053 },
      ],
      { minLength: 1 },
    ),
    etp: fc.constantFrom('Cluster', 'Local'),
    itp: fc.constantFrom('Cluster', 'Local'),
    affinity: fc.boolean(),
    externalIP: fc.boolean(),
    lb: fc.boolean(),
  })
  .map((r) => {
    const ips = r.families.map((f) => (f === 'v4' ? `192.0.2.${r.ip}` : `2001:db8:3::${r.ip}`));
    return service(
      r.name,
      {
        type: r.type,
        clusterIP: r.headless ? 'None' : ips[0],
        ...(r.headless ? {} : { clusterIPs: ips }),
        ports: r.ports,
        externalTrafficPolicy: r.etp,
        internalTrafficPolicy: r.itp,
        ...(r.affinity ? { sessionAffinity: 'ClientIP' } : {}),
        ...(r.externalIP ? { externalIPs: ['198.18.1.1', '2001:db8:9::1'] } : {}),
      },
      r.lb ? { status: { loadBalancer: { ingress: [{ ip: '198.18.0.1' }, { ip: '2001:db8:8::1' }] } } } : {},
    );
  });

const conditionsArb = fc.record({
  ready: fc.option(fc.boolean(), { nil: undefined }),
  serving: fc.option(fc.boolean(), { nil: undefined }),
  terminating: fc.option(fc.boolean(), { nil: undefined }),
  nodeName: fc.constantFrom('node-1', 'node-2'),
});

const sliceArb: fc.Arbitrary<V1EndpointSlice> = fc
  .record({
    name: fc.constantFrom(...NAMES),
    six: fc.boolean(),
    eps: fc.array(conditionsArb, { maxLength: 3 }),
    id: fc.nat(99),
  })
  .map((r) => {
    const pool = r.six ? V6 : V4;
    const eps = r.eps.map((c, i) => {
      const { ready, serving, terminating, nodeName } = c;
      return endpoint(pool[i % pool.length] ?? '', {
        nodeName,
        ...(ready === undefined ? {} : { ready }),
        ...(serving === undefined ? {} : { serving }),
        ...(terminating === undefined ? {} : { terminating }),
      });
    });
    const ports = [
      { name: 'http', port: 8080 },
      { name: 'dns', port: 5353, protocol: 'UDP' },
    ];
    return slice(r.name, eps, ports, { name: `${r.name}-${r.id}`, addressType: r.six ? 'IPv6' : 'IPv4' });
  });

const inputArb = fc.record({
  services: fc.uniqueArray(serviceArb, { selector: (s) => s.metadata?.name, maxLength: 4 }),
  slices: fc.array(sliceArb, { maxLength: 5 }),
});

describe('model properties', () => {
  it('keys are unique and sorted; endpoints sorted and of the VIP family', () => {
    fc.assert(
      fc.property(inputArb, ({ services, slices }) => {
        const { state } = buildDesiredState({ services, endpointSlices: slices, node: NODE });
        const keys = state.services.map((vs) => vs.key);
        expect(new Set(keys).size).toBe(keys.length);
        expect([...keys].sort()).toEqual(keys);
        for (const vs of state.services) {
          expect(ipFamily(vs.vip)).toBe(vs.family);
          for (const ep of vs.endpoints) expect(ipFamily(ep.ip)).toBe(vs.family);
          const sorted = [...vs.endpoints].sort((x, y) =>
            x.ip < y.ip ? -1 : x.ip > y.ip ? 1 : x.port - y.port,
          );
          expect(vs.endpoints).toEqual(sorted);
        }
      }),
    );
  });

  it('noEndpoints is set exactly when no endpoint takes new connections; weight 0 only for terminating', () => {
    fc.assert(
      fc.property(inputArb, ({ services, slices }) => {
        for (const vs of buildDesiredState({ services, endpointSlices: slices, node: NODE }).state.services) {
          expect(vs.noEndpoints === null).toBe(vs.endpoints.some((ep) => ep.weight > 0));
          for (const ep of vs.endpoints) if (ep.weight === 0) expect(ep.terminating).toBe(true);
        }
      }),
    );
  });

  it('Local policies keep only local endpoints for their traffic class', () => {
    fc.assert(
      fc.property(inputArb, ({ services, slices }) => {
        for (const vs of buildDesiredState({ services, endpointSlices: slices, node: NODE }).state.services) {
          const local = isExternalKind(vs.kind) ? vs.externalLocal : vs.internalLocal;
          if (local) expect(vs.endpoints.every((ep) => ep.local)).toBe(true);
        }
      }),
    );
  });

  it('headless and ExternalName Services never produce virtual services', () => {
    fc.assert(
      fc.property(inputArb, ({ services, slices }) => {
        const skipped = new Set(
          services
            .filter((s) => s.spec?.type === 'ExternalName' || s.spec?.clusterIP === 'None')
            .map((s) => `default/${s.metadata?.name}`),
        );
        for (const vs of buildDesiredState({ services, endpointSlices: slices, node: NODE }).state.services) {
          expect(skipped.has(vs.service)).toBe(false);
        }
      }),
    );
  });

  it('does not depend on the order of its input', () => {
    fc.assert(
      fc.property(inputArb, ({ services, slices }) => {
        const a = buildDesiredState({ services, endpointSlices: slices, node: NODE });
        const b = buildDesiredState({
          services: [...services].reverse(),
          endpointSlices: [...slices].reverse(),
          node: NODE,
        });
        expect(b.state).toEqual(a.state);
      }),
    );
  });
});
