// The IPVS backend with real packets. This kernel has no IPVS, so the whole
// scenario (ipvs-scenario.ts) runs inside User-Mode Linux, booted once for
// this file; each test below asserts on what the scenario observed.
//
// The guest cannot reach the host's apiserver, so the scenario drives the
// backend directly with model input (Services and EndpointSlices built in
// code), as nftables.test.ts does, and then runs the agent (startDataplane,
// mode ipvs) on informers fed from memory (ipvs-agent-scenario.ts); the
// agent's apiserver path is covered by test/integration/dataplane/. Debian's
// UML kernel lacks the nf_tables inet family, so the companion rules
// (masquerade, no-endpoint verdicts) fall back to iptables-legacy in the
// guest, and a pod on a second node whose replies bypass this node shows the
// masquerade at work; the nftables companion table is checked against this
// kernel in ipvs-companion.test.ts.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { IPVS_NODE_MODULES, runInUml, umlUnavailable } from '../../harness/uml.ts';
import { PODS } from './topology.ts';

const why = umlUnavailable();
if (why) throw new Error(`IPVS e2e tests cannot run here: ${why}`);

const ALL = PODS.map((p) => `Hello from ${p.name}`).sort();
const distinct = (xs: unknown): string[] => [...new Set(xs as string[])].sort();
/** `ipvsadm -Ln` without the connection counters, one normalised line each. */
const table = (text: unknown): string[] =>
  String(text)
    .split('\n')
    .filter((l) => /^(TCP|UDP|SCTP)\s|^\s+->\s+[\d[]/.test(l))
    .map((l) =>
      l
        .trim()
        .split(/\s+/)
        .slice(0, l.trim().startsWith('->') ? 4 : undefined)
        .join(' '),
    );

/** The table as one string per virtual server (with its real servers, sorted), in sorted order. */
const grouped = (lines: readonly string[]): string[] => {
  const out: string[][] = [];
  for (const l of lines) {
    if (l.startsWith('->')) out[out.length - 1]?.push(l);
    else out.push([l]);
  }
  return out.map(([head, ...reals]) => [head, ...reals.sort()].join(' | ')).sort();
};

type Obs = Record<string, Record<string, unknown>> & Record<string, unknown>;

/** The rule and chain lines of an iptables-save dump. */
const lines = (save: unknown): string[] =>
  String(save)
    .split('\n')
    .filter((l) => l.startsWith('-A ') || l.startsWith(':'));

describe('IPVS data path in User-Mode Linux, real packets', () => {
  let obs: Obs;

  beforeAll(async () => {
    const scenario = fileURLToPath(new URL('ipvs-scenario.ts', import.meta.url));
    const r = await runInUml([process.execPath, '--disable-warning=ExperimentalWarning', scenario], {
      modules: IPVS_NODE_MODULES,
      timeoutMs: 420_000,
    });
    if (r.code !== 0 || r.stdout.trim() === '') {
      throw new Error(
        `scenario failed (exit ${r.code}):\n${r.stderr.slice(-3000)}\n${r.console.slice(-2000)}`,
      );
    }
    obs = JSON.parse(r.stdout) as Obs;
    if (obs['error']) throw new Error(`scenario error: ${String(obs['error'])}`);
  }, 450_000);

  it('ipvsadm -Ln matches the expected table: rr, persistent 10800, the lc annotation, a NodePort per node address', () => {
    const rs = (ips: string[]) => ips.map((ip) => `-> ${ip}:8080 Masq 1`);
    const three = rs(['198.51.100.11', '198.51.100.12', '198.51.100.13']);
    const local = rs(['198.51.100.11', '198.51.100.12']);
    const three6 = ['11', '12', '13'].map((n) => `-> [2001:db8:1::${n}]:8080 Masq 1`);
    expect(grouped(table(obs['listing']))).toEqual(
      grouped([
        'TCP 192.0.2.10:80 rr',
        ...three,
        'TCP [2001:db8:3::10]:80 rr',
        ...three6,
        'TCP 192.0.2.11:80 rr persistent 10800',
        ...three,
        'TCP 192.0.2.12:80 rr',
        'TCP 192.0.2.13:80 rr',
        ...three,
        'TCP 192.0.2.14:80 lc',
        ...three,
        'TCP 192.0.2.15:80 rr',
        '-> 198.18.1.10:8080 Masq 1',
        'TCP 198.51.100.1:30083 rr',
        '-> 198.18.1.10:8080 Masq 1',
        'TCP 203.0.113.1:30083 rr',
        '-> 198.18.1.10:8080 Masq 1',
        'TCP 198.51.100.1:30080 rr',
        ...three,
        'TCP 198.51.100.1:30081 lc',
        ...local,
        'TCP 198.51.100.1:30082 rr',
        'TCP 203.0.113.1:30080 rr',
        ...three,
        'TCP 203.0.113.1:30081 lc',
        ...local,
        'TCP 203.0.113.1:30082 rr',
      ]),
    );
  });

  it('the dummy interface holds the ClusterIPs of both families, and the sysctls are set', () => {
    const [link] = JSON.parse(String(obs['dummy'])) as { addr_info: { local: string; scope: string }[] }[];
    const vips = link?.addr_info.filter((a) => a.scope !== 'link').map((a) => a.local);
    expect(vips?.sort()).toEqual([
      '192.0.2.10',
      '192.0.2.11',
      '192.0.2.12',
      '192.0.2.13',
      '192.0.2.14',
      '192.0.2.15',
      '2001:db8:3::10',
    ]);
    // vs/conntrack, expire_nodest_conn, expire_quiescent_template, arp_ignore, arp_announce
    expect(String(obs['sysctls']).trim().split('\n')).toEqual(['1', '1', '1', '1', '2']);
  });

  it('a full resync of an intact node changes nothing', () => {
    expect(obs['resync']).toMatchObject({ full: true, restore: '', servicesChanged: 0 });
  });

  it('without an nftables inet family the companion rules go to iptables-legacy: private chains, one jump each', () => {
    expect(obs['firstSync']).toMatchObject({ full: true, companion: 'iptables', companionWritten: true });
    const ipt = obs['iptables'] ?? {};
    const nat = lines(ipt['nat']);
    expect(nat.filter((l) => /^-A (PREROUTING|OUTPUT|POSTROUTING) /.test(l))).toEqual([
      '-A PREROUTING -m comment --comment "portico-ipvs masquerade marks" -j PORTICO-IPVS-MARK',
      '-A OUTPUT -m comment --comment "portico-ipvs masquerade marks" -j PORTICO-IPVS-MARK',
      '-A POSTROUTING -m comment --comment "portico-ipvs masquerade" -j PORTICO-IPVS-POSTROUTING',
    ]);
    const mark = nat.filter((l) => l.startsWith('-A PORTICO-IPVS-MARK '));
    const setMark = '-j MARK --set-xmark 0x4000/0x4000';
    // External traffic under policy Cluster, whatever its source.
    expect(mark).toContain(
      `-A PORTICO-IPVS-MARK -d 203.0.113.1/32 -p tcp -m tcp --dport 30080 -m comment --comment "default/web:http nodePort" ${setMark}`,
    );
    // Policy Local keeps the client address: no mark.
    expect(mark.some((l) => l.includes('--dport 30081'))).toBe(false);
    // ClusterIP traffic only from outside the pod CIDRs.
    const firstCluster = mark.findIndex((l) => l.includes('clusterIP'));
    expect(mark.slice(firstCluster - 2, firstCluster)).toEqual([
      '-A PORTICO-IPVS-MARK -s 198.51.100.0/24 -j RETURN',
      '-A PORTICO-IPVS-MARK -s 198.18.1.0/24 -j RETURN',
    ]);
    expect(nat.filter((l) => l.startsWith('-A PORTICO-IPVS-POSTROUTING '))).toEqual([
      '-A PORTICO-IPVS-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
      '-A PORTICO-IPVS-POSTROUTING -j MARK --set-xmark 0x4000/0x0',
      '-A PORTICO-IPVS-POSTROUTING -j MASQUERADE --random-fully',
    ]);
    const filter = lines(ipt['filter']);
    expect(filter.filter((l) => /-j PORTICO-IPVS-NOEP$/.test(l))).toEqual([
      '-A INPUT -m conntrack --ctstate NEW -m comment --comment "portico-ipvs no-endpoint verdicts" -j PORTICO-IPVS-NOEP',
      '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "portico-ipvs no-endpoint verdicts" -j PORTICO-IPVS-NOEP',
    ]);
    expect(filter.filter((l) => l.startsWith('-A PORTICO-IPVS-NOEP '))).toEqual(
      [
        '192.0.2.12/32 -p tcp -m tcp --dport 80',
        '198.51.100.1/32 -p tcp -m tcp --dport 30082',
        '203.0.113.1/32 -p tcp -m tcp --dport 30082',
      ].map((m) =>
        expect.stringMatching(
          new RegExp(
            `^-A PORTICO-IPVS-NOEP -d ${m.replaceAll('.', '\\.')} .*-j REJECT --reject-with icmp-port-unreachable$`,
          ),
        ),
      ),
    );
    // The VIP port filter: per VIP its served ports return, then REJECT; node addresses are not in it.
    expect(filter).toContain(
      '-A INPUT -m conntrack --ctstate NEW -m comment --comment "portico-ipvs vip port filter" -j PORTICO-IPVS-FILTER',
    );
    const vipFilter = filter.filter((l) => l.startsWith('-A PORTICO-IPVS-FILTER '));
    expect(vipFilter.filter((l) => l.includes('192.0.2.10/32'))).toEqual([
      '-A PORTICO-IPVS-FILTER -d 192.0.2.10/32 -p tcp -m tcp --dport 80 -m comment --comment "default/web:http clusterIP" -j RETURN',
      '-A PORTICO-IPVS-FILTER -d 192.0.2.10/32 -m comment --comment "portico-ipvs vip, port not served" -j REJECT --reject-with icmp-port-unreachable',
    ]);
    expect(vipFilter.filter((l) => l.endsWith('-j REJECT --reject-with icmp-port-unreachable'))).toHaveLength(
      6,
    );
    expect(vipFilter.some((l) => l.includes('203.0.113.1') || l.includes('198.51.100.1/'))).toBe(false);
    expect(lines(ipt['filter6']).filter((l) => l.startsWith('-A PORTICO-IPVS-FILTER '))).toEqual([
      '-A PORTICO-IPVS-FILTER -d 2001:db8:3::10/128 -p tcp -m tcp --dport 80 -m comment --comment "default/web:http clusterIP" -j RETURN',
      '-A PORTICO-IPVS-FILTER -d 2001:db8:3::10/128 -m comment --comment "portico-ipvs vip, port not served" -j REJECT --reject-with icmp6-port-unreachable',
    ]);
    // IPv6 through ip6tables-legacy: the chains and jumps are there too.
    expect(lines(ipt['nat6'])).toContain(
      '-A POSTROUTING -m comment --comment "portico-ipvs masquerade" -j PORTICO-IPVS-POSTROUTING',
    );
    expect(String(ipt['nftTables']).trim()).toBe('');
  });

  it('a pod on another node answers an outside client, through NodePort and ClusterIP, only thanks to the masquerade', () => {
    const remote = obs['remote'] ?? {};
    const ok = { bodies: Array(6).fill('Hello from pod-x'), clients: ['::ffff:198.18.0.1'] };
    expect(remote['nodePort']).toEqual(ok);
    expect(remote['clusterIP']).toEqual(ok);
    // With the companion rules removed, the reply bypasses the node and the connection never completes.
    expect((remote['withoutCompanion'] as string[]).some((b) => b.startsWith('Hello'))).toBe(false);
    expect(remote['restoredSync']).toMatchObject({
      full: true,
      companion: 'iptables',
      companionWritten: true,
    });
    expect(remote['restored']).toEqual(Array(3).fill('Hello from pod-x'));
    expect(lines(remote['natAfterRestore']).filter((l) => l.startsWith('-A PREROUTING '))).toHaveLength(1);
  });

  it('a node process on a port no Service uses is not reachable through a VIP (the VIP port filter), while the Service port and the node address still are', () => {
    const f = obs['vipFilter'] ?? {};
    // Without the companion the VIP leaks the node's listener: the test would see it.
    expect(f['leakWithoutCompanion']).toEqual(['Hello from node-host']);
    const refused = ['error:ECONNREFUSED'];
    expect(f['fromClient']).toEqual(refused);
    expect(f['fromPod']).toEqual(refused);
    expect(f['fromNode']).toEqual(refused);
    expect(f['fromPod6']).toEqual(refused);
    expect(f['servedFromClient']).toHaveLength(3);
    expect(ALL).toEqual(expect.arrayContaining(distinct(f['servedFromClient'])));
    expect(ALL).toEqual(expect.arrayContaining(distinct(f['servedFromNode'])));
    expect(f['servedFromNode']).toHaveLength(3);
    expect(f['nodeAddress']).toEqual(['Hello from node-host']);
  });

  it('ClusterIP: 30 requests from the node reach all three pods', () => {
    const bodies = obs['clusterIP'] as unknown as string[];
    expect(bodies).toHaveLength(30);
    expect(distinct(bodies)).toEqual(ALL);
  });

  it('the IPv6 ClusterIP of the same dual-stack Service balances too', () => {
    const bodies = obs['clusterIP6'] as unknown as string[];
    expect(bodies).toHaveLength(30);
    expect(distinct(bodies)).toEqual(ALL);
  });

  it('sessionAffinity ClientIP (persistent 10800): one pod answers every time', () => {
    const bodies = obs['affinity'] as unknown as string[];
    expect(bodies).toHaveLength(20);
    expect(distinct(bodies)).toHaveLength(1);
    expect(ALL).toContain(bodies[0]);
  });

  it('NodePort from the client namespace reaches all pods, on each node address, masqueraded (policy Cluster)', () => {
    expect(distinct(obs['nodePort']?.['bodies'])).toEqual(ALL);
    expect(obs['nodePort']?.['clients']).toEqual(['::ffff:198.51.100.1']);
    expect(distinct(obs['nodePortSecondAddress'])).toEqual(ALL);
  });

  it('externalTrafficPolicy Local: only local pods answer, and they see the client address', () => {
    expect(distinct(obs['local']?.['bodies'])).toEqual(['Hello from pod-a', 'Hello from pod-b']);
    expect(obs['local']?.['clients']).toEqual(['::ffff:203.0.113.2']);
  });

  it('a Service with no endpoints rejects (the companion REJECT, IPVS for the node itself): connection refused from the node and from the client', () => {
    expect(obs['empty']).toEqual({ fromNode: ['error:ECONNREFUSED'], fromClient: ['error:ECONNREFUSED'] });
  });

  it('a not-ready pod drops out and a terminating pod drains at weight 0, its open connection still served', () => {
    const drain = obs['drain'] ?? {};
    const held = String(drain['held']);
    expect(ALL).toContain(held);
    expect(distinct(drain['fresh'])).toEqual([`Hello from ${String(drain['remaining'])}`]);
    expect(drain['heldAgain']).toBe(held);
    const ip = PODS.find((p) => held === `Hello from ${p.name}`)?.v4;
    expect(table(drain['listing'])).toContain(`-> ${ip}:8080 Masq 0`);
    expect(obs['drainSync']).toMatchObject({ full: false, servicesChanged: 1 });
  });

  it('a removed endpoint with an open connection stays at weight 0 until the grace period ends, then goes', () => {
    const removal = obs['removal'] ?? {};
    const remaining = PODS.find((p) => p.name === obs['drain']?.['remaining'])?.v4;
    const held = PODS.find((p) => obs['drain']?.['held'] === `Hello from ${p.name}`)?.v4;
    expect(removal['draining']).toBe(1);
    const listing = table(removal['listing']);
    expect(listing[0]).toBe('TCP 192.0.2.13:80 rr');
    expect(listing.slice(1).sort()).toEqual([`-> ${remaining}:8080 Masq 1`, `-> ${held}:8080 Masq 0`].sort());
    expect(removal['laterDraining']).toBe(0);
    expect(table(removal['laterListing'])).toEqual(['TCP 192.0.2.13:80 rr', `-> ${remaining}:8080 Masq 1`]);
  });

  it('a virtual server and VIP deleted by hand break the Service until a full sync repairs them', () => {
    const repair = obs['repair'] ?? {};
    expect((repair['broken'] as string[]).some((b) => b.startsWith('Hello'))).toBe(false);
    expect(repair['partialRestore']).toBe(''); // a partial sync trusts its memory
    expect(String(repair['repairRestore']).split('\n')[0]).toBe('-A -t 192.0.2.10:80 -s rr');
    expect(repair['repairAddresses']).toContain('address add 192.0.2.10/32 dev portico-ipvs0');
    expect(distinct(repair['after'])).toEqual(ALL);
  });

  it('the agent (startDataplane, mode ipvs) programs the node, follows a slice change and repairs drift', () => {
    const agent = obs['agent'] ?? {};
    expect(agent['first']).toEqual(['pod-a', 'pod-b', 'pod-c']);
    expect(agent['ready']).toBe(true);
    expect(agent['afterNotReady']).toEqual(['pod-a', 'pod-b']);
    expect(agent['repaired']).toEqual(['pod-a', 'pod-b']);
    const metrics = String(agent['metrics']);
    expect(metrics).toMatch(/portico_dataplane_sync_duration_seconds_count\{mode="ipvs",kind="full"\} [1-9]/);
    expect(metrics).toMatch(
      /portico_dataplane_sync_duration_seconds_count\{mode="ipvs",kind="partial"\} [1-9]/,
    );
    expect(metrics).toMatch(
      /portico_dataplane_network_programming_latency_seconds_count\{mode="ipvs"\} [1-9]/,
    );
    // The agent's companion (auto) is iptables too, and its full syncs never duplicate a jump.
    const jumps = [...lines(agent['nat']), ...lines(agent['filter'])].filter((l) =>
      /^-A (PREROUTING|OUTPUT|POSTROUTING|INPUT) .*-j PORTICO-IPVS-/.test(l),
    );
    expect(jumps).toHaveLength(6);
    expect(new Set(jumps).size).toBe(6);
  });
});
