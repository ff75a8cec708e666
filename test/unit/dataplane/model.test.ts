import { describe, expect, it } from '@jest/globals';
import type { V1Node } from '@kubernetes/client-node';
import {
  DEFAULT_AFFINITY_TIMEOUT_SECONDS,
  buildDesiredState,
  nodeInfoFromNode,
} from '../../../speaker/dataplane/model.ts';
import { SCHEDULER_ANNOTATION } from '../../../speaker/dataplane/scheduler.ts';
import { NODE, byKey, endpoint, model, service, slice, threePods } from './helpers.ts';

const WEB = { clusterIP: '192.0.2.10', ports: [{ name: 'http', port: 80, targetPort: 8080 }] };
const keys = (s: { services: readonly { key: string }[] }): string[] => s.services.map((v) => v.key);

describe('ClusterIP (seed: three pods behind one VIP)', () => {
  it('gives one rr virtual service with the three ready pods', () => {
    const state = model([service('web', WEB)], [threePods()]);
    expect(state.services).toEqual([
      {
        key: 'TCP/192.0.2.10/80',
        service: 'default/web',
        portName: 'http',
        kind: 'clusterIP',
        family: 4,
        vip: '192.0.2.10',
        port: 80,
        protocol: 'TCP',
        scheduler: 'rr',
        affinity: null,
        externalLocal: false,
        internalLocal: false,
        noEndpoints: null,
        endpoints: ['198.51.100.11', '198.51.100.12', '198.51.100.13'].map((ip) => ({
          ip,
          port: 8080,
          weight: 1,
          local: true,
          terminating: false,
        })),
      },
    ]);
  });

  it('uses one virtual service per ClusterIP family, each with endpoints of its family', () => {
    const svc = service('web', {
      clusterIP: '192.0.2.10',
      clusterIPs: ['192.0.2.10', '2001:DB8:3:0::10'],
      ipFamilies: ['IPv4', 'IPv6'],
      ports: [{ name: 'http', port: 80 }],
    });
    const v6 = slice('web', [endpoint('2001:db8:1::11')], [{ name: 'http', port: 8080 }], { name: 'web-v6' });
    const state = model([svc], [threePods(), v6]);
    expect(keys(state)).toEqual(['TCP/192.0.2.10/80', 'TCP/[2001:db8:3::10]/80']);
    const six = byKey(state, 'TCP/[2001:db8:3::10]/80');
    expect(six.family).toBe(6);
    expect(six.vip).toBe('2001:db8:3::10');
    expect(six.endpoints.map((e) => e.ip)).toEqual(['2001:db8:1::11']);
    expect(byKey(state, 'TCP/192.0.2.10/80').endpoints).toHaveLength(3);
  });

  it('falls back to spec.clusterIP when clusterIPs is absent', () => {
    expect(keys(model([service('web', WEB)], []))).toEqual(['TCP/192.0.2.10/80']);
  });

  it('keeps UDP and SCTP ports, each matched to the slice port of the same name and protocol', () => {
    const svc = service('dns', {
      clusterIP: '192.0.2.53',
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP' },
        { name: 'dns-tcp', port: 53, protocol: 'TCP' },
        { name: 'sig', port: 3868, protocol: 'SCTP' },
      ],
    });
    const sl = slice(
      'dns',
      [endpoint('198.51.100.20')],
      [
        { name: 'dns', port: 5353, protocol: 'UDP' },
        { name: 'dns-tcp', port: 5354, protocol: 'TCP' },
        { name: 'sig', port: 3869, protocol: 'SCTP' },
      ],
    );
    const state = model([svc], [sl]);
    expect(state.services.map((v) => [v.key, v.protocol, v.endpoints[0]?.port])).toEqual([
      ['SCTP/192.0.2.53/3868', 'SCTP', 3869],
      ['TCP/192.0.2.53/53', 'TCP', 5354],
      ['UDP/192.0.2.53/53', 'UDP', 5353],
    ]);
  });

  it('ignores slices of other Services, other namespaces, FQDN slices and unlabeled slices', () => {
    const other = threePods('other');
    const otherNs = slice('web', [endpoint('198.51.100.40')], [{ name: 'http', port: 8080 }], {
      namespace: 'x',
    });
    const fqdn = slice('web', [endpoint('db.example.test')], [{ name: 'http', port: 8080 }], {
      addressType: 'FQDN',
      name: 'web-fqdn',
    });
    const unlabeled = { ...threePods(), metadata: { name: 'x', namespace: 'default' } };
    const state = model([service('web', WEB)], [other, otherNs, fqdn, unlabeled]);
    expect(state.services[0]?.endpoints).toEqual([]);
  });

  it('merges slices and keeps one endpoint per ip:port, preferring the ready copy', () => {
    const a = slice('web', [endpoint('198.51.100.11', { ready: false })], [{ name: 'http', port: 8080 }], {
      name: 'a',
    });
    const b = slice(
      'web',
      [endpoint('198.51.100.11', { ready: true }), endpoint('198.51.100.12')],
      [{ name: 'http', port: 8080 }],
      { name: 'b' },
    );
    const eps = model([service('web', WEB)], [a, b]).services[0]?.endpoints;
    expect(eps?.map((e) => [e.ip, e.weight])).toEqual([
      ['198.51.100.11', 1],
      ['198.51.100.12', 1],
    ]);
  });

  it('uses only the first address of an endpoint and skips endpoints whose address is of the wrong family', () => {
    const sl = slice(
      'web',
      [
        endpoint('198.51.100.11', { addresses: ['198.51.100.11', '198.51.100.99'] }),
        endpoint('x', { addresses: ['2001:db8::1'] }),
        endpoint('y', { addresses: [] }),
      ],
      [{ name: 'http', port: 8080 }],
      { addressType: 'IPv4' },
    );
    expect(model([service('web', WEB)], [sl]).services[0]?.endpoints.map((e) => e.ip)).toEqual([
      '198.51.100.11',
    ]);
  });

  it('skips a slice without the port, or with an invalid port number', () => {
    const wrongName = slice('web', [endpoint('198.51.100.11')], [{ name: 'metrics', port: 9090 }], {
      name: 'a',
    });
    const badPort = slice('web', [endpoint('198.51.100.12')], [{ name: 'http', port: 0 }], { name: 'b' });
    expect(model([service('web', WEB)], [wrongName, badPort]).services[0]?.endpoints).toEqual([]);
  });
});

