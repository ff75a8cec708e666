// Sticky reservations: when a Service lets go of its addresses they stay
// reserved for the same namespace/name for a hold time (default 24h), so that a
// Service deleted and created again gets its old address back. MetalLB has no
// equivalent.
//
// Rules (the allocator applies them; this module only keeps the book):
// - Automatic assignment never hands a reserved address to another Service,
//   even when that leaves a pool exhausted: the hold time bounds the cost, and
//   a reservation that can be stolen whenever a pool is tight would not be
//   worth much.
// - An explicit request for a reserved address (spec.loadBalancerIP or the
//   loadBalancerIPs annotation, or a restore at startup) wins: the address is
//   removed from the reservation (the rest of it stays).
// - The owner gets its reserved addresses back when they are still free (or
//   shareable under the sharing rules) and still in one pool that admits it
//   (serviceAllocation) and is the requested pool if it names one; the pool's
//   autoAssign does not matter, as for an existing assignment. Otherwise it is
//   allocated as usual. Any successful assignment of the owner consumes its
//   reservation.
// - Time is always passed in (milliseconds); this module never reads a clock.
//   Reservations whose expiresAt <= now are expired.
// - Reservations are plain data (`exportAll` / `importAll`) so the operator can
//   persist them and keep them across restarts.

import { err, fieldError, ok, quote } from './errors.ts';
import type { FieldError, Result } from './errors.ts';
import { IntervalSet } from './intervals.ts';
import { formatIP, parseIP } from './ip.ts';
import type { IPAddress, IPFamily } from './ip.ts';

export const DEFAULT_STICKY_HOLD_MS = 24 * 60 * 60 * 1000;

export interface Reservation {
  /** namespace/name */
  readonly service: string;
  /** Canonical addresses. */
  readonly ips: readonly string[];
  /** The pool the addresses came from (informational; eligibility is re-checked). */
  readonly pool: string;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
}

export class ReservationBook {
  readonly #byService = new Map<string, Reservation>();
  /** canonical ip -> services holding it */
  readonly #byIP = new Map<string, Set<string>>();
  /** Every reserved address, per family, kept in step with #byIP. */
  readonly #sets: Record<IPFamily, IntervalSet> = { IPv4: IntervalSet.EMPTY, IPv6: IntervalSet.EMPTY };
  readonly #onChange: ((addr: IPAddress, reserved: boolean) => void) | undefined;
  /** No reservation expires before this (a lower bound), so expire() can return early. */
  #nextExpiry = Infinity;

  /** `onChange` is told whenever an address becomes reserved or stops being reserved. */
  constructor(onChange?: (addr: IPAddress, reserved: boolean) => void) {
    this.#onChange = onChange;
  }

