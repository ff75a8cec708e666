// The IPVS backend: kube-proxy's IPVS proxier on Portico's desired state.
// Each sync brings three things to the plan, in this order:
//   1. the dummy interface and its VIPs (`ip -batch -`);
//   2. the companion rules (masquerade marks, no-endpoint verdicts): the
//      nftables table `inet portico-ipvs` where the kernel takes it, else
//      private iptables(-legacy) chains, else none (chosen at the first sync);
//   3. the virtual and real servers (`ipvsadm --restore`).
// A full sync reads the kernel back first (`ipvsadm -Sn`, `ip -j addr`) and
// repairs whatever differs; a partial sync trusts what the last sync left.
// The first sync, and the one after any failure, is full.
import type { Logger } from 'pino';
import { systemClock } from '../../../lib/clock.ts';
import type { Clock } from '../../../lib/clock.ts';
import type { DesiredState, IPFamily } from '../types.ts';
import { DEFAULT_COMPANION_OPTIONS, renderCompanion } from './companion.ts';
import type { CompanionOptions } from './companion.ts';
import { renderIptablesCleanup, renderIptablesCompanion } from './companion-iptables.ts';
import type { IptablesObserved } from './companion-iptables.ts';
import { IpvsExecutor } from './executor.ts';
import { applyOps, parseAddresses, planAddresses, planIpvs } from './plan.ts';
import { parseConnections, parseSave, renderRestore } from './restore.ts';
import { desiredAddresses, desiredTable } from './table.ts';
import type { IpvsTable } from './table.ts';

export const DEFAULT_IPVS_DEVICE = 'portico-ipvs0';

/** Where the companion rules live: chosen once, at the first sync. */
export type CompanionBackend = 'nftables' | 'iptables' | 'none';

/** The save/restore pair used for one family, e.g. iptables-legacy-save/-restore. */
export interface IptablesTools {
  readonly save: string;
  readonly restore: string;
}

/** Tried in this order: legacy first (the kernel has no usable nf_tables), then whatever `iptables` is. */
export const IPTABLES_TOOLS: Readonly<Record<IPFamily, readonly IptablesTools[]>> = {
  4: [
    { save: 'iptables-legacy-save', restore: 'iptables-legacy-restore' },
    { save: 'iptables-save', restore: 'iptables-restore' },
  ],
  6: [
    { save: 'ip6tables-legacy-save', restore: 'ip6tables-legacy-restore' },
    { save: 'ip6tables-save', restore: 'ip6tables-restore' },
  ],
};

/**
 * The probe: an inet table with a nat chain, checked by the kernel
 * (`nft -c`), never applied. Debian's UML kernel refuses it (no
 * CONFIG_NF_TABLES_INET).
 */
export const NFT_PROBE = [
  'table inet portico-ipvs-probe {',
  '  chain probe {',
  '    type nat hook postrouting priority 100 ; policy accept ;',
  '  }',
  '}',
  '',
].join('\n');

export interface IpvsBackendOptions {
  readonly executor?: IpvsExecutor;
  readonly device?: string;
  /**
   * The companion rules' options, or false for none at all (no masquerade;
   * IPVS's own ICMP answers the no-endpoint case).
   */
  readonly companion?: Partial<CompanionOptions> | false;
  /**
   * Where to put them: 'auto' (default) probes at the first sync for an
   * nftables inet table, then iptables-legacy, then iptables, else none.
   */
  readonly companionBackend?: 'auto' | 'nftables' | 'iptables';
  /** How long a removed real server may drain at weight 0 before it is deleted anyway. */
  readonly gracePeriodMs?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

export interface IpvsSyncResult {
  readonly full: boolean;
  /** The `ipvsadm --restore` input applied ('' when nothing differed). */
  readonly restore: string;
  readonly addressLines: readonly string[];
  readonly companionWritten: boolean;
  /** Where the companion rules live. */
  readonly companion: CompanionBackend;
  /** Virtual servers changed (added, edited, deleted, or with changed real servers). */
  readonly servicesChanged: number;
  /** Real servers kept at weight 0 to drain. */
  readonly draining: number;
}

export class IpvsBackend {
  readonly device: string;
  readonly #ex: IpvsExecutor;
  readonly #companion: CompanionOptions | null;
  readonly #companionPreference: 'auto' | 'nftables' | 'iptables';
  #companionBackend: CompanionBackend | null = null;
  /** The iptables tools per family, when the companion is iptables. */
  #iptables = new Map<IPFamily, IptablesTools>();
  readonly #graceMs: number;
  readonly #clock: Clock;
  readonly #logger: Logger | undefined;
  #applied: { table: IpvsTable; addresses: Set<string>; companion: string } | null = null;
  /** drainKey -> when it started draining. */
  #draining = new Map<string, number>();
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: IpvsBackendOptions = {}) {
    this.device = options.device ?? DEFAULT_IPVS_DEVICE;
    this.#ex = options.executor ?? new IpvsExecutor();
    this.#companion =
      options.companion === false ? null : { ...DEFAULT_COMPANION_OPTIONS, ...options.companion };
    this.#companionPreference = options.companionBackend ?? 'auto';
    this.#graceMs = options.gracePeriodMs ?? 15 * 60_000;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger;
  }

