// The LoadBalancer (and ClusterIP-pool) address assignment engine, with
// MetalLB's semantics. Plain data in, plain data out; no I/O, no clock reads
// (time comes from an injected `now` function).
//
// Order in which an address is found for a Service (assign()):
//   0. A malformed request (InvalidRequest) changes nothing: the Service keeps
//      any address it has (MetalLB also keeps it on a bad annotation).
//   1. An existing assignment is kept when it still fits the request (same
//      requested IPs / pool if any, pool still admits the Service, families
//      match, sharing still allowed). Otherwise it is released, as MetalLB
//      clears it, and the Service is allocated again; the result carries the
//      released assignment as `replaced`, whether or not the new search works.
//   2. Requested IPs (spec.loadBalancerIP or the loadBalancerIPs annotation):
//      they must all lie in one pool, that pool must admit the Service (its
//      autoAssign does not matter), must be the requested pool if one is named,
//      and sharing must allow it. A sticky reservation held by another Service
//      does not stop an explicit request: the request wins.
//   3. The Service's own sticky reservation, when its addresses are still
//      free (or shareable) and in one pool that admits the Service (and is the
//      requested pool, if one is named). As for an existing assignment, the
//      pool's autoAssign does not matter: the Service held these addresses.
//   4. The requested pool (address-pool annotation): it must exist and admit
//      the Service (MetalLB does not check the latter for this annotation; we
//      do, so that serviceAllocation also fences explicit use). autoAssign does
//      not matter. There is no fallback to other pools.
//   5. Automatic: pools whose serviceAllocation admits the Service, by priority
//      (lower number first, unset/0 last, ties by name), then autoAssign pools
//      without serviceAllocation, by name. Each group is searched as a whole
//      before the next, as in MetalLB.
// Within a pool, entries (spec.addresses) are searched in the order written,
// as MetalLB walks its CIDRs, and within an entry the lowest usable address
// wins: one that is free (not in use, not reserved, not avoided by
// avoidBuggyIPs), or one already in use whose users the Service may share
// with. This is MetalLB's search, and it makes results deterministic.
//
// Families: `ipFamilies` (as the apiserver filled them) and `ipFamilyPolicy`.
// - SingleStack: one address of ipFamilies[0].
// - RequireDualStack: needs two ipFamilies; one address of each from one pool.
// - PreferDualStack: with two ipFamilies, both from one pool if a pool has
//   both, else ipFamilies[0] alone, else the other family alone (MetalLB's
//   preference). With one ipFamily it behaves as SingleStack. An existing
//   single address is widened with the missing family from the same pool when
//   that becomes possible. Requested IPs may cover one or both families
//   (MetalLB insists on both; we accept one for PreferDualStack).
// Addresses are always returned in ipFamilies order.
//
// Cost: nothing is ever enumerated. Finding a free address is a few binary
// searches over interval sets (used ∪ reserved is kept as one set so the search
// jumps over both at once); taking or freeing one copies an interval list
// (O(fragments), not O(addresses)). The search among shared addresses is
// proportional to how fragmented port use is within one sharing group.

import { quote } from './errors.ts';
import type { FieldError } from './errors.ts';
import { IntervalSet, lowestFree } from './intervals.ts';
import { formatIP, formatIPValue, parseIP } from './ip.ts';
import type { IPAddress, IPFamily } from './ip.ts';
import { poolContains, skipFor, usableCount } from './pool.ts';
import type { Pool, PoolEntry, PoolUsage } from './pool.ts';
import { familyCounts } from './counts.ts';
import type { PoolCounts } from './counts.ts';
import { isPlainObject, validateParty, validateRequest } from './request.ts';
import type { AssignRequest, RestoreInfo, Validated } from './request.ts';
import { admits, candidatePools, splitServiceKey } from './service-allocation.ts';
import { checkSharing } from './sharing.ts';
import type { ServicePort, SharingConflict, SharingConflictKind, SharingParty } from './sharing.ts';
import { DEFAULT_STICKY_HOLD_MS, ReservationBook } from './sticky.ts';
import type { Reservation } from './sticky.ts';

export { IP_FAMILY_POLICIES, requestedIPsFrom } from './request.ts';
export type { AssignRequest, IPFamilyPolicy, RestoreInfo } from './request.ts';

export interface Assignment {
  readonly service: string;
  readonly pool: string;
  /** Canonical addresses, in ipFamilies order. */
  readonly ips: readonly string[];
  /** "" when the Service does not allow sharing. */
  readonly sharingKey: string;
  readonly backendKey: string;
  readonly ports: readonly ServicePort[];
}

export type AssignSource = 'existing' | 'requested' | 'reservation' | 'pool' | 'auto' | 'restore';

