import { describe, expect, it } from '@jest/globals';
import type { Logger } from 'pino';
import { ManualClock } from '../../../../lib/clock.ts';
import { IpvsBackend } from '../../../../speaker/dataplane/ipvs/backend.ts';
import type { IpvsBackendOptions } from '../../../../speaker/dataplane/ipvs/backend.ts';
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

function setup(companion = false, sim = new KernelSim(), extra: Partial<IpvsBackendOptions> = {}) {
  const clock = new ManualClock(0);
  const backend = new IpvsBackend({
    executor: new IpvsExecutor({ prefix: [], run: sim.run }),
    companion: companion ? {} : false,
    gracePeriodMs: 60_000,
    clock,
    ...extra,
  });
  return { sim, clock, backend };
}

/** A logger that keeps what was logged at info and warn. */
function recordingLogger(): { logger: Logger; logged: { level: string; obj: unknown; msg: string }[] } {
  const logged: { level: string; obj: unknown; msg: string }[] = [];
  const at =
    (level: string) =>
    (obj: unknown, msg = ''): void => {
      logged.push({ level, obj, msg });
    };
  const logger = { info: at('info'), warn: at('warn'), debug: at('debug'), error: at('error') };
  return { logger: logger as unknown as Logger, logged };
}

/** A kernel like Debian's UML one: nf_tables without the inet family, legacy iptables. */
function umlLike(): KernelSim {
  const sim = new KernelSim();
  sim.nftInet = false;
  return sim;
}

