import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { diff } from '../../../../speaker/dataplane/diff.ts';
import {
  EMPTY_INVENTORY,
  applyPlans,
  inventoryFromPlans,
} from '../../../../speaker/dataplane/nftables/inventory.ts';
import {
  DEFAULT_NFT_OPTIONS,
  planBase,
  planVirtualService,
} from '../../../../speaker/dataplane/nftables/plan.ts';
import type { ServicePlan } from '../../../../speaker/dataplane/nftables/plan.ts';
import { planIntact, renderIncremental, renderSync } from '../../../../speaker/dataplane/nftables/render.ts';
import type { Inventory } from '../../../../speaker/dataplane/nftables/inventory.ts';
import type { DesiredState } from '../../../../speaker/dataplane/types.ts';
import { stateArb } from '../arbitraries.ts';
import { endpoint, model, service, slice, threePods } from '../helpers.ts';
import { applyScript, emptySim, simInventory } from './sim.ts';
import type { SimTable } from './sim.ts';

const OPTS = { ...DEFAULT_NFT_OPTIONS, clusterCIDRs: ['198.51.100.0/24'] };
const BASE = planBase(OPTS);
const plansOf = (s: DesiredState): ServicePlan[] => s.services.map((vs) => planVirtualService(vs, OPTS));
const render = (s: DesiredState, live: Inventory) =>
  renderSync({ table: 'portico', base: BASE, plans: plansOf(s), live });

function sync(s: DesiredState, sim: SimTable): { sim: SimTable; script: string } {
  const { script } = render(s, simInventory(sim));
  return { sim: applyScript(sim, script), script };
}

const services = [
  service('web', {
    clusterIP: '192.0.2.10',
    type: 'NodePort',
    ports: [{ name: 'http', port: 80, nodePort: 30080 }],
  }),
  service('api', {
    clusterIP: '192.0.2.20',
    sessionAffinity: 'ClientIP',
    ports: [{ name: 'http', port: 443 }],
  }),
  service('empty', { clusterIP: '192.0.2.30', ports: [{ port: 80 }] }),
];
const before = model(services, [threePods('web'), threePods('api')]);
const after = model(services, [
  threePods('web'),
  slice(
    'api',
    [endpoint('198.51.100.11'), endpoint('198.51.100.12'), endpoint('198.51.100.14')],
    [{ name: 'http', port: 8080 }],
  ),
]);