describe('sessionAffinity', () => {
  it('ClientIP gets timeoutSeconds 10800 by default (ipvsadm: persistent 10800)', () => {
    const svc = service('web', { ...WEB, sessionAffinity: 'ClientIP' });
    expect(model([svc], [threePods()]).services[0]?.affinity).toEqual({ timeoutSeconds: 10800 });
    expect(DEFAULT_AFFINITY_TIMEOUT_SECONDS).toBe(10800);
  });

  it('honours sessionAffinityConfig.clientIP.timeoutSeconds', () => {
    const svc = service('web', {
      ...WEB,
      sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } },
    });
    expect(model([svc]).services[0]?.affinity).toEqual({ timeoutSeconds: 60 });
  });

  it('warns and defaults an out-of-range timeout', () => {
    const svc = service('web', {
      ...WEB,
      sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 0 } },
    });
    const r = buildDesiredState({ services: [svc], endpointSlices: [], node: NODE });
    expect(r.state.services[0]?.affinity).toEqual({ timeoutSeconds: 10800 });
    expect(r.warnings.join()).toMatch(/default\/web: spec\.sessionAffinityConfig\.clientIP\.timeoutSeconds/);
  });

  it('None means no affinity', () => {
    expect(model([service('web', { ...WEB, sessionAffinity: 'None' })]).services[0]?.affinity).toBeNull();
  });
});

