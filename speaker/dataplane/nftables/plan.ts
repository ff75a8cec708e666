// What the nftables table should hold, as plain data: the fixed base (hooks,
// dispatch maps, masquerading, reject) and, per virtual service, its chains,
// affinity sets and dispatch-map element. Each chain carries a fingerprint of
// its rules, written as the comment of its last rule, so that a sync can tell
// from `nft -j list table` whether a chain is intact without parsing rules.
import { parseCIDR, formatCIDR } from '../ip.ts';
import { activeEndpoints } from '../types.ts';
import type { Endpoint, IPFamily, VirtualService } from '../types.ts';
import { affinitySetName, endpointChainName, serviceChainName, shortHash } from './names.ts';

export interface NftOptions {
  /** The private table, in the inet family (both IP families, one transaction). */
  readonly table: string;
  /**
   * Pod CIDRs. ClusterIP traffic from outside them is masqueraded, as
   * kube-proxy does with --cluster-cidr. Empty: not masqueraded.
   */
  readonly clusterCIDRs: readonly string[];
  /** Masquerade all ClusterIP traffic (kube-proxy's --masquerade-all). */
  readonly masqueradeAll: boolean;
  /** The packet-mark bit that asks for masquerade in postrouting. */
  readonly masqueradeMark: number;
}

export const DEFAULT_NFT_OPTIONS: NftOptions = {
  table: 'portico',
  clusterCIDRs: [],
  masqueradeAll: false,
  masqueradeMark: 0x4000,
};

export interface ChainPlan {
  readonly name: string;
  /** Base chains: `type ... hook ... priority ...; policy ...;`. */
  readonly hook?: string;
  /** Rule bodies; the last one ends with the fingerprint comment. */
  readonly rules: readonly string[];
  readonly fingerprint: string;
}

export interface SetPlan {
  readonly kind: 'set' | 'map';
  readonly name: string;
  /** The body between braces in `add set|map <table> <name> { ... }`. */
  readonly spec: string;
}

export interface ElementPlan {
  readonly map: string;
  /** `vip . proto . port`, as nft prints it. */
  readonly key: string;
  /** `goto <chain>` or `drop`. */
  readonly verdict: string;
}

export interface ServicePlan {
  readonly key: string;
  readonly chains: readonly ChainPlan[];
  readonly sets: readonly SetPlan[];
  readonly element: ElementPlan;
}

export interface BasePlan {
  readonly sets: readonly SetPlan[];
  readonly chains: readonly ChainPlan[];
}

export const REJECT_CHAIN = 'reject-chain';
export const MARK_CHAIN = 'mark-for-masquerade';

export function serviceMap(family: IPFamily): string {
  return `service-ips${family}`;
}

export function noEndpointsMap(family: IPFamily): string {
  return `no-endpoint-services${family}`;
}

function chain(name: string, body: readonly string[], hook?: string): ChainPlan {
  const fingerprint = shortHash(`${hook ?? ''}\n${body.join('\n')}`);
  const rules = body.map((r, i) => (i === body.length - 1 ? `${r} comment "${fingerprint}"` : r));
  return hook === undefined ? { name, rules, fingerprint } : { name, hook, rules, fingerprint };
}

const DISPATCH_TYPE = (family: IPFamily): string =>
  `type ${family === 4 ? 'ipv4_addr' : 'ipv6_addr'} . inet_proto . inet_service : verdict ;`;

export function planBase(options: NftOptions): BasePlan {
  const mark = `0x${options.masqueradeMark.toString(16)}`;
  const sets: SetPlan[] = [];
  for (const family of [4, 6] as const) {
    sets.push({ kind: 'map', name: serviceMap(family), spec: DISPATCH_TYPE(family) });
    sets.push({ kind: 'map', name: noEndpointsMap(family), spec: DISPATCH_TYPE(family) });
  }
  const filterHook = (hook: string): string => `type filter hook ${hook} priority -110 ; policy accept ;`;
  const chains = [
    chain('nat-prerouting', ['jump services'], 'type nat hook prerouting priority -100 ; policy accept ;'),
    chain('nat-output', ['jump services'], 'type nat hook output priority -100 ; policy accept ;'),
    chain(
      'nat-postrouting',
      ['jump masquerading'],
      'type nat hook postrouting priority 100 ; policy accept ;',
    ),
    // New connections to a VIP without endpoints never get DNAT, so they
    // arrive here still addressed to the VIP: input (node addresses),
    // forward (routed VIPs) or output (from the node itself).
    chain('filter-input', ['ct state new jump no-endpoints'], filterHook('input')),
    chain('filter-forward', ['ct state new jump no-endpoints'], filterHook('forward')),
    chain('filter-output', ['ct state new jump no-endpoints'], filterHook('output')),
    chain('services', [
      `ip daddr . meta l4proto . th dport vmap @${serviceMap(4)}`,
      `ip6 daddr . meta l4proto . th dport vmap @${serviceMap(6)}`,
    ]),
    chain('no-endpoints', [
      `ip daddr . meta l4proto . th dport vmap @${noEndpointsMap(4)}`,
      `ip6 daddr . meta l4proto . th dport vmap @${noEndpointsMap(6)}`,
    ]),
    chain(MARK_CHAIN, [`meta mark set meta mark | ${mark}`]),
    chain('masquerading', [
      `meta mark & ${mark} == 0 return`,
      `meta mark set meta mark ^ ${mark}`,
      'masquerade fully-random',
    ]),
    chain(REJECT_CHAIN, ['reject']),
  ];
  return { sets, chains };
}

