// What a user would check once the lab is up, run for them: one line per
// seed scenario, each with what was expected and what was seen. The lab test
// reads the same results (as JSON) and fails on any that did not hold.
import type { RawKubeClient } from '../lib/raw-client.ts';
import type { Lab } from '../test/e2e/netns/netns.ts';
import { helperScript } from '../test/e2e/netns/netns.ts';
import type { ProbeResult } from '../test/e2e/netns/http-probe.ts';
import { APP_NAMESPACE, LAN_CLIENT, NODE_PORT, NODES } from './plan.ts';
import type { Router } from './router.ts';

export interface CheckResult {
  scenario: string;
  ok: boolean;
  /** What was seen, for a person to read. */
  detail: string;
}

interface Service {
  spec?: { clusterIP?: string; ports?: { port: number }[] };
  status?: { loadBalancer?: { ingress?: { ip?: string }[] } };
}

export interface CheckContext {
  lab: Lab;
  /** Runs a command on a node or in a lab namespace (nodes may be UML guests). */
  exec(where: string, argv: readonly string[]): Promise<string>;
  client: RawKubeClient;
  router: Router;
  /** Reads the data path's rules on a node, e.g. `nft list table inet portico` or `ipvsadm -Ln`. */
  rules(node: string): Promise<string>;
}

async function probe(
  c: CheckContext,
  from: string,
  ip: string,
  port: number,
  count: number,
): Promise<ProbeResult[]> {
  const out = await c.exec(from, [
    process.execPath,
    '--disable-warning=ExperimentalWarning',
    helperScript('http-probe.ts'),
    `http://${ip}:${port}/`,
    String(count),
    '2000',
  ]);
  return JSON.parse(out) as ProbeResult[];
}

const pods = (results: ProbeResult[]) =>
  [...new Set(results.filter((r) => r.ok).map((r) => (r.body ?? '').replace(/^Hello from /, '')))].sort();

async function service(c: CheckContext, name: string): Promise<Service> {
  return c.client.getJson<Service>(`/api/v1/namespaces/${APP_NAMESPACE}/services/${name}`);
}

const ingress = (s: Service) => s.status?.loadBalancer?.ingress?.[0]?.ip;

/** Retries `fn` until it holds or the time is up: rules and routes arrive a moment after objects. */
async function settle(
  scenario: string,
  fn: () => Promise<CheckResult>,
  timeoutMs: number,
): Promise<CheckResult> {
  const deadline = Date.now() + timeoutMs;
  let last: CheckResult;
  do {
    last = await fn().catch((err: unknown) => ({ scenario, ok: false, detail: String(err) }));
    if (last.ok) return last;
    await new Promise((r) => setTimeout(r, 500));
  } while (Date.now() < deadline);
  return last;
}

const allPods = NODES.map((n) => n.pod.name).sort();

