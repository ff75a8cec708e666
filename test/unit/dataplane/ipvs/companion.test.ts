import { describe, expect, it } from '@jest/globals';
import {
  DEFAULT_COMPANION_OPTIONS,
  filteredVips,
  renderCompanion,
} from '../../../../speaker/dataplane/ipvs/companion.ts';
import { model, service, threePods } from '../helpers.ts';

const HTTP_PORT = { name: 'http', port: 80, targetPort: 8080 };
const state = model(
  [
    service('web', { type: 'NodePort', clusterIP: '192.0.2.10', ports: [{ ...HTTP_PORT, nodePort: 30080 }] }),
    service('local', {
      type: 'NodePort',
      clusterIP: '192.0.2.14',
      externalTrafficPolicy: 'Local',
      ports: [{ ...HTTP_PORT, nodePort: 30081 }],
    }),
    service('empty', { clusterIP: '192.0.2.12', ports: [HTTP_PORT] }),
  ],
  [threePods('web'), threePods('local', ['node-2', 'node-2', 'node-2'])],
);
const line = (script: string, re: RegExp): string =>
  script
    .split('\n')
    .find((l) => re.test(l))
    ?.trim() ?? '';

describe('renderCompanion', () => {
  it('replaces the whole table in one transaction', () => {
    const script = renderCompanion(state, DEFAULT_COMPANION_OPTIONS);
    expect(script.split('\n').slice(0, 3)).toEqual([
      'table inet portico-ipvs',
      'delete table inet portico-ipvs',
      'table inet portico-ipvs {',
    ]);
  });

  it('marks external traffic under policy Cluster for masquerade, not policy Local', () => {
    const script = renderCompanion(state, DEFAULT_COMPANION_OPTIONS);
    expect(line(script, /set masq4/)).toBe(
      'set masq4 { type ipv4_addr . inet_proto . inet_service ; elements = { 203.0.113.1 . tcp . 30080 } ; }',
    );
    expect(script).toContain('ip daddr . meta l4proto . th dport @masq4 meta mark set meta mark | 0x4000');
    expect(script).toContain('masquerade fully-random');
  });

  it('ClusterIP traffic is marked only from outside the cluster CIDRs, or always with masqueradeAll', () => {
    const withCidrs = renderCompanion(state, {
      ...DEFAULT_COMPANION_OPTIONS,
      clusterCIDRs: ['198.51.100.0/24'],
    });
    expect(withCidrs).toContain(
      'ip saddr != { 198.51.100.0/24 } ip daddr . meta l4proto . th dport @cluster4 meta mark set meta mark | 0x4000',
    );
    expect(renderCompanion(state, DEFAULT_COMPANION_OPTIONS)).not.toContain('@cluster4 meta mark');
    const all = renderCompanion(state, { ...DEFAULT_COMPANION_OPTIONS, masqueradeAll: true });
    expect(line(all, /set masq4/)).toContain('192.0.2.10 . tcp . 80');
  });

  it('rejects Services without endpoints and drops Local traffic without local endpoints, before IPVS', () => {
    const script = renderCompanion(state, DEFAULT_COMPANION_OPTIONS);
    expect(line(script, /set reject4/)).toContain('elements = { 192.0.2.12 . tcp . 80 }');
    expect(line(script, /set drop4/)).toContain('elements = { 203.0.113.1 . tcp . 30081 }');
    expect(script).toContain('type filter hook input priority -110 ; policy accept ;');
    expect(script).toContain('type filter hook output priority -110 ; policy accept ;');
  });

  it('empty sets carry no elements clause (nft rejects an empty one)', () => {
    const script = renderCompanion(model([]), DEFAULT_COMPANION_OPTIONS);
    expect(line(script, /set masq6/)).toBe('set masq6 { type ipv6_addr . inet_proto . inet_service ; }');
  });

  describe('the VIP port filter (kube-proxy KUBE-IPVS-FILTER)', () => {
    const vipState = model(
      [
        service('web', {
          type: 'LoadBalancer',
          clusterIP: '192.0.2.10',
          clusterIPs: ['192.0.2.10', '2001:db8:3::10'],
          ipFamilies: ['IPv4', 'IPv6'],
          ipFamilyPolicy: 'RequireDualStack',
          externalIPs: ['198.18.5.5'],
          ports: [{ ...HTTP_PORT, nodePort: 30080 }],
        }),
        service('dns', {
          clusterIP: '192.0.2.53',
          ports: [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 }],
        }),
      ],
      [threePods('web')],
    );
    const withLb = {
      ...vipState,
      services: [
        ...vipState.services,
        ...vipState.services
          .filter((vs) => vs.kind === 'clusterIP' && vs.family === 4 && vs.service === 'default/web')
          .map((vs) => ({ ...vs, kind: 'loadBalancer' as const, vip: '198.18.7.7' })),
      ],
    };
    const script = renderCompanion(withLb, DEFAULT_COMPANION_OPTIONS);

    it('a set of the VIPs on the dummy device (ClusterIPs, LoadBalancer IPs, externalIPs), never node addresses', () => {
      expect(line(script, /set vips4/)).toBe(
        'set vips4 { type ipv4_addr ; elements = { 192.0.2.10, 192.0.2.53, 198.18.5.5, 198.18.7.7 } ; }',
      );
      expect(line(script, /set vips6/)).toBe(
        'set vips6 { type ipv6_addr ; elements = { 2001:db8:3::10 } ; }',
      );
      expect(script).not.toMatch(/set vips4 .*203\.0\.113\.1/);
    });

    it('the served `vip . proto . port` pass: Service ports of every protocol, on every VIP kind', () => {
      expect(line(script, /set served4/)).toBe(
        'set served4 { type ipv4_addr . inet_proto . inet_service ; elements = { 192.0.2.10 . tcp . 80, 198.18.5.5 . tcp . 80, 192.0.2.53 . udp . 53, 198.18.7.7 . tcp . 80 } ; }',
      );
      expect(script).toContain('ip daddr . meta l4proto . th dport @served4 return');
    });

    it('new connections to a VIP on a port no Service serves are rejected, in input ahead of IPVS, after the no-endpoint verdicts', () => {
      const chain = script.slice(script.indexOf('chain vip-filter {'));
      expect(
        chain
          .split('\n')
          .slice(1, 5)
          .map((l) => l.trim()),
      ).toEqual([
        'ip daddr . meta l4proto . th dport @served4 return',
        'ip daddr @vips4 reject',
        'ip6 daddr . meta l4proto . th dport @served6 return',
        'ip6 daddr @vips6 reject',
      ]);
      const input = script.slice(script.indexOf('chain filter-input {'));
      expect(
        input
          .split('\n')
          .slice(1, 4)
          .map((l) => l.trim()),
      ).toEqual([
        'type filter hook input priority -110 ; policy accept ;',
        'ct state new jump no-endpoints',
        'ct state new jump vip-filter',
      ]);
      // Not in output: the node's own connections to a VIP meet input through loopback.
      const output = script.slice(script.indexOf('chain filter-output {'));
      expect(output.slice(0, output.indexOf('}'))).not.toContain('vip-filter');
    });

    it('addresses that are not VIPs are untouched: NodePorts on node addresses are in neither set', () => {
      expect(script).not.toMatch(/set (vips|served)[46] .*(203\.0\.113\.1|2001:db8:2::1)/);
      // The reject matches on `daddr @vips` only, nothing on other destinations.
      expect(script.split('\n').filter((l) => / reject$/.test(l) && !/@(vips|reject)[46]/.test(l))).toEqual(
        [],
      );
    });

    it('an address that is both a VIP and a NodePort address (a node address as LoadBalancer IP) is not filtered', () => {
      const onNode = {
        services: [
          ...withLb.services,
          ...withLb.services
            .filter((vs) => vs.kind === 'loadBalancer')
            .map((vs) => ({ ...vs, vip: '203.0.113.1', port: 443 })),
        ],
      };
      expect(filteredVips(onNode)).toEqual([
        '192.0.2.10',
        '192.0.2.53',
        '198.18.5.5',
        '198.18.7.7',
        '2001:db8:3::10',
      ]);
    });

    it('without Services the sets are empty and the chain still loads', () => {
      const empty = renderCompanion(model([]), DEFAULT_COMPANION_OPTIONS);
      expect(line(empty, /set vips4/)).toBe('set vips4 { type ipv4_addr ; }');
      expect(line(empty, /set served6/)).toBe('set served6 { type ipv6_addr . inet_proto . inet_service ; }');
    });
  });
});
