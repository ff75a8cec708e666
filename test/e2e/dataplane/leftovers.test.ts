// The cleanup of Portico's other data path modes (leftovers.ts) against real
// kernels.
//
// nftables, in a network namespace on this kernel, with real packets: a node
// programmed by the nftables backend for a ClusterIP (three pods), next to a
// stand-in for the new owner of the traffic (a foreign table, `inet
// someone-else`, that sends the ClusterIP to pod-a only, one nat priority
// later). While Portico's table is there it wins and all three pods answer;
// once the cleanup removed it, only pod-a does. Foreign tables, a same-named
// table of another family and a foreign interface are never touched.
//
// IPVS and the IPVS companion's iptables-legacy chains, inside User-Mode
// Linux (this kernel has no IPVS): see leftovers-ipvs-scenario.ts.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { cleanupLeftovers } from '../../../speaker/dataplane/leftovers.ts';
import type { LeftoverCleanupResult, LeftoverMode } from '../../../speaker/dataplane/leftovers.ts';
import { NftablesBackend } from '../../../speaker/dataplane/nftables/backend.ts';
import { NftExecutor } from '../../../speaker/dataplane/nftables/executor.ts';
import { IPVS_NODE_MODULES, runInUml, umlUnavailable } from '../../harness/uml.ts';
import { model, service, threePods } from '../../unit/dataplane/helpers.ts';
import { netnsUnavailable } from '../netns/netns.ts';
import { PdpLab } from './pdp-lab.ts';
import { PODS, answeredBy, buildTopology, probe } from './topology.ts';

// Without root, ip netns, nft or UML these fail with the reason rather than skip.
const unavailable = (await netnsUnavailable()) ?? umlUnavailable();
if (unavailable) throw new Error(`leftover cleanup e2e tests cannot run here: ${unavailable}`);

const VIP = '192.0.2.10';
// This kernel has no dummy interfaces; a bridge stands in (the cleanup goes by name, not by type).
const STAND_IN_DUMMY = 'bridge';
const ALL = new Set(PODS.map((p) => p.name));
const POD_A = PODS[0];

// The new owner: the ClusterIP to pod-a only, at priority -90 (Portico's nat chains are at -100,
// and the first nat chain that maps a connection wins).
const FOREIGN = `table inet someone-else {
  chain output { type nat hook output priority -90; policy accept; ip daddr ${VIP} tcp dport 80 dnat ip to ${POD_A.v4}:8080; }
  chain prerouting { type nat hook prerouting priority -90; policy accept; ip daddr ${VIP} tcp dport 80 dnat ip to ${POD_A.v4}:8080; }
}
table ip portico {
  chain input { type filter hook input priority 0; policy accept; counter; }
}
`;