const dual = service('dual', {
  clusterIP: '192.0.2.30',
  clusterIPs: ['192.0.2.30', '2001:db8:3::30'],
  ipFamilies: ['IPv4', 'IPv6'],
  ipFamilyPolicy: 'RequireDualStack',
  ports: [HTTP_PORT],
});

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

  it('the companion goes to nftables when the kernel takes an inet table, probed once', async () => {
    const { logger, logged } = recordingLogger();
    const { sim, backend } = setup(true, new KernelSim(), { logger });
    expect(backend.companionBackend).toBeNull();
    const r = await backend.sync(full3);
    expect(r.companion).toBe('nftables');
    expect(backend.companionBackend).toBe('nftables');
    await backend.sync(full3, { full: true });
    expect(sim.calls.filter((c) => c === 'nft -c -f -')).toHaveLength(1);
    expect(sim.calls.some((c) => c.includes('iptables'))).toBe(false);
    expect(logged).toContainEqual(expect.objectContaining({ level: 'info', obj: { companion: 'nftables' } }));
  });

  it('falls back to iptables-legacy when nftables has no inet family, for both families', async () => {
    const { logger, logged } = recordingLogger();
    const { sim, backend } = setup(true, umlLike(), {
      logger,
      companion: { clusterCIDRs: ['198.51.100.0/24'] },
    });
    const r = await backend.sync(model([web, api, dual], [threePods('web'), threePods('dual')]));
    expect(r).toMatchObject({ companion: 'iptables', companionWritten: true });
    expect(sim.nftScripts).toEqual([]);
    const v4 = sim.iptables[4];
    expect(v4?.rules('nat', 'PREROUTING')).toEqual([
      '-m comment --comment "portico-ipvs masquerade marks" -j PORTICO-IPVS-MARK',
    ]);
    expect(v4?.rules('nat', 'PORTICO-IPVS-MARK')).toContain(
      '-d 192.0.2.10/32 -p tcp -m tcp --dport 80 -m comment --comment "default/web:http clusterIP" -j MARK --or-mark 0x4000',
    );
    expect(v4?.rules('filter', 'PORTICO-IPVS-NOEP')).toEqual([
      '-d 192.0.2.20/32 -p tcp -m tcp --dport 80 -m comment --comment "default/api:http clusterIP" -j REJECT',
    ]);
    expect(sim.iptables[6]?.rules('nat', 'POSTROUTING')).toEqual([
      '-m comment --comment "portico-ipvs masquerade" -j PORTICO-IPVS-POSTROUTING',
    ]);
    expect(sim.iptables[6]?.rules('nat', 'PORTICO-IPVS-MARK')).toEqual([]); // no IPv6 cluster CIDR
    expect(sim.calls).toContain('iptables-legacy-restore -w 5 --noflush');
    expect(sim.calls).toContain('ip6tables-legacy-restore -w 5 --noflush');
    expect(logged).toContainEqual(
      expect.objectContaining({
        level: 'info',
        obj: expect.objectContaining({
          companion: 'iptables',
          tools: ['iptables-legacy-restore', 'ip6tables-legacy-restore'],
        }),
      }),
    );
  });

  it('uses iptables-restore when the legacy tools are not there', async () => {
    const sim = umlLike();
    sim.tools.legacy = false;
    const { backend } = setup(true, sim);
    expect((await backend.sync(full3)).companion).toBe('iptables');
    expect(sim.calls).toContain('iptables-restore -w 5 --noflush');
    expect(sim.iptables[4]?.chains('nat')).toContain('PORTICO-IPVS-MARK');
  });

  it('without ip6tables, IPv4 still gets its rules and a warning says IPv6 does not', async () => {
    const { logger, logged } = recordingLogger();
    const sim = umlLike();
    sim.iptables[6] = null;
    const { backend } = setup(true, sim, { logger });
    expect((await backend.sync(full3)).companion).toBe('iptables');
    expect(sim.iptables[4]?.chains('filter')).toContain('PORTICO-IPVS-NOEP');
    expect(sim.calls.some((c) => c.startsWith('ip6tables') && c.includes('restore'))).toBe(false);
    expect(logged.some((l) => l.level === 'warn' && /IPv6/.test(l.msg))).toBe(true);
  });

  it('with neither, runs without companion rules and warns that cross-node masquerade will not work', async () => {
    const { logger, logged } = recordingLogger();
    const sim = umlLike();
    sim.iptables = { 4: null, 6: null };
    const { backend } = setup(true, sim, { logger });
    const r = await backend.sync(full3);
    expect(r).toMatchObject({ companion: 'none', companionWritten: false });
    expect([...sim.table.keys()]).toEqual(['-t 192.0.2.10:80', '-t 192.0.2.20:80']);
    const warning = logged.find((l) => l.level === 'warn');
    expect(warning?.msg).toMatch(/masquerade for backends on other nodes will not work/);
    expect(JSON.stringify(warning?.obj)).toContain('Operation not supported');
    await backend.sync(full3, { full: true });
    expect(sim.calls.filter((c) => c === 'nft -c -f -')).toHaveLength(1);
  });

  it('companion: false means none, without probing', async () => {
    const { sim, backend } = setup(false);
    expect((await backend.sync(full3)).companion).toBe('none');
    expect(sim.calls.some((c) => c.startsWith('nft') || c.includes('iptables'))).toBe(false);
  });

  it('companionBackend iptables skips nftables; nftables fails the sync when the kernel refuses it', async () => {
    const { sim, backend } = setup(true, new KernelSim(), { companionBackend: 'iptables' });
    expect((await backend.sync(full3)).companion).toBe('iptables');
    expect(sim.calls).not.toContain('nft -c -f -');
    const forced = setup(true, umlLike(), { companionBackend: 'nftables' });
    await expect(forced.backend.sync(full3)).rejects.toThrow(/nftables cannot hold the ipvs companion table/);
  });

  it('iptables: partial syncs write only on change and read nothing back; a full sync repairs the jumps once', async () => {
    const { sim, backend } = setup(true, umlLike());
    await backend.sync(full3);
    const v4 = sim.iptables[4];
    sim.calls = [];
    expect((await backend.sync(model([web, api], [threePods('web'), twoPods('api')]))).companionWritten).toBe(
      false,
    );
    expect(sim.calls.some((c) => c.includes('iptables'))).toBe(false);
    const r = await backend.sync(model([web, api], [threePods('web')]));
    expect(r.companionWritten).toBe(true);
    expect(sim.calls.filter((c) => c.includes('-save'))).toEqual([]);
    expect(v4?.rules('filter', 'PORTICO-IPVS-NOEP')).toHaveLength(1);

    // Deleted by hand: the partial sync does not see it, the full one puts it back, once.
    v4?.tables.get('nat')?.set('POSTROUTING', []);
    await backend.sync(model([web, api], [threePods('web')]));
    expect(v4?.rules('nat', 'POSTROUTING')).toEqual([]);
    await backend.sync(model([web, api], [threePods('web')]), { full: true });
    await backend.sync(model([web, api], [threePods('web')]), { full: true });
    expect(v4?.rules('nat', 'POSTROUTING')).toEqual([
      '-m comment --comment "portico-ipvs masquerade" -j PORTICO-IPVS-POSTROUTING',
    ]);
    expect(v4?.rules('nat', 'OUTPUT')).toHaveLength(1);
    // INPUT: one jump to the no-endpoint verdicts, one to the VIP port filter.
    expect(v4?.rules('filter', 'INPUT')).toHaveLength(2);
    expect(new Set(v4?.rules('filter', 'INPUT')).size).toBe(2);
  });

  it('iptables: a failed restore fails the sync, and the next one is full and writes again', async () => {
    const { sim, backend } = setup(true, umlLike());
    await backend.sync(full3);
    sim.failNext = 'iptables-legacy-restore';
    const apiEmpty = model([web, api], [threePods('web')]);
    await expect(backend.sync(apiEmpty)).rejects.toThrow(/iptables-legacy-restore/);
    expect(sim.iptables[4]?.rules('filter', 'PORTICO-IPVS-NOEP')).toEqual([]);
    const r = await backend.sync(apiEmpty);
    expect(sim.iptables[4]?.rules('filter', 'PORTICO-IPVS-NOEP')).toHaveLength(1);
    expect(r).toMatchObject({ full: true, companionWritten: true, companion: 'iptables' });
  });

  it('removeCompanion deletes the chains and jumps (or the nftables table); the next sync puts them back', async () => {
    const { sim, backend } = setup(true, umlLike());
    await backend.sync(full3);
    await backend.removeCompanion();
    for (const family of [4, 6] as const) {
      expect(sim.iptables[family]?.chains('nat')).toEqual(['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING']);
      expect(sim.iptables[family]?.chains('filter')).toEqual(['INPUT', 'FORWARD', 'OUTPUT']);
      expect(sim.iptables[family]?.rules('filter', 'INPUT')).toEqual([]);
    }
    const r = await backend.sync(full3);
    expect(r).toMatchObject({ full: true, companionWritten: true });
    expect(sim.iptables[4]?.rules('nat', 'PREROUTING')).toHaveLength(1);

    const nft = setup(true);
    await nft.backend.sync(full3);
    await nft.backend.removeCompanion();
    expect(nft.sim.nftScripts.at(-1)).toBe('table inet portico-ipvs\ndelete table inet portico-ipvs\n');
  });
});