describe('renderSync', () => {
  it('builds the whole table from nothing, in one script that applies', () => {
    const { script, stats } = render(before, EMPTY_INVENTORY);
    expect(script.startsWith('add table inet portico\n')).toBe(true);
    const sim = applyScript(emptySim(), script);
    expect(simInventory(sim)).toEqual(inventoryFromPlans(BASE, plansOf(before)));
    expect(stats.elementsAdded).toBe(4);
    expect(stats.chainsDeleted).toBe(0);
  });

  it('writes nothing when the table matches', () => {
    const { sim } = sync(before, emptySim());
    expect(render(before, simInventory(sim))).toEqual({
      script: '',
      stats: {
        chainsWritten: 0,
        chainsDeleted: 0,
        setsAdded: 0,
        setsDeleted: 0,
        elementsAdded: 0,
        elementsDeleted: 0,
      },
    });
    expect(render(before, inventoryFromPlans(BASE, plansOf(before))).script).toBe('');
  });

  it('an endpoint change rewrites that service chain only; unchanged services are not in the script', () => {
    const { sim } = sync(before, emptySim());
    const { script, stats } = render(after, simInventory(sim));
    const apiPlan = plansOf(after).find((p) => p.key === 'TCP/192.0.2.20/443');
    const webPlans = plansOf(after).filter((p) => p.key !== 'TCP/192.0.2.20/443');
    for (const p of webPlans) for (const c of p.chains) expect(script).not.toContain(c.name);
    expect(script).toContain(`flush chain inet portico ${apiPlan?.chains[0]?.name}\n`);
    // One endpoint chain and its affinity set in, one of each out; the two kept endpoints untouched.
    expect(stats).toEqual({
      chainsWritten: 2,
      chainsDeleted: 1,
      setsAdded: 1,
      setsDeleted: 1,
      elementsAdded: 0,
      elementsDeleted: 0,
    });
    const next = applyScript(sim, script);
    expect(simInventory(next)).toEqual(inventoryFromPlans(BASE, plansOf(after)));
  });

  it('repairs a deleted rule by rewriting only its chain', () => {
    const { sim } = sync(before, emptySim());
    const victim = plansOf(before)[0]?.chains[1]?.name ?? '';
    sim.chains.get(victim)?.splice(0, 1);
    const { script } = render(before, simInventory(sim));
    expect(script.split('\n').filter(Boolean)).toEqual([
      `flush chain inet portico ${victim}`,
      ...(plansOf(before)[0]?.chains[1]?.rules ?? []).map((r) => `add rule inet portico ${victim} ${r}`),
    ]);
  });

  it('repairs a deleted or changed dispatch element, and removes foreign chains, sets and elements', () => {
    const { sim } = sync(before, emptySim());
    sim.elements.get('service-ips4')?.delete('192.0.2.10 . tcp . 80');
    sim.elements.get('service-ips4')?.set('203.0.113.1 . tcp . 30080', 'drop');
    sim.elements.get('service-ips4')?.set('192.0.2.99 . udp . 53', 'drop');
    sim.chains.set('intruder', ['counter']);
    sim.sets.set('stray', 'set');
    const { script, stats } = render(before, simInventory(sim));
    expect(stats).toMatchObject({ chainsWritten: 0, chainsDeleted: 1, setsDeleted: 1, elementsAdded: 2 });
    expect(stats.elementsDeleted).toBe(2);
    expect(simInventory(applyScript(sim, script))).toEqual(inventoryFromPlans(BASE, plansOf(before)));
  });

  it('moves a VIP between the dispatch and the no-endpoint maps as endpoints come and go', () => {
    const noEndpoints = model(services, [threePods('api')]);
    let { sim } = sync(before, emptySim());
    ({ sim } = sync(noEndpoints, sim));
    expect(sim.elements.get('no-endpoint-services4')?.get('192.0.2.10 . tcp . 80')).toBe('goto reject-chain');
    expect(sim.elements.get('service-ips4')?.has('192.0.2.10 . tcp . 80')).toBe(false);
    expect([...sim.chains.keys()].some((c) => c.includes('default/web/'))).toBe(false);
    ({ sim } = sync(before, sim));
    expect(simInventory(sim)).toEqual(inventoryFromPlans(BASE, plansOf(before)));
  });

  it('splits long element lists into several commands', () => {
    const many = model(
      Array.from({ length: 1200 }, (_, i) =>
        service(`s${i}`, { clusterIP: `192.0.${2 + Math.floor(i / 250)}.${i % 250}`, ports: [{ port: 80 }] }),
      ),
    );
    const { script } = render(many, EMPTY_INVENTORY);
    const adds = script
      .split('\n')
      .filter((l) => l.startsWith('add element inet portico no-endpoint-services4'));
    expect(adds).toHaveLength(3);
    expect(simInventory(applyScript(emptySim(), script)).elements.get('no-endpoint-services4')?.size).toBe(
      1200,
    );
  });

  it('planIntact tells whether a service needs writing', () => {
    const live = inventoryFromPlans(BASE, plansOf(before));
    for (const p of plansOf(before)) expect(planIntact(p, live)).toBe(true);
    for (const p of plansOf(after).filter((p) => p.key === 'TCP/192.0.2.20/443')) {
      expect(planIntact(p, live)).toBe(false);
    }
  });
});

type Drift =
  | { op: 'dropRule' | 'flush' | 'dropElement' | 'wrongElement'; index: number }
  | { op: 'foreignChain' | 'foreignSet' | 'dropTable' };

const driftArb: fc.Arbitrary<Drift> = fc.oneof(
  fc.record({
    op: fc.constantFrom(
      'dropRule' as const,
      'flush' as const,
      'dropElement' as const,
      'wrongElement' as const,
    ),
    index: fc.nat(),
  }),
  fc.record({ op: fc.constantFrom('foreignChain' as const, 'foreignSet' as const, 'dropTable' as const) }),
);

