import { describe, expect, it } from '@jest/globals';
import { DEFAULT_COMPANION_OPTIONS } from '../../../../speaker/dataplane/ipvs/companion.ts';
import {
  iptablesChains,
  iptablesJumps,
  parseSavedTable,
  planJumps,
  renderIptablesCleanup,
  renderIptablesCompanion,
} from '../../../../speaker/dataplane/ipvs/companion-iptables.ts';
import type { IptablesObserved } from '../../../../speaker/dataplane/ipvs/companion-iptables.ts';
import { endpoint, model, service, slice, threePods } from '../helpers.ts';
import { IptablesSim } from './iptables-sim.ts';

const HTTP_PORT = { name: 'http', port: 80, targetPort: 8080 };
// The same Services as companion.test.ts (the nftables table), plus a UDP one
// and a dual-stack one.
const state = model(
  [
    service('web', { type: 'NodePort', clusterIP: '192.0.2.10', ports: [{ ...HTTP_PORT, nodePort: 30080 }] }),
    service('local', {
      type: 'NodePort',
      clusterIP: '192.0.2.14',
      externalTrafficPolicy: 'Local',
      ports: [{ ...HTTP_PORT, nodePort: 30081 }],
    }),
    service('empty', { clusterIP: '192.0.2.12', ports: [HTTP_PORT] }),
    service('dns', {
      clusterIP: '192.0.2.53',
      ports: [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 }],
    }),
    service('dual', {
      clusterIP: '192.0.2.20',
      clusterIPs: ['192.0.2.20', '2001:db8:3::20'],
      ipFamilies: ['IPv4', 'IPv6'],
      ipFamilyPolicy: 'RequireDualStack',
      ports: [HTTP_PORT],
    }),
  ],
  [
    threePods('web'),
    threePods('local', ['node-2', 'node-2', 'node-2']),
    slice(
      'dns',
      [endpoint('198.51.100.11', { ready: true, nodeName: 'node-1' })],
      [{ name: 'dns', port: 53, protocol: 'UDP' }],
    ),
    threePods('dual'),
    slice(
      'dual',
      [endpoint('2001:db8:1::11', { ready: true, nodeName: 'node-1' })],
      [{ name: 'http', port: 8080 }],
      {
        name: 'dual-v6',
        addressType: 'IPv6',
      },
    ),
  ],
);
const CIDRS = {
  ...DEFAULT_COMPANION_OPTIONS,
  clusterCIDRs: ['198.51.100.0/24', '10.0.0.0/8', '2001:db8:1::/64'],
};
const MARK = '-j MARK --or-mark 0x4000';

/** The rules of `chain` in the restore input, without the `-A <chain> ` prefix. */
const rules = (script: string, chain: string): string[] =>
  script
    .split('\n')
    .filter((l) => l.startsWith(`-A ${chain} `))
    .map((l) => l.slice(`-A ${chain} `.length));

/** The lines of one table's block (`*nat` ... `COMMIT`). */
const block = (script: string, table: string): string[] => {
  const lines = script.split('\n');
  const start = lines.indexOf(`*${table}`);
  return lines.slice(start, lines.indexOf('COMMIT', start) + 1);
};

const apply = (sim: IptablesSim, script: string): void => {
  const r = sim.restore(script);
  if (r.code !== 0) throw new Error(r.stderr);
};
const observe = (sim: IptablesSim): IptablesObserved => ({
  nat: sim.save('nat').stdout,
  filter: sim.save('filter').stdout,
});