describe('NodePort, LoadBalancer and externalIPs', () => {
  const nodePort = service('web', {
    clusterIP: '192.0.2.10',
    clusterIPs: ['192.0.2.10', '2001:db8:3::10'],
    type: 'NodePort',
    ports: [{ name: 'http', port: 80, nodePort: 30080 }],
  });

  it('NodePort 30080 is served on every node address of the family', () => {
    const state = model([nodePort], [threePods()]);
    expect(keys(state)).toEqual([
      'TCP/192.0.2.10/80',
      'TCP/203.0.113.1/30080',
      'TCP/[2001:db8:2::1]/30080',
      'TCP/[2001:db8:3::10]/80',
    ]);
    const np = byKey(state, 'TCP/203.0.113.1/30080');
    expect(np.kind).toBe('nodePort');
    expect(np.endpoints).toHaveLength(3);
    expect(byKey(state, 'TCP/[2001:db8:2::1]/30080').noEndpoints).toBe('reject');
  });

  it('limits NodePorts to node addresses inside nodePortCIDRs', () => {
    const node = { name: 'node-1', addresses: ['203.0.113.1', '192.0.2.200', 'fe80::1', 'garbage'] };
    const r = buildDesiredState({
      services: [nodePort],
      endpointSlices: [],
      node,
      nodePortCIDRs: ['203.0.113.0/24', 'nonsense'],
    });
    expect(r.state.services.filter((v) => v.kind === 'nodePort').map((v) => v.vip)).toEqual(['203.0.113.1']);
    expect(r.warnings).toEqual(
      expect.arrayContaining([
        'node node-1: address "garbage" is not an IP address',
        'nodePortCIDRs: "nonsense" is not a CIDR',
      ]),
    );
  });

  it('a ClusterIP Service gets no NodePort even when a nodePort is set', () => {
    const svc = service('web', { ...WEB, ports: [{ name: 'http', port: 80, nodePort: 30080 }] });
    expect(keys(model([svc]))).toEqual(['TCP/192.0.2.10/80']);
  });

  it('LoadBalancer: NodePort plus every ingress IP, skipping ipMode Proxy and hostnames', () => {
    const svc = service(
      'lb',
      {
        clusterIP: '192.0.2.10',
        type: 'LoadBalancer',
        ports: [{ name: 'http', port: 80, nodePort: 30081 }],
      },
      {
        status: {
          loadBalancer: {
            ingress: [
              { ip: '198.18.0.1' },
              { ip: '198.18.0.2', ipMode: 'Proxy' },
              { hostname: 'lb.example.test' },
              { ip: '198.18.0.3', ipMode: 'VIP' },
            ],
          },
        },
      },
    );
    const state = model([svc], [threePods('lb')]);
    expect(state.services.map((v) => [v.kind, v.key])).toEqual([
      ['clusterIP', 'TCP/192.0.2.10/80'],
      ['loadBalancer', 'TCP/198.18.0.1/80'],
      ['loadBalancer', 'TCP/198.18.0.3/80'],
      ['nodePort', 'TCP/203.0.113.1/30081'],
    ]);
  });

  it('LoadBalancer with allocateLoadBalancerNodePorts false has no NodePort', () => {
    const svc = service(
      'lb',
      {
        clusterIP: '192.0.2.10',
        type: 'LoadBalancer',
        allocateLoadBalancerNodePorts: false,
        ports: [{ port: 80 }],
      },
      { status: { loadBalancer: { ingress: [{ ip: '198.18.0.1' }] } } },
    );
    expect(keys(model([svc]))).toEqual(['TCP/192.0.2.10/80', 'TCP/198.18.0.1/80']);
  });

  it('ignores a stale load-balancer status on a Service that is no longer type LoadBalancer', () => {
    const svc = service('web', WEB, { status: { loadBalancer: { ingress: [{ ip: '198.18.0.1' }] } } });
    expect(keys(model([svc]))).toEqual(['TCP/192.0.2.10/80']);
  });

  it('externalIPs on any Service type, matched by family', () => {
    const svc = service('web', { ...WEB, externalIPs: ['198.18.1.1', '2001:db8:9::1', 'bogus'] });
    const r = buildDesiredState({ services: [svc], endpointSlices: [threePods()], node: NODE });
    expect(r.state.services.map((v) => [v.kind, v.key])).toEqual([
      ['clusterIP', 'TCP/192.0.2.10/80'],
      ['externalIP', 'TCP/198.18.1.1/80'],
    ]);
    expect(r.warnings).toEqual(['service default/web: spec.externalIPs: "bogus" is not an IP address']);
  });
});

