import { describe, expect, it } from '@jest/globals';
import {
  affinitySetName,
  endpointChainName,
  serviceChainName,
  shortHash,
} from '../../../../speaker/dataplane/nftables/names.ts';
import {
  DEFAULT_NFT_OPTIONS,
  elementKey,
  planBase,
  planVirtualService,
} from '../../../../speaker/dataplane/nftables/plan.ts';
import type { NftOptions, ServicePlan } from '../../../../speaker/dataplane/nftables/plan.ts';
import type { VirtualService } from '../../../../speaker/dataplane/types.ts';
import { byKey, endpoint, model, service, slice, threePods } from '../helpers.ts';

const OPTS = DEFAULT_NFT_OPTIONS;
const strip = (r: string): string => r.replace(/ comment "[A-Za-z0-9_-]{16}"$/, '');
const rulesOf = (plan: ServicePlan, i = 0): string[] => (plan.chains[i]?.rules ?? []).map(strip);

const webState = model(
  [
    service('web', {
      clusterIP: '192.0.2.10',
      clusterIPs: ['192.0.2.10', '2001:db8:3::10'],
      type: 'NodePort',
      ports: [{ name: 'http', port: 80, nodePort: 30080 }],
    }),
  ],
  [threePods(), slice('web', [endpoint('2001:db8:1::11')], [{ name: 'http', port: 8080 }], { name: 'v6' })],
);
const cip = byKey(webState, 'TCP/192.0.2.10/80');
const np = byKey(webState, 'TCP/203.0.113.1/30080');
const cip6 = byKey(webState, 'TCP/[2001:db8:3::10]/80');

describe('names', () => {
  it('are stable, short-hashed and readable', () => {
    expect(shortHash('x')).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(shortHash('x')).toBe(shortHash('x'));
    expect(shortHash('x')).not.toBe(shortHash('y'));
    expect(serviceChainName(cip)).toMatch(/^vs-[A-Za-z0-9_-]{16}-default\/web\/http\/cluster$/);
    expect(serviceChainName(np)).toMatch(/^vs-[A-Za-z0-9_-]{16}-default\/web\/http\/nodeport$/);
    expect(serviceChainName(cip)).not.toBe(serviceChainName(np));
  });

  it('depend on identity only, not on the rest of the virtual service', () => {
    const other: VirtualService = { ...cip, scheduler: 'mh', endpoints: [] };
    expect(serviceChainName(other)).toBe(serviceChainName(cip));
    const ep = cip.endpoints[0];
    if (!ep) throw new Error('no endpoint');
    expect(endpointChainName(other, { ...ep, weight: 0 })).toBe(endpointChainName(cip, ep));
    expect(affinitySetName(cip, ep, 60)).not.toBe(affinitySetName(cip, ep, 10800));
  });

  it('keep only characters nft accepts in the readable tail', () => {
    const odd: VirtualService = { ...cip, service: 'ns/we:b$', portName: '' };
    expect(serviceChainName(odd)).toMatch(/^vs-[A-Za-z0-9_-]{16}-ns\/we_b_\/80\/cluster$/);
  });
});