describe('renderIptablesCompanion', () => {
  it('declares the private chains, which iptables-restore --noflush flushes and refills, one block per table', () => {
    const script = renderIptablesCompanion(state, DEFAULT_COMPANION_OPTIONS, 4);
    expect(block(script, 'nat').slice(0, 3)).toEqual([
      '*nat',
      ':PORTICO-IPVS-MARK - [0:0]',
      ':PORTICO-IPVS-POSTROUTING - [0:0]',
    ]);
    expect(block(script, 'filter').slice(0, 3)).toEqual([
      '*filter',
      ':PORTICO-IPVS-NOEP - [0:0]',
      ':PORTICO-IPVS-FILTER - [0:0]',
    ]);
    expect(script.split('\n').filter((l) => l === 'COMMIT')).toHaveLength(2);
    // Only private chains are written; built-in chains get nothing without a read-back.
    expect(
      script.split('\n').filter((l) => /^-[AID] (PREROUTING|OUTPUT|POSTROUTING|INPUT) /.test(l)),
    ).toEqual([]);
    expect(script.endsWith('COMMIT\n')).toBe(true);
  });

  it('marks external traffic under policy Cluster for masquerade, not policy Local', () => {
    const script = renderIptablesCompanion(state, DEFAULT_COMPANION_OPTIONS, 4);
    expect(rules(script, 'PORTICO-IPVS-MARK')).toEqual([
      `-d 203.0.113.1/32 -p tcp -m tcp --dport 30080 -m comment --comment "default/web:http nodePort" ${MARK}`,
    ]);
  });

  it('masquerades marked packets in postrouting, fully random, and clears the mark (kube-proxy KUBE-POSTROUTING)', () => {
    const script = renderIptablesCompanion(state, DEFAULT_COMPANION_OPTIONS, 4);
    expect(rules(script, 'PORTICO-IPVS-POSTROUTING')).toEqual([
      '-m mark ! --mark 0x4000/0x4000 -j RETURN',
      '-j MARK --xor-mark 0x4000',
      '-j MASQUERADE --random-fully',
    ]);
  });

  it('ClusterIP traffic is marked only from outside the cluster CIDRs (RETURN for each), never without CIDRs', () => {
    const script = renderIptablesCompanion(state, CIDRS, 4);
    expect(rules(script, 'PORTICO-IPVS-MARK')).toEqual([
      `-d 203.0.113.1/32 -p tcp -m tcp --dport 30080 -m comment --comment "default/web:http nodePort" ${MARK}`,
      '-s 198.51.100.0/24 -j RETURN',
      '-s 10.0.0.0/8 -j RETURN',
      `-d 192.0.2.10/32 -p tcp -m tcp --dport 80 -m comment --comment "default/web:http clusterIP" ${MARK}`,
      `-d 192.0.2.12/32 -p tcp -m tcp --dport 80 -m comment --comment "default/empty:http clusterIP" ${MARK}`,
      `-d 192.0.2.14/32 -p tcp -m tcp --dport 80 -m comment --comment "default/local:http clusterIP" ${MARK}`,
      `-d 192.0.2.20/32 -p tcp -m tcp --dport 80 -m comment --comment "default/dual:http clusterIP" ${MARK}`,
      `-d 192.0.2.53/32 -p udp -m udp --dport 53 -m comment --comment "default/dns:dns clusterIP" ${MARK}`,
    ]);
    const none = renderIptablesCompanion(state, DEFAULT_COMPANION_OPTIONS, 4);
    expect(rules(none, 'PORTICO-IPVS-MARK').some((r) => r.includes('clusterIP'))).toBe(false);
    expect(rules(none, 'PORTICO-IPVS-MARK').some((r) => r.includes('RETURN'))).toBe(false);
  });

  it('masqueradeAll marks all ClusterIP traffic, whatever its source', () => {
    const script = renderIptablesCompanion(state, { ...CIDRS, masqueradeAll: true }, 4);
    const mark = rules(script, 'PORTICO-IPVS-MARK');
    expect(mark).toContain(
      `-d 192.0.2.10/32 -p tcp -m tcp --dport 80 -m comment --comment "default/web:http clusterIP" ${MARK}`,
    );
    expect(mark.some((r) => r.includes('RETURN'))).toBe(false);
    expect(mark).toHaveLength(6);
  });

  it('rejects Services without endpoints and drops Local traffic without local endpoints, in filter', () => {
    const script = renderIptablesCompanion(state, DEFAULT_COMPANION_OPTIONS, 4);
    expect(rules(script, 'PORTICO-IPVS-NOEP')).toEqual([
      '-d 192.0.2.12/32 -p tcp -m tcp --dport 80 -m comment --comment "default/empty:http clusterIP" -j REJECT',
      '-d 203.0.113.1/32 -p tcp -m tcp --dport 30081 -m comment --comment "default/local:http nodePort" -j DROP',
    ]);
    expect(block(script, 'nat').join('\n')).not.toContain('PORTICO-IPVS-NOEP');
  });

  it('renders each family on its own (ip6tables-restore for 6): /128, and only the CIDRs of that family', () => {
    const script = renderIptablesCompanion(state, CIDRS, 6);
    expect(rules(script, 'PORTICO-IPVS-MARK')).toEqual([
      '-s 2001:db8:1::/64 -j RETURN',
      `-d 2001:db8:3::20/128 -p tcp -m tcp --dport 80 -m comment --comment "default/dual:http clusterIP" ${MARK}`,
    ]);
    expect(rules(script, 'PORTICO-IPVS-NOEP')).toEqual([]);
    // A family without cluster CIDRs marks no ClusterIP traffic, as the nftables table.
    const v4only = renderIptablesCompanion(state, { ...CIDRS, clusterCIDRs: ['10.0.0.0/8'] }, 6);
    expect(rules(v4only, 'PORTICO-IPVS-MARK')).toEqual([]);
  });

  it('an empty state still declares (so empties) the chains and keeps the postrouting rules', () => {
    const script = renderIptablesCompanion(model([]), DEFAULT_COMPANION_OPTIONS, 4);
    expect(rules(script, 'PORTICO-IPVS-MARK')).toEqual([]);
    expect(rules(script, 'PORTICO-IPVS-NOEP')).toEqual([]);
    expect(rules(script, 'PORTICO-IPVS-POSTROUTING')).toHaveLength(3);
  });

  it('the mark and the chain names follow the options', () => {
    const script = renderIptablesCompanion(
      state,
      { ...DEFAULT_COMPANION_OPTIONS, table: 'test-ipvs', masqueradeMark: 0x8000 },
      4,
    );
    expect(rules(script, 'TEST-IPVS-MARK')[0]).toMatch(/-j MARK --or-mark 0x8000$/);
    expect(rules(script, 'TEST-IPVS-POSTROUTING')[0]).toBe('-m mark ! --mark 0x8000/0x8000 -j RETURN');
    expect(rules(script, 'TEST-IPVS-NOEP')).toHaveLength(2);
    expect(() => iptablesChains({ table: 'a-much-too-long-table-name' })).toThrow(
      /invalid iptables chain name/,
    );
  });

  it('is the same text for the same state (the backend compares it to skip unchanged syncs)', () => {
    expect(renderIptablesCompanion(state, CIDRS, 4)).toBe(renderIptablesCompanion(state, CIDRS, 4));
  });
});

