// LoadBalancer allocation latency: time from a Service create to
// status.loadBalancer.ingress showing up in a watch, p50/p99, with the
// operator running as its own process against a real apiserver. Beside it,
// in the same run, the floor: the same create followed by the client's own
// status write of the same size, seen through the same watch. Also the raw
// status PUT round trip and the operator's RSS at the end.
//
//   node bench/lb-latency.ts [--sizes 1000,10000] [--concurrency 32]
//
// Uses PORTICO_TEST_KUBECONFIG when set, else starts a private control plane.
// To profile the operator: PORTICO_OPERATOR_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof".
// Prints numbers; asserts nothing.
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { KubeConfig } from '@kubernetes/client-node';
import { API_VERSION } from '../crds/index.ts';
import { createResourceInformer } from '../lib/list-watch.ts';
import { createLogger } from '../lib/logger.ts';
import type { RawKubeClient } from '../lib/raw-client.ts';
import { startOperator } from '../test/harness/operator-process.ts';
import type { OperatorProcess } from '../test/harness/operator-process.ts';
import { waitFor } from '../test/harness/processes.ts';
import { benchCluster } from './control-plane.ts';
import { ms, summarize, table } from './stats.ts';

interface Svc {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  status?: { loadBalancer?: { ingress?: { ip?: string }[] } };
}

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '32' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const concurrency = Number(values.concurrency);
const CLASS = 'bench.portico.io/lb';

function serviceBody(name: string, cls: string) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name },
    spec: {
      type: 'LoadBalancer',
      loadBalancerClass: cls,
      allocateLoadBalancerNodePorts: false,
      selector: { app: name },
      ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
    },
  };
}

/** Runs `fn` for 0..n-1 with at most `limit` in flight. */
async function pool(n: number, limit: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, n) }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

/** Watches one namespace and resolves per Service when its ingress first appears. */
function ingressWatch(kc: KubeConfig, client: RawKubeClient, namespace: string) {
  const seen = new Map<string, number>();
  const waiters = new Map<string, (t: number) => void>();
  const informer = createResourceInformer<Svc>(
    kc,
    { group: '', version: 'v1', plural: 'services' },
    {
      client,
      namespace,
      logger: createLogger({ level: 'warn', name: 'bench' }),
    },
  );
  const check = (s: Svc) => {
    const name = s.metadata.name;
    if (seen.has(name) || (s.status?.loadBalancer?.ingress ?? []).length === 0) return;
    const t = performance.now();
    seen.set(name, t);
    waiters.get(name)?.(t);
  };
  informer.addHandlers({ add: check, update: (_o, n) => check(n) });
  informer.start();
  return {
    ready: () => informer.waitForSync(),
    when: (name: string) =>
      new Promise<number>((resolve) => {
        const t = seen.get(name);
        if (t !== undefined) resolve(t);
        else waiters.set(name, resolve);
      }),
    stop: () => informer.stop(),
  };
}

async function measure(
  kc: KubeConfig,
  client: RawKubeClient,
  namespace: string,
  n: number,
  cls: string,
  selfWrite: boolean,
): Promise<{ latency: number[]; statusPut: number[]; seconds: number }> {
  await client.postJson('/api/v1/namespaces', { metadata: { name: namespace } });
  const watch = ingressWatch(kc, client, namespace);
  await watch.ready();
  const latency: number[] = [];
  const statusPut: number[] = [];
  const started = performance.now();
  await pool(n, concurrency, async (i) => {
    const name = `svc-${i}`;
    const seen = watch.when(name);
    const t0 = performance.now();
    const created = await client.postJson<Svc>(
      `/api/v1/namespaces/${namespace}/services`,
      serviceBody(name, cls),
    );
    if (selfWrite) {
      const ip = `100.${64 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
      const p0 = performance.now();
      await client.putJson(`/api/v1/namespaces/${namespace}/services/${name}/status`, {
        ...created,
        status: { loadBalancer: { ingress: [{ ip, ipMode: 'VIP' }] } },
      });
      statusPut.push(performance.now() - p0);
    }
    latency.push((await seen) - t0);
  });
  const seconds = (performance.now() - started) / 1000;
  await watch.stop();
  return { latency, statusPut, seconds };
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

function printTable(rows: string[][]): void {
  process.stdout.write(
    `\nLoadBalancer allocation latency (ms), concurrency ${concurrency}\n\n` +
      table(['services', 'measure', 'p50', 'p99', 'svc/s', 'x floor p50/p99'], rows) +
      '\n',
  );
}

async function main(): Promise<void> {
  const { cp, kubeconfig, kc, client } = await benchCluster();
  const run = Date.now().toString(36);
  const portico = `bench-portico-${run}`;
  await client.postJson('/api/v1/namespaces', { metadata: { name: portico } });
  await client.postJson(`/apis/portico.io/v1alpha1/namespaces/${portico}/ipaddresspools`, {
    apiVersion: API_VERSION,
    kind: 'IPAddressPool',
    metadata: { name: 'bench' },
    spec: { addresses: ['100.64.0.0/16'] },
  });
  let op: OperatorProcess | undefined;
  const rows: string[][] = [];
  try {
    op = await startOperator({
      kubeconfig,
      namespace: portico,
      logFile: join(tmpdir(), `${portico}-operator.log`),
      args: ['--webhook-port=0', `--load-balancer-class=${CLASS}`, '--default-load-balancer=false'],
    });
    const health = `http://127.0.0.1:${op.healthPort}/metrics`;
    await waitFor('the operator to lead', async () =>
      /^portico_lb_controller_active 1$/m.test(await (await fetch(health)).text()),
    );
    for (const n of sizes) {
      process.stderr.write(`${n} Services: floor...\n`);
      const floor = await measure(kc, client, `bench-floor-${n}-${run}`, n, 'bench.portico.io/none', true);
      process.stderr.write(`${n} Services: operator...\n`);
      const lb = await measure(kc, client, `bench-lb-${n}-${run}`, n, CLASS, false);
      const f = summarize(floor.latency);
      const l = summarize(lb.latency);
      const put = summarize(floor.statusPut);
      rows.push(
        [`${n}`, 'status PUT round trip', ms(put.p50), ms(put.p99), '', ''],
        [
          `${n}`,
          'floor: create + own status write',
          ms(f.p50),
          ms(f.p99),
          (n / floor.seconds).toFixed(0),
          '',
        ],
        [
          `${n}`,
          'operator: create -> ingress',
          ms(l.p50),
          ms(l.p99),
          (n / lb.seconds).toFixed(0),
          `${(l.p50 / f.p50).toFixed(2)} / ${(l.p99 / f.p99).toFixed(2)}`,
        ],
        [`${n}`, `operator RSS: ${rssMiB(op.pid).toFixed(0)} MiB`, '', '', '', ''],
      );
      // Printed as each size finishes, so a long run that is cut short still reports.
      printTable(rows);
    }
  } finally {
    await op?.stop();
    await cp?.stop();
  }
}

await main();