describe('planBase', () => {
  it('hooks prerouting and output for DNAT, postrouting for masquerade, and filter hooks for rejects', () => {
    const base = planBase(OPTS);
    const hooks = Object.fromEntries(base.chains.filter((c) => c.hook).map((c) => [c.name, c.hook]));
    expect(hooks).toEqual({
      'nat-prerouting': 'type nat hook prerouting priority -100 ; policy accept ;',
      'nat-output': 'type nat hook output priority -100 ; policy accept ;',
      'nat-postrouting': 'type nat hook postrouting priority 100 ; policy accept ;',
      'filter-input': 'type filter hook input priority -110 ; policy accept ;',
      'filter-forward': 'type filter hook forward priority -110 ; policy accept ;',
      'filter-output': 'type filter hook output priority -110 ; policy accept ;',
    });
    expect(base.sets.map((s) => `${s.kind} ${s.name}`)).toEqual([
      'map service-ips4',
      'map no-endpoint-services4',
      'map service-ips6',
      'map no-endpoint-services6',
    ]);
    const masq = base.chains.find((c) => c.name === 'masquerading');
    expect(masq?.rules.map(strip)).toEqual([
      'meta mark & 0x4000 == 0 return',
      'meta mark set meta mark ^ 0x4000',
      'masquerade fully-random',
    ]);
  });

  it('uses the configured mark', () => {
    const base = planBase({ ...OPTS, masqueradeMark: 0x200 });
    expect(base.chains.find((c) => c.name === 'mark-for-masquerade')?.rules.map(strip)).toEqual([
      'meta mark set meta mark | 0x200',
    ]);
  });

  it('puts a fingerprint comment on the last rule of every chain', () => {
    for (const c of planBase(OPTS).chains) {
      expect(c.rules.at(-1)).toBe(
        `${c.rules.at(-1)?.replace(/ comment ".*"$/, '')} comment "${c.fingerprint}"`,
      );
      expect(c.rules.slice(0, -1).every((r) => !r.includes('comment'))).toBe(true);
    }
  });
});