describe('leftover cleanup: nftables in a network namespace, real packets', () => {
  const lab = new PdpLab('lft');
  let prefix: string[] = [];

  const tables = async (): Promise<string[]> =>
    (await lab.exec('node', ['nft', 'list', 'tables']))
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '')
      .sort();
  const links = async (): Promise<string[]> =>
    (await lab.exec('node', ['ip', '-o', 'link', 'show']))
      .split('\n')
      .map((l) => /^\d+:\s+([^:@]+)/.exec(l)?.[1] ?? '')
      .filter((n) => n !== '')
      .sort();
  const foreignText = async (): Promise<string> =>
    (await lab.exec('node', ['nft', 'list', 'table', 'inet', 'someone-else'])) +
    (await lab.exec('node', ['nft', 'list', 'table', 'ip', 'portico'])).replace(/packets \d+ bytes \d+/g, '');
  const answering = async (): Promise<Set<string>> => answeredBy(await probe(lab, 'node', VIP, 80, 24));

  /** What both Portico modes leave: the nftables table (programmed for real) and the IPVS companion and device. */
  const seed = async (): Promise<void> => {
    const backend = new NftablesBackend({ runner: new NftExecutor({ prefix }) });
    await backend.sync(
      model(
        [service('web', { clusterIP: VIP, ports: [{ name: 'http', port: 80, targetPort: 8080 }] })],
        [threePods('web')],
      ),
      { full: true },
    );
    await lab.exec(
      'node',
      ['nft', '-f', '-'],
      'table inet portico-ipvs {\n  set masq4 { type ipv4_addr ; }\n}\n',
    );
    if ((await lab.tryExec('node', ['ip', 'link', 'show', 'portico-ipvs0'])).code !== 0) {
      await lab.exec('node', ['ip', 'link', 'add', 'portico-ipvs0', 'type', STAND_IN_DUMMY]);
      // A VIP on the device: with no ip_vs on this kernel, ipvsadm must not even be asked.
      await lab.addr('node', 'portico-ipvs0', '192.0.2.99/32');
    }
  };

  const cleanup = (mode: LeftoverMode): Promise<LeftoverCleanupResult> => cleanupLeftovers({ mode, prefix });

  beforeAll(async () => {
    await buildTopology(lab);
    prefix = ['ip', 'netns', 'exec', lab.ns('node')];
    await lab.exec('node', ['nft', '-f', '-'], FOREIGN);
    await lab.exec('node', ['ip', 'link', 'add', 'kube-ipvs0', 'type', STAND_IN_DUMMY]);
    await lab.addr('node', 'kube-ipvs0', '10.96.0.1/32');
  }, 60_000);

  afterAll(async () => {
    await lab.cleanup();
  });

  it('the stand-in new owner sends the ClusterIP to pod-a; a leftover Portico table takes it over', async () => {
    expect(await answering()).toEqual(new Set([POD_A.name]));
    await seed();
    expect(await answering()).toEqual(ALL);
  });

  it('mode nftables leaves table inet portico alone and removes the IPVS leftovers', async () => {
    await seed();
    const before = await foreignText();
    const result = await cleanup('nftables');
    expect(result).toEqual({
      removed: ['nftables table inet portico-ipvs', 'interface portico-ipvs0'],
      failed: [],
    });
    expect(await tables()).toEqual(['table inet portico', 'table inet someone-else', 'table ip portico']);
    expect(await links()).toEqual(expect.arrayContaining(['kube-ipvs0']));
    expect(await links()).not.toContain('portico-ipvs0');
    expect(await foreignText()).toBe(before);
    // Portico still serves its ClusterIP.
    expect(await answering()).toEqual(ALL);
  });

  it('mode ipvs removes table inet portico and keeps its own companion table and device', async () => {
    await seed();
    const result = await cleanup('ipvs');
    expect(result).toEqual({ removed: ['nftables table inet portico'], failed: [] });
    expect(await tables()).toEqual([
      'table inet portico-ipvs',
      'table inet someone-else',
      'table ip portico',
    ]);
    expect(await links()).toEqual(expect.arrayContaining(['portico-ipvs0', 'kube-ipvs0']));
    expect(await answering()).toEqual(new Set([POD_A.name]));
  });

  it('mode none removes everything that is Portico, and only that: the new owner gets the traffic', async () => {
    await seed();
    expect(await answering()).toEqual(ALL);
    const before = await foreignText();
    const result = await cleanup('none');
    expect(result.failed).toEqual([]);
    expect([...result.removed].sort()).toEqual([
      'interface portico-ipvs0',
      'nftables table inet portico',
      'nftables table inet portico-ipvs',
    ]);
    expect(await tables()).toEqual(['table inet someone-else', 'table ip portico']);
    const names = await links();
    expect(names).not.toContain('portico-ipvs0');
    expect(names).toEqual(expect.arrayContaining(['lo', 'kube-ipvs0', 'br0', 'up0']));
    expect(await foreignText()).toBe(before);
    expect(await answering()).toEqual(new Set([POD_A.name]));
  });

  it('a second run finds nothing, in every mode', async () => {
    for (const mode of ['none', 'nftables', 'ipvs'] as const) {
      expect(await cleanup(mode)).toEqual({ removed: [], failed: [] });
    }
    expect(await tables()).toEqual(['table inet someone-else', 'table ip portico']);
  });
});

type Obs = Record<string, unknown>;
/** `ipvsadm -Sn` as sorted lines. */
const lines = (text: unknown): string[] =>
  String(text)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .sort();