  #index(r: Reservation, add: boolean): void {
    for (const ip of r.ips) {
      let holders = this.#byIP.get(ip);
      const a = parseIP(ip);
      if (add) {
        if (holders === undefined) {
          this.#byIP.set(ip, (holders = new Set()));
          if (a.ok) {
            this.#sets[a.value.family] = this.#sets[a.value.family].add(a.value.value);
            this.#onChange?.(a.value, true);
          }
        }
        holders.add(r.service);
      } else if (holders !== undefined) {
        holders.delete(r.service);
        if (holders.size === 0) {
          this.#byIP.delete(ip);
          if (a.ok) {
            this.#sets[a.value.family] = this.#sets[a.value.family].remove(a.value.value);
            this.#onChange?.(a.value, false);
          }
        }
      }
    }
  }

  /** Record (or replace) the reservation of `r.service`. Addresses must be canonical. */
  reserve(r: Reservation): void {
    this.drop(r.service);
    if (r.ips.length === 0) return;
    const copy: Reservation = { service: r.service, ips: [...r.ips], pool: r.pool, expiresAt: r.expiresAt };
    this.#byService.set(r.service, copy);
    this.#index(copy, true);
    if (copy.expiresAt < this.#nextExpiry) this.#nextExpiry = copy.expiresAt;
  }

  /** The live reservation of a Service. */
  get(service: string, now: number): Reservation | undefined {
    const r = this.#byService.get(service);
    return r !== undefined && r.expiresAt > now ? r : undefined;
  }

  /** Remove a Service's reservation; returns it. */
  drop(service: string): Reservation | undefined {
    const r = this.#byService.get(service);
    if (r === undefined) return undefined;
    this.#byService.delete(service);
    this.#index(r, false);
    return r;
  }

  /**
   * Remove one address from every reservation holding it, except `except`'s.
   * Returns the services whose reservations lost it.
   */
  dropIP(ip: string, except?: string): string[] {
    const holders = [...(this.#byIP.get(ip) ?? [])].filter((s) => s !== except).sort();
    for (const service of holders) {
      const r = this.#byService.get(service);
      if (r === undefined) continue;
      this.drop(service);
      const rest = r.ips.filter((x) => x !== ip);
      if (rest.length > 0) this.reserve({ ...r, ips: rest });
    }
    return holders;
  }

  /** Services holding a live reservation of the address. */
  holders(ip: string, now: number): string[] {
    return [...(this.#byIP.get(ip) ?? [])].filter((s) => this.get(s, now) !== undefined).sort();
  }

  /** Drop every reservation with expiresAt <= now; returns them. */
  expire(now: number): Reservation[] {
    if (now < this.#nextExpiry) return [];
    const gone: Reservation[] = [];
    let next = Infinity;
    for (const r of this.#byService.values()) {
      if (r.expiresAt <= now) gone.push(r);
      else if (r.expiresAt < next) next = r.expiresAt;
    }
    for (const r of gone) this.drop(r.service);
    this.#nextExpiry = next;
    return gone;
  }

  /**
   * All reserved addresses of a family, as a set. Call expire(now) first: this
   * does not look at expiry.
   */
  reservedSet(family: IPFamily): IntervalSet {
    return this.#sets[family];
  }

  get size(): number {
    return this.#byService.size;
  }

  /** Every reservation, sorted by service, as plain data. */
  exportAll(): Reservation[] {
    return [...this.#byService.values()]
      .sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0))
      .map((r) => ({ ...r, ips: [...r.ips] }));
  }

  /**
   * Load reservations (for example persisted before a restart). Invalid ones
   * are skipped and reported; expired ones are skipped silently.
   */
  importAll(list: readonly unknown[], now: number): FieldError[] {
    const errors: FieldError[] = [];
    list.forEach((item, i) => {
      const r = parseReservation(item, `reservations[${i}]`);
      if (!r.ok) errors.push(...r.error);
      else if (r.value.expiresAt > now) this.reserve(r.value);
    });
    return errors;
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validate a reservation read back from storage; addresses are canonicalised. */
export function parseReservation(item: unknown, path: string): Result<Reservation, FieldError[]> {
  if (!isPlainObject(item)) return err([fieldError(path, 'must be an object')]);
  const errors: FieldError[] = [];
  const { service, ips, pool, expiresAt } = item;
  if (typeof service !== 'string' || !/^[^/]+\/[^/]+$/.test(service)) {
    errors.push(fieldError(`${path}.service`, `${quote(service)} is not a namespace/name key`));
  }
  if (typeof pool !== 'string') errors.push(fieldError(`${path}.pool`, 'must be a string'));
  if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) {
    errors.push(fieldError(`${path}.expiresAt`, 'must be a number of epoch milliseconds'));
  }
  const addrs: IPAddress[] = [];
  if (!Array.isArray(ips)) {
    errors.push(fieldError(`${path}.ips`, 'must be a list of addresses'));
  } else {
    ips.forEach((ip: unknown, j) => {
      const a = parseIP(ip as string);
      if (!a.ok) errors.push(fieldError(`${path}.ips[${j}]`, a.error.message));
      else addrs.push(a.value);
    });
  }
  if (errors.length > 0) return err(errors);
  return ok({
    service: service as string,
    ips: addrs.map(formatIP),
    pool: pool as string,
    expiresAt: expiresAt as number,
  });
}
