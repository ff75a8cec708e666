// Cleaning up after Portico's other data path modes, as kube-proxy does at
// startup. A node switched from ipvs to nftables, from nftables to ipvs, or
// back to kube-proxy (mode none) still holds the old mode's rules, and they
// would fight the new owner of the traffic. So the speaker removes, at
// startup, what belongs to Portico's modes other than the current one:
//
//   mode      removes
//   none      table inet portico, and the IPVS leftovers: table inet
//             portico-ipvs, the companion's iptables chains (PORTICO-IPVS-*:
//             MARK, POSTROUTING, NOEP, FILTER) and the jumps into
//             them, the IPVS virtual servers whose VIP is an address of
//             portico-ipvs0, portico-ipvs0
//   nftables  the IPVS leftovers
//   ipvs      table inet portico
//
// Nothing that is not Portico's is touched: other nftables tables, other
// iptables chains (KUBE-*, ...) and their rules, and any IPVS virtual server
// whose address is not on portico-ipvs0 (kube-proxy's on kube-ipvs0,
// NodePorts on the node's own addresses, firewall marks). A missing tool or
// kernel feature (no nft, no ipvsadm, ip_vs not loaded, no iptables tables)
// means there is nothing of that kind to remove. Reading a tool's state must
// not load its modules on a node that never used them: ipvsadm is run only
// when portico-ipvs0 holds addresses and ip_vs is loaded, and iptables-save
// only for the tables /proc/net/ip_tables_names (ip6_tables_names) lists.
//
// planLeftovers is pure (observed text in, commands out); cleanupLeftovers
// runs it through the usual injectable runner and prefix and never throws.
import type { Logger } from 'pino';
import { DEFAULT_IPVS_DEVICE, IPTABLES_TOOLS } from './ipvs/backend.ts';
import { DEFAULT_COMPANION_OPTIONS } from './ipvs/companion.ts';
import { renderIptablesCleanup } from './ipvs/companion-iptables.ts';
import type { IptablesTable } from './ipvs/companion-iptables.ts';
import { parseAddresses } from './ipvs/plan.ts';
import { parseSave, renderRestore } from './ipvs/restore.ts';
import type { IpvsOp } from './ipvs/restore.ts';
import { serviceArgs } from './ipvs/table.ts';
import type { IpvsVirtual } from './ipvs/table.ts';
import { canonicalIP } from './ip.ts';
import { commandOutput as output } from './kube-proxy.ts';
import { spawnCommand } from './nftables/executor.ts';
import type { CommandRunner } from './nftables/executor.ts';
import type { IPFamily } from './types.ts';

export type LeftoverMode = 'none' | 'ipvs' | 'nftables';

/** The nftables table of mode nftables (NftExecutor's default). */
export const NFTABLES_TABLE = 'portico';
/** The companion nftables table of mode ipvs. */
export const IPVS_COMPANION_TABLE = DEFAULT_COMPANION_OPTIONS.table;
export const IPVS_DEVICE = DEFAULT_IPVS_DEVICE;
/** Present while ip_vs is loaded. */
const PROC_IP_VS = '/proc/net/ip_vs';
/** The iptables(-legacy) tables the kernel holds (in this network namespace), one per line. */
export const PROC_IPTABLES_NAMES: Readonly<Record<IPFamily, string>> = {
  4: '/proc/net/ip_tables_names',
  6: '/proc/net/ip6_tables_names',
};

/** One family's iptables tables, as the save tool printed them. */
export interface IptablesDump {
  readonly family: IPFamily;
  /** The restore tool paired with the save tool that read them (iptables-legacy-restore, ...). */
  readonly restore: string;
  /** `<save> -t nat`; '' when the kernel has no nat table (then it was not read). */
  readonly nat: string;
  /** `<save> -t filter`; '' likewise. */
  readonly filter: string;
}

