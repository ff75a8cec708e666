// Cleaning up after Portico's other data path modes, as kube-proxy does at
// startup. A node switched from ipvs to nftables, from nftables to ipvs, or
// back to kube-proxy (mode none) still holds the old mode's rules, and they
// would fight the new owner of the traffic. So the speaker removes, at
// startup, what belongs to Portico's modes other than the current one:
//
//   mode      removes
//   none      table inet portico, table inet portico-ipvs, the IPVS virtual
//             servers whose VIP is an address of portico-ipvs0, portico-ipvs0
//   nftables  the IPVS leftovers (the last three of the above)
//   ipvs      table inet portico
//
// Nothing that is not Portico's is touched: other nftables tables, and any
// IPVS virtual server whose address is not on portico-ipvs0 (kube-proxy's on
// kube-ipvs0, NodePorts on the node's own addresses, firewall marks). A
// missing tool or kernel feature (no nft, no ipvsadm, ip_vs not loaded) means
// there is nothing of that kind to remove. ipvsadm is run only when
// portico-ipvs0 holds addresses and ip_vs is loaded, since ipvsadm loads the
// module when it is not.
//
// planLeftovers is pure (observed text in, commands out); cleanupLeftovers
// runs it through the usual injectable runner and prefix and never throws.
import type { Logger } from 'pino';
import { DEFAULT_IPVS_DEVICE } from './ipvs/backend.ts';
import { DEFAULT_COMPANION_OPTIONS } from './ipvs/companion.ts';
import { parseAddresses } from './ipvs/plan.ts';
import { parseSave, renderRestore } from './ipvs/restore.ts';
import type { IpvsOp } from './ipvs/restore.ts';
import { serviceArgs } from './ipvs/table.ts';
import type { IpvsVirtual } from './ipvs/table.ts';
import { canonicalIP } from './ip.ts';
import { spawnCommand } from './nftables/executor.ts';
import type { CommandRunner } from './nftables/executor.ts';

export type LeftoverMode = 'none' | 'ipvs' | 'nftables';

/** The nftables table of mode nftables (NftExecutor's default). */
export const NFTABLES_TABLE = 'portico';
/** The companion nftables table of mode ipvs. */
export const IPVS_COMPANION_TABLE = DEFAULT_COMPANION_OPTIONS.table;
export const IPVS_DEVICE = DEFAULT_IPVS_DEVICE;
/** Present while ip_vs is loaded. */
const PROC_IP_VS = '/proc/net/ip_vs';

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
}

export const NOTHING_OBSERVED: LeftoverObservation = {
  nftTables: null,
  links: null,
  deviceAddresses: null,
  ipvsSave: null,
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
 * `nft delete table` each), the dummy device. Empty when there is nothing.
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
  if (kinds.ipvs && hasLink(observed.links)) {
    steps.push({
      removes: [`interface ${IPVS_DEVICE}`],
      argv: ['ip', 'link', 'del', IPVS_DEVICE],
      skipIfIpvsFailed: true,
    });
  }
  return steps;
}

async function output(run: CommandRunner, argv: readonly string[]): Promise<string | null> {
  try {
    const r = await run(argv);
    return r.code === 0 ? r.stdout : null;
  } catch {
    return null; // the tool is not installed
  }
}

/**
 * Reads what planLeftovers needs for `mode` (behind `prefix`), and no more:
 * the IPVS side only when the mode removes it, the device's addresses only
 * when it exists, and `ipvsadm -Sn` only when it has addresses and ip_vs is
 * loaded.
 */
export async function observeLeftovers(
  mode: LeftoverMode,
  run: CommandRunner,
  prefix: readonly string[] = [],
): Promise<LeftoverObservation> {
  const nftTables = await output(run, [...prefix, 'nft', 'list', 'tables']);
  if (!leftoverKinds(mode).ipvs) return { ...NOTHING_OBSERVED, nftTables };
  const links = await output(run, [...prefix, 'ip', '-o', 'link', 'show']);
  if (!hasLink(links)) return { ...NOTHING_OBSERVED, nftTables, links };
  const deviceAddresses = await output(run, [...prefix, 'ip', '-j', 'addr', 'show', 'dev', IPVS_DEVICE]);
  // ipvsadm loads ip_vs when it is not loaded: ask it only when the module is there (its
  // /proc entry, per network namespace) and the device holds VIPs to look for.
  const ask =
    deviceVips(deviceAddresses).size > 0 &&
    (await output(run, [...prefix, 'test', '-e', PROC_IP_VS])) !== null;
  const ipvsSave = ask ? await output(run, [...prefix, 'ipvsadm', '-Sn']) : null;
  return { nftTables, links, deviceAddresses, ipvsSave };
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
