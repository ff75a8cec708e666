// The companion rules of companion.ts in iptables, for kernels whose
// nf_tables has no inet/ip/ip6 family (Debian's User-Mode Linux kernel) but
// which have ip_tables: kube-proxy's IPVS proxier keeps the same rules there.
// Same semantics as the nftables table:
// - nat: mark (`--or-mark 0x4000`) external traffic under
//   externalTrafficPolicy Cluster, and ClusterIP traffic from outside the
//   cluster CIDRs (or all of it with masqueradeAll), in PREROUTING and OUTPUT;
//   in POSTROUTING, clear the mark of marked packets and `MASQUERADE
//   --random-fully`;
// - filter: for new connections in INPUT and OUTPUT, REJECT when a Service has
//   no usable endpoint, DROP when only non-local ones exist and the policy is
//   Local;
// - filter: the VIP port filter, for new connections in INPUT: per VIP, a
//   RETURN for each `proto --dport` a Service serves on it, then REJECT for
//   anything else to that VIP (no ipset: one rule per served port and one per
//   VIP, the same set semantics as the nftables table).
//
// Everything lives in private chains (`PORTICO-IPVS-MARK`,
// `PORTICO-IPVS-POSTROUTING` in nat, `PORTICO-IPVS-NOEP` and
// `PORTICO-IPVS-FILTER` in filter). Each
// sync is one `iptables-restore --noflush` run: declaring a chain that exists
// flushes it, so the chains are refilled whole, and each table is committed
// at once. The jumps from the built-in chains are inserted only when a
// read-back (`iptables-save`) shows them missing, and duplicates are deleted,
// so they never pile up. Pure: text in, text out.
import { formatCIDR, parseCIDR } from '../ip.ts';
import { activeEndpoints } from '../types.ts';
import type { DesiredState, IPFamily, VirtualService } from '../types.ts';
import { filteredVips, servedOnVips } from './companion.ts';
import type { CompanionOptions } from './companion.ts';

export type IptablesTable = 'nat' | 'filter';

export interface IptablesChains {
  readonly mark: string;
  readonly postrouting: string;
  readonly noEndpoints: string;
  readonly vipFilter: string;
}

/** iptables chain names are at most 28 characters. */
const MAX_CHAIN = 28;

/** The private chains, named after the companion table (`portico-ipvs` -> `PORTICO-IPVS-MARK`, ...). */
export function iptablesChains(options: Pick<CompanionOptions, 'table'>): IptablesChains {
  const prefix = options.table.toUpperCase();
  const chains = {
    mark: `${prefix}-MARK`,
    postrouting: `${prefix}-POSTROUTING`,
    noEndpoints: `${prefix}-NOEP`,
    vipFilter: `${prefix}-FILTER`,
  };
  for (const name of Object.values(chains)) {
    if (name.length > MAX_CHAIN || !/^[A-Z0-9][A-Z0-9_-]*$/.test(name))
      throw new Error(`companion table name "${options.table}" makes an invalid iptables chain name ${name}`);
  }
  return chains;
}

export interface IptablesJump {
  readonly table: IptablesTable;
  /** The built-in chain the jump sits in. */
  readonly from: string;
  /** The private chain it jumps to. */
  readonly to: string;
  /** The rule after `-A <from> `, exactly as iptables-save prints it. */
  readonly rule: string;
}

/** The six jumps from the built-in chains into the private ones. */
export function iptablesJumps(chains: IptablesChains): IptablesJump[] {
  const marks = `-m comment --comment "portico-ipvs masquerade marks" -j ${chains.mark}`;
  const newConn = `-m conntrack --ctstate NEW -m comment --comment "portico-ipvs no-endpoint verdicts" -j ${chains.noEndpoints}`;
  return [
    { table: 'nat', from: 'PREROUTING', to: chains.mark, rule: marks },
    { table: 'nat', from: 'OUTPUT', to: chains.mark, rule: marks },
    {
      table: 'nat',
      from: 'POSTROUTING',
      to: chains.postrouting,
      rule: `-m comment --comment "portico-ipvs masquerade" -j ${chains.postrouting}`,
    },
    { table: 'filter', from: 'INPUT', to: chains.noEndpoints, rule: newConn },
    { table: 'filter', from: 'OUTPUT', to: chains.noEndpoints, rule: newConn },
    // Input only: the node's own connections to a VIP come in through loopback too.
    {
      table: 'filter',
      from: 'INPUT',
      to: chains.vipFilter,
      rule: `-m conntrack --ctstate NEW -m comment --comment "portico-ipvs vip port filter" -j ${chains.vipFilter}`,
    },
  ];
}

