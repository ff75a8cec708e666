// The rules kube-proxy keeps beside IPVS, in a private nftables table
// (`inet portico-ipvs`) instead of iptables:
// - masquerade marks: external traffic under externalTrafficPolicy Cluster,
//   and ClusterIP traffic from outside the cluster CIDRs (or all of it with
//   masqueradeAll), then `masquerade` in postrouting for marked packets. This
//   needs net.ipv4.vs.conntrack=1, so IPVS-forwarded packets keep conntrack;
// - no-endpoint verdicts, ahead of IPVS: reject when a Service has no usable
//   endpoint, drop when only non-local ones exist and the policy is Local;
// - the VIP port filter (kube-proxy's KUBE-IPVS-FILTER): every VIP on the
//   dummy device is a local address, so anything on the node listening on
//   0.0.0.0 (sshd, the kubelet) would answer on it. New connections to a VIP
//   whose `vip . proto . port` no Service serves are rejected in input, ahead
//   of IPVS, whatever their protocol (ICMP echo included, as kube-proxy).
//
// The table is small (sets of `vip . proto . port`, a few fixed chains), so
// every sync replaces it whole in one transaction instead of diffing it.
import { formatCIDR, parseCIDR } from '../ip.ts';
import { activeEndpoints } from '../types.ts';
import type { DesiredState, IPFamily, VirtualService } from '../types.ts';
import { desiredAddresses } from './table.ts';

export interface CompanionOptions {
  readonly table: string;
  readonly clusterCIDRs: readonly string[];
  readonly masqueradeAll: boolean;
  readonly masqueradeMark: number;
}

export const DEFAULT_COMPANION_OPTIONS: CompanionOptions = {
  table: 'portico-ipvs',
  clusterCIDRs: [],
  masqueradeAll: false,
  masqueradeMark: 0x4000,
};

type SetName = 'masq' | 'cluster' | 'reject' | 'drop';

const element = (vs: VirtualService): string => `${vs.vip} . ${vs.protocol.toLowerCase()} . ${vs.port}`;

function classify(vs: VirtualService, options: CompanionOptions): SetName[] {
  const out: SetName[] = [];
  if (activeEndpoints(vs).length === 0) out.push(vs.noEndpoints === 'drop' ? 'drop' : 'reject');
  if (vs.kind === 'clusterIP') out.push(options.masqueradeAll ? 'masq' : 'cluster');
  else if (!vs.externalLocal) out.push('masq');
  return out;
}

function setBlock(name: string, family: IPFamily, elements: readonly string[], addrOnly = false): string {
  const addr = family === 4 ? 'ipv4_addr' : 'ipv6_addr';
  const type = addrOnly ? `type ${addr} ;` : `type ${addr} . inet_proto . inet_service ;`;
  const body = elements.length ? ` elements = { ${elements.join(', ')} } ;` : '';
  return `  set ${name}${family} { ${type}${body} }`;
}

/**
 * The VIPs the port filter guards: the dummy device's addresses (ClusterIPs,
 * LoadBalancer IPs, externalIPs), less any that is also a NodePort address
 * (a node address someone made a LoadBalancer or external IP): the node's
 * own services must stay reachable on its own addresses. Sorted.
 */
export function filteredVips(state: DesiredState): string[] {
  const nodeAddresses = new Set(state.services.filter((vs) => vs.kind === 'nodePort').map((vs) => vs.vip));
  return [...desiredAddresses(state)].filter((ip) => !nodeAddresses.has(ip)).sort();
}

/** The virtual services on a filtered VIP: the tuples the port filter lets through. */
export function servedOnVips(state: DesiredState): VirtualService[] {
  const vips = new Set(filteredVips(state));
  return state.services.filter((vs) => vips.has(vs.vip));
}

/** The whole companion table, as one `nft -f -` transaction that replaces the old one. */
export function renderCompanion(state: DesiredState, options: CompanionOptions): string {
  const sets = new Map<string, string[]>();
  for (const vs of state.services) {
    for (const name of classify(vs, options)) {
      const key = `${name}${vs.family}`;
      sets.set(key, [...(sets.get(key) ?? []), element(vs)]);
    }
  }
  const mark = `0x${options.masqueradeMark.toString(16)}`;
  const setMark = `meta mark set meta mark | ${mark}`;
  const lines: string[] = [];
  const markRules: string[] = [];
  const noEndpointRules: string[] = [];
  const vipFilterRules: string[] = [];
  const vips = filteredVips(state);
  const served = servedOnVips(state);
  for (const family of [4, 6] as const) {
    const ip = family === 4 ? 'ip' : 'ip6';
    for (const name of ['masq', 'cluster', 'reject', 'drop'] as const)
      lines.push(setBlock(name, family, sets.get(`${name}${family}`) ?? []));
    const isFamily = (a: string): boolean => a.includes(':') === (family === 6);
    lines.push(setBlock('vips', family, vips.filter(isFamily), true));
    lines.push(setBlock('served', family, served.filter((vs) => vs.family === family).map(element)));
    const tuple = `${ip} daddr . meta l4proto . th dport`;
    markRules.push(`    ${tuple} @masq${family} ${setMark}`);
    const cidrs = options.clusterCIDRs.flatMap((t) => {
      const c = parseCIDR(t);
      return c && c.family === family ? [formatCIDR(c)] : [];
    });
    if (cidrs.length)
      markRules.push(`    ${ip} saddr != { ${cidrs.join(', ')} } ${tuple} @cluster${family} ${setMark}`);
    noEndpointRules.push(`    ${tuple} @drop${family} drop`, `    ${tuple} @reject${family} reject`);
    // A packet without a transport header to read (`th dport`) does not
    // match the first rule, so it meets the reject: the filter fails closed.
    vipFilterRules.push(`    ${tuple} @served${family} return`, `    ${ip} daddr @vips${family} reject`);
  }
  const t = options.table;
  const hook = (type: string, name: string, prio: number): string =>
    `    type ${type} hook ${name} priority ${prio} ; policy accept ;`;
  return [
    `table inet ${t}`,
    `delete table inet ${t}`,
    `table inet ${t} {`,
    ...lines,
    `  chain mark-masquerade {`,
    ...markRules,
    `  }`,
    `  chain nat-prerouting {`,
    hook('nat', 'prerouting', -100),
    `    jump mark-masquerade`,
    `  }`,
    `  chain nat-output {`,
    hook('nat', 'output', -100),
    `    jump mark-masquerade`,
    `  }`,
    `  chain nat-postrouting {`,
    hook('nat', 'postrouting', 100),
    `    meta mark & ${mark} == 0 return`,
    `    meta mark set meta mark ^ ${mark}`,
    `    masquerade fully-random`,
    `  }`,
    `  chain no-endpoints {`,
    ...noEndpointRules,
    `  }`,
    `  chain vip-filter {`,
    ...vipFilterRules,
    `  }`,
    // Ahead of IPVS (which hooks LOCAL_IN and LOCAL_OUT after NAT priority).
    // The VIP filter is in input only: the node's own connections to a VIP
    // also come in through loopback, so they meet it there.
    `  chain filter-input {`,
    hook('filter', 'input', -110),
    `    ct state new jump no-endpoints`,
    `    ct state new jump vip-filter`,
    `  }`,
    `  chain filter-output {`,
    hook('filter', 'output', -110),
    `    ct state new jump no-endpoints`,
    `  }`,
    `}`,
    '',
  ].join('\n');
}