export type AssignFailureReason =
  /** The request itself is malformed (bad address, families, ports, key...). */
  | 'InvalidRequest'
  /** The address-pool annotation names no pool of this usage. */
  | 'PoolNotFound'
  /** The pool exists but its serviceAllocation does not admit the Service. */
  | 'PoolNotEligible'
  /** Requested IPs in different pools, or not in the requested pool. */
  | 'PoolMismatch'
  /** A requested IP is in no pool (or is avoided by avoidBuggyIPs). */
  | 'RequestedIPNotInPool'
  /** A requested IP is used by another Service and sharing is not allowed. */
  | 'IPInUse'
  /** No pool that could be used has addresses of the needed family. */
  | 'FamilyNotAvailable'
  /** The pools that could be used are full. */
  | 'PoolExhausted'
  /** No pool can be used automatically for this Service. */
  | 'NoEligiblePool';

export interface AssignSuccess {
  readonly ok: true;
  readonly service: string;
  readonly ips: readonly string[];
  readonly pool: string;
  readonly source: AssignSource;
  /** The addresses differ from those the Service held before the call. */
  readonly changed: boolean;
  /** Other Services on the same addresses. */
  readonly sharedWith: readonly string[];
  /** Services whose sticky reservation lost an address to this request. */
  readonly droppedReservations: readonly string[];
  /** An earlier assignment of this Service that no longer fitted and was released. */
  readonly replaced?: Assignment;
}

export interface AssignFailure {
  readonly ok: false;
  readonly service: string;
  readonly reason: AssignFailureReason;
  readonly message: string;
  readonly ip?: string;
  readonly pool?: string;
  readonly conflict?: SharingConflictKind;
  readonly conflictsWith?: readonly string[];
  /** An earlier assignment of this Service that no longer fitted and was released. */
  readonly replaced?: Assignment;
}

export type AssignResult = AssignSuccess | AssignFailure;

export interface Release {
  readonly released: Assignment;
  readonly reservation?: Reservation;
}

/** An assignment dropped by setPools because its addresses left every pool. */
export interface Eviction {
  readonly assignment: Assignment;
  readonly message: string;
}

export interface IPAllocatorOptions {
  /** Which pools this allocator hands out from. Default LoadBalancer. */
  readonly usage?: PoolUsage;
  /** Sticky hold time in ms; 0 disables reservations. Default 24h. */
  readonly stickyHoldMs?: number;
  /** Clock (epoch ms). Without it, sticky reservations are disabled. */
  readonly now?: () => number;
}

interface Rec {
  readonly service: string;
  pool: string;
  readonly addrs: readonly IPAddress[];
  readonly party: SharingParty;
}

interface Use {
  readonly addr: IPAddress;
  readonly key: string;
  pool: string;
  readonly users: Map<string, SharingParty>;
  /** "TCP/80" -> the user holding that port on this address. */
  readonly ports: Map<string, string>;
}

/** Addresses in use that a party with these keys might join, by pool and family. */
interface ShareEntry {
  all: IntervalSet;
  /** "TCP/80" -> addresses on which some user holds that port. */
  readonly byPort: Map<string, IntervalSet>;
}

function shareKey(pool: string, family: IPFamily, p: SharingParty): string {
  return `${pool}\n${family}\n${p.sharingKey}\n${p.backendKey}`;
}

function portKey(p: ServicePort): string {
  return `${p.protocol}/${p.port}`;
}

/** Allocation-free form of checkSharing(...) === undefined, for the search loop. */
function canShare(use: Use, party: SharingParty): boolean {
  let others = 0;
  for (const [service, u] of use.users) {
    if (service === party.service) continue;
    others++;
    if (u.sharingKey === '' || u.sharingKey !== party.sharingKey || u.backendKey !== party.backendKey)
      return false;
  }
  if (others === 0) return true;
  for (const p of party.ports) {
    const holder = use.ports.get(portKey(p));
    if (holder !== undefined && holder !== party.service) return false;
  }
  return true;
}

function setUser(use: Use, party: SharingParty): void {
  removeUser(use, party.service);
  use.users.set(party.service, party);
  for (const p of party.ports) use.ports.set(portKey(p), party.service);
}

function removeUser(use: Use, service: string): void {
  const old = use.users.get(service);
  if (old === undefined) return;
  use.users.delete(service);
  for (const p of old.ports) if (use.ports.get(portKey(p)) === service) use.ports.delete(portKey(p));
}

type Picked = { readonly pool: Pool; readonly addrs: IPAddress[] };

function sameAddrs(a: readonly IPAddress[], b: readonly IPAddress[]): boolean {
  if (a.length !== b.length) return false;
  const keys = new Set(a.map(formatIP));
  return b.every((x) => keys.has(formatIP(x)));
}

