// A tiny model of how the kernel applies the scripts our renderer writes (not
// a test file itself): the same objects, the same refusals (missing objects,
// duplicate elements, deleting what is still referenced), all-or-nothing.
// It lets property tests check that every script applies, whatever the
// table looked like before.
import type { Inventory } from '../../../../speaker/dataplane/nftables/inventory.ts';

export interface SimTable {
  exists: boolean;
  chains: Map<string, string[]>;
  sets: Map<string, 'set' | 'map'>;
  elements: Map<string, Map<string, string>>;
}

export function emptySim(): SimTable {
  return { exists: false, chains: new Map(), sets: new Map(), elements: new Map() };
}

export function cloneSim(t: SimTable): SimTable {
  return {
    exists: t.exists,
    chains: new Map([...t.chains].map(([k, v]) => [k, [...v]])),
    sets: new Map(t.sets),
    elements: new Map([...t.elements].map(([k, v]) => [k, new Map(v)])),
  };
}

function chainRefs(rule: string): string[] {
  return [...rule.matchAll(/\b(?:goto|jump) ([^\s,}]+)/g)].map((m) => m[1] ?? '');
}
function setRefs(rule: string): string[] {
  return [...rule.matchAll(/@([^\s,}]+)/g)].map((m) => m[1] ?? '');
}
function braces(text: string): string {
  const m = /\{ (.*) \}$/.exec(text);
  if (!m?.[1]) throw new Error(`no braces in ${text}`);
  return m[1];
}

function referencedChains(t: SimTable): Set<string> {
  const refs = new Set<string>();
  for (const rules of t.chains.values()) for (const r of rules) for (const c of chainRefs(r)) refs.add(c);
  for (const m of t.elements.values()) for (const v of m.values()) for (const c of chainRefs(v)) refs.add(c);
  return refs;
}

function applyLine(t: SimTable, line: string, table: string): void {
  const fail = (why: string): never => {
    throw new Error(`${why}: ${line}`);
  };
  const m = /^(add|flush|delete) (table|chain|set|map|rule|element) inet (\S+)(?: (\S+))?(?: (.*))?$/.exec(
    line,
  );
  if (!m) return fail('cannot parse');
  const [, verb, what, tbl, name = '', rest = ''] = m;
  if (tbl !== table) fail('wrong table');
  if (what === 'table') {
    t.exists = true;
    return;
  }
  if (!t.exists) fail('no table');
  const chain = t.chains.get(name);
  switch (`${verb} ${what}`) {
    case 'add chain':
      if (!chain) t.chains.set(name, []);
      return;
    case 'add set':
    case 'add map':
      if (t.sets.has(name)) return;
      t.sets.set(name, what === 'map' ? 'map' : 'set');
      if (what === 'map') t.elements.set(name, new Map());
      return;
    case 'add rule':
      if (!chain) return fail('no chain');
      for (const c of chainRefs(rest)) if (!t.chains.has(c)) fail(`rule jumps to missing chain ${c}`);
      for (const s of setRefs(rest)) if (!t.sets.has(s)) fail(`rule uses missing set ${s}`);
      chain.push(rest);
      return;
    case 'flush chain':
      if (!chain) return fail('no chain');
      chain.length = 0;
      return;
    case 'delete chain':
      if (!chain) return fail('no chain');
      if (chain.length > 0) fail('chain not empty');
      if (referencedChains(t).has(name)) fail('chain in use');
      t.chains.delete(name);
      return;
    case 'delete set':
    case 'delete map':
      if (t.sets.get(name) !== what) fail(`no ${what}`);
      for (const rules of t.chains.values())
        for (const r of rules) if (setRefs(r).includes(name)) fail('set in use');
      t.sets.delete(name);
      t.elements.delete(name);
      return;
    case 'add element': {
      const map = t.elements.get(name) ?? fail('no map');
      for (const pair of braces(rest).split(', ')) {
        const [k = '', v = ''] = pair.split(' : ');
        for (const c of chainRefs(v)) if (!t.chains.has(c)) fail(`element jumps to missing chain ${c}`);
        const old = map.get(k);
        if (old !== undefined && old !== v) fail('element exists');
        map.set(k, v);
      }
      return;
    }
    case 'delete element': {
      const map = t.elements.get(name) ?? fail('no map');
      for (const k of braces(rest).split(', ')) if (!map.delete(k)) fail('no element');
      return;
    }
    default:
      fail('unknown command');
  }
}

/** Applies a script as one transaction: returns the new table, or throws and leaves `t` alone. */
export function applyScript(t: SimTable, script: string, table = 'portico'): SimTable {
  const next = cloneSim(t);
  for (const line of script.split('\n')) if (line.trim() !== '') applyLine(next, line, table);
  return next;
}

/** What `nft -j list table` would tell the parser about this table. */
export function simInventory(t: SimTable): Inventory {
  const chains = new Map(
    [...t.chains].map(([name, rules]) => {
      const last = rules.at(-1);
      const comment = last === undefined ? null : (/ comment "([^"]*)"$/.exec(last)?.[1] ?? null);
      return [name, { rules: rules.length, lastComment: comment }];
    }),
  );
  return { tableExists: t.exists, chains, sets: new Map(t.sets), elements: t.elements };
}
