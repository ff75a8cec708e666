// Adapter: the live side of one ServiceBackends. It looks host names up on
// their TTL schedule and probes addresses every interval, folds each result
// into the pure states (resolution.ts, health.ts), and calls onChange when
// something that is published or shown changed, so the controller reconciles.
import type { Clock, TimerHandle } from '../../../lib/clock.ts';
import type { Observations } from './backends.ts';
import type { ProbePlan } from './binding.ts';
import type { HostResolver } from './dns.ts';
import { CARRIED_OVER_HEALTHY, INITIAL_HEALTH, observeProbe, phaseChanged } from './health.ts';
import type { HealthState } from './health.ts';
import type { Prober } from './prober.ts';
import { INITIAL_RESOLUTION, applyLookup, carriedOverResolution, resolutionChanged } from './resolution.ts';
import type { RefreshBounds, ResolutionState } from './resolution.ts';

export interface MonitorDeps {
  clock: Clock;
  resolve: HostResolver;
  probe: Prober;
  bounds: RefreshBounds;
  onChange: () => void;
  /** Called after every probe, e.g. for the latency histogram. */
  onProbe?: (type: ProbePlan['type'], ok: boolean, seconds: number) => void;
  /** Called after every failed lookup. */
  onResolutionFailure?: (hostname: string, error: string) => void;
}

interface Loop<S> {
  state: S;
  timer?: TimerHandle;
  /** Cleared when the loop is dropped, so a late result is ignored. */
  live: boolean;
}

export class BackendsMonitor {
  readonly #d: MonitorDeps;
  readonly #names = new Map<string, Loop<ResolutionState>>();
  readonly #probes = new Map<string, Loop<HealthState>>();
  #plan: ProbePlan | undefined;
  #planKey = '';

  constructor(deps: MonitorDeps) {
    this.#d = deps;
  }

  /**
   * The host names to keep resolved; new ones are looked up at once, starting
   * from the addresses `carried` gives (what was published before).
   */
  setHostnames(names: Iterable<string>, carried?: (name: string) => readonly string[] | undefined): void {
    const wanted = new Set(names);
    for (const [name, loop] of this.#names) if (!wanted.has(name)) this.#drop(this.#names, name, loop);
    for (const name of wanted) {
      if (this.#names.has(name)) continue;
      const before = carried?.(name);
      const state = before && before.length > 0 ? carriedOverResolution(before) : INITIAL_RESOLUTION;
      const loop: Loop<ResolutionState> = { state, live: true };
      this.#names.set(name, loop);
      void this.#lookup(name, loop);
    }
  }

  /**
   * The addresses to probe with `plan`; none without a plan. A changed plan
   * starts over. New addresses that `wasReady` says were published ready
   * start healthy.
   */
  setProbes(
    addresses: Iterable<string>,
    plan: ProbePlan | undefined,
    wasReady?: (address: string) => boolean,
  ): void {
    const key = plan ? JSON.stringify(plan) : '';
    if (key !== this.#planKey) {
      for (const [a, loop] of this.#probes) this.#drop(this.#probes, a, loop);
      this.#plan = plan;
      this.#planKey = key;
    }
    const wanted = new Set(plan ? addresses : []);
    for (const [a, loop] of this.#probes) if (!wanted.has(a)) this.#drop(this.#probes, a, loop);
    for (const a of wanted) {
      if (this.#probes.has(a)) continue;
      const loop: Loop<HealthState> = {
        state: wasReady?.(a) ? CARRIED_OVER_HEALTHY : INITIAL_HEALTH,
        live: true,
      };
      this.#probes.set(a, loop);
      void this.#probe(a, loop);
    }
  }

  observations(): Observations {
    return {
      resolution: new Map(
        [...this.#names].filter(([, l]) => l.state !== INITIAL_RESOLUTION).map(([n, l]) => [n, l.state]),
      ),
      health: new Map([...this.#probes].map(([a, l]) => [a, l.state])),
      probing: this.#plan !== undefined,
    };
  }

  stop(): void {
    this.setHostnames([]);
    this.setProbes([], undefined);
  }

  #drop<S>(map: Map<string, Loop<S>>, key: string, loop: Loop<S>): void {
    loop.live = false;
    if (loop.timer) this.#d.clock.clearTimeout(loop.timer);
    map.delete(key);
  }

  async #lookup(name: string, loop: Loop<ResolutionState>): Promise<void> {
    const lookup = await this.#d.resolve(name).catch((err: unknown) => {
      const failed = { kind: 'error' as const, code: String(err) };
      return { IPv4: failed, IPv6: failed };
    });
    if (!loop.live) return;
    const now = this.#d.clock.now();
    const next = applyLookup(loop.state, lookup, now, this.#d.bounds);
    const changed = loop.state === INITIAL_RESOLUTION || resolutionChanged(loop.state, next);
    loop.state = next;
    if (next.error) this.#d.onResolutionFailure?.(name, next.error);
    loop.timer = this.#d.clock.setTimeout(() => void this.#lookup(name, loop), next.nextMs - now);
    if (changed) this.#d.onChange();
  }

  async #probe(address: string, loop: Loop<HealthState>): Promise<void> {
    const plan = this.#plan;
    if (!plan) return;
    const started = this.#d.clock.now();
    const result = await this.#d
      .probe(address, plan)
      .catch((err: unknown) => ({ ok: false, message: String(err) }));
    if (!loop.live) return;
    const now = this.#d.clock.now();
    this.#d.onProbe?.(plan.type, result.ok, (now - started) / 1000);
    const next = observeProbe(loop.state, result, plan.thresholds, now);
    const changed = phaseChanged(loop.state, next);
    loop.state = next;
    loop.timer = this.#d.clock.setTimeout(
      () => void this.#probe(address, loop),
      Math.max(0, started + plan.intervalMs - now),
    );
    if (changed) this.#d.onChange();
  }
}
