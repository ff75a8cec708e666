import { describe, expect, it } from '@jest/globals';
import { NftablesBackend } from '../../../../speaker/dataplane/nftables/backend.ts';
import type { NftRunner } from '../../../../speaker/dataplane/nftables/executor.ts';
import type { Inventory } from '../../../../speaker/dataplane/nftables/inventory.ts';
import { endpoint, model, service, slice, threePods } from '../helpers.ts';
import { applyScript, emptySim, simInventory } from './sim.ts';
import type { SimTable } from './sim.ts';

/** A runner backed by the simulator, recording what the backend asks for. */
class SimRunner implements NftRunner {
  table: SimTable = emptySim();
  reads = 0;
  scripts: string[] = [];
  failNext = false;

  async readInventory(): Promise<Inventory> {
    this.reads++;
    return simInventory(this.table);
  }

  async apply(script: string): Promise<void> {
    this.scripts.push(script);
    if (this.failNext) {
      this.failNext = false;
      throw new Error('nft -f - failed: exit 1: Error: Could not process rule');
    }
    this.table = applyScript(this.table, script);
  }
}

const svcs = [
  service('web', { clusterIP: '192.0.2.10', ports: [{ name: 'http', port: 80 }] }),
  service('api', { clusterIP: '192.0.2.20', ports: [{ name: 'http', port: 80 }] }),
];
const s1 = model(svcs, [threePods('web'), threePods('api')]);
const s2 = model(svcs, [
  threePods('web'),
  slice('api', [endpoint('198.51.100.12'), endpoint('198.51.100.13')], [{ name: 'http', port: 8080 }]),
]);

describe('NftablesBackend', () => {
  it('the first sync is full: it reads the table back before writing', async () => {
    const runner = new SimRunner();
    const backend = new NftablesBackend({ runner });
    const r = await backend.sync(s1);
    expect(r.full).toBe(true);
    expect(runner.reads).toBe(1);
    expect(r.stats.elementsAdded).toBe(2);
    expect(r.servicesChanged).toBe(2);
  });

  it('a partial sync trusts the last one: no read, and an empty transaction when nothing changed', async () => {
    const runner = new SimRunner();
    const backend = new NftablesBackend({ runner });
    await backend.sync(s1);
    const r = await backend.sync(s1);
    expect(r).toMatchObject({ full: false, script: '', servicesChanged: 0 });
    expect(runner.reads).toBe(1);
  });

  it('a partial sync writes only the changed service', async () => {
    const runner = new SimRunner();
    const backend = new NftablesBackend({ runner });
    await backend.sync(s1);
    const r = await backend.sync(s2);
    expect(r.servicesChanged).toBe(1);
    expect(r.stats).toMatchObject({ chainsWritten: 1, chainsDeleted: 1 });
    const webChains = backend.planFor('TCP/192.0.2.10/80')?.chains.map((c) => c.name) ?? [];
    expect(webChains).toHaveLength(4);
    for (const name of webChains) expect(r.script).not.toContain(name);
  });

  it('a full sync repairs drift that a partial sync cannot see', async () => {
    const runner = new SimRunner();
    const backend = new NftablesBackend({ runner });
    await backend.sync(s1);
    const svcChain = backend.planFor('TCP/192.0.2.10/80')?.chains[0]?.name ?? '';
    runner.table.chains.set(svcChain, []);
    expect((await backend.sync(s1)).script).toBe('');
    const r = await backend.sync(s1, { full: true });
    expect(r.stats.chainsWritten).toBe(1);
    expect(runner.table.chains.get(svcChain)).toEqual(backend.planFor('TCP/192.0.2.10/80')?.chains[0]?.rules);
    expect((await backend.sync(s1, { full: true })).script).toBe('');
  });

  it('after a failed sync the next one is full, and converges', async () => {
    const runner = new SimRunner();
    const backend = new NftablesBackend({ runner });
    await backend.sync(s1);
    runner.failNext = true;
    await expect(backend.sync(s2)).rejects.toThrow(/Could not process rule/);
    const r = await backend.sync(s2);
    expect(r.full).toBe(true);
    expect(runner.reads).toBe(2);
    expect((await backend.sync(s2, { full: true })).script).toBe('');
  });

  it('exposes its options and the last state', async () => {
    const backend = new NftablesBackend({
      runner: new SimRunner(),
      table: 'x',
      clusterCIDRs: ['198.51.100.0/24'],
    });
    expect(backend.options).toEqual({
      table: 'x',
      clusterCIDRs: ['198.51.100.0/24'],
      masqueradeAll: false,
      masqueradeMark: 0x4000,
    });
    expect(backend.state).toEqual([]);
  });
});

describe('NftablesBackend concurrency', () => {
  it('runs overlapping syncs one after the other, in call order', async () => {
    const runner = new SimRunner();
    const backend = new NftablesBackend({ runner });
    const results = await Promise.all([backend.sync(s1), backend.sync(s2), backend.sync(s1)]);
    expect(results.map((r) => r.full)).toEqual([true, false, false]);
    expect(results.map((r) => r.servicesChanged)).toEqual([2, 1, 1]);
    expect((await backend.sync(s1, { full: true })).script).toBe('');
  });
});