  sync(desired: DesiredState, options: { full?: boolean } = {}): Promise<IpvsSyncResult> {
    const run = this.#queue.then(() => this.#sync(desired, options.full === true));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Where the companion rules live; null before the first sync chose. */
  get companionBackend(): CompanionBackend | null {
    return this.#companionBackend;
  }

  /** The first save/restore pair whose save reads both tables, or null. */
  async #iptablesTools(family: IPFamily): Promise<{ tools: IptablesTools | null; why: string }> {
    const why: string[] = [];
    for (const tools of IPTABLES_TOOLS[family]) {
      const nat = await this.#ex.iptablesSave(tools.save, 'nat');
      const filter = nat.code === 0 ? await this.#ex.iptablesSave(tools.save, 'filter') : nat;
      if (filter.code === 0) return { tools, why: '' };
      why.push(`${tools.save}: ${filter.stderr.trim().split('\n')[0] || `exit ${filter.code}`}`);
    }
    return { tools: null, why: why.join('; ') };
  }

  async #chooseCompanion(): Promise<CompanionBackend> {
    if (this.#companion === null) return 'none';
    const pref = this.#companionPreference;
    let nftWhy = 'not tried';
    if (pref !== 'iptables') {
      const refused = await this.#ex.nftCheck(NFT_PROBE);
      if (refused === null) {
        this.#logger?.info(
          { companion: 'nftables' },
          `ipvs companion rules in nftables table inet ${this.#companion.table}`,
        );
        return 'nftables';
      }
      nftWhy = refused.split('\n')[0] ?? refused;
      if (pref === 'nftables') throw new Error(`nftables cannot hold the ipvs companion table: ${refused}`);
    }
    const v4 = await this.#iptablesTools(4);
    if (v4.tools) {
      this.#iptables.set(4, v4.tools);
      const v6 = await this.#iptablesTools(6);
      if (v6.tools) this.#iptables.set(6, v6.tools);
      else
        this.#logger?.warn(
          { why: v6.why },
          'no ip6tables: IPv6 Services get no masquerade or no-endpoint rules',
        );
      this.#logger?.info(
        { companion: 'iptables', tools: [...this.#iptables.values()].map((t) => t.restore), nft: nftWhy },
        'ipvs companion rules in iptables chains',
      );
      return 'iptables';
    }
    this.#logger?.warn(
      { nft: nftWhy, iptables: v4.why },
      'no ipvs companion rules: neither nftables (inet) nor iptables works on this node, so masquerade ' +
        'for backends on other nodes will not work (their replies bypass this node) and no-endpoint ' +
        'drops fall back to IPVS rejects',
    );
    return 'none';
  }

  async #iptablesObserved(tools: IptablesTools): Promise<IptablesObserved> {
    const read = async (table: 'nat' | 'filter'): Promise<string> => {
      const r = await this.#ex.iptablesSave(tools.save, table);
      if (r.code !== 0) throw new Error(`${tools.save} -t ${table}: exit ${r.code}: ${r.stderr.trim()}`);
      return r.stdout;
    };
    return { nat: await read('nat'), filter: await read('filter') };
  }

  /** Writes the companion rules when needed; returns what was rendered and whether it was written. */
  async #writeCompanion(
    desired: DesiredState,
    full: boolean,
    last: string | undefined,
  ): Promise<{ text: string; written: boolean }> {
    const options = this.#companion;
    if (options === null || this.#companionBackend === 'none') return { text: '', written: false };
    if (this.#companionBackend === 'nftables') {
      const text = renderCompanion(desired, options);
      const written = full || text !== last;
      if (written) await this.#ex.nft(text);
      return { text, written };
    }
    const families = [...this.#iptables.keys()];
    const text = families.map((f) => renderIptablesCompanion(desired, options, f)).join('\n');
    if (!full && text === last) return { text, written: false };
    for (const [family, tools] of this.#iptables) {
      // Full syncs read the tables back to fix the jumps; partial ones trust them.
      const observed = full ? await this.#iptablesObserved(tools) : null;
      await this.#ex.iptablesRestore(
        tools.restore,
        renderIptablesCompanion(desired, options, family, observed),
      );
    }
    return { text, written: true };
  }

  /**
   * Removes the companion rules (the nftables table, or the iptables chains
   * and the jumps into them). The next sync is full and puts them back.
   */
  removeCompanion(): Promise<void> {
    const run = this.#queue.then(async () => {
      const options = this.#companion;
      if (options === null) return;
      this.#companionBackend ??= await this.#chooseCompanion();
      this.#applied = null;
      if (this.#companionBackend === 'nftables') {
        await this.#ex.nft(`table inet ${options.table}\ndelete table inet ${options.table}\n`);
      } else if (this.#companionBackend === 'iptables') {
        for (const tools of this.#iptables.values())
          await this.#ex.iptablesRestore(
            tools.restore,
            renderIptablesCleanup(options, await this.#iptablesObserved(tools)),
          );
      }
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #observe(): Promise<{ table: IpvsTable; addresses: Set<string> | null }> {
    const table = parseSave(await this.#ex.save());
    const json = await this.#ex.addresses(this.device);
    return { table, addresses: json === null ? null : parseAddresses(json, this.device) };
  }

  /** Weight-0 leftovers whose connections are gone or whose grace period is over. */
  async #removable(): Promise<Set<string>> {
    if (this.#draining.size === 0) return new Set();
    const conns = parseConnections(await this.#ex.list());
    const now = this.#clock.now();
    const out = new Set<string>();
    for (const [key, since] of this.#draining) {
      if ((conns.get(key) ?? 0) === 0 || now - since >= this.#graceMs) out.add(key);
    }
    return out;
  }

  async #sync(desired: DesiredState, forceFull: boolean): Promise<IpvsSyncResult> {
    const full = forceFull || this.#applied === null;
    try {
      const seen = full ? await this.#observe() : null;
      const observedTable = seen ? seen.table : (this.#applied?.table ?? new Map());
      const observedAddresses = seen
        ? (seen.addresses ?? new Set<string>())
        : (this.#applied?.addresses ?? new Set<string>());
      const wantAddresses = desiredAddresses(desired);
      const addressLines = planAddresses(this.device, wantAddresses, observedAddresses);
      if (seen) {
        // Create the device when missing; bring it up every full sync (idempotent).
        if (seen.addresses === null) addressLines.unshift(`link add ${this.device} type dummy`);
        addressLines.splice(seen.addresses === null ? 1 : 0, 0, `link set ${this.device} up`);
      }
      await this.#ex.ipBatch(addressLines);

      this.#companionBackend ??= await this.#chooseCompanion();
      const { text: companion, written: companionWritten } = await this.#writeCompanion(
        desired,
        full,
        this.#applied?.companion,
      );

      const plan = planIpvs(desiredTable(desired), observedTable, await this.#removable());
      const restore = renderRestore(plan.ops);
      await this.#ex.restore(restore);

      const now = this.#clock.now();
      const draining = new Map<string, number>();
      for (const key of plan.draining) draining.set(key, this.#draining.get(key) ?? now);
      this.#draining = draining;
      this.#applied = { table: applyOps(observedTable, plan.ops), addresses: wantAddresses, companion };
      const servicesChanged = new Set(
        plan.ops.map((o) => `${o.virtual.protocol}/${o.virtual.vip}/${o.virtual.port}`),
      ).size;
      this.#logger?.debug({ full, ops: plan.ops.length, draining: draining.size }, 'ipvs synced');
      return {
        full,
        restore,
        addressLines,
        companionWritten,
        companion: this.#companionBackend,
        servicesChanged,
        draining: draining.size,
      };
    } catch (err) {
      this.#applied = null;
      this.#logger?.error({ err, full }, 'ipvs sync failed; the next sync is a full one');
      throw err;
    }
  }
}