describe('the jumps from the built-in chains', () => {
  const chains = iptablesChains(DEFAULT_COMPANION_OPTIONS);
  const jumps = iptablesJumps(chains);

  it('nat PREROUTING and OUTPUT jump to the marks, POSTROUTING to masquerade, filter INPUT and OUTPUT (new connections) to the verdicts, INPUT to the VIP filter', () => {
    expect(jumps.map((j) => `${j.table} ${j.from} -> ${j.to}`)).toEqual([
      'nat PREROUTING -> PORTICO-IPVS-MARK',
      'nat OUTPUT -> PORTICO-IPVS-MARK',
      'nat POSTROUTING -> PORTICO-IPVS-POSTROUTING',
      'filter INPUT -> PORTICO-IPVS-NOEP',
      'filter OUTPUT -> PORTICO-IPVS-NOEP',
      'filter INPUT -> PORTICO-IPVS-FILTER',
    ]);
    expect(jumps[3]?.rule).toBe(
      '-m conntrack --ctstate NEW -m comment --comment "portico-ipvs no-endpoint verdicts" -j PORTICO-IPVS-NOEP',
    );
    expect(jumps[5]?.rule).toBe(
      '-m conntrack --ctstate NEW -m comment --comment "portico-ipvs vip port filter" -j PORTICO-IPVS-FILTER',
    );
  });

  it('a read-back without them inserts each one at the top of its chain', () => {
    const empty = new IptablesSim();
    const script = renderIptablesCompanion(state, DEFAULT_COMPANION_OPTIONS, 4, observe(empty));
    expect(script.split('\n').filter((l) => l.startsWith('-I '))).toEqual(
      jumps.map((j) => `-I ${j.from} 1 ${j.rule}`),
    );
    // Each insert is in its own table's block, after the chain it jumps to is declared.
    expect(block(script, 'nat').filter((l) => l.startsWith('-I '))).toHaveLength(3);
    expect(block(script, 'filter').filter((l) => l.startsWith('-I '))).toHaveLength(3);
  });

  it('applied twice with read-backs, the jumps are there once and the private chains hold one copy', () => {
    const sim = new IptablesSim();
    sim.tables.get('nat')?.get('POSTROUTING')?.push('-s 10.1.0.0/16 -j MASQUERADE'); // someone else's rule
    apply(sim, renderIptablesCompanion(state, CIDRS, 4, observe(sim)));
    const once = observe(sim);
    apply(sim, renderIptablesCompanion(state, CIDRS, 4, observe(sim)));
    apply(sim, renderIptablesCompanion(state, CIDRS, 4)); // a partial sync: no read-back
    expect(observe(sim)).toEqual(once);
    expect(sim.rules('nat', 'PREROUTING')).toEqual([jumps[0]?.rule]);
    expect(sim.rules('nat', 'POSTROUTING')).toEqual([jumps[2]?.rule, '-s 10.1.0.0/16 -j MASQUERADE']);
    expect(sim.rules('filter', 'OUTPUT')).toEqual([jumps[4]?.rule]);
    expect(sim.rules('nat', 'PORTICO-IPVS-MARK')).toHaveLength(8);
  });

  it('a changed state replaces the private chains whole', () => {
    const sim = new IptablesSim();
    apply(sim, renderIptablesCompanion(state, CIDRS, 4, observe(sim)));
    const second = model(
      [service('web', { clusterIP: '192.0.2.10', ports: [HTTP_PORT] })],
      [threePods('web')],
    );
    apply(sim, renderIptablesCompanion(second, CIDRS, 4));
    expect(sim.rules('nat', 'PORTICO-IPVS-MARK')).toEqual([
      '-s 198.51.100.0/24 -j RETURN',
      '-s 10.0.0.0/8 -j RETURN',
      `-d 192.0.2.10/32 -p tcp -m tcp --dport 80 -m comment --comment "default/web:http clusterIP" ${MARK}`,
    ]);
    expect(sim.rules('filter', 'PORTICO-IPVS-NOEP')).toEqual([]);
  });

  it('repairs by hand: a deleted jump comes back, duplicates and older rule specs go', () => {
    const sim = new IptablesSim();
    apply(sim, renderIptablesCompanion(state, CIDRS, 4, observe(sim)));
    const nat = sim.tables.get('nat');
    nat?.set('PREROUTING', []); // deleted by hand
    nat?.get('OUTPUT')?.push(jumps[1]?.rule ?? ''); // a duplicate
    sim.tables.get('filter')?.get('INPUT')?.push('-j PORTICO-IPVS-NOEP'); // an older spec
    const saved = observe(sim);
    expect(planJumps('nat', parseSavedTable(saved.nat), chains)).toEqual({
      insert: [`-I PREROUTING 1 ${jumps[0]?.rule}`],
      remove: [`-D OUTPUT ${jumps[1]?.rule}`],
    });
    expect(planJumps('filter', parseSavedTable(saved.filter), chains)).toEqual({
      insert: [],
      remove: ['-D INPUT -j PORTICO-IPVS-NOEP'],
    });
    apply(sim, renderIptablesCompanion(state, CIDRS, 4, saved));
    expect(sim.rules('nat', 'PREROUTING')).toEqual([jumps[0]?.rule]);
    expect(sim.rules('nat', 'OUTPUT')).toEqual([jumps[1]?.rule]);
    expect(sim.rules('filter', 'INPUT')).toEqual([jumps[5]?.rule, jumps[3]?.rule]);
  });

  it('parses iptables-save as the real tool prints it', () => {
    const saved = parseSavedTable(
      [
        '# Generated by iptables-save v1.8.9 on Mon Nov 30 14:14:35 2026',
        '*nat',
        ':PREROUTING ACCEPT [0:0]',
        ':PORTICO-IPVS-MARK - [0:0]',
        '-A PREROUTING -m comment --comment "portico-ipvs masquerade marks" -j PORTICO-IPVS-MARK',
        '-A PORTICO-IPVS-MARK -d 203.0.113.1/32 -p tcp -m tcp --dport 30080 -m comment --comment "default/web:http nodePort" -j MARK --set-xmark 0x4000/0x4000',
        'COMMIT',
        '# Completed on Mon Nov 30 14:14:35 2026',
      ].join('\n'),
    );
    expect([...saved.chains]).toEqual(['PREROUTING', 'PORTICO-IPVS-MARK']);
    expect(saved.rules.map(([c]) => c)).toEqual(['PREROUTING', 'PORTICO-IPVS-MARK']);
    expect(planJumps('nat', saved, chains)).toEqual({
      insert: [`-I OUTPUT 1 ${jumps[1]?.rule}`, `-I POSTROUTING 1 ${jumps[2]?.rule}`],
      remove: [],
    });
  });
});

