// Turns plans, and what the table holds now, into one `nft -f -` script: a
// single transaction that writes only the chains whose fingerprint or rule
// count differs, fixes only the map elements that differ, and removes what is
// no longer wanted. Nothing to do gives an empty script.
//
// renderSync compares the whole desired table with the whole live one (full
// syncs, repairs). renderIncremental looks only at the virtual services that
// changed since the last sync, so a one-endpoint change costs the same at ten
// Services as at ten thousand.
import type { Inventory } from './inventory.ts';
import type { BasePlan, ChainPlan, ServicePlan, SetPlan } from './plan.ts';

export interface RenderStats {
  chainsWritten: number;
  chainsDeleted: number;
  setsAdded: number;
  setsDeleted: number;
  elementsAdded: number;
  elementsDeleted: number;
}

export interface RenderResult {
  /** '' when the table already matches. */
  readonly script: string;
  readonly stats: RenderStats;
}

/** Elements per `add element` command: keeps each line reasonable at 10k services. */
const ELEMENTS_PER_COMMAND = 500;

export function chainIntact(c: ChainPlan, live: Inventory): boolean {
  const l = live.chains.get(c.name);
  return l !== undefined && l.rules === c.rules.length && l.lastComment === c.fingerprint;
}

/** True when everything `plan` needs is in `live`, unchanged. */
export function planIntact(plan: ServicePlan, live: Inventory): boolean {
  return (
    plan.chains.every((c) => chainIntact(c, live)) &&
    plan.sets.every((s) => live.sets.has(s.name)) &&
    live.elements.get(plan.element.map)?.get(plan.element.key) === plan.element.verdict
  );
}

/**
 * Collects the commands of one transaction in the order the kernel needs:
 * declarations (sets, chains), chain contents, map elements, then removals:
 * stale chains are flushed first (they may jump to each other and use stale
 * sets), then stale sets and maps go (maps may point at stale chains), then
 * the stale chains themselves.
 */
class Transaction {
  readonly #t: string;
  readonly #live: Inventory;
  readonly #declare: string[] = [];
  readonly #rules: string[] = [];
  readonly #flushStale: string[] = [];
  readonly #deleteStale: string[] = [];
  readonly #deleteSets: string[] = [];
  readonly #elementsOut = new Map<string, string[]>();
  readonly #elementsIn = new Map<string, string[]>();
  readonly stats: RenderStats = {
    chainsWritten: 0,
    chainsDeleted: 0,
    setsAdded: 0,
    setsDeleted: 0,
    elementsAdded: 0,
    elementsDeleted: 0,
  };

  constructor(table: string, live: Inventory) {
    this.#t = `inet ${table}`;
    this.#live = live;
    if (!live.tableExists) this.#declare.push(`add table ${this.#t}`);
  }

