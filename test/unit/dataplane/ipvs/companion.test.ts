import { describe, expect, it } from '@jest/globals';
import { DEFAULT_COMPANION_OPTIONS, renderCompanion } from '../../../../speaker/dataplane/ipvs/companion.ts';
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
});
