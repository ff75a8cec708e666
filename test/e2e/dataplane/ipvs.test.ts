// The IPVS backend with real packets. This kernel has no IPVS, so the whole
// scenario (ipvs-scenario.ts) runs inside User-Mode Linux, booted once for
// this file; each test below asserts on what the scenario observed.
//
// The guest cannot reach the host's apiserver, so the scenario drives the
// backend directly with model input (Services and EndpointSlices built in
// code), as nftables.test.ts does, and then runs the agent (startDataplane,
// mode ipvs) on informers fed from memory (ipvs-agent-scenario.ts); the
// agent's apiserver path is covered by test/integration/dataplane/. Debian's UML kernel also lacks nf_tables for
// ip/ip6/inet, so the companion table (masquerade, no-endpoint verdicts) is
// off in the guest: its syntax is checked against this kernel in
// ipvs-companion.test.ts, and here the no-endpoint reject is IPVS's own.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { runInUml, umlUnavailable } from '../../harness/uml.ts';
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

describe('IPVS data path in User-Mode Linux, real packets', () => {
  let obs: Obs;

  beforeAll(async () => {
    const scenario = fileURLToPath(new URL('ipvs-scenario.ts', import.meta.url));
    const r = await runInUml([process.execPath, '--disable-warning=ExperimentalWarning', scenario], {
      modules: ['ip_vs', 'ip_vs_rr', 'ip_vs_lc', 'veth', 'bridge', 'dummy'],
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
      '2001:db8:3::10',
    ]);
    // vs/conntrack, expire_nodest_conn, expire_quiescent_template, arp_ignore, arp_announce
    expect(String(obs['sysctls']).trim().split('\n')).toEqual(['1', '1', '1', '1', '2']);
  });

  it('a full resync of an intact node changes nothing', () => {
    expect(obs['resync']).toMatchObject({ full: true, restore: '', servicesChanged: 0 });
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

  it('NodePort from the client namespace reaches all pods, on each node address', () => {
    expect(distinct(obs['nodePort']?.['bodies'])).toEqual(ALL);
    expect(distinct(obs['nodePortSecondAddress'])).toEqual(ALL);
  });

  it('externalTrafficPolicy Local: only local pods answer, and they see the client address', () => {
    expect(distinct(obs['local']?.['bodies'])).toEqual(['Hello from pod-a', 'Hello from pod-b']);
    expect(obs['local']?.['clients']).toEqual(['::ffff:203.0.113.2']);
  });

  it('a Service with no endpoints rejects: connection refused from the node and from the client', () => {
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
  });
});
