import { describe, expect, it } from '@jest/globals';
import { ManualClock } from '../../../../lib/clock.ts';
import { IpvsBackend } from '../../../../speaker/dataplane/ipvs/backend.ts';
import { IpvsExecutor } from '../../../../speaker/dataplane/ipvs/executor.ts';
import { endpoint, model, service, slice, threePods } from '../helpers.ts';
import { KernelSim } from './sim.ts';

const HTTP_PORT = { name: 'http', port: 80, targetPort: 8080 };
const web = service('web', { clusterIP: '192.0.2.10', ports: [HTTP_PORT] });
const api = service('api', { clusterIP: '192.0.2.20', ports: [HTTP_PORT] });
const full3 = model([web, api], [threePods('web'), threePods('api')]);
const twoPods = (name: string) =>
  slice(
    name,
    ['198.51.100.11', '198.51.100.12'].map((ip) => endpoint(ip, { nodeName: 'node-1' })),
    [{ name: 'http', port: 8080 }],
  );

function setup(companion = false) {
  const sim = new KernelSim();
  const clock = new ManualClock(0);
  const backend = new IpvsBackend({
    executor: new IpvsExecutor({ prefix: [], run: sim.run }),
    companion: companion ? {} : false,
    gracePeriodMs: 60_000,
    clock,
  });
  return { sim, clock, backend };
}

describe('IpvsBackend', () => {
  it('first sync is full: creates the dummy device, its VIPs and the virtual servers', async () => {
    const { sim, backend } = setup();
    const r = await backend.sync(full3);
    expect(r.full).toBe(true);
    expect(sim.device).toEqual(new Set(['192.0.2.10', '192.0.2.20']));
    expect(r.addressLines.slice(0, 2)).toEqual([
      'link add portico-ipvs0 type dummy',
      'link set portico-ipvs0 up',
    ]);
    expect([...sim.table.keys()]).toEqual(['-t 192.0.2.10:80', '-t 192.0.2.20:80']);
    expect(r.servicesChanged).toBe(2);
  });

  it('a partial sync touches only what changed and does not read the kernel back', async () => {
    const { sim, backend } = setup();
    await backend.sync(full3);
    sim.calls = [];
    const r = await backend.sync(model([web, api], [threePods('web'), twoPods('api')]));
    expect(r.full).toBe(false);
    expect(r.restore).toBe('-e -t 192.0.2.20:80 -r 198.51.100.13:8080 -m -w 0\n');
    expect(sim.calls).not.toContain('ipvsadm -Sn');
  });

  it('a full sync repairs what was deleted by hand; a partial one does not see it', async () => {
    const { sim, backend } = setup();
    await backend.sync(full3);
    sim.table.delete('-t 192.0.2.10:80');
    sim.device?.delete('192.0.2.10');
    expect((await backend.sync(full3)).restore).toBe('');
    const r = await backend.sync(full3, { full: true });
    expect(r.restore.split('\n')[0]).toBe('-A -t 192.0.2.10:80 -s rr');
    expect(r.addressLines).toContain('address add 192.0.2.10/32 dev portico-ipvs0');
    expect(sim.device).toEqual(new Set(['192.0.2.10', '192.0.2.20']));
  });

  it('after a failed sync the next one is full', async () => {
    const { sim, backend } = setup();
    await backend.sync(full3);
    sim.failNext = 'ipvsadm --restore';
    await expect(backend.sync(model([web], [threePods('web')]))).rejects.toThrow(/simulated failure/);
    const r = await backend.sync(model([web], [threePods('web')]));
    expect(r.full).toBe(true);
    expect([...sim.table.keys()]).toEqual(['-t 192.0.2.10:80']);
  });

  it('a removed endpoint drains at weight 0 until its connections end, or the grace period', async () => {
    const { sim, clock, backend } = setup();
    await backend.sync(full3);
    sim.connections.set('-t 192.0.2.20:80 -> 198.51.100.13:8080', 2);
    const two = model([web, api], [threePods('web'), twoPods('api')]);
    expect((await backend.sync(two)).draining).toBe(1);
    clock.advance(10_000);
    expect((await backend.sync(two)).restore).toBe('');
    sim.connections.set('-t 192.0.2.20:80 -> 198.51.100.13:8080', 0);
    const r = await backend.sync(two);
    expect(r.restore).toBe('-d -t 192.0.2.20:80 -r 198.51.100.13:8080\n');
    expect(r.draining).toBe(0);

    // With connections that never end, the grace period decides.
    await backend.sync(full3);
    sim.connections.set('-t 192.0.2.20:80 -> 198.51.100.13:8080', 5);
    await backend.sync(two);
    clock.advance(59_000);
    expect((await backend.sync(two)).draining).toBe(1);
    clock.advance(1000);
    expect((await backend.sync(two)).restore).toBe('-d -t 192.0.2.20:80 -r 198.51.100.13:8080\n');
  });

  it('writes the companion table on full syncs and when it changes, not otherwise', async () => {
    const { sim, backend } = setup(true);
    await backend.sync(full3);
    expect(sim.nftScripts).toHaveLength(1);
    await backend.sync(model([web, api], [threePods('web'), twoPods('api')]));
    expect(sim.nftScripts).toHaveLength(1);
    await backend.sync(model([web, api], [threePods('web')]));
    expect(sim.nftScripts).toHaveLength(2);
    expect(sim.nftScripts[1]).toContain('elements = { 192.0.2.20 . tcp . 80 }');
  });
});