describe('traffic policies', () => {
  const nodes: [string, string, string] = ['node-1', 'node-2', 'node-1'];
  const base = {
    clusterIP: '192.0.2.10',
    type: 'NodePort',
    ports: [{ name: 'http', port: 80, nodePort: 30080 }],
  };

  it('externalTrafficPolicy Local: external kinds keep only local endpoints, the ClusterIP keeps all', () => {
    const svc = service('web', { ...base, externalTrafficPolicy: 'Local' });
    const state = model([svc], [threePods('web', nodes)]);
    const np = byKey(state, 'TCP/203.0.113.1/30080');
    expect(np.externalLocal).toBe(true);
    expect(np.endpoints.map((e) => e.ip)).toEqual(['198.51.100.11', '198.51.100.13']);
    expect(np.endpoints.every((e) => e.local)).toBe(true);
    expect(byKey(state, 'TCP/192.0.2.10/80').endpoints).toHaveLength(3);
  });

  it('externalTrafficPolicy Local without a local endpoint drops external traffic (not reject)', () => {
    const svc = service('web', { ...base, externalTrafficPolicy: 'Local' });
    const state = model([svc], [threePods('web', ['node-2', 'node-2', 'node-3'])]);
    const np = byKey(state, 'TCP/203.0.113.1/30080');
    expect(np.endpoints).toEqual([]);
    expect(np.noEndpoints).toBe('drop');
    expect(byKey(state, 'TCP/192.0.2.10/80').noEndpoints).toBeNull();
  });

  it('internalTrafficPolicy Local: the ClusterIP keeps only local endpoints; external kinds keep all', () => {
    const svc = service('web', { ...base, internalTrafficPolicy: 'Local' });
    const state = model([svc], [threePods('web', nodes)]);
    const cip = byKey(state, 'TCP/192.0.2.10/80');
    expect(cip.internalLocal).toBe(true);
    expect(cip.endpoints.map((e) => e.ip)).toEqual(['198.51.100.11', '198.51.100.13']);
    expect(byKey(state, 'TCP/203.0.113.1/30080').endpoints).toHaveLength(3);
  });

  it('internalTrafficPolicy Local without a local endpoint drops', () => {
    const svc = service('web', { ...WEB, internalTrafficPolicy: 'Local' });
    const vs = byKey(model([svc], [threePods('web', ['node-2', 'node-2', 'node-2'])]), 'TCP/192.0.2.10/80');
    expect(vs.noEndpoints).toBe('drop');
  });

  it('marks endpoints on other nodes as not local', () => {
    const vs = byKey(model([service('web', WEB)], [threePods('web', nodes)]), 'TCP/192.0.2.10/80');
    expect(vs.endpoints.map((e) => e.local)).toEqual([true, false, true]);
  });
});