  upsertSet(s: SetPlan): void {
    if (this.#live.sets.has(s.name)) return;
    this.#declare.push(`add ${s.kind} ${this.#t} ${s.name} { ${s.spec} }`);
    this.stats.setsAdded++;
  }

  upsertChain(c: ChainPlan): void {
    const l = this.#live.chains.get(c.name);
    if (!l)
      this.#declare.push(
        c.hook ? `add chain ${this.#t} ${c.name} { ${c.hook} }` : `add chain ${this.#t} ${c.name}`,
      );
    if (chainIntact(c, this.#live)) return;
    if (l && l.rules > 0) this.#rules.push(`flush chain ${this.#t} ${c.name}`);
    for (const r of c.rules) this.#rules.push(`add rule ${this.#t} ${c.name} ${r}`);
    this.stats.chainsWritten++;
  }

  /** Makes `map[key]` be `verdict`, whatever it is now. */
  setElement(map: string, key: string, verdict: string): void {
    const now = this.#live.elements.get(map)?.get(key);
    if (now === verdict) return;
    if (now !== undefined) this.deleteElement(map, key);
    push(this.#elementsIn, map, `${key} : ${verdict}`);
    this.stats.elementsAdded++;
  }

  deleteElement(map: string, key: string): void {
    if (this.#live.elements.get(map)?.get(key) === undefined) return;
    push(this.#elementsOut, map, key);
    this.stats.elementsDeleted++;
  }

  removeChain(name: string): void {
    const l = this.#live.chains.get(name);
    if (!l) return;
    if (l.rules > 0) this.#flushStale.push(`flush chain ${this.#t} ${name}`);
    this.#deleteStale.push(`delete chain ${this.#t} ${name}`);
    this.stats.chainsDeleted++;
  }

  removeSet(name: string): void {
    const kind = this.#live.sets.get(name);
    if (!kind) return;
    this.#deleteSets.push(`delete ${kind} ${this.#t} ${name}`);
    this.stats.setsDeleted++;
  }

  build(): RenderResult {
    const elements: string[] = [];
    const chunked = (verb: string, byMap: Map<string, string[]>): void => {
      for (const [map, items] of byMap) {
        for (let i = 0; i < items.length; i += ELEMENTS_PER_COMMAND) {
          elements.push(
            `${verb} element ${this.#t} ${map} { ${items.slice(i, i + ELEMENTS_PER_COMMAND).join(', ')} }`,
          );
        }
      }
    };
    chunked('delete', this.#elementsOut);
    chunked('add', this.#elementsIn);
    const lines = [
      ...this.#declare,
      ...this.#rules,
      ...elements,
      ...this.#flushStale,
      ...this.#deleteSets,
      ...this.#deleteStale,
    ];
    return { script: lines.length ? `${lines.join('\n')}\n` : '', stats: this.stats };
  }
}

function push(m: Map<string, string[]>, key: string, value: string): void {
  const list = m.get(key);
  if (list) list.push(value);
  else m.set(key, [value]);
}

export interface RenderInput {
  readonly table: string;
  readonly base: BasePlan;
  /** Every virtual service's plan: the whole desired table. */
  readonly plans: Iterable<ServicePlan>;
  readonly live: Inventory;
}

/** The transaction that makes the live table exactly the plans: writes what differs, removes the rest. */
export function renderSync(input: RenderInput): RenderResult {
  const { live } = input;
  const tx = new Transaction(input.table, live);
  const wantedChains = new Set<string>();
  const wantedSets = new Set<string>();
  const wantedElements = new Map<string, Map<string, string>>();
  const addSet = (s: SetPlan): void => {
    wantedSets.add(s.name);
    tx.upsertSet(s);
  };
  const addChain = (c: ChainPlan): void => {
    wantedChains.add(c.name);
    tx.upsertChain(c);
  };

  for (const s of input.base.sets) {
    addSet(s);
    if (s.kind === 'map') wantedElements.set(s.name, new Map());
  }
  for (const c of input.base.chains) addChain(c);
  for (const plan of input.plans) {
    for (const s of plan.sets) addSet(s);
    for (const c of plan.chains) addChain(c);
    let m = wantedElements.get(plan.element.map);
    if (!m) wantedElements.set(plan.element.map, (m = new Map()));
    m.set(plan.element.key, plan.element.verdict);
  }
  for (const [map, want] of wantedElements) {
    for (const key of live.elements.get(map)?.keys() ?? []) if (!want.has(key)) tx.deleteElement(map, key);
    for (const [key, verdict] of want) tx.setElement(map, key, verdict);
  }
  for (const name of live.chains.keys()) if (!wantedChains.has(name)) tx.removeChain(name);
  for (const name of live.sets.keys()) if (!wantedSets.has(name)) tx.removeSet(name);
  return tx.build();
}

export interface IncrementalInput {
  readonly table: string;
  /** Plans of the virtual services added or changed since the last sync. */
  readonly upserts: readonly ServicePlan[];
  /** The last sync's plans of the virtual services changed or removed since. */
  readonly previous: readonly ServicePlan[];
  /** The table as the last sync left it (base objects included). */
  readonly live: Inventory;
}

/**
 * The transaction for a change of some virtual services. Names derive from
 * each virtual service's key, so what `previous` held and `upserts` no longer
 * do is exactly what to remove.
 */
export function renderIncremental(input: IncrementalInput): RenderResult {
  const tx = new Transaction(input.table, input.live);
  const keepChains = new Set<string>();
  const keepSets = new Set<string>();
  const keepElements = new Set<string>();
  for (const plan of input.upserts) {
    for (const s of plan.sets) {
      keepSets.add(s.name);
      tx.upsertSet(s);
    }
    for (const c of plan.chains) {
      keepChains.add(c.name);
      tx.upsertChain(c);
    }
    keepElements.add(`${plan.element.map}\n${plan.element.key}`);
    tx.setElement(plan.element.map, plan.element.key, plan.element.verdict);
  }
  for (const plan of input.previous) {
    if (!keepElements.has(`${plan.element.map}\n${plan.element.key}`)) {
      tx.deleteElement(plan.element.map, plan.element.key);
    }
    for (const c of plan.chains) if (!keepChains.has(c.name)) tx.removeChain(c.name);
    for (const s of plan.sets) if (!keepSets.has(s.name)) tx.removeSet(s.name);
  }
  return tx.build();
}
