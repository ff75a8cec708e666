// The IPVS backend: kube-proxy's IPVS proxier on Portico's desired state.
// Each sync brings three things to the plan, in this order:
//   1. the dummy interface and its VIPs (`ip -batch -`);
//   2. the companion nftables table (masquerade marks, no-endpoint verdicts);
//   3. the virtual and real servers (`ipvsadm --restore`).
// A full sync reads the kernel back first (`ipvsadm -Sn`, `ip -j addr`) and
// repairs whatever differs; a partial sync trusts what the last sync left.
// The first sync, and the one after any failure, is full.
import type { Logger } from 'pino';
import { systemClock } from '../../../lib/clock.ts';
import type { Clock } from '../../../lib/clock.ts';
import type { DesiredState } from '../types.ts';
import { DEFAULT_COMPANION_OPTIONS, renderCompanion } from './companion.ts';
import type { CompanionOptions } from './companion.ts';
import { IpvsExecutor } from './executor.ts';
import { applyOps, parseAddresses, planAddresses, planIpvs } from './plan.ts';
import { parseConnections, parseSave, renderRestore } from './restore.ts';
import { desiredAddresses, desiredTable } from './table.ts';
import type { IpvsTable } from './table.ts';

export const DEFAULT_IPVS_DEVICE = 'portico-ipvs0';

export interface IpvsBackendOptions {
  readonly executor?: IpvsExecutor;
  readonly device?: string;
  /**
   * The companion nftables table, or false where the kernel has no nftables
   * for ip/ip6 (User-Mode Linux as Debian builds it): then no masquerade and
   * IPVS's own ICMP answers the no-endpoint case.
   */
  readonly companion?: Partial<CompanionOptions> | false;
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
  /** Virtual servers changed (added, edited, deleted, or with changed real servers). */
  readonly servicesChanged: number;
  /** Real servers kept at weight 0 to drain. */
  readonly draining: number;
}

export class IpvsBackend {
  readonly device: string;
  readonly #ex: IpvsExecutor;
  readonly #companion: CompanionOptions | null;
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
    this.#graceMs = options.gracePeriodMs ?? 15 * 60_000;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger;
  }

  sync(desired: DesiredState, options: { full?: boolean } = {}): Promise<IpvsSyncResult> {
    const run = this.#queue.then(() => this.#sync(desired, options.full === true));
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

      const companion = this.#companion ? renderCompanion(desired, this.#companion) : '';
      const companionWritten = companion !== '' && (full || companion !== this.#applied?.companion);
      if (companionWritten) await this.#ex.nft(companion);

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
      return { full, restore, addressLines, companionWritten, servicesChanged, draining: draining.size };
    } catch (err) {
      this.#applied = null;
      this.#logger?.error({ err, full }, 'ipvs sync failed; the next sync is a full one');
      throw err;
    }
  }
}