/** What the node holds, as the tools printed it; null where a tool was missing, failed or not asked. */
export interface LeftoverObservation {
  /** `nft list tables`. */
  readonly nftTables: string | null;
  /** `ip -o link show`. */
  readonly links: string | null;
  /** `ip -j addr show dev portico-ipvs0`. */
  readonly deviceAddresses: string | null;
  /** `ipvsadm -Sn`. */
  readonly ipvsSave: string | null;
  /** The iptables tables that can hold the IPVS companion's chains, per family that has any. */
  readonly iptables: readonly IptablesDump[];
}

export const NOTHING_OBSERVED: LeftoverObservation = {
  nftTables: null,
  links: null,
  deviceAddresses: null,
  ipvsSave: null,
  iptables: [],
};

/** One command of the cleanup. */
export interface LeftoverStep {
  /** What it removes, one phrase per item (each is logged). */
  readonly removes: readonly string[];
  /** The command, without the prefix. */
  readonly argv: readonly string[];
  /** Fed on stdin. */
  readonly input?: string;
  /**
   * Skipped when removing the IPVS virtual servers failed: the device's
   * addresses are how they are recognised as Portico's, so it stays until they are gone.
   */
  readonly skipIfIpvsFailed?: boolean;
}

/** Which of Portico's modes' state the given mode removes. */
export function leftoverKinds(mode: LeftoverMode): { readonly nftables: boolean; readonly ipvs: boolean } {
  return { nftables: mode !== 'nftables', ipvs: mode !== 'ipvs' };
}

