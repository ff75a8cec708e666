// The nftables backend: desired state in, one `nft -f -` transaction out.
//
// A partial sync trusts what the last successful sync applied and looks only
// at the virtual services that changed since (diff.ts), so its cost follows
// the change, not the table. A full sync reads the table back first and
// rewrites whatever differs from the plan, so rules that someone deleted or
// edited come back. The first sync, and the sync after any failure, is full.
import type { Logger } from 'pino';
import { diff } from '../diff.ts';
import { EMPTY_STATE } from '../types.ts';
import type { DesiredState, VirtualService } from '../types.ts';
import type { NftRunner } from './executor.ts';
import { applyPlans, inventoryFromPlans } from './inventory.ts';
import type { MutableInventory } from './inventory.ts';
import { DEFAULT_NFT_OPTIONS, planBase, planVirtualService } from './plan.ts';
import type { BasePlan, NftOptions, ServicePlan } from './plan.ts';
import { renderIncremental, renderSync } from './render.ts';
import type { RenderStats } from './render.ts';

export interface NftablesBackendOptions extends Partial<NftOptions> {
  readonly runner: NftRunner;
  readonly logger?: Logger;
}

export interface SyncOptions {
  /** Read the table back and repair it, instead of trusting the last sync. */
  readonly full?: boolean;
}

export interface SyncResult {
  readonly full: boolean;
  /** The transaction applied ('' when nothing differed). */
  readonly script: string;
  readonly stats: RenderStats;
  /** Virtual services whose plan changed since the previous sync. */
  readonly servicesChanged: number;
}

export class NftablesBackend {
  readonly options: NftOptions;
  readonly #runner: NftRunner;
  readonly #logger: Logger | undefined;
  readonly #base: BasePlan;
  #state: DesiredState = EMPTY_STATE;
  #plans = new Map<string, ServicePlan>();
  /** The table as the last successful sync left it; null forces a full sync. */
  #applied: MutableInventory | null = null;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: NftablesBackendOptions) {
    const { runner, logger, ...rest } = options;
    this.options = { ...DEFAULT_NFT_OPTIONS, ...rest };
    this.#runner = runner;
    this.#logger = logger;
    this.#base = planBase(this.options);
  }

  /** The plan of a virtual service in the last sync (names of its chains, for tools and tests). */
  planFor(key: string): ServicePlan | undefined {
    return this.#plans.get(key);
  }

  /** The virtual services of the last sync. */
  get state(): readonly VirtualService[] {
    return this.#state.services;
  }

  /**
   * Brings the table to `desired` in one transaction. Throws when nft fails;
   * the table is then unchanged (transactions are atomic) and the next sync is
   * a full one.
   */
  sync(desired: DesiredState, options: SyncOptions = {}): Promise<SyncResult> {
    // Syncs run one at a time, in call order, whatever the caller does.
    const run = this.#queue.then(() => this.#sync(desired, options));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #sync(desired: DesiredState, options: SyncOptions): Promise<SyncResult> {
    const batch = diff(desired, this.#state);
    const previous: ServicePlan[] = [];
    const upserts: ServicePlan[] = [];
    const plans = new Map(this.#plans);
    for (const vs of [...batch.add, ...batch.update.map((u) => u.service)]) {
      const old = plans.get(vs.key);
      if (old) previous.push(old);
      const plan = planVirtualService(vs, this.options);
      upserts.push(plan);
      plans.set(vs.key, plan);
    }
    for (const vs of batch.remove) {
      const old = plans.get(vs.key);
      if (old) previous.push(old);
      plans.delete(vs.key);
    }
    const servicesChanged = upserts.length + batch.remove.length;
    this.#plans = plans;
    this.#state = desired;

    const applied = this.#applied;
    const full = options.full === true || applied === null;
    const { script, stats } = full
      ? renderSync({
          table: this.options.table,
          base: this.#base,
          plans: plans.values(),
          live: await this.#runner.readInventory(),
        })
      : renderIncremental({ table: this.options.table, upserts, previous, live: applied });
    try {
      await this.#runner.apply(script);
    } catch (err) {
      this.#applied = null;
      this.#logger?.error({ err, full }, 'nftables sync failed; the next sync is a full one');
      throw err;
    }
    if (full || !applied) this.#applied = inventoryFromPlans(this.#base, plans.values());
    else applyPlans(applied, previous, upserts);
    this.#logger?.debug({ full, servicesChanged, ...stats }, 'nftables synced');
    return { full, script, stats, servicesChanged };
  }
}
