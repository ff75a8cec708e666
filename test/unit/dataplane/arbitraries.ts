// fast-check arbitraries for data-path states (not a test file itself). The
// pools of VIPs and endpoints are small so that random states overlap a lot.
import fc from 'fast-check';
import { compareEndpoints, compareStrings, virtualServiceKey } from '../../../speaker/dataplane/types.ts';
import type { DesiredState, Endpoint, VirtualService } from '../../../speaker/dataplane/types.ts';

const VIPS = ['192.0.2.10', '192.0.2.11', '203.0.113.1', '2001:db8:3::10', '2001:db8:2::1'];
const EP_IPS: Record<4 | 6, string[]> = {
  4: ['198.51.100.11', '198.51.100.12', '198.51.100.13'],
  6: ['2001:db8:1::11', '2001:db8:1::12'],
};

const endpointArb = (family: 4 | 6): fc.Arbitrary<Endpoint> =>
  fc.record({
    ip: fc.constantFrom(...EP_IPS[family]),
    port: fc.constantFrom(8080, 9090),
    weight: fc.constantFrom(0, 1, 1),
    local: fc.boolean(),
    terminating: fc.boolean(),
  });

export const virtualServiceArb: fc.Arbitrary<VirtualService> = fc
  .constantFrom(...VIPS)
  .chain((vip) => {
    const family = vip.includes(':') ? 6 : 4;
    return fc.record({
      vip: fc.constant(vip),
      family: fc.constant(family),
      port: fc.constantFrom(80, 30080),
      protocol: fc.constantFrom('TCP' as const, 'UDP' as const, 'SCTP' as const),
      service: fc.constantFrom('default/web', 'default/api'),
      kind: fc.constantFrom(
        'clusterIP' as const,
        'nodePort' as const,
        'loadBalancer' as const,
        'externalIP' as const,
      ),
      scheduler: fc.constantFrom('rr', 'mh', 'lc'),
      affinity: fc.option(fc.record({ timeoutSeconds: fc.constantFrom(60, 10800) }), { nil: null }),
      externalLocal: fc.boolean(),
      internalLocal: fc.boolean(),
      drop: fc.boolean(),
      endpoints: fc.uniqueArray(endpointArb(family), { selector: (e) => `${e.ip}:${e.port}`, maxLength: 4 }),
    });
  })
  .map(({ drop, ...r }) => {
    const endpoints = [...r.endpoints].sort(compareEndpoints);
    const active = endpoints.some((e) => e.weight > 0);
    return {
      ...r,
      key: virtualServiceKey(r.protocol, r.vip, r.port),
      portName: 'http',
      noEndpoints: active ? null : drop ? 'drop' : 'reject',
      endpoints,
    } satisfies VirtualService;
  });

export const stateArb: fc.Arbitrary<DesiredState> = fc
  .uniqueArray(virtualServiceArb, { selector: (vs) => vs.key, maxLength: 8 })
  .map((services) => ({ services: [...services].sort((a, b) => compareStrings(a.key, b.key)) }));