describe('endpoint conditions', () => {
  const eps = (conds: Parameters<typeof endpoint>[1][]) =>
    slice(
      'web',
      conds.map((c, i) => endpoint(`198.51.100.${11 + i}`, c)),
      [{ name: 'http', port: 8080 }],
    );
  const vsOf = (conds: Parameters<typeof endpoint>[1][]) =>
    model([service('web', WEB)], [eps(conds)]).services[0];

  it('a not-ready pod drops out', () => {
    const vs = vsOf([{ ready: true }, { ready: false, serving: false }, { ready: true }]);
    expect(vs?.endpoints.map((e) => e.ip)).toEqual(['198.51.100.11', '198.51.100.13']);
  });

  it('unset conditions mean ready', () => {
    expect(vsOf([{}])?.endpoints.map((e) => e.weight)).toEqual([1]);
  });

  it('a terminating pod that still serves drains (weight 0) while ready ones exist', () => {
    const vs = vsOf([{ ready: true }, { ready: false, serving: true, terminating: true }]);
    expect(vs?.endpoints).toEqual([
      { ip: '198.51.100.11', port: 8080, weight: 1, local: false, terminating: false },
      { ip: '198.51.100.12', port: 8080, weight: 0, local: false, terminating: true },
    ]);
    expect(vs?.noEndpoints).toBeNull();
  });

  it('falls back to serving terminating endpoints when none is ready (kube-proxy)', () => {
    const vs = vsOf([
      { ready: false, serving: false, terminating: true },
      { ready: false, serving: true, terminating: true },
      { ready: false, serving: false },
    ]);
    expect(vs?.endpoints).toEqual([
      { ip: '198.51.100.12', port: 8080, weight: 1, local: false, terminating: true },
    ]);
    expect(vs?.noEndpoints).toBeNull();
  });

  it('a Service whose endpoints are all unusable rejects', () => {
    const vs = vsOf([{ ready: false }, { ready: false, serving: false, terminating: true }]);
    expect(vs?.endpoints).toEqual([]);
    expect(vs?.noEndpoints).toBe('reject');
  });

  it('the fallback is per traffic class: local terminating endpoints serve Local external traffic', () => {
    const svc = service('web', {
      clusterIP: '192.0.2.10',
      type: 'NodePort',
      externalTrafficPolicy: 'Local',
      ports: [{ name: 'http', port: 80, nodePort: 30080 }],
    });
    const sl = slice(
      'web',
      [
        endpoint('198.51.100.11', { ready: true, nodeName: 'node-2' }),
        endpoint('198.51.100.12', { ready: false, serving: true, terminating: true, nodeName: 'node-1' }),
      ],
      [{ name: 'http', port: 8080 }],
    );
    const state = model([svc], [sl]);
    expect(byKey(state, 'TCP/203.0.113.1/30080').endpoints.map((e) => [e.ip, e.weight])).toEqual([
      ['198.51.100.12', 1],
    ]);
    expect(byKey(state, 'TCP/192.0.2.10/80').endpoints.map((e) => [e.ip, e.weight])).toEqual([
      ['198.51.100.11', 1],
      ['198.51.100.12', 0],
    ]);
  });
});

describe('Services that get no rules', () => {
  it('headless (clusterIP None) gives nothing, even with endpoints', () => {
    const svc = service('headless', { clusterIP: 'None', ports: [{ name: 'http', port: 80 }] });
    expect(model([svc], [threePods('headless')]).services).toEqual([]);
  });

  it('ExternalName gives nothing', () => {
    const svc = service('ext', {
      type: 'ExternalName',
      externalName: 'www.example.test',
      ports: [{ port: 80 }],
    });
    expect(model([svc]).services).toEqual([]);
  });

  it('a Service without an allocated ClusterIP gives nothing yet', () => {
    expect(model([service('new', { ports: [{ port: 80 }] })]).services).toEqual([]);
  });

  it('a Service with no endpoints rejects (a VIP with no endpoints, not a blackhole)', () => {
    const vs = model([service('web', WEB)]).services[0];
    expect(vs?.endpoints).toEqual([]);
    expect(vs?.noEndpoints).toBe('reject');
  });
});