/** Runs every check, each retried for up to `timeoutMs` while it does not hold. */
export async function runChecks(c: CheckContext, timeoutMs = 60_000): Promise<CheckResult[]> {
  const node = NODES[0]!.name;
  const checks: Array<() => Promise<CheckResult>> = [
    async () => {
      const ip = (await service(c, 'hello')).spec?.clusterIP ?? '';
      const seen = pods(await probe(c, node, ip, 8081, 30));
      return {
        scenario: '000 ClusterIP balances across three pods',
        ok: JSON.stringify(seen) === JSON.stringify(allPods),
        detail: `30 requests from ${node} to ${ip}:8081 answered by ${seen.join(', ') || 'nobody'}`,
      };
    },
    async () => {
      const ip = (await service(c, 'hello-sticky')).spec?.clusterIP ?? '';
      const results = await probe(c, node, ip, 8081, 10);
      const seen = pods(results);
      const rules = await c.rules(node);
      const persistent = /persistent 10800|timeout 3h|10800s?/.test(rules);
      return {
        scenario: '004 sessionAffinity ClientIP pins one pod for 10800 s',
        ok: seen.length === 1 && results.every((r) => r.ok) && persistent,
        detail: `10 requests to ${ip}:8081 answered by ${seen.join(', ')}; affinity timeout 10800 in rules: ${persistent}`,
      };
    },
    async () => {
      const seen = pods(await probe(c, 'client', NODES[1]!.ip, NODE_PORT, 12));
      return {
        scenario: '003 NodePort 30080 from the client',
        ok: seen.length > 0,
        detail: `12 requests from the client to ${NODES[1]!.ip}:${NODE_PORT} answered by ${seen.join(', ') || 'nobody'}`,
      };
    },
    async () => {
      const ip = (await service(c, 'hello-headless')).spec?.clusterIP;
      return {
        scenario: 'headless Service has no virtual IP',
        ok: ip === 'None',
        detail: `clusterIP ${ip}`,
      };
    },
    async () => {
      const companions = await c.client.getJson<{
        items: { metadata: { name: string }; spec?: { clusterIP?: string } }[];
      }>(`/api/v1/namespaces/${APP_NAMESPACE}/services`, {
        labelSelector: 'portico.io/companion-of=external-www',
      });
      const ip = companions.items[0]?.spec?.clusterIP;
      if (!ip) return { scenario: 'ExternalName resolved', ok: false, detail: 'no companion Service yet' };
      const seen = pods(await probe(c, node, ip, 8081, 3));
      return {
        scenario: 'ExternalName resolved and load-balanced',
        ok: seen.length > 0,
        detail: `www.lab.test behind ${companions.items[0]!.metadata.name} (${ip}:8081), answered by ${seen.join(', ') || 'nobody'}`,
      };
    },
    async () => {
      const ip = ingress(await service(c, 'hello-l2'));
      if (!ip) return { scenario: 'LoadBalancer over L2', ok: false, detail: 'no ingress IP yet' };
      const seen = pods(await probe(c, 'lan-client', ip, 80, 6));
      // A real ARP exchange: exactly one node may answer, and it must be a node.
      const arping = await c.lab.tryExec('lan-client', ['arping', '-c', '3', '-w', '3', '-I', 'eth0', ip]);
      const macs = [
        ...new Set([...arping.stdout.matchAll(/\[([0-9a-f:]{17})\]/gi)].map((m) => m[1]!.toLowerCase())),
      ];
      const owners = await Promise.all(
        NODES.map(async (n) => {
          const link = JSON.parse(await c.exec(n.name, ['ip', '-j', 'link', 'show', 'eth0'])) as {
            address: string;
          }[];
          return { node: n.name, mac: link[0]?.address.toLowerCase() };
        }),
      );
      const announcer = owners.filter((o) => macs.includes(o.mac ?? '')).map((o) => o.node);
      return {
        scenario: 'LoadBalancer over L2 (ARP) from the LAN',
        ok: seen.length > 0 && macs.length === 1 && announcer.length === 1,
        detail: `${LAN_CLIENT} -> ${ip}:80 answered by ${seen.join(', ') || 'nobody'}; ARP answered by ${macs.join(', ') || 'nobody'} (${announcer.join(', ') || 'no node'})`,
      };
    },
    async () => {
      const ip = ingress(await service(c, 'hello-bgp'));
      if (!ip) return { scenario: 'LoadBalancer over BGP', ok: false, detail: 'no ingress IP yet' };
      const routes = await c.router.birdc('show', 'route', 'for', ip);
      const seen = pods(await probe(c, 'client', ip, 80, 6));
      const via = [...routes.matchAll(/via (\S+)/g)].map((m) => m[1]).join(', ');
      return {
        scenario: 'LoadBalancer over BGP from behind the router',
        ok: seen.length > 0 && via.length > 0,
        detail: `router has ${ip}/32 via ${via || 'nothing'}; client -> ${ip}:80 answered by ${seen.join(', ') || 'nobody'}`,
      };
    },
  ];
  const results: CheckResult[] = [];
  for (const [i, check] of checks.entries()) results.push(await settle(`check ${i + 1}`, check, timeoutMs));
  return results;
}