describe('renderIptablesCleanup', () => {
  it('deletes the jumps, then flushes and deletes the private chains; nothing when there is nothing', () => {
    const sim = new IptablesSim();
    expect(renderIptablesCleanup(DEFAULT_COMPANION_OPTIONS, observe(sim))).toBe('');
    sim.tables.get('filter')?.get('FORWARD')?.push('-j ACCEPT');
    apply(sim, renderIptablesCompanion(state, CIDRS, 4, observe(sim)));
    const cleanup = renderIptablesCleanup(DEFAULT_COMPANION_OPTIONS, observe(sim));
    expect(block(cleanup, 'nat')).toEqual([
      '*nat',
      '-D PREROUTING -m comment --comment "portico-ipvs masquerade marks" -j PORTICO-IPVS-MARK',
      '-D OUTPUT -m comment --comment "portico-ipvs masquerade marks" -j PORTICO-IPVS-MARK',
      '-D POSTROUTING -m comment --comment "portico-ipvs masquerade" -j PORTICO-IPVS-POSTROUTING',
      '-F PORTICO-IPVS-MARK',
      '-X PORTICO-IPVS-MARK',
      '-F PORTICO-IPVS-POSTROUTING',
      '-X PORTICO-IPVS-POSTROUTING',
      'COMMIT',
    ]);
    apply(sim, cleanup);
    expect(sim.chains('nat')).toEqual(['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING']);
    expect(sim.chains('filter')).toEqual(['INPUT', 'FORWARD', 'OUTPUT']);
    expect(sim.rules('filter', 'FORWARD')).toEqual(['-j ACCEPT']);
    expect(sim.rules('filter', 'INPUT')).toEqual([]);
    expect(renderIptablesCleanup(DEFAULT_COMPANION_OPTIONS, observe(sim))).toBe('');
  });
});