describe('scheduler annotation', () => {
  it('defaults to rr', () => {
    expect(model([service('web', WEB)]).services[0]?.scheduler).toBe('rr');
  });

  it('takes portico.io/ipvs-scheduler, case-insensitively', () => {
    const svc = service('web', WEB, { annotations: { [SCHEDULER_ANNOTATION]: ' MH ' } });
    expect(model([svc]).services[0]?.scheduler).toBe('mh');
  });

  it('warns about an unknown scheduler and uses rr', () => {
    const svc = service('web', WEB, { annotations: { [SCHEDULER_ANNOTATION]: 'fastest' } });
    const r = buildDesiredState({ services: [svc], endpointSlices: [], node: NODE });
    expect(r.state.services[0]?.scheduler).toBe('rr');
    expect(r.warnings[0]).toMatch(
      /default\/web: annotation portico\.io\/ipvs-scheduler: unknown scheduler "fastest"/,
    );
  });
});

describe('bad input and conflicts', () => {
  it('skips ports with an unknown protocol or an invalid number, with warnings', () => {
    const svc = service('web', {
      clusterIP: '192.0.2.10',
      ports: [
        { name: 'a', port: 80, protocol: 'ICMP' },
        { name: 'b', port: 70000 },
        { name: 'c', port: 81 },
      ],
    });
    const r = buildDesiredState({ services: [svc], endpointSlices: [], node: NODE });
    expect(keys(r.state)).toEqual(['TCP/192.0.2.10/81']);
    expect(r.warnings).toEqual([
      'service default/web: spec.ports[0].protocol: "ICMP" is not one of TCP, UDP, SCTP',
      'service default/web: spec.ports[1].port: 70000 is not a port number',
    ]);
  });

  it('warns about a ClusterIP that is not an address', () => {
    const r = buildDesiredState({
      services: [service('web', { clusterIP: 'nope', ports: [{ port: 80 }] })],
      endpointSlices: [],
      node: NODE,
    });
    expect(r.state.services).toEqual([]);
    expect(r.warnings).toEqual(['service default/web: spec.clusterIPs: "nope" is not an IP address']);
  });

  it('gives a VIP claimed twice to the first Service in namespace/name order', () => {
    const a = service('a', { ...WEB, externalIPs: ['198.18.1.1'] });
    const b = service('b', { clusterIP: '192.0.2.11', externalIPs: ['198.18.1.1'], ports: [{ port: 80 }] });
    const r = buildDesiredState({ services: [b, a], endpointSlices: [], node: NODE });
    expect(byKey(r.state, 'TCP/198.18.1.1/80').service).toBe('default/a');
    expect(r.warnings).toEqual([
      'service default/b: externalIP TCP/198.18.1.1/80 is already used by default/a (externalIP); skipped',
    ]);
  });

  it('returns services sorted by key with unique keys, whatever the input order', () => {
    const svcs = [
      service('z', { ...WEB, clusterIP: '192.0.2.9' }),
      service('a', { ...WEB, clusterIP: '192.0.2.30' }),
    ];
    const s1 = model(svcs);
    const s2 = model([...svcs].reverse());
    expect(s1).toEqual(s2);
    expect(keys(s1)).toEqual(['TCP/192.0.2.30/80', 'TCP/192.0.2.9/80']);
  });
});

describe('nodeInfoFromNode', () => {
  it('takes the name and the InternalIP and ExternalIP addresses', () => {
    const node: V1Node = {
      metadata: { name: 'node-7' },
      status: {
        addresses: [
          { type: 'Hostname', address: 'node-7' },
          { type: 'InternalIP', address: '203.0.113.7' },
          { type: 'ExternalIP', address: '2001:db8:2::7' },
          { type: 'InternalDNS', address: 'node-7.example.test' },
        ],
      },
    };
    expect(nodeInfoFromNode(node)).toEqual({ name: 'node-7', addresses: ['203.0.113.7', '2001:db8:2::7'] });
  });
});
