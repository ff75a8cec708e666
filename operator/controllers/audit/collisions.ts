// Counting collisions: the apiserver refusing the webhook's pick with 422
// ("already allocated"). The webhook never sees that reply, so it infers it.
// Each pick is remembered for the reservation's hold time with the Service it
// was for. A pick is confirmed when the caches show that Service holding the
// value; it collided when the caches show another object holding the value
// first (an IPAddress or a Service of another name), or when the same
// namespace/name comes back for a second CREATE within the hold time and its
// earlier pick is held by another object. Pure apart from the injected clock.
// See docs/decisions/0007-clusterip-nodeport-webhook.md.
//
// Reservations (below) are the other half of the webhook's memory: values
// handed out recently stay out of later picks for the same hold time.

export type PickField = 'clusterIP' | 'nodePort';

export interface Pick {
  /** namespace/name of the Service the value was picked for. */
  owner: string;
  field: PickField;
  /** Canonical IP text, or the port number as text. */
  value: string;
  pool: string;
}

const keyOf = (field: PickField, value: string) => `${field}\u0000${value}`;

export class PickLedger {
  readonly #picks = new Map<string, Pick & { until: number }>();
  readonly #ttl: number;
  readonly #now: () => number;

  constructor(ttlMs: number, now: () => number = Date.now) {
    this.#ttl = ttlMs;
    this.#now = now;
  }

  #prune(): void {
    const now = this.#now();
    for (const [k, p] of this.#picks) if (p.until <= now) this.#picks.delete(k);
  }

  record(picks: readonly Pick[]): void {
    this.#prune();
    const until = this.#now() + this.#ttl;
    for (const p of picks) this.#picks.set(keyOf(p.field, p.value), { ...p, until });
  }

  /**
   * The caches show `holder` holding these values. Picks for `holder` are
   * confirmed; picks for another Service collided. Both are forgotten; the
   * collided ones are returned.
   */
  observe(holder: string, field: PickField, values: readonly string[]): Pick[] {
    if (this.#picks.size === 0) return [];
    this.#prune();
    const collided: Pick[] = [];
    for (const value of values) {
      const key = keyOf(field, value);
      const pick = this.#picks.get(key);
      if (!pick) continue;
      this.#picks.delete(key);
      if (pick.owner !== holder) collided.push(strip(pick));
    }
    return collided;
  }

  /**
   * A new CREATE for `owner` arrived: its earlier picks that another object
   * now holds collided. Picks it holds itself are confirmed; picks nobody holds
   * (the create failed for another reason, or the cache lags) stay.
   */
  recheck(owner: string, holderOf: (field: PickField, value: string) => string | undefined): Pick[] {
    if (this.#picks.size === 0) return [];
    this.#prune();
    const collided: Pick[] = [];
    for (const [key, pick] of this.#picks) {
      if (pick.owner !== owner) continue;
      const holder = holderOf(pick.field, pick.value);
      if (holder === undefined) continue;
      this.#picks.delete(key);
      if (holder !== owner) collided.push(strip(pick));
    }
    return collided;
  }

  get size(): number {
    this.#prune();
    return this.#picks.size;
  }
}

function strip(p: Pick & { until: number }): Pick {
  return { owner: p.owner, field: p.field, value: p.value, pool: p.pool };
}

/** Holds addresses and ports handed out recently, until the Service shows in the cache or the TTL passes. */
export class Reservations<K> {
  readonly #until = new Map<K, number>();
  readonly #ttl: number;
  readonly #now: () => number;

  constructor(ttlMs: number, now: () => number) {
    this.#ttl = ttlMs;
    this.#now = now;
  }

  hold(key: K): void {
    this.#until.set(key, this.#now() + this.#ttl);
  }

  /** The live reservations (expired ones are dropped). */
  keys(): K[] {
    const now = this.#now();
    const out: K[] = [];
    for (const [k, until] of this.#until) {
      if (until <= now) this.#until.delete(k);
      else out.push(k);
    }
    return out;
  }

  get size(): number {
    return this.keys().length;
  }
}
