// The rules kube-proxy keeps beside IPVS, in a private nftables table
// (`inet portico-ipvs`) instead of iptables:
// - masquerade marks: external traffic under externalTrafficPolicy Cluster,
//   and ClusterIP traffic from outside the cluster CIDRs (or all of it with
//   masqueradeAll), then `masquerade` in postrouting for marked packets. This
//   needs net.ipv4.vs.conntrack=1, so IPVS-forwarded packets keep conntrack;
// - no-endpoint verdicts, ahead of IPVS: reject when a Service has no usable
//   endpoint, drop when only non-local ones exist and the policy is Local.
//
// The table is small (sets of `vip . proto . port`, a few fixed chains), so
// every sync replaces it whole in one transaction instead of diffing it.
import { formatCIDR, parseCIDR } from '../ip.ts';
import { activeEndpoints } from '../types.ts';
import type { DesiredState, IPFamily, VirtualService } from '../types.ts';

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

function setBlock(name: string, family: IPFamily, elements: readonly string[]): string {
  const type = `type ${family === 4 ? 'ipv4_addr' : 'ipv6_addr'} . inet_proto . inet_service ;`;
  const body = elements.length ? ` elements = { ${elements.join(', ')} } ;` : '';
  return `  set ${name}${family} { ${type}${body} }`;
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
  for (const family of [4, 6] as const) {
    const ip = family === 4 ? 'ip' : 'ip6';
    for (const name of ['masq', 'cluster', 'reject', 'drop'] as const)
      lines.push(setBlock(name, family, sets.get(`${name}${family}`) ?? []));
    const tuple = `${ip} daddr . meta l4proto . th dport`;
    markRules.push(`    ${tuple} @masq${family} ${setMark}`);
    const cidrs = options.clusterCIDRs.flatMap((t) => {
      const c = parseCIDR(t);
      return c && c.family === family ? [formatCIDR(c)] : [];
    });
    if (cidrs.length)
      markRules.push(`    ${ip} saddr != { ${cidrs.join(', ')} } ${tuple} @cluster${family} ${setMark}`);
    noEndpointRules.push(`    ${tuple} @drop${family} drop`, `    ${tuple} @reject${family} reject`);
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
    // Ahead of IPVS (which hooks LOCAL_IN and LOCAL_OUT after NAT priority).
    `  chain filter-input {`,
    hook('filter', 'input', -110),
    `    ct state new jump no-endpoints`,
    `  }`,
    `  chain filter-output {`,
    hook('filter', 'output', -110),
    `    ct state new jump no-endpoints`,
    `  }`,
    `}`,
    '',
  ].join('\n');
}