const ipKeyword = (family: IPFamily): string => (family === 4 ? 'ip' : 'ip6');

export function elementKey(vs: Pick<VirtualService, 'vip' | 'protocol' | 'port'>): string {
  return `${vs.vip} . ${vs.protocol.toLowerCase()} . ${vs.port}`;
}

function clusterCIDRsOf(options: NftOptions, family: IPFamily): string[] {
  return options.clusterCIDRs.flatMap((text) => {
    const c = parseCIDR(text);
    return c && c.family === family ? [formatCIDR(c)] : [];
  });
}

/** The rule that asks for SNAT of traffic to `vs`, if any (kube-proxy's rules). */
function masqueradeRule(vs: VirtualService, options: NftOptions): string | null {
  if (vs.kind !== 'clusterIP') return vs.externalLocal ? null : `jump ${MARK_CHAIN}`;
  if (options.masqueradeAll) return `jump ${MARK_CHAIN}`;
  const cidrs = clusterCIDRsOf(options, vs.family);
  return cidrs.length ? `${ipKeyword(vs.family)} saddr != { ${cidrs.join(', ')} } jump ${MARK_CHAIN}` : null;
}

function endpointChain(vs: VirtualService, ep: Endpoint, affinitySet: string | null): ChainPlan {
  const ip = ipKeyword(vs.family);
  const target = vs.family === 4 ? `${ep.ip}:${ep.port}` : `[${ep.ip}]:${ep.port}`;
  const rules = [
    // Hairpin: a pod reaching itself through the VIP must see a reply from the VIP.
    `${ip} saddr ${ep.ip} jump ${MARK_CHAIN}`,
    ...(affinitySet ? [`update @${affinitySet} { ${ip} saddr }`] : []),
    `meta l4proto ${vs.protocol.toLowerCase()} dnat ${ip} to ${target}`,
  ];
  return chain(endpointChainName(vs, ep), rules);
}

export function planVirtualService(vs: VirtualService, options: NftOptions): ServicePlan {
  const key = elementKey(vs);
  const active = activeEndpoints(vs);
  if (active.length === 0) {
    const verdict = vs.noEndpoints === 'drop' ? 'drop' : `goto ${REJECT_CHAIN}`;
    return { key: vs.key, chains: [], sets: [], element: { map: noEndpointsMap(vs.family), key, verdict } };
  }
  const ip = ipKeyword(vs.family);
  const sets: SetPlan[] = [];
  const chains: ChainPlan[] = [];
  const targets: { chain: string; set: string | null }[] = [];
  for (const ep of active) {
    const set = vs.affinity ? affinitySetName(vs, ep, vs.affinity.timeoutSeconds) : null;
    if (set && vs.affinity) {
      sets.push({
        kind: 'set',
        name: set,
        spec: `type ${vs.family === 4 ? 'ipv4_addr' : 'ipv6_addr'} ; flags dynamic,timeout ; timeout ${vs.affinity.timeoutSeconds}s ;`,
      });
    }
    const c = endpointChain(vs, ep, set);
    chains.push(c);
    targets.push({ chain: c.name, set });
  }
  const rules: string[] = [];
  const masq = masqueradeRule(vs, options);
  if (masq) rules.push(masq);
  // A client with a live affinity entry goes back to its endpoint.
  for (const t of targets) if (t.set) rules.push(`${ip} saddr @${t.set} goto ${t.chain}`);
  // Uniform choice without a map: endpoint i of n is taken with probability
  // 1/(n-i) among those left (as kube-proxy's iptables statistic rules do).
  // A `numgen ... vmap { ... }` would be one anonymous set per service, and
  // the kernel looks sets up in a list: a transaction that adds thousands of
  // them takes quadratic time.
  targets.forEach((t, i) => {
    const left = targets.length - i;
    rules.push(left > 1 ? `numgen random mod ${left} == 0 goto ${t.chain}` : `goto ${t.chain}`);
  });
  const svcChain = chain(serviceChainName(vs), rules);
  return {
    key: vs.key,
    chains: [svcChain, ...chains],
    sets,
    element: { map: serviceMap(vs.family), key, verdict: `goto ${svcChain.name}` },
  };
}
