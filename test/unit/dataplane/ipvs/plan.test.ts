import { describe, expect, it } from '@jest/globals';
import {
  applyOps,
  drainKey,
  parseAddresses,
  planAddresses,
  planIpvs,
} from '../../../../speaker/dataplane/ipvs/plan.ts';
import { renderRestore } from '../../../../speaker/dataplane/ipvs/restore.ts';
import { desiredAddresses, desiredTable } from '../../../../speaker/dataplane/ipvs/table.ts';
import { endpoint, model, service, slice, threePods } from '../helpers.ts';

const HTTP_PORT = { name: 'http', port: 80, targetPort: 8080 };
const web = service('web', {
  type: 'NodePort',
  clusterIP: '192.0.2.10',
  ports: [{ ...HTTP_PORT, nodePort: 30080 }],
});
const sticky = service(
  'sticky',
  { clusterIP: '192.0.2.11', sessionAffinity: 'ClientIP', ports: [HTTP_PORT] },
  {
    annotations: { 'portico.io/ipvs-scheduler': 'sh' },
  },
);
const none = new Set<string>();

describe('desiredTable and desiredAddresses', () => {
  it('one virtual server per VIP, port and protocol; persistence from affinity; scheduler from the annotation', () => {
    const table = desiredTable(model([web, sticky], [threePods('web'), threePods('sticky')]));
    // An IPv4 Service: its NodePort is on the node's IPv4 address only.
    expect([...table.keys()]).toEqual(['-t 192.0.2.10:80', '-t 192.0.2.11:80', '-t 203.0.113.1:30080']);
    expect(table.get('-t 192.0.2.11:80')?.virtual).toMatchObject({ scheduler: 'sh', persistence: 10800 });
    expect(table.get('-t 192.0.2.10:80')?.virtual).toMatchObject({ scheduler: 'rr', persistence: null });
    expect(table.get('-t 203.0.113.1:30080')?.reals.map((r) => r.ip)).toEqual([
      '198.51.100.11',
      '198.51.100.12',
      '198.51.100.13',
    ]);
  });

  it('the dummy device holds ClusterIPs, LoadBalancer IPs and externalIPs, never node addresses', () => {
    const lb = service(
      'lb',
      {
        type: 'LoadBalancer',
        clusterIP: '192.0.2.20',
        externalIPs: ['192.0.2.30'],
        ports: [{ ...HTTP_PORT, nodePort: 30090 }],
      },
      { status: { loadBalancer: { ingress: [{ ip: '192.0.2.40' }] } } },
    );
    expect([...desiredAddresses(model([lb]))].sort()).toEqual(['192.0.2.20', '192.0.2.30', '192.0.2.40']);
  });

  it('a Service without endpoints still gets its virtual server (IPVS then rejects)', () => {
    const table = desiredTable(model([service('empty', { clusterIP: '192.0.2.12', ports: [HTTP_PORT] })]));
    expect(table.get('-t 192.0.2.12:80')).toEqual({
      virtual: { protocol: 'TCP', vip: '192.0.2.12', port: 80, scheduler: 'rr', persistence: null },
      reals: [],
    });
  });
});

describe('planIpvs', () => {
  const state = model([sticky], [threePods('sticky')]);
  const desired = desiredTable(state);

  it('from nothing: add each virtual server, then its real servers', () => {
    const plan = planIpvs(desired, new Map(), none);
    expect(renderRestore(plan.ops)).toBe(
      [
        '-A -t 192.0.2.11:80 -s sh -p 10800',
        '-a -t 192.0.2.11:80 -r 198.51.100.11:8080 -m -w 1',
        '-a -t 192.0.2.11:80 -r 198.51.100.12:8080 -m -w 1',
        '-a -t 192.0.2.11:80 -r 198.51.100.13:8080 -m -w 1',
        '',
      ].join('\n'),
    );
    expect(plan.draining).toEqual([]);
  });

  it('nothing to do when the kernel holds the plan', () => {
    expect(planIpvs(desired, applyOps(new Map(), planIpvs(desired, new Map(), none).ops), none).ops).toEqual(
      [],
    );
  });

  it('edits the virtual server when scheduler or persistence change, without touching real servers', () => {
    const before = applyOps(new Map(), planIpvs(desired, new Map(), none).ops);
    const plain = desiredTable(
      model([service('sticky', { clusterIP: '192.0.2.11', ports: [HTTP_PORT] })], [threePods('sticky')]),
    );
    expect(renderRestore(planIpvs(plain, before, none).ops)).toBe('-E -t 192.0.2.11:80 -s rr\n');
  });

  it('a removed endpoint drains at weight 0 first, and is deleted only once removable', () => {
    const before = applyOps(new Map(), planIpvs(desired, new Map(), none).ops);
    const two = desiredTable(
      model(
        [sticky],
        [
          slice(
            'sticky',
            ['198.51.100.11', '198.51.100.12'].map((ip) => endpoint(ip, { nodeName: 'node-1' })),
            [{ name: 'http', port: 8080 }],
          ),
        ],
      ),
    );
    const first = planIpvs(two, before, none);
    expect(renderRestore(first.ops)).toBe('-e -t 192.0.2.11:80 -r 198.51.100.13:8080 -m -w 0\n');
    const key = drainKey('-t 192.0.2.11:80', { ip: '198.51.100.13', port: 8080 });
    expect(first.draining).toEqual([key]);

    const during = applyOps(before, first.ops);
    const still = planIpvs(two, during, none);
    expect(still).toEqual({ ops: [], draining: [key] });
    const done = planIpvs(two, during, new Set([key]));
    expect(renderRestore(done.ops)).toBe('-d -t 192.0.2.11:80 -r 198.51.100.13:8080\n');
    expect(done.draining).toEqual([]);
    expect(applyOps(during, done.ops)).toEqual(two);
  });

  it('a virtual server no longer wanted is deleted at once, real servers with it', () => {
    const before = applyOps(new Map(), planIpvs(desired, new Map(), none).ops);
    expect(renderRestore(planIpvs(new Map(), before, none).ops)).toBe('-D -t 192.0.2.11:80\n');
  });
});

describe('addresses', () => {
  it('plans host-route adds and deletes, IPv6 without DAD', () => {
    expect(
      planAddresses(
        'portico-ipvs0',
        new Set(['192.0.2.10', '2001:db8:3::10']),
        new Set(['192.0.2.9', '192.0.2.10']),
      ),
    ).toEqual([
      'address del 192.0.2.9/32 dev portico-ipvs0',
      'address add 2001:db8:3::10/128 dev portico-ipvs0 nodad',
    ]);
  });

  it('reads the VIPs from ip -j addr, ignoring the link-local address', () => {
    const json = [
      {
        ifname: 'portico-ipvs0',
        addr_info: [
          { family: 'inet', local: '192.0.2.10', scope: 'global' },
          { family: 'inet6', local: 'fe80::1', scope: 'link' },
        ],
      },
      { ifname: 'eth0', addr_info: [{ local: '203.0.113.1', scope: 'global' }] },
    ];
    expect(parseAddresses(json, 'portico-ipvs0')).toEqual(new Set(['192.0.2.10']));
    expect(parseAddresses('garbage', 'portico-ipvs0')).toEqual(new Set());
  });
});