/** The `inet` tables `nft list tables` printed. */
export function inetTables(text: string | null): Set<string> {
  const out = new Set<string>();
  for (const m of (text ?? '').matchAll(/^\s*table\s+inet\s+(\S+?)\s*(?:\{\s*)?$/gm)) out.add(m[1] ?? '');
  return out;
}

/** Whether `ip -o link show` lists `device`. */
export function hasLink(links: string | null, device: string = IPVS_DEVICE): boolean {
  const escaped = device.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^\\d+:\\s+${escaped}[:@]`, 'm').test(links ?? '');
}

/** The canonical addresses in `ip -j addr show dev <device>` output (none when it is not JSON). */
export function deviceVips(json: string | null, device: string = IPVS_DEVICE): Set<string> {
  if (json === null || json.trim() === '') return new Set();
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return new Set();
  }
  const out = new Set<string>();
  for (const a of parseAddresses(parsed, device)) {
    const ip = canonicalIP(a);
    if (ip !== null) out.add(ip);
  }
  return out;
}

/** The companion's tables (nat, filter) that /proc/net/ip_tables_names lists, in that order. */
export function iptablesTableNames(text: string | null): IptablesTable[] {
  const names = new Set((text ?? '').split('\n').map((l) => l.trim()));
  return (['nat', 'filter'] as const).filter((t) => names.has(t));
}

/**
 * The step that removes the IPVS companion's iptables chains and every jump
 * into them from one family's dump (renderIptablesCleanup), or null when the
 * dump holds none of them.
 */
export function iptablesStep(dump: IptablesDump): LeftoverStep | null {
  const input = renderIptablesCleanup(DEFAULT_COMPANION_OPTIONS, dump);
  if (input === '') return null;
  const tool = dump.family === 4 ? 'iptables' : 'ip6tables';
  const removes: string[] = [];
  let table = '';
  for (const line of input.split('\n')) {
    const t = /^\*(\S+)$/.exec(line);
    if (t?.[1]) table = t[1];
    const jump = /^-D (\S+) .*-[jg] (\S+)$/.exec(line);
    if (jump) removes.push(`${tool} ${table} jump ${jump[1]} -> ${jump[2]}`);
    const chain = /^-X (\S+)$/.exec(line);
    if (chain) removes.push(`${tool} ${table} chain ${chain[1]}`);
  }
  return { removes, argv: [dump.restore, '-w', '5', '--noflush'], input };
}

/** The virtual servers in `ipvsadm -Sn` output whose VIP is in `vips`, sorted by key. */
export function porticoVirtuals(save: string | null, vips: ReadonlySet<string>): IpvsVirtual[] {
  if (save === null || vips.size === 0) return [];
  let table;
  try {
    table = parseSave(save);
  } catch {
    return []; // not ipvsadm's output after all: leave everything alone
  }
  return [...table.entries()]
    .filter(([, e]) => vips.has(e.virtual.vip))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, e]) => e.virtual);
}

/**
 * The commands that remove what Portico's other modes left on the node, in
 * order: IPVS virtual servers (one `ipvsadm --restore`), nftables tables (one
 * `nft delete table` each), the companion's iptables chains (one
 * `iptables-restore --noflush` per family), the dummy device. Empty when there
 * is nothing.
 */
export function planLeftovers(mode: LeftoverMode, observed: LeftoverObservation): LeftoverStep[] {
  const kinds = leftoverKinds(mode);
  const tables = inetTables(observed.nftTables);
  const steps: LeftoverStep[] = [];
  if (kinds.ipvs) {
    const linkSeen = hasLink(observed.links) || observed.deviceAddresses !== null;
    const virtuals = linkSeen ? porticoVirtuals(observed.ipvsSave, deviceVips(observed.deviceAddresses)) : [];
    if (virtuals.length > 0) {
      const ops: IpvsOp[] = virtuals.map((virtual) => ({ op: 'delete-virtual', virtual }));
      steps.push({
        removes: virtuals.map((v) => `IPVS virtual server ${serviceArgs(v)}`),
        argv: ['ipvsadm', '--restore'],
        input: renderRestore(ops),
      });
    }
  }
  const wanted = [...(kinds.nftables ? [NFTABLES_TABLE] : []), ...(kinds.ipvs ? [IPVS_COMPANION_TABLE] : [])];
  for (const t of wanted) {
    if (tables.has(t))
      steps.push({ removes: [`nftables table inet ${t}`], argv: ['nft', 'delete', 'table', 'inet', t] });
  }
  if (kinds.ipvs) {
    for (const dump of observed.iptables) {
      const step = iptablesStep(dump);
      if (step) steps.push(step);
    }
  }
  if (kinds.ipvs && hasLink(observed.links)) {
    steps.push({
      removes: [`interface ${IPVS_DEVICE}`],
      argv: ['ip', 'link', 'del', IPVS_DEVICE],
      skipIfIpvsFailed: true,
    });
  }
  return steps;
}

/**
 * The companion's iptables tables, per family: only those the kernel already
 * holds (/proc/net/ip_tables_names), since iptables-save loads the modules
 * and creates the tables it is asked for. The tools are tried as the IPVS
 * backend does (IPTABLES_TOOLS: iptables-legacy-save, then iptables-save);
 * a family whose tools are all missing or failing has nothing to remove.
 */
export async function observeIptables(
  run: CommandRunner,
  prefix: readonly string[] = [],
): Promise<IptablesDump[]> {
  const dumps: IptablesDump[] = [];
  for (const family of [4, 6] as const) {
    const tables = iptablesTableNames(await output(run, [...prefix, 'cat', PROC_IPTABLES_NAMES[family]]));
    if (tables.length === 0) continue;
    for (const tools of IPTABLES_TOOLS[family]) {
      const read: Record<IptablesTable, string> = { nat: '', filter: '' };
      let ok = true;
      for (const table of tables) {
        const text = await output(run, [...prefix, tools.save, '-t', table]);
        if (text === null) {
          ok = false;
          break;
        }
        read[table] = text;
      }
      if (ok) {
        dumps.push({ family, restore: tools.restore, ...read });
        break;
      }
    }
  }
  return dumps;
}

/**
 * Reads what planLeftovers needs for `mode` (behind `prefix`), and no more:
 * the IPVS side only when the mode removes it, the device's addresses only
 * when it exists, `ipvsadm -Sn` only when it has addresses and ip_vs is
 * loaded, and the iptables tables only when the kernel holds them.
 */
export async function observeLeftovers(
  mode: LeftoverMode,
  run: CommandRunner,
  prefix: readonly string[] = [],
): Promise<LeftoverObservation> {
  const nftTables = await output(run, [...prefix, 'nft', 'list', 'tables']);
  if (!leftoverKinds(mode).ipvs) return { ...NOTHING_OBSERVED, nftTables };
  const iptables = await observeIptables(run, prefix);
  const links = await output(run, [...prefix, 'ip', '-o', 'link', 'show']);
  if (!hasLink(links)) return { ...NOTHING_OBSERVED, nftTables, iptables, links };
  const deviceAddresses = await output(run, [...prefix, 'ip', '-j', 'addr', 'show', 'dev', IPVS_DEVICE]);
  // ipvsadm loads ip_vs when it is not loaded: ask it only when the module is there (its
  // /proc entry, per network namespace) and the device holds VIPs to look for.
  const ask =
    deviceVips(deviceAddresses).size > 0 &&
    (await output(run, [...prefix, 'test', '-e', PROC_IP_VS])) !== null;
  const ipvsSave = ask ? await output(run, [...prefix, 'ipvsadm', '-Sn']) : null;
  return { nftTables, links, deviceAddresses, ipvsSave, iptables };
}

export interface LeftoverCleanupOptions {
  readonly mode: LeftoverMode;
  /** Prepended to every command, e.g. ['ip', 'netns', 'exec', 'node1'] in tests. */
  readonly prefix?: readonly string[];
  readonly run?: CommandRunner;
  readonly logger?: Logger;
}

export interface LeftoverCleanupResult {
  /** What was removed, one phrase per item. */
  readonly removed: readonly string[];
  /** Steps that failed, with why; their items may still be there. */
  readonly failed: readonly { readonly removes: readonly string[]; readonly error: string }[];
}

/**
 * Removes what Portico's other modes left on the node. Never throws: each
 * removed item is logged at info, each failure at warn, and the speaker goes
 * on either way (the leftovers are in the way of traffic, not of startup).
 */
export async function cleanupLeftovers(options: LeftoverCleanupOptions): Promise<LeftoverCleanupResult> {
  const run = options.run ?? spawnCommand;
  const prefix = options.prefix ?? [];
  const log = options.logger;
  const removed: string[] = [];
  const failed: { removes: readonly string[]; error: string }[] = [];
  let steps: LeftoverStep[];
  try {
    steps = planLeftovers(options.mode, await observeLeftovers(options.mode, run, prefix));
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    log?.warn({ err: error, mode: options.mode }, 'could not look for leftovers of other data path modes');
    return { removed, failed: [{ removes: [], error }] };
  }
  for (const step of steps) {
    if (step.skipIfIpvsFailed && failed.some((f) => f.removes.some((r) => r.startsWith('IPVS ')))) {
      log?.warn(
        { item: step.removes, mode: options.mode },
        "kept: its addresses tell which IPVS virtual servers are Portico's, and some could not be removed",
      );
      continue;
    }
    let error: string | null;
    try {
      const r = await run([...prefix, ...step.argv], step.input);
      error =
        r.code === 0 ? null : `${step.argv.join(' ')}: exit ${r.code}: ${r.stderr.trim().slice(0, 500)}`;
    } catch (err) {
      error = `${step.argv.join(' ')}: ${err instanceof Error ? err.message : String(err)}`;
    }
    if (error === null) {
      removed.push(...step.removes);
      for (const item of step.removes)
        log?.info({ item, mode: options.mode }, 'removed a leftover of another data path mode');
    } else {
      failed.push({ removes: step.removes, error });
      log?.warn(
        { items: step.removes, err: error, mode: options.mode },
        'could not remove leftovers of another data path mode; remove them by hand',
      );
    }
  }
  return { removed, failed };
}