/** What someone else might do to the table behind our back (only what the kernel allows). */
function drift(sim: SimTable, d: Drift): SimTable {
  const chains = [...sim.chains.keys()];
  const elements = [...sim.elements].flatMap(([map, m]) => [...m.keys()].map((k) => [map, k] as const));
  switch (d.op) {
    case 'dropRule': {
      const name = chains[d.index % Math.max(chains.length, 1)];
      if (name) sim.chains.get(name)?.pop();
      return sim;
    }
    case 'flush': {
      const name = chains[d.index % Math.max(chains.length, 1)];
      if (name) sim.chains.set(name, []);
      return sim;
    }
    case 'dropElement':
    case 'wrongElement': {
      const e = elements[d.index % Math.max(elements.length, 1)];
      if (e && d.op === 'dropElement') sim.elements.get(e[0])?.delete(e[1]);
      if (e && d.op === 'wrongElement') sim.elements.get(e[0])?.set(e[1], 'drop');
      return sim;
    }
    case 'foreignChain':
      if (sim.exists) sim.chains.set(`intruder-${chains.length}`, ['counter']);
      return sim;
    case 'foreignSet':
      if (sim.exists) sim.sets.set(`stray-${sim.sets.size}`, 'set');
      return sim;
    case 'dropTable':
      return emptySim();
  }
}

describe('renderSync properties', () => {
  it('from any earlier state, with any drift, one script applies and leaves exactly the plan', () => {
    fc.assert(
      fc.property(stateArb, stateArb, fc.array(driftArb, { maxLength: 4 }), (a, b, drifts) => {
        let { sim } = sync(b, emptySim());
        for (const d of drifts) sim = drift(sim, d);
        const { sim: next } = sync(a, sim);
        expect(simInventory(next)).toEqual(inventoryFromPlans(BASE, plansOf(a)));
        expect(render(a, simInventory(next)).script).toBe('');
      }),
    );
  });

  it('trusting the last plan (no read-back) gives the same script as reading an undrifted table', () => {
    fc.assert(
      fc.property(stateArb, stateArb, (a, b) => {
        const { sim } = sync(b, emptySim());
        const trusted = render(a, inventoryFromPlans(BASE, plansOf(b)));
        expect(trusted).toEqual(render(a, simInventory(sim)));
      }),
    );
  });
});

/** What the backend does on a partial sync from b to a. */
function incremental(a: DesiredState, b: DesiredState) {
  const batch = diff(a, b);
  const before = new Map(plansOf(b).map((p) => [p.key, p]));
  const upserts = [...batch.add, ...batch.update.map((u) => u.service)].map((vs) =>
    planVirtualService(vs, OPTS),
  );
  const previous = [...batch.update.map((u) => u.service), ...batch.remove].flatMap((vs) => {
    const p = before.get(vs.key);
    return p ? [p] : [];
  });
  const live = inventoryFromPlans(BASE, plansOf(b));
  return { upserts, previous, live, ...renderIncremental({ table: 'portico', upserts, previous, live }) };
}

describe('renderIncremental', () => {
  it('writes nothing when nothing changed', () => {
    expect(incremental(before, before).script).toBe('');
  });

  it('gives the same transaction as a full render for an endpoint change', () => {
    const { sim } = sync(before, emptySim());
    const inc = incremental(after, before);
    expect(inc.script).toBe(render(after, simInventory(sim)).script);
  });

  it('from any state to any other, applies and leaves exactly the new plan, as does applyPlans', () => {
    fc.assert(
      fc.property(stateArb, stateArb, (a, b) => {
        const { sim } = sync(b, emptySim());
        const { script, live, previous, upserts } = incremental(a, b);
        expect(simInventory(applyScript(sim, script))).toEqual(inventoryFromPlans(BASE, plansOf(a)));
        applyPlans(live, previous, upserts);
        expect(live).toEqual(inventoryFromPlans(BASE, plansOf(a)));
      }),
    );
  });
});