describe('planVirtualService', () => {
  it('ClusterIP: dispatch element, numgen across three endpoint chains, DNAT with hairpin mark', () => {
    const plan = planVirtualService(cip, OPTS);
    const [svc, ...eps] = plan.chains;
    expect(plan.element).toEqual({
      map: 'service-ips4',
      key: '192.0.2.10 . tcp . 80',
      verdict: `goto ${svc?.name}`,
    });
    // 1/3, then 1/2 of the rest, then the last: uniform, and no anonymous map per service.
    expect(rulesOf(plan)).toEqual([
      `numgen random mod 3 == 0 goto ${eps[0]?.name}`,
      `numgen random mod 2 == 0 goto ${eps[1]?.name}`,
      `goto ${eps[2]?.name}`,
    ]);
    expect(eps.map((e) => e.rules.map(strip))).toEqual(
      ['198.51.100.11', '198.51.100.12', '198.51.100.13'].map((ip) => [
        `ip saddr ${ip} jump mark-for-masquerade`,
        `meta l4proto tcp dnat ip to ${ip}:8080`,
      ]),
    );
    expect(plan.sets).toEqual([]);
  });

  it('ClusterIP masquerades traffic from outside the cluster CIDRs, or everything with masqueradeAll', () => {
    const opts: NftOptions = { ...OPTS, clusterCIDRs: ['198.51.100.0/24', '2001:db8:1::/64', 'junk'] };
    expect(rulesOf(planVirtualService(cip, opts))[0]).toBe(
      'ip saddr != { 198.51.100.0/24 } jump mark-for-masquerade',
    );
    expect(rulesOf(planVirtualService(cip6, opts))[0]).toBe(
      'ip6 saddr != { 2001:db8:1::/64 } jump mark-for-masquerade',
    );
    expect(rulesOf(planVirtualService(cip, { ...OPTS, masqueradeAll: true }))[0]).toBe(
      'jump mark-for-masquerade',
    );
  });

  it('external traffic with policy Cluster is masqueraded; with policy Local it is not', () => {
    expect(rulesOf(planVirtualService(np, OPTS))[0]).toBe('jump mark-for-masquerade');
    const local = planVirtualService({ ...np, externalLocal: true }, OPTS);
    expect(rulesOf(local).some((r) => r.includes('mark-for-masquerade'))).toBe(false);
  });

  it('a single endpoint is a plain goto', () => {
    const plan = planVirtualService(cip6, OPTS);
    expect(rulesOf(plan)).toEqual([`goto ${plan.chains[1]?.name}`]);
    expect(plan.chains[1]?.rules.map(strip)).toEqual([
      'ip6 saddr 2001:db8:1::11 jump mark-for-masquerade',
      'meta l4proto tcp dnat ip6 to [2001:db8:1::11]:8080',
    ]);
    expect(plan.element.map).toBe('service-ips6');
    expect(plan.element.key).toBe('2001:db8:3::10 . tcp . 80');
  });

  it('sessionAffinity: one timed set per endpoint, looked up before numgen and refreshed on DNAT', () => {
    const plan = planVirtualService({ ...cip, affinity: { timeoutSeconds: 10800 } }, OPTS);
    const [svc, ...eps] = plan.chains;
    expect(plan.sets.map((s) => s.spec)).toEqual(
      Array(3).fill('type ipv4_addr ; flags dynamic,timeout ; timeout 10800s ;'),
    );
    expect(svc?.rules.map(strip).slice(0, 3)).toEqual(
      eps.map((e, i) => `ip saddr @${plan.sets[i]?.name} goto ${e.name}`),
    );
    expect(svc?.rules.map(strip).slice(3)).toEqual([
      `numgen random mod 3 == 0 goto ${eps[0]?.name}`,
      `numgen random mod 2 == 0 goto ${eps[1]?.name}`,
      `goto ${eps[2]?.name}`,
    ]);
    expect(eps[0]?.rules.map(strip)[1]).toBe(`update @${plan.sets[0]?.name} { ip saddr }`);
  });

  it('draining endpoints (weight 0) take no new connections', () => {
    const vs: VirtualService = {
      ...cip,
      endpoints: cip.endpoints.map((e, i) => (i === 0 ? { ...e, weight: 0, terminating: true } : e)),
    };
    const plan = planVirtualService(vs, OPTS);
    expect(plan.chains).toHaveLength(3);
    expect(rulesOf(plan)[0]).toMatch(/^numgen random mod 2 == 0 goto /);
    expect(rulesOf(plan)).toHaveLength(2);
    expect(plan.chains.some((c) => c.rules.some((r) => r.includes('198.51.100.11')))).toBe(false);
  });

  it('no endpoints: an element in the no-endpoint map that rejects, or drops; no chains', () => {
    const none: VirtualService = { ...cip, endpoints: [], noEndpoints: 'reject' };
    expect(planVirtualService(none, OPTS)).toEqual({
      key: cip.key,
      chains: [],
      sets: [],
      element: { map: 'no-endpoint-services4', key: '192.0.2.10 . tcp . 80', verdict: 'goto reject-chain' },
    });
    const dropped = planVirtualService({ ...np, endpoints: [], noEndpoints: 'drop' }, OPTS);
    expect(dropped.element).toEqual({
      map: 'no-endpoint-services4',
      key: '203.0.113.1 . tcp . 30080',
      verdict: 'drop',
    });
  });

  it('UDP and SCTP DNAT name their protocol; element keys use nft spelling', () => {
    const udp: VirtualService = { ...cip, protocol: 'UDP', key: 'UDP/192.0.2.10/80' };
    expect(planVirtualService(udp, OPTS).chains[1]?.rules.map(strip)[1]).toBe(
      'meta l4proto udp dnat ip to 198.51.100.11:8080',
    );
    expect(elementKey({ vip: '192.0.2.10', protocol: 'SCTP', port: 3868 })).toBe('192.0.2.10 . sctp . 3868');
  });

  it('the fingerprint follows the content: endpoint changes change the service chain only', () => {
    const a = planVirtualService(cip, OPTS);
    const b = planVirtualService({ ...cip, endpoints: cip.endpoints.slice(0, 2) }, OPTS);
    expect(b.chains[0]?.name).toBe(a.chains[0]?.name);
    expect(b.chains[0]?.fingerprint).not.toBe(a.chains[0]?.fingerprint);
    expect(b.chains.slice(1)).toEqual(a.chains.slice(1, 3));
    expect(planVirtualService(structuredClone(cip), OPTS)).toEqual(a);
  });
});