/** What `iptables-save -t nat` and `-t filter` printed (one family). */
export interface IptablesObserved {
  readonly nat: string;
  readonly filter: string;
}

interface SavedTable {
  /** User-defined and built-in chains declared in the dump. */
  readonly chains: Set<string>;
  /** `-A` lines as [chain, rest of the rule]. */
  readonly rules: readonly (readonly [string, string])[];
}

/** Parses one table of an iptables-save dump. Pure. */
export function parseSavedTable(save: string): SavedTable {
  const chains = new Set<string>();
  const rules: [string, string][] = [];
  for (const raw of save.split('\n')) {
    const line = raw.trim();
    const decl = /^:(\S+)\s/.exec(line);
    if (decl?.[1]) chains.add(decl[1]);
    const rule = /^-A (\S+) (.*)$/.exec(line);
    if (rule?.[1] && rule[2] !== undefined) rules.push([rule[1], rule[2]]);
  }
  return { chains, rules };
}

const jumpTarget = (rule: string): string | null => /(?:^|\s)-[jg] (\S+)$/.exec(rule)?.[1] ?? null;

/**
 * The lines that make the jumps right: `-I <from> 1 <rule>` for each one
 * missing, `-D <from> <rule>` for each duplicate, or any other rule in a
 * built-in chain that jumps into a private chain (an older rule spec).
 */
export function planJumps(
  table: IptablesTable,
  saved: SavedTable,
  chains: IptablesChains,
): { insert: string[]; remove: string[] } {
  const ours = new Set(Object.values(chains));
  const wanted = iptablesJumps(chains).filter((j) => j.table === table);
  const insert: string[] = [];
  const remove: string[] = [];
  const kept = new Set<string>();
  for (const [chain, rule] of saved.rules) {
    const target = jumpTarget(rule);
    if (target === null || !ours.has(target) || ours.has(chain)) continue;
    const want = wanted.find((j) => j.from === chain && j.rule === rule);
    if (want && !kept.has(`${chain} ${rule}`)) kept.add(`${chain} ${rule}`);
    else remove.push(`-D ${chain} ${rule}`);
  }
  for (const j of wanted) if (!kept.has(`${j.from} ${j.rule}`)) insert.push(`-I ${j.from} 1 ${j.rule}`);
  return { insert, remove };
}

const MAX_COMMENT = 255;

function match(vs: VirtualService): string {
  const proto = vs.protocol.toLowerCase();
  const what = `${vs.service}${vs.portName ? `:${vs.portName}` : ''} ${vs.kind}`.slice(0, MAX_COMMENT);
  const comment = what.replaceAll('"', '');
  return `-d ${vs.vip}/${vs.family === 4 ? 32 : 128} -p ${proto} -m ${proto} --dport ${vs.port} -m comment --comment "${comment}"`;
}

/**
 * `iptables-restore --noflush` input (`ip6tables-restore` for family 6) that
 * refills the private chains for `state`. With `observed` (the tables read
 * back, on full syncs) it also inserts missing jumps and deletes duplicate
 * ones; without it, the jumps are trusted to be in place.
 */