describe('leftover cleanup: IPVS in User-Mode Linux', () => {
  let obs: Obs;

  beforeAll(async () => {
    const scenario = fileURLToPath(new URL('leftovers-ipvs-scenario.ts', import.meta.url));
    const r = await runInUml([process.execPath, '--disable-warning=ExperimentalWarning', scenario], {
      modules: IPVS_NODE_MODULES,
      timeoutMs: 240_000,
    });
    if (r.code !== 0 || r.stdout.trim() === '') {
      throw new Error(
        `scenario failed (exit ${r.code}):\n${r.stderr.slice(-3000)}\n${r.console.slice(-2000)}`,
      );
    }
    obs = JSON.parse(r.stdout) as Obs;
    if (obs['error']) throw new Error(`scenario error: ${String(obs['error'])}`);
  }, 270_000);

  const NOT_PORTICO = [
    '-A -f 7 -s rr',
    '-A -t 10.96.0.1:443 -s rr',
    '-a -t 10.96.0.1:443 -r 203.0.113.5:6443 -m -w 1',
    '-A -t 203.0.113.1:30080 -s rr',
  ];

  type Saved = Record<'4' | '6', Record<'nat' | 'filter', string>>;
  /** The chain and rule lines of every saved table, without counters, tagged with family and table. */
  const rules = (saved: unknown): string[] =>
    Object.entries(saved as Saved).flatMap(([family, tables]) =>
      Object.entries(tables).flatMap(([table, text]) =>
        text
          .split('\n')
          .filter((l) => l.startsWith('-A ') || l.startsWith(':'))
          .map((l) => `${family} ${table} ${l.replace(/ \[\d+:\d+\]$/, '')}`),
      ),
    );
  const JUMPS = (tool: string) => [
    `${tool} nat jump PREROUTING -> PORTICO-IPVS-MARK`,
    `${tool} nat jump OUTPUT -> PORTICO-IPVS-MARK`,
    `${tool} nat jump POSTROUTING -> PORTICO-IPVS-POSTROUTING`,
    `${tool} nat chain PORTICO-IPVS-MARK`,
    `${tool} nat chain PORTICO-IPVS-POSTROUTING`,
    `${tool} filter jump INPUT -> PORTICO-IPVS-FILTER`,
    `${tool} filter jump INPUT -> PORTICO-IPVS-NOEP`,
    `${tool} filter jump OUTPUT -> PORTICO-IPVS-NOEP`,
    `${tool} filter chain PORTICO-IPVS-NOEP`,
    `${tool} filter chain PORTICO-IPVS-FILTER`,
  ];

  it('the node holds the companion chains of both families next to foreign KUBE-* chains', () => {
    const before = rules(obs['iptablesBefore']);
    for (const family of ['4', '6']) {
      for (const [table, chain] of [
        ['nat', 'PORTICO-IPVS-MARK'],
        ['nat', 'PORTICO-IPVS-POSTROUTING'],
        ['filter', 'PORTICO-IPVS-NOEP'],
        ['filter', 'PORTICO-IPVS-FILTER'],
        ['nat', 'KUBE-SERVICES'],
        ['filter', 'KUBE-FIREWALL'],
      ])
        expect(before).toContain(`${family} ${table} :${chain} -`);
      expect(before.filter((l) => l.startsWith(`${family} `) && / -j PORTICO-IPVS-/.test(l))).toHaveLength(6);
    }
  });

  it('mode ipvs keeps every virtual server and the companion chains (and tolerates the guest having no nf_tables)', () => {
    expect(lines(obs['before'])).toHaveLength(NOT_PORTICO.length + 4);
    expect(lines(obs['afterIpvsMode'])).toEqual(lines(obs['before']));
    expect(rules(obs['iptablesAfterIpvsMode'])).toEqual(rules(obs['iptablesBefore']));
    expect(obs['ipvsMode']).toEqual({ removed: [], failed: [] });
  });

  it('a namespace that never used iptables: nothing removed, and no iptables table created there', () => {
    expect(obs['cleanNs']).toEqual({ removed: [], failed: [] });
    expect(obs['cleanNamesAfter']).toEqual(obs['cleanNamesBefore']);
  });

  it('mode none removes the virtual servers on portico-ipvs0 addresses, the companion chains and jumps, and the device, nothing else', () => {
    expect(obs['none']).toEqual({
      removed: [
        'IPVS virtual server -t 192.0.2.10:80',
        'IPVS virtual server -t [2001:db8:3::10]:80',
        'IPVS virtual server -u 192.0.2.10:53',
        ...JUMPS('iptables'),
        ...JUMPS('ip6tables'),
        'interface portico-ipvs0',
      ],
      failed: [],
    });
    // Exactly Portico's chains and the jumps into them are gone; KUBE-* and the rest are as they were.
    const after = rules(obs['iptablesAfterNone']);
    expect(after).toEqual(rules(obs['iptablesBefore']).filter((l) => !l.includes('PORTICO-IPVS')));
    expect(after).toContain(
      '4 nat -A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    );
    expect(after).toContain('6 filter -A INPUT -j KUBE-FIREWALL');
    expect(lines(obs['afterNone'])).toEqual([...NOT_PORTICO].sort());
    const links = String(obs['links']);
    expect(links).not.toMatch(/^\d+:\s+portico-ipvs0[:@]/m);
    expect(links).toMatch(/^\d+:\s+kube-ipvs0[:@]/m);
    expect(obs['again']).toEqual({ removed: [], failed: [] });
  });
});
