// The operations that take the kernel's IPVS table and dummy interface from
// what was read back to what is wanted. Pure.
//
// Graceful termination, as kube-proxy's IPVS proxier does it: a real server
// that is no longer wanted first gets weight 0 (no new connections, open
// ones continue), and is deleted only once the caller says it may go (its
// connections are gone, or the grace period is over).
import type { IpvsOp } from './restore.ts';
import { realKey, sameVirtual, sortReals, virtualKey } from './table.ts';
import type { IpvsEntry, IpvsTable } from './table.ts';

/** Identity of one real server of one virtual server. */
export function drainKey(virtualKey: string, real: { ip: string; port: number }): string {
  return `${virtualKey} -> ${realKey(real)}`;
}

export interface IpvsPlan {
  readonly ops: IpvsOp[];
  /** Real servers kept at weight 0 only to drain (not wanted any more), by drainKey. */
  readonly draining: string[];
}

function planEntry(
  key: string,
  want: IpvsEntry,
  have: IpvsEntry | undefined,
  removable: ReadonlySet<string>,
  ops: IpvsOp[],
  draining: string[],
): void {
  const virtual = want.virtual;
  if (!have) ops.push({ op: 'add-virtual', virtual });
  else if (!sameVirtual(want.virtual, have.virtual)) ops.push({ op: 'edit-virtual', virtual });
  const haveReals = new Map((have?.reals ?? []).map((r) => [realKey(r), r]));
  const wanted = new Set<string>();
  for (const real of want.reals) {
    const rk = realKey(real);
    wanted.add(rk);
    const old = haveReals.get(rk);
    if (!old) ops.push({ op: 'add-real', virtual, real });
    else if (old.weight !== real.weight) ops.push({ op: 'edit-real', virtual, real });
  }
  for (const [rk, old] of haveReals) {
    if (wanted.has(rk)) continue;
    const dk = drainKey(key, old);
    if (old.weight > 0) {
      ops.push({ op: 'edit-real', virtual, real: { ...old, weight: 0 } });
      draining.push(dk);
    } else if (removable.has(dk)) {
      ops.push({ op: 'delete-real', virtual, real: old });
    } else draining.push(dk);
  }
}

/**
 * Ops from `observed` to `desired`. Virtual servers that are no longer
 * wanted are deleted at once (their Service is gone); only real servers
 * drain. `removable` holds the drainKeys of weight-0 leftovers that may now
 * be deleted.
 */
export function planIpvs(desired: IpvsTable, observed: IpvsTable, removable: ReadonlySet<string>): IpvsPlan {
  const ops: IpvsOp[] = [];
  const draining: string[] = [];
  for (const [key, have] of observed) {
    if (!desired.has(key)) ops.push({ op: 'delete-virtual', virtual: have.virtual });
  }
  for (const [key, want] of desired) planEntry(key, want, observed.get(key), removable, ops, draining);
  return { ops, draining };
}

/** `ip -batch` lines that make `device` hold exactly `desired` (host routes: /32, /128). */
export function planAddresses(
  device: string,
  desired: ReadonlySet<string>,
  observed: ReadonlySet<string>,
): string[] {
  const prefix = (ip: string): string => `${ip}/${ip.includes(':') ? 128 : 32}`;
  const lines: string[] = [];
  for (const ip of [...observed].sort())
    if (!desired.has(ip)) lines.push(`address del ${prefix(ip)} dev ${device}`);
  for (const ip of [...desired].sort()) {
    // nodad: an IPv6 VIP must be usable at once, not tentative for a second.
    if (!observed.has(ip))
      lines.push(`address add ${prefix(ip)} dev ${device}${ip.includes(':') ? ' nodad' : ''}`);
  }
  return lines;
}

/** The addresses on `device` in `ip -j addr show` output. */
export function parseAddresses(json: unknown, device: string): Set<string> {
  const out = new Set<string>();
  if (!Array.isArray(json)) return out;
  type AddrInfo = { local?: string; scope?: string };
  for (const link of json as { ifname?: string; addr_info?: AddrInfo[] }[]) {
    if (link.ifname !== device) continue;
    // The kernel's own IPv6 link-local address is not a VIP; leave it alone.
    for (const a of link.addr_info ?? []) if (a.local && a.scope !== 'link') out.add(a.local);
  }
  return out;
}

/** The table after `ops` succeeded on `table` (what the kernel now holds). */
export function applyOps(table: IpvsTable, ops: readonly IpvsOp[]): Map<string, IpvsEntry> {
  const out = new Map<string, IpvsEntry>(table);
  for (const o of ops) {
    const key = virtualKey(o.virtual);
    const entry = out.get(key);
    switch (o.op) {
      case 'add-virtual':
      case 'edit-virtual':
        out.set(key, { virtual: o.virtual, reals: entry?.reals ?? [] });
        break;
      case 'delete-virtual':
        out.delete(key);
        break;
      case 'add-real':
      case 'edit-real':
      case 'delete-real': {
        if (!entry) throw new Error(`applyOps: ${o.op} on missing virtual server ${key}`);
        const rk = realKey(o.real);
        const rest = entry.reals.filter((r) => realKey(r) !== rk);
        out.set(key, { ...entry, reals: o.op === 'delete-real' ? rest : sortReals([...rest, o.real]) });
        break;
      }
    }
  }
  return out;
}
