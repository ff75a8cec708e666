// What the table holds, reduced to what a sync compares: chains (rule count
// and the last rule's comment, which carries the fingerprint), named sets and
// maps, and the elements of the dispatch maps. Read from `nft -j list table`,
// or derived from plans when a sync trusts what it applied last.
import { canonicalIP } from '../ip.ts';
import type { BasePlan, ServicePlan } from './plan.ts';

export interface LiveChain {
  readonly rules: number;
  readonly lastComment: string | null;
}

export interface Inventory {
  readonly tableExists: boolean;
  readonly chains: ReadonlyMap<string, LiveChain>;
  readonly sets: ReadonlyMap<string, 'set' | 'map'>;
  /** Map name -> element key (`vip . proto . port`) -> verdict (`goto x`, `drop`). */
  readonly elements: ReadonlyMap<string, ReadonlyMap<string, string>>;
}

export const EMPTY_INVENTORY: Inventory = {
  tableExists: false,
  chains: new Map(),
  sets: new Map(),
  elements: new Map(),
};

/** An inventory a backend keeps up to date itself. */
export interface MutableInventory extends Inventory {
  readonly chains: Map<string, LiveChain>;
  readonly sets: Map<string, 'set' | 'map'>;
  readonly elements: Map<string, Map<string, string>>;
}

function addPlan(inv: MutableInventory, p: ServicePlan): void {
  for (const c of p.chains) inv.chains.set(c.name, { rules: c.rules.length, lastComment: c.fingerprint });
  for (const s of p.sets) inv.sets.set(s.name, s.kind);
  let m = inv.elements.get(p.element.map);
  if (!m) inv.elements.set(p.element.map, (m = new Map()));
  m.set(p.element.key, p.element.verdict);
}

/** The table that applying exactly these plans leaves. */
export function inventoryFromPlans(base: BasePlan, plans: Iterable<ServicePlan>): MutableInventory {
  const inv: MutableInventory = {
    tableExists: true,
    chains: new Map(),
    sets: new Map(),
    elements: new Map(),
  };
  for (const s of base.sets) {
    inv.sets.set(s.name, s.kind);
    if (s.kind === 'map') inv.elements.set(s.name, new Map());
  }
  for (const c of base.chains) inv.chains.set(c.name, { rules: c.rules.length, lastComment: c.fingerprint });
  for (const p of plans) addPlan(inv, p);
  return inv;
}

/** Updates `inv` as renderIncremental's transaction updates the table. */
export function applyPlans(
  inv: MutableInventory,
  previous: readonly ServicePlan[],
  upserts: readonly ServicePlan[],
): void {
  for (const p of previous) {
    for (const c of p.chains) inv.chains.delete(c.name);
    for (const s of p.sets) inv.sets.delete(s.name);
    inv.elements.get(p.element.map)?.delete(p.element.key);
  }
  for (const p of upserts) addPlan(inv, p);
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const PROTOCOL_NUMBERS: Record<number, string> = { 6: 'tcp', 17: 'udp', 132: 'sctp' };

function keyText(key: unknown): string | null {
  if (isObject(key) && isObject(key['elem'])) return keyText(key['elem']['val']);
  if (!isObject(key) || !Array.isArray(key['concat'])) return null;
  const [ip, proto, port] = key['concat'] as unknown[];
  if (typeof ip !== 'string' || (typeof port !== 'number' && typeof port !== 'string')) return null;
  const protoText = typeof proto === 'number' ? PROTOCOL_NUMBERS[proto] : proto;
  if (typeof protoText !== 'string') return null;
  return `${canonicalIP(ip) ?? ip} . ${protoText} . ${port}`;
}

function verdictText(v: unknown): string | null {
  if (!isObject(v)) return null;
  for (const kind of ['goto', 'jump'] as const) {
    const target = v[kind];
    if (isObject(target) && typeof target['target'] === 'string') return `${kind} ${target['target']}`;
  }
  for (const kind of ['drop', 'accept', 'return', 'continue'] as const) if (kind in v) return kind;
  return null;
}

/** Parses `nft -j list table inet <table>` output. Unknown items are ignored. */
export function parseInventory(json: unknown, table: string): Inventory {
  const items = isObject(json) && Array.isArray(json['nftables']) ? (json['nftables'] as unknown[]) : [];
  let tableExists = false;
  const chains = new Map<string, { rules: number; lastComment: string | null }>();
  const sets = new Map<string, 'set' | 'map'>();
  const elements = new Map<string, Map<string, string>>();
  for (const item of items) {
    if (!isObject(item)) continue;
    const [kind, body] = Object.entries(item)[0] ?? [];
    if (!isObject(body) || body['family'] !== 'inet') continue;
    if (kind === 'table') {
      if (body['name'] === table) tableExists = true;
      continue;
    }
    if (body['table'] !== table) continue;
    const name = body['name'];
    if (kind === 'chain' && typeof name === 'string') chains.set(name, { rules: 0, lastComment: null });
    else if (kind === 'set' && typeof name === 'string') sets.set(name, 'set');
    else if (kind === 'map' && typeof name === 'string') {
      sets.set(name, 'map');
      const m = new Map<string, string>();
      for (const pair of Array.isArray(body['elem']) ? (body['elem'] as unknown[]) : []) {
        if (!Array.isArray(pair)) continue;
        const k = keyText(pair[0]);
        const v = verdictText(pair[1]);
        if (k !== null && v !== null) m.set(k, v);
      }
      elements.set(name, m);
    } else if (kind === 'rule' && typeof body['chain'] === 'string') {
      const c = chains.get(body['chain']) ?? { rules: 0, lastComment: null };
      c.rules += 1;
      c.lastComment = typeof body['comment'] === 'string' ? body['comment'] : null;
      chains.set(body['chain'], c);
    }
  }
  return { tableExists, chains, sets, elements };
}