export class IPAllocator {
  readonly #usage: PoolUsage;
  readonly #holdMs: number;
  readonly #clock: (() => number) | undefined;
  #pools = new Map<string, Pool>();
  readonly #recs = new Map<string, Rec>();
  readonly #uses = new Map<string, Use>();
  #used: Record<IPFamily, IntervalSet> = { IPv4: IntervalSet.EMPTY, IPv6: IntervalSet.EMPTY };
  /** Addresses with sharing users, by pool, family, sharing key and backend key. */
  readonly #shares = new Map<string, ShareEntry>();
  #assignedPerPool = new Map<string, Record<IPFamily, bigint>>();
  /** used ∪ reserved, kept in step so that the free-address search jumps over both at once. */
  #blocked: Record<IPFamily, IntervalSet> = { IPv4: IntervalSet.EMPTY, IPv6: IntervalSet.EMPTY };
  readonly #book = new ReservationBook((addr, reserved) => {
    const f = addr.family;
    if (reserved) this.#blocked[f] = this.#blocked[f].add(addr.value);
    else if (!this.#used[f].contains(addr.value)) this.#blocked[f] = this.#blocked[f].remove(addr.value);
  });

  constructor(options: IPAllocatorOptions = {}) {
    this.#usage = options.usage ?? 'LoadBalancer';
    this.#holdMs = options.stickyHoldMs ?? DEFAULT_STICKY_HOLD_MS;
    this.#clock = options.now;
  }

  get usage(): PoolUsage {
    return this.#usage;
  }

  // ---------------------------------------------------------------- pools

  /**
   * Replace the pools (pass validatePools(...).accepted; pools of another usage
   * are kept only to explain errors). Assignments whose addresses are no longer
   * in one pool of this usage are released (no reservation) and returned;
   * assignments whose addresses moved to another pool follow them.
   */
  setPools(pools: readonly Pool[]): Eviction[] {
    const sorted = [...pools].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    this.#pools = new Map();
    for (const p of sorted) if (!this.#pools.has(p.name)) this.#pools.set(p.name, p);
    const evictions: Eviction[] = [];
    for (const rec of [...this.#recs.values()].sort((a, b) => (a.service < b.service ? -1 : 1))) {
      const found = rec.addrs.map((a) => this.#poolOf(a));
      const first = found[0];
      const pool = first?.pool;
      const fits = pool !== undefined && found.every((f) => f.pool === pool && f.problem === undefined);
      if (!fits) {
        const released = this.#unassign(rec.service) as Rec;
        const bad = found.find((f) => f.problem !== undefined) ?? first;
        evictions.push({
          assignment: this.#view(released),
          message: bad?.problem ?? `addresses ${released.addrs.map(formatIP).join(', ')} are not in one pool`,
        });
        continue;
      }
      rec.pool = pool.name;
      for (const a of rec.addrs) {
        const use = this.#uses.get(formatIP(a));
        if (use !== undefined) use.pool = pool.name;
      }
    }
    this.#recountPools();
    return evictions;
  }

  pools(): Pool[] {
    return [...this.#pools.values()].filter((p) => p.usage === this.#usage);
  }

  /** Rebuild the per-pool counts and the sharing index (after pools changed). */
  #recountPools(): void {
    this.#assignedPerPool = new Map();
    this.#shares.clear();
    for (const use of this.#uses.values()) {
      this.#bumpPool(use.pool, use.addr.family, 1n);
      this.#indexSharing(use, true);
    }
  }

  #bumpPool(pool: string, family: IPFamily, delta: bigint): void {
    let c = this.#assignedPerPool.get(pool);
    if (c === undefined) this.#assignedPerPool.set(pool, (c = { IPv4: 0n, IPv6: 0n }));
    c[family] += delta;
  }

  /** The pool of this usage that can hand out `addr`, or why none can. */
  #poolOf(addr: IPAddress): { pool?: Pool; problem?: string } {
    let avoided: Pool | undefined;
    let otherUsage: Pool | undefined;
    for (const p of this.#pools.values()) {
      if (!p.ranges[addr.family].contains(addr.value)) continue;
      if (p.usage !== this.#usage) {
        otherUsage ??= p;
        continue;
      }
      if (!poolContains(p, addr)) {
        avoided ??= p;
        continue;
      }
      return { pool: p };
    }
    const ip = formatIP(addr);
    if (avoided !== undefined) {
      return {
        problem: `${ip} is in IPAddressPool ${quote(avoided.name)}, which avoids .0 and .255 addresses (avoidBuggyIPs)`,
      };
    }
    if (otherUsage !== undefined) {
      return {
        problem: `${ip} is in IPAddressPool ${quote(otherUsage.name)}, whose usage is ${otherUsage.usage}, not ${this.#usage}`,
      };
    }
    return { problem: `${ip} is not in any ${this.#usage} IPAddressPool` };
  }

  // ---------------------------------------------------------------- state

  #now(): number | undefined {
    return this.#clock?.();
  }

  #sticky(): boolean {
    return this.#clock !== undefined && this.#holdMs > 0;
  }

  #expire(): void {
    const now = this.#now();
    if (now !== undefined) this.#book.expire(now);
  }

  /**
   * Add a use to (or take it out of) the sharing index. All users of a shared
   * address have the same keys, so the first user's keys are the address's.
   * Call with add=false before changing its users and add=true after.
   */
  #indexSharing(use: Use, add: boolean): void {
    const first = use.users.values().next().value;
    if (first === undefined || first.sharingKey === '') return;
    const k = shareKey(use.pool, use.addr.family, first);
    let entry = this.#shares.get(k);
    const v = use.addr.value;
    if (add) {
      if (entry === undefined) this.#shares.set(k, (entry = { all: IntervalSet.EMPTY, byPort: new Map() }));
      entry.all = entry.all.add(v);
      for (const p of use.ports.keys())
        entry.byPort.set(p, (entry.byPort.get(p) ?? IntervalSet.EMPTY).add(v));
      return;
    }
    if (entry === undefined) return;
    entry.all = entry.all.remove(v);
    for (const p of use.ports.keys()) {
      const set = entry.byPort.get(p)?.remove(v);
      if (set === undefined || set.isEmpty) entry.byPort.delete(p);
      else entry.byPort.set(p, set);
    }
    if (entry.all.isEmpty) this.#shares.delete(k);
  }

  #commit(service: string, pool: Pool, addrs: readonly IPAddress[], party: SharingParty): Rec {
    const prev = this.#recs.get(service);
    if (prev !== undefined && !sameAddrs(prev.addrs, addrs)) this.#unassign(service);
    for (const addr of addrs) {
      const key = formatIP(addr);
      let use = this.#uses.get(key);
      if (use === undefined) {
        use = { addr, key, pool: pool.name, users: new Map(), ports: new Map() };
        this.#uses.set(key, use);
        this.#used[addr.family] = this.#used[addr.family].add(addr.value);
        this.#blocked[addr.family] = this.#blocked[addr.family].add(addr.value);
        this.#bumpPool(pool.name, addr.family, 1n);
      } else {
        this.#indexSharing(use, false);
      }
      setUser(use, party);
      this.#indexSharing(use, true);
    }
    const rec: Rec = { service, pool: pool.name, addrs: [...addrs], party };
    this.#recs.set(service, rec);
    this.#book.drop(service);
    return rec;
  }

  #unassign(service: string): Rec | undefined {
    const rec = this.#recs.get(service);
    if (rec === undefined) return undefined;
    for (const addr of rec.addrs) {
      const use = this.#uses.get(formatIP(addr));
      if (use === undefined) throw new Error(`internal error: ${formatIP(addr)} of ${service} is not in use`);
      this.#indexSharing(use, false);
      removeUser(use, service);
      if (use.users.size === 0) {
        this.#uses.delete(use.key);
        this.#used[addr.family] = this.#used[addr.family].remove(addr.value);
        if (!this.#book.reservedSet(addr.family).contains(addr.value)) {
          this.#blocked[addr.family] = this.#blocked[addr.family].remove(addr.value);
        }
        this.#bumpPool(use.pool, addr.family, -1n);
      } else {
        this.#indexSharing(use, true);
      }
    }
    this.#recs.delete(service);
    return rec;
  }

  #view(rec: Rec): Assignment {
    return {
      service: rec.service,
      pool: rec.pool,
      ips: rec.addrs.map(formatIP),
      sharingKey: rec.party.sharingKey,
      backendKey: rec.party.backendKey,
      ports: rec.party.ports,
    };
  }

  #conflict(addr: IPAddress, party: SharingParty): SharingConflict | undefined {
    const use = this.#uses.get(formatIP(addr));
    return use === undefined ? undefined : checkSharing(use.users.values(), party);
  }

  /**
   * The lowest address of `family` in `pool` that this party may take: free
   * (not used, not reserved, not avoided) or in use by Services it may share
   * with. Reserved addresses are never offered, shared or not. The party must
   * not already use an address of this family (callers release it first).
   */
  #candidate(pool: Pool, family: IPFamily, party: SharingParty): IPAddress | undefined {
    const universe = pool.ranges[family];
    if (universe.isEmpty) return undefined;
    // MetalLB walks a pool's addresses entry by entry, in the order written;
    // when the entries are in ascending order that is simply the lowest address.
    const entries = pool.entries.filter((e) => e.family === family);
    if (entries.every((e, i) => i === 0 || (entries[i - 1] as PoolEntry).hi < e.lo)) {
      return this.#candidateIn(pool, family, universe, party);
    }
    for (const e of entries) {
      const found = this.#candidateIn(pool, family, IntervalSet.range(e.lo, e.hi), party);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  /** The lowest address of `universe` (part of the pool) this party may take. */
  #candidateIn(
    pool: Pool,
    family: IPFamily,
    universe: IntervalSet,
    party: SharingParty,
  ): IPAddress | undefined {
    const skip = skipFor(pool, family);
    let best = lowestFree(universe, [this.#blocked[family]], skip ? { skip } : {});
    const entry = party.sharingKey === '' ? undefined : this.#shares.get(shareKey(pool.name, family, party));
    if (entry !== undefined) {
      const blocked = [this.#book.reservedSet(family)];
      for (const p of party.ports) {
        const held = entry.byPort.get(portKey(p));
        if (held !== undefined) blocked.push(held);
      }
      const shared = lowestFree(entry.all, blocked, { from: universe.first() as bigint });
      if (shared !== undefined && universe.contains(shared) && (best === undefined || shared < best)) {
        const use = this.#uses.get(formatIPValue(family, shared));
        if (use === undefined || !canShare(use, party)) {
          throw new Error(`internal error: sharing index out of step at ${formatIPValue(family, shared)}`);
        }
        best = shared;
      }
    }
    return best === undefined ? undefined : { family, value: best };
  }

  /** MetalLB's findBestPoolForService over one group of pools. */
  #findBest(pools: readonly Pool[], v: Validated): Picked | undefined {
    const [f0, f1] = v.want as [IPFamily, IPFamily | undefined];
    if (f1 === undefined) {
      for (const pool of pools) {
        const c = this.#candidate(pool, f0, v.party);
        if (c !== undefined) return { pool, addrs: [c] };
      }
      return undefined;
    }
    let primary: Picked | undefined;
    let secondary: Picked | undefined;
    for (const pool of pools) {
      const c0 = this.#candidate(pool, f0, v.party);
      const c1 = this.#candidate(pool, f1, v.party);
      if (c0 !== undefined && c1 !== undefined) return { pool, addrs: [c0, c1] };
      if (v.policy !== 'PreferDualStack') continue;
      if (c0 !== undefined) primary ??= { pool, addrs: [c0] };
      if (c1 !== undefined) secondary ??= { pool, addrs: [c1] };
    }
    return primary ?? secondary;
  }

  /** Why #findBest found nothing in these pools. */
  #emptyHanded(
    pools: readonly Pool[],
    v: Validated,
    base: Omit<AssignFailure, 'ok' | 'reason' | 'message'>,
  ): AssignFailure {
    const has = (p: Pool, f: IPFamily) => p.total[f] > 0n;
    const familyOk =
      v.want.length === 1 || v.policy === 'RequireDualStack'
        ? pools.some((p) => v.want.every((f) => has(p, f)))
        : pools.some((p) => v.want.some((f) => has(p, f)));
    const fams = v.want.join(v.policy === 'RequireDualStack' ? ' and ' : ' or ');
    const names = pools.map((p) => quote(p.name)).join(', ');
    const what = pools.length === 1 ? `IPAddressPool ${names}` : `the eligible IPAddressPools (${names})`;
    if (!familyOk) {
      return {
        ...base,
        ok: false,
        reason: 'FamilyNotAvailable',
        message: `${what} ${pools.length === 1 ? 'has' : 'have'} no ${fams} addresses${v.policy === 'RequireDualStack' ? ' in one pool' : ''}`,
      };
    }
    return { ...base, ok: false, reason: 'PoolExhausted', message: `no free ${fams} address in ${what}` };
  }

  #success(
    v: { service: string },
    rec: Rec,
    source: AssignSource,
    before: Rec | undefined,
    extra: { droppedReservations?: string[]; replaced?: Assignment | undefined },
  ): AssignSuccess {
    const shared = new Set<string>();
    for (const a of rec.addrs) {
      for (const s of this.#uses.get(formatIP(a))?.users.keys() ?? []) if (s !== v.service) shared.add(s);
    }
    return {
      ok: true,
      service: v.service,
      ips: rec.addrs.map(formatIP),
      pool: rec.pool,
      source,
      changed: before === undefined || !sameAddrs(before.addrs, rec.addrs),
      sharedWith: [...shared].sort(),
      droppedReservations: [...new Set(extra.droppedReservations ?? [])].sort(),
      ...(extra.replaced !== undefined ? { replaced: extra.replaced } : {}),
    };
  }

  // ---------------------------------------------------------------- assign

  /** Find (or confirm) addresses for a Service. */
  assign(request: AssignRequest): AssignResult {
    this.#expire();
    const service = isPlainObject(request) && typeof request.service === 'string' ? request.service : '';
    const checked = validateRequest(request);
    if (!checked.ok) return { ok: false, service, reason: 'InvalidRequest', message: checked.message };
    const v = checked.value;

    const prev = this.#recs.get(v.service);
    let replaced: Assignment | undefined;
    if (prev !== undefined) {
      if (this.#existingFits(prev, v)) return this.#keepExisting(prev, v);
      replaced = this.#view(this.#unassign(v.service) as Rec);
    }
    const base = { service: v.service, ...(replaced !== undefined ? { replaced } : {}) };

    if (v.requested !== undefined) return this.#assignRequested(v, prev, base);

    const now = this.#now();
    const reservation = now === undefined ? undefined : this.#book.get(v.service, now);
    if (reservation !== undefined) {
      const r = this.#fromReservation(v, reservation, prev, replaced);
      if (r !== undefined) return r;
    }

    if (v.poolName !== undefined) {
      const pool = this.#pools.get(v.poolName);
      if (pool === undefined || pool.usage !== this.#usage) {
        return {
          ...base,
          ok: false,
          reason: 'PoolNotFound',
          pool: v.poolName,
          message:
            pool === undefined
              ? `IPAddressPool ${quote(v.poolName)} does not exist`
              : `IPAddressPool ${quote(v.poolName)} has usage ${pool.usage}, not ${this.#usage}`,
        };
      }
      if (!admits(pool.serviceAllocation, v.subject)) {
        return {
          ...base,
          ok: false,
          reason: 'PoolNotEligible',
          pool: pool.name,
          message: `IPAddressPool ${quote(pool.name)} does not admit ${v.service} (see its serviceAllocation)`,
        };
      }
      const picked = this.#findBest([pool], v);
      if (picked === undefined) return { ...this.#emptyHanded([pool], v, base), ok: false, pool: pool.name };
      const rec = this.#commit(v.service, pool, picked.addrs, v.party);
      return this.#success(v, rec, 'pool', prev, { replaced });
    }

    const { pinned, fallback } = candidatePools(this.pools(), v.subject);
    if (pinned.length === 0 && fallback.length === 0) {
      return {
        ...base,
        ok: false,
        reason: 'NoEligiblePool',
        message: `no ${this.#usage} IPAddressPool with autoAssign admits ${v.service}`,
      };
    }
    for (const group of [pinned, fallback]) {
      const picked = this.#findBest(group, v);
      if (picked !== undefined) {
        const rec = this.#commit(v.service, picked.pool, picked.addrs, v.party);
        return this.#success(v, rec, 'auto', prev, { replaced });
      }
    }
    return this.#emptyHanded([...pinned, ...fallback], v, base);
  }

  #existingFits(prev: Rec, v: Validated): boolean {
    const pool = this.#pools.get(prev.pool);
    if (pool === undefined || pool.usage !== this.#usage) return false;
    if (!admits(pool.serviceAllocation, v.subject)) return false;
    if (v.poolName !== undefined && v.poolName !== prev.pool) return false;
    if (v.requested !== undefined && !sameAddrs(v.requested, prev.addrs)) return false;
    const fams = prev.addrs.map((a) => a.family);
    if (v.policy === 'PreferDualStack') {
      if (!fams.every((f) => v.want.includes(f))) return false;
    } else if (fams.length !== v.want.length || !v.want.every((f) => fams.includes(f))) {
      return false;
    }
    return prev.addrs.every((a) => poolContains(pool, a) && this.#conflict(a, v.party) === undefined);
  }

  #keepExisting(prev: Rec, v: Validated): AssignSuccess {
    const pool = this.#pools.get(prev.pool) as Pool;
    let addrs: IPAddress[] = [...prev.addrs];
    if (
      v.policy === 'PreferDualStack' &&
      v.want.length === 2 &&
      addrs.length === 1 &&
      v.requested === undefined
    ) {
      const missing = v.want.find((f) => f !== addrs[0]?.family) as IPFamily;
      const extra = this.#candidate(pool, missing, v.party);
      if (extra !== undefined) addrs.push(extra);
    }
    addrs = v.want.flatMap((f) => addrs.filter((a) => a.family === f));
    const rec = this.#commit(v.service, pool, addrs, v.party);
    return this.#success(v, rec, 'existing', prev, {});
  }

  #assignRequested(
    v: Validated,
    prev: Rec | undefined,
    base: { service: string; replaced?: Assignment },
  ): AssignResult {
    const addrs = v.requested as readonly IPAddress[];
    let pool: Pool | undefined;
    for (const a of addrs) {
      const found = this.#poolOf(a);
      if (found.pool === undefined) {
        return {
          ...base,
          ok: false,
          reason: 'RequestedIPNotInPool',
          ip: formatIP(a),
          message: `requested address ${found.problem ?? formatIP(a)}`,
        };
      }
      if (pool !== undefined && pool !== found.pool) {
        return {
          ...base,
          ok: false,
          reason: 'PoolMismatch',
          pool: found.pool.name,
          message: `requested addresses ${addrs.map(formatIP).join(', ')} are in different IPAddressPools (${quote(pool.name)}, ${quote(found.pool.name)})`,
        };
      }
      pool = found.pool;
    }
    const p = pool as Pool;
    if (v.poolName !== undefined && v.poolName !== p.name) {
      return {
        ...base,
        ok: false,
        reason: 'PoolMismatch',
        pool: p.name,
        message: `requested addresses ${addrs.map(formatIP).join(', ')} are in IPAddressPool ${quote(p.name)}, not in the requested pool ${quote(v.poolName)}`,
      };
    }
    if (!admits(p.serviceAllocation, v.subject)) {
      return {
        ...base,
        ok: false,
        reason: 'PoolNotEligible',
        pool: p.name,
        message: `requested addresses are in IPAddressPool ${quote(p.name)}, which does not admit ${v.service} (see its serviceAllocation)`,
      };
    }
    for (const a of addrs) {
      const c = this.#conflict(a, v.party);
      if (c !== undefined) {
        return {
          ...base,
          ok: false,
          reason: 'IPInUse',
          ip: formatIP(a),
          pool: p.name,
          conflict: c.kind,
          conflictsWith: c.services,
          message: `requested address ${formatIP(a)} cannot be used: ${c.message}`,
        };
      }
    }
    const dropped = addrs.flatMap((a) => this.#book.dropIP(formatIP(a), v.service));
    const rec = this.#commit(v.service, p, addrs, v.party);
    return this.#success(v, rec, 'requested', prev, {
      droppedReservations: dropped,
      replaced: base.replaced,
    });
  }

  #fromReservation(
    v: Validated,
    r: Reservation,
    prev: Rec | undefined,
    replaced: Assignment | undefined,
  ): AssignSuccess | undefined {
    const addrs: IPAddress[] = [];
    for (const ip of r.ips) {
      const a = parseIP(ip);
      if (a.ok && v.want.includes(a.value.family)) addrs.push(a.value);
    }
    const first = addrs[0];
    if (first === undefined) return undefined;
    const pool = this.#poolOf(first).pool;
    if (pool === undefined) return undefined;
    if (v.poolName !== undefined && v.poolName !== pool.name) return undefined;
    if (!admits(pool.serviceAllocation, v.subject)) return undefined;
    let usable = addrs.filter(
      (a) => this.#poolOf(a).pool === pool && this.#conflict(a, v.party) === undefined,
    );
    if (v.want.length === 1 || v.policy === 'RequireDualStack') {
      if (!v.want.every((f) => usable.some((a) => a.family === f))) return undefined;
    } else {
      if (usable.length === 0) return undefined;
      if (usable.length === 1) {
        const missing = v.want.find((f) => f !== usable[0]?.family) as IPFamily;
        const extra = this.#candidate(pool, missing, v.party);
        if (extra !== undefined) usable.push(extra);
      }
    }
    usable = v.want.flatMap((f) => usable.filter((a) => a.family === f).slice(0, 1));
    const rec = this.#commit(v.service, pool, usable, v.party);
    return this.#success(v, rec, 'reservation', prev, { replaced });
  }

  // ---------------------------------------------------------------- restore / release

  /**
   * Re-admit an assignment found in a Service's status (at startup, or after a
   * lost watch). The addresses must lie in one pool of this usage and not clash
   * with an assignment already admitted; the pool's serviceAllocation is not
   * checked here (a later assign() moves the Service if it no longer fits), so
   * that a restore never leaves an address that is still announced looking free.
   * Restore in a stable order (e.g. by creationTimestamp): on a clash the first
   * one wins and the others get an IPInUse failure naming it. Addresses keep
   * the order given (status.loadBalancer.ingress order).
   */
  restore(service: string, ips: readonly string[], info: RestoreInfo = {}): AssignResult {
    this.#expire();
    const fail = (
      reason: AssignFailureReason,
      message: string,
      extra: Partial<AssignFailure> = {},
    ): AssignFailure => ({
      ok: false,
      service,
      reason,
      message,
      ...extra,
    });
    if (splitServiceKey(service) === undefined) {
      return fail('InvalidRequest', `service key ${quote(service)} is not namespace/name`);
    }
    if (!Array.isArray(ips) || ips.length === 0 || ips.length > 2) {
      return fail('InvalidRequest', 'restore needs one or two addresses');
    }
    const addrs: IPAddress[] = [];
    for (const ip of ips) {
      const a = parseIP(ip);
      if (!a.ok) return fail('InvalidRequest', `recorded address ${a.error.message}`);
      addrs.push(a.value);
    }
    if (addrs.length === 2 && addrs[0]?.family === addrs[1]?.family) {
      return fail(
        'InvalidRequest',
        `recorded addresses ${addrs.map(formatIP).join(', ')} are of the same family`,
      );
    }
    const party = validateParty(service, info);
    if (!party.ok) return fail('InvalidRequest', party.message);

    let pool: Pool | undefined;
    for (const a of addrs) {
      const found = this.#poolOf(a);
      if (found.pool === undefined) {
        return fail('RequestedIPNotInPool', `recorded address ${found.problem ?? ''}`, { ip: formatIP(a) });
      }
      if (pool !== undefined && pool !== found.pool) {
        return fail(
          'PoolMismatch',
          `recorded addresses ${addrs.map(formatIP).join(', ')} are in different pools`,
          {
            pool: found.pool.name,
          },
        );
      }
      pool = found.pool;
    }
    const p = pool as Pool;
    for (const a of addrs) {
      const c = this.#conflict(a, party.value);
      if (c !== undefined) {
        return fail('IPInUse', `recorded address ${formatIP(a)} cannot be re-admitted: ${c.message}`, {
          ip: formatIP(a),
          pool: p.name,
          conflict: c.kind,
          conflictsWith: c.services,
        });
      }
    }
    const prev = this.#recs.get(service);
    const replaced = prev !== undefined && !sameAddrs(prev.addrs, addrs) ? this.#view(prev) : undefined;
    const dropped = addrs.flatMap((a) => this.#book.dropIP(formatIP(a), service));
    const rec = this.#commit(service, p, addrs, party.value);
    return this.#success({ service }, rec, 'restore', prev, { droppedReservations: dropped, replaced });
  }

  /**
   * Free a Service's addresses. With sticky reservations on, they stay reserved
   * for the Service for the hold time. Returns undefined when it had none.
   */
  release(service: string, options: { keepReservation?: boolean } = {}): Release | undefined {
    this.#expire();
    const rec = this.#unassign(service);
    if (rec === undefined) return undefined;
    const released = this.#view(rec);
    const now = this.#now();
    if (options.keepReservation === false || !this.#sticky() || now === undefined) return { released };
    const reservation: Reservation = {
      service,
      ips: released.ips,
      pool: released.pool,
      expiresAt: now + this.#holdMs,
    };
    this.#book.reserve(reservation);
    return { released, reservation };
  }

  // ---------------------------------------------------------------- queries

  get(service: string): Assignment | undefined {
    const rec = this.#recs.get(service);
    return rec === undefined ? undefined : this.#view(rec);
  }

  /** Every assignment, sorted by service key. */
  assignments(): Assignment[] {
    return [...this.#recs.values()]
      .sort((a, b) => (a.service < b.service ? -1 : 1))
      .map((r) => this.#view(r));
  }

  /** Services using an address (sorted). */
  usersOf(ip: string): string[] {
    const a = parseIP(ip);
    if (!a.ok) return [];
    return [...(this.#uses.get(formatIP(a.value))?.users.keys() ?? [])].sort();
  }

  /** Per pool of this usage, per family: total, assigned, reserved, available. */
  counts(): PoolCounts[] {
    this.#expire();
    return this.pools().map((pool) => {
      const assigned = this.#assignedPerPool.get(pool.name) ?? { IPv4: 0n, IPv6: 0n };
      const fam = (f: IPFamily) => {
        const reservedFree = this.#book.reservedSet(f).intersect(pool.ranges[f]).subtract(this.#used[f]);
        return familyCounts(pool.total[f], assigned[f], usableCount(reservedFree, f, pool.avoidBuggyIPs));
      };
      return { pool: pool.name, IPv4: fam('IPv4'), IPv6: fam('IPv6') };
    });
  }

  /** Live sticky reservations (plain data, e.g. to persist across restarts). */
  reservations(): Reservation[] {
    this.#expire();
    return this.#book.exportAll();
  }

  /** The live sticky reservation of one Service, if any. */
  reservation(service: string): Reservation | undefined {
    const now = this.#now();
    if (now === undefined) return undefined;
    const r = this.#book.get(service, now);
    return r === undefined ? undefined : { ...r, ips: [...r.ips] };
  }

  /** Load persisted reservations; invalid entries are reported, expired ones skipped. */
  importReservations(list: readonly unknown[]): FieldError[] {
    const now = this.#now();
    if (now === undefined || !this.#sticky()) return [];
    return this.#book.importAll(list, now);
  }

  /** Drop a Service's reservation (e.g. when the user opts out). */
  dropReservation(service: string): Reservation | undefined {
    return this.#book.drop(service);
  }
}
