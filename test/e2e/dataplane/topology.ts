// The e2e topology, all in namespaces of one Lab (documentation ranges only):
//
//   client 203.0.113.2 ── veth ── 203.0.113.1 node 198.51.100.1 ── br0 ─┬─ pod-a 198.51.100.11
//          2001:db8:2::2            2001:db8:2::1   2001:db8:1::1       ├─ pod-b 198.51.100.12
//                                                                      └─ pod-c 198.51.100.13
//
// Each pod runs hello-server on 8080. The node routes for the pods and has a
// default route towards the client, so that VIPs (192.0.2.0/24,
// 2001:db8:3::/64) are routable from the node as on a real one; the client
// does not forward, so a VIP the node does not translate goes nowhere.
import { helperScript } from '../netns/netns.ts';
import type { Lab } from '../netns/netns.ts';
import type { ProbeResult } from '../netns/http-probe.ts';

export const POD_PORT = 8080;
export const PODS = [
  { name: 'pod-a', v4: '198.51.100.11', v6: '2001:db8:1::11' },
  { name: 'pod-b', v4: '198.51.100.12', v6: '2001:db8:1::12' },
  { name: 'pod-c', v4: '198.51.100.13', v6: '2001:db8:1::13' },
] as const;
export const NODE_V4 = '203.0.113.1';
export const NODE_V6 = '2001:db8:2::1';
export const NODE_POD_SIDE_V4 = '198.51.100.1';
export const CLIENT_V4 = '203.0.113.2';

const NODE_ARGS = ['--disable-warning=ExperimentalWarning'];

/** `startTimeoutMs`: how long a pod server may take to listen (User-Mode Linux is slow). */
export async function buildTopology(lab: Lab, startTimeoutMs = 10_000): Promise<void> {
  await lab.addNamespace('node');
  await lab.addNamespace('client');
  await lab.sysctl('node', 'net.ipv4.ip_forward', '1');
  await lab.sysctl('node', 'net.ipv6.conf.all.forwarding', '1');

  await lab.link('client', 'eth0', 'node', 'up0');
  await lab.addr('client', 'eth0', `${CLIENT_V4}/24`);
  await lab.addr('client', 'eth0', '2001:db8:2::2/64');
  await lab.addr('node', 'up0', `${NODE_V4}/24`);
  await lab.addr('node', 'up0', `${NODE_V6}/64`);
  await lab.exec('node', ['ip', 'route', 'add', 'default', 'via', CLIENT_V4]);
  await lab.exec('node', ['ip', '-6', 'route', 'add', 'default', 'via', '2001:db8:2::2']);

  await lab.exec('node', ['ip', 'link', 'add', 'br0', 'type', 'bridge']);
  await lab.exec('node', ['ip', 'link', 'set', 'br0', 'up']);
  await lab.addr('node', 'br0', `${NODE_POD_SIDE_V4}/24`);
  await lab.addr('node', 'br0', '2001:db8:1::1/64');

  for (const [i, pod] of PODS.entries()) {
    await lab.addNamespace(pod.name);
    await lab.link(pod.name, 'eth0', 'node', `vp${i}`);
    await lab.exec('node', ['ip', 'link', 'set', `vp${i}`, 'master', 'br0']);
    await lab.addr(pod.name, 'eth0', `${pod.v4}/24`);
    await lab.addr(pod.name, 'eth0', `${pod.v6}/64`);
    await lab.exec(pod.name, ['ip', 'route', 'add', 'default', 'via', NODE_POD_SIDE_V4]);
    await lab.exec(pod.name, ['ip', '-6', 'route', 'add', 'default', 'via', '2001:db8:1::1']);
  }
  await Promise.all(
    PODS.map((pod) =>
      lab.start(
        pod.name,
        [process.execPath, ...NODE_ARGS, helperScript('hello-server.ts'), pod.name, String(POD_PORT)],
        /listening/,
        startTimeoutMs,
      ),
    ),
  );
}

const hostPort = (ip: string, port: number): string =>
  ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;

/** `count` HTTP requests from namespace `from`, each on a new connection. */
export async function probe(
  lab: Lab,
  from: string,
  ip: string,
  port: number,
  count = 1,
  timeoutMs = 2000,
): Promise<ProbeResult[]> {
  const out = await lab.exec(from, [
    process.execPath,
    ...NODE_ARGS,
    helperScript('http-probe.ts'),
    `http://${hostPort(ip, port)}/`,
    String(count),
    String(timeoutMs),
  ]);
  return JSON.parse(out) as ProbeResult[];
}

/** The pods that answered, e.g. {'pod-a', 'pod-c'}. */
export function answeredBy(results: readonly ProbeResult[]): Set<string> {
  return new Set(results.filter((r) => r.ok).map((r) => (r.body ?? '').replace(/^Hello from /, '')));
}

/** A connection held open by a client process: `next()` makes one more request on it. */
export interface HeldConnection {
  readonly first: ProbeResult;
  next(): Promise<ProbeResult>;
}

export async function holdConnection(
  lab: Lab,
  from: string,
  ip: string,
  port: number,
  startTimeoutMs = 10_000,
): Promise<HeldConnection> {
  const url = `http://${hostPort(ip, port)}/`;
  const { child, output } = await lab.start(
    from,
    [process.execPath, ...NODE_ARGS, helperScript('http-probe.ts'), url, 'hold', '2000'],
    /\n/,
    startTimeoutMs,
  );
  let buffered = '';
  let waiter: ((line: string) => void) | null = null;
  child.stdout?.on('data', (b: Buffer) => {
    buffered += b.toString('utf8');
    const nl = buffered.indexOf('\n');
    if (nl >= 0 && waiter) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      const w = waiter;
      waiter = null;
      w(line);
    }
  });
  const next = (): Promise<ProbeResult> =>
    new Promise((resolve) => {
      waiter = (line) => resolve(JSON.parse(line) as ProbeResult);
      child.stdin?.write('next\n');
    });
  return { first: JSON.parse(output.split('\n')[0] ?? '') as ProbeResult, next };
}