export function renderIptablesCompanion(
  state: DesiredState,
  options: CompanionOptions,
  family: IPFamily,
  observed: IptablesObserved | null = null,
): string {
  const chains = iptablesChains(options);
  const setMark = `-j MARK --or-mark 0x${options.masqueradeMark.toString(16)}`;
  const masq: string[] = [];
  const cluster: string[] = [];
  const noEndpoints: string[] = [];
  for (const vs of state.services) {
    if (vs.family !== family) continue;
    if (activeEndpoints(vs).length === 0)
      noEndpoints.push(
        `-A ${chains.noEndpoints} ${match(vs)} -j ${vs.noEndpoints === 'drop' ? 'DROP' : 'REJECT'}`,
      );
    if (vs.kind === 'clusterIP')
      (options.masqueradeAll ? masq : cluster).push(`-A ${chains.mark} ${match(vs)} ${setMark}`);
    else if (!vs.externalLocal) masq.push(`-A ${chains.mark} ${match(vs)} ${setMark}`);
  }
  // Per VIP: its served ports return, anything else is rejected.
  const prefixLen = family === 4 ? 32 : 128;
  const served = new Map<string, string[]>();
  for (const vs of servedOnVips(state))
    served.set(vs.vip, [...(served.get(vs.vip) ?? []), `-A ${chains.vipFilter} ${match(vs)} -j RETURN`]);
  const vipFilter = filteredVips(state)
    .filter((ip) => ip.includes(':') === (family === 6))
    .flatMap((ip) => [
      ...(served.get(ip) ?? []),
      `-A ${chains.vipFilter} -d ${ip}/${prefixLen} -m comment --comment "portico-ipvs vip, port not served" -j REJECT`,
    ]);
  const cidrs = options.clusterCIDRs.flatMap((t) => {
    const c = parseCIDR(t);
    return c && c.family === family ? [formatCIDR(c)] : [];
  });
  // ClusterIP traffic from inside a cluster CIDR leaves before the ClusterIP
  // rules (`! -s` takes one address only); without cluster CIDRs it is not marked.
  const clusterRules =
    cidrs.length && cluster.length
      ? [...cidrs.map((c) => `-A ${chains.mark} -s ${c} -j RETURN`), ...cluster]
      : [];
  const mark = `0x${options.masqueradeMark.toString(16)}`;
  const jumps = (table: IptablesTable) =>
    observed ? planJumps(table, parseSavedTable(observed[table]), chains) : { insert: [], remove: [] };
  const nat = jumps('nat');
  const filter = jumps('filter');
  return [
    '*nat',
    `:${chains.mark} - [0:0]`,
    `:${chains.postrouting} - [0:0]`,
    ...nat.remove,
    ...masq,
    ...clusterRules,
    `-A ${chains.postrouting} -m mark ! --mark ${mark}/${mark} -j RETURN`,
    `-A ${chains.postrouting} -j MARK --xor-mark ${mark}`,
    `-A ${chains.postrouting} -j MASQUERADE --random-fully`,
    ...nat.insert,
    'COMMIT',
    '*filter',
    `:${chains.noEndpoints} - [0:0]`,
    `:${chains.vipFilter} - [0:0]`,
    ...filter.remove,
    ...noEndpoints,
    ...vipFilter,
    ...filter.insert,
    'COMMIT',
    '',
  ].join('\n');
}

/**
 * `iptables-restore --noflush` input that removes the companion rules: every
 * jump into a private chain, then the chains themselves. '' when there is
 * nothing to remove.
 */
export function renderIptablesCleanup(options: CompanionOptions, observed: IptablesObserved): string {
  const chains = iptablesChains(options);
  const ours = new Set(Object.values(chains));
  const out: string[] = [];
  for (const table of ['nat', 'filter'] as const) {
    const saved = parseSavedTable(observed[table]);
    const lines: string[] = [];
    for (const [chain, rule] of saved.rules) {
      const target = jumpTarget(rule);
      if (target !== null && ours.has(target) && !ours.has(chain)) lines.push(`-D ${chain} ${rule}`);
    }
    for (const chain of Object.values(chains)) {
      if (saved.chains.has(chain)) lines.push(`-F ${chain}`, `-X ${chain}`);
    }
    if (lines.length) out.push(`*${table}`, ...lines, 'COMMIT');
  }
  return out.length ? `${out.join('\n')}\n` : '';
}