describe('the VIP port filter in iptables (kube-proxy KUBE-IPVS-FILTER, without ipset)', () => {
  const chain = 'PORTICO-IPVS-FILTER';
  const NOT_SERVED = '-m comment --comment "portico-ipvs vip, port not served" -j REJECT';

  it('per VIP: a RETURN for each served port, then REJECT for the rest of that VIP', () => {
    const script = renderIptablesCompanion(state, DEFAULT_COMPANION_OPTIONS, 4);
    expect(rules(script, chain)).toEqual([
      '-d 192.0.2.10/32 -p tcp -m tcp --dport 80 -m comment --comment "default/web:http clusterIP" -j RETURN',
      `-d 192.0.2.10/32 ${NOT_SERVED}`,
      '-d 192.0.2.12/32 -p tcp -m tcp --dport 80 -m comment --comment "default/empty:http clusterIP" -j RETURN',
      `-d 192.0.2.12/32 ${NOT_SERVED}`,
      '-d 192.0.2.14/32 -p tcp -m tcp --dport 80 -m comment --comment "default/local:http clusterIP" -j RETURN',
      `-d 192.0.2.14/32 ${NOT_SERVED}`,
      '-d 192.0.2.20/32 -p tcp -m tcp --dport 80 -m comment --comment "default/dual:http clusterIP" -j RETURN',
      `-d 192.0.2.20/32 ${NOT_SERVED}`,
      '-d 192.0.2.53/32 -p udp -m udp --dport 53 -m comment --comment "default/dns:dns clusterIP" -j RETURN',
      `-d 192.0.2.53/32 ${NOT_SERVED}`,
    ]);
  });

  it('node addresses (NodePorts) are not filtered, and nothing matches a destination that is not a VIP', () => {
    const script = renderIptablesCompanion(state, DEFAULT_COMPANION_OPTIONS, 4);
    expect(rules(script, chain).some((r) => r.includes('203.0.113.1'))).toBe(false);
    expect(rules(script, chain).every((r) => /^-d 192\.0\.2\.\d+\/32 /.test(r))).toBe(true);
  });

  it('IPv6: only the VIPs of that family, /128', () => {
    const script = renderIptablesCompanion(state, DEFAULT_COMPANION_OPTIONS, 6);
    expect(rules(script, chain)).toEqual([
      '-d 2001:db8:3::20/128 -p tcp -m tcp --dport 80 -m comment --comment "default/dual:http clusterIP" -j RETURN',
      `-d 2001:db8:3::20/128 ${NOT_SERVED}`,
    ]);
  });

  it('LoadBalancer IPs and externalIPs are VIPs too; one that is also a node address is left alone', () => {
    const lb = model(
      [
        service('web', {
          type: 'LoadBalancer',
          clusterIP: '192.0.2.10',
          externalIPs: ['198.18.5.5', '203.0.113.1'],
          ports: [{ ...HTTP_PORT, nodePort: 30080 }],
        }),
      ],
      [threePods('web')],
    );
    const script = renderIptablesCompanion(lb, DEFAULT_COMPANION_OPTIONS, 4);
    expect(rules(script, chain)).toEqual([
      '-d 192.0.2.10/32 -p tcp -m tcp --dport 80 -m comment --comment "default/web:http clusterIP" -j RETURN',
      `-d 192.0.2.10/32 ${NOT_SERVED}`,
      '-d 198.18.5.5/32 -p tcp -m tcp --dport 80 -m comment --comment "default/web:http externalIP" -j RETURN',
      `-d 198.18.5.5/32 ${NOT_SERVED}`,
    ]);
  });

  it('is refilled whole with the state, and removed by the cleanup', () => {
    const sim = new IptablesSim();
    apply(sim, renderIptablesCompanion(state, CIDRS, 4, observe(sim)));
    expect(sim.rules('filter', chain)).toHaveLength(10);
    apply(sim, renderIptablesCompanion(model([]), CIDRS, 4));
    expect(sim.rules('filter', chain)).toEqual([]);
    apply(sim, renderIptablesCleanup(DEFAULT_COMPANION_OPTIONS, observe(sim)));
    expect(sim.chains('filter')).toEqual(['INPUT', 'FORWARD', 'OUTPUT']);
  });
});
