// Added latency of a Service create through the mutating Service webhook
// (ClusterIP pools), p50/p99, in one run against a real apiserver:
//   - filled: a namespace a ClusterIP pool selects (the webhook picks the address);
//   - pass-through: a namespace no pool selects (the webhook is called, changes nothing);
//   - no webhook: the same creates after the operator stopped and its
//     MutatingWebhookConfiguration was deleted.
//
//   node bench/service-webhook-latency.ts [--count 1000] [--concurrency 1]
//
// Uses PORTICO_TEST_KUBECONFIG when set, else starts a private control plane.
// Prints numbers; asserts nothing.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { API_VERSION } from '../crds/index.ts';
import type { RawKubeClient } from '../lib/raw-client.ts';
import { startOperator } from '../test/harness/operator-process.ts';
import type { OperatorProcess } from '../test/harness/operator-process.ts';
import { freePort, waitFor } from '../test/harness/processes.ts';
import { benchCluster } from './control-plane.ts';
import { ms, summarize, table } from './stats.ts';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '1' },
  },
});
const count = Number(values.count);
const concurrency = Number(values.concurrency);
const MWC = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations';
const VWC = '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations';

interface Svc {
  spec: { clusterIP?: string };
}

async function each(n: number, limit: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, n) }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

async function measure(client: RawKubeClient, namespace: string, n: number): Promise<number[]> {
  const out: number[] = [];
  await each(n, concurrency, async (i) => {
    const t0 = performance.now();
    await client.postJson<Svc>(`/api/v1/namespaces/${namespace}/services`, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: `svc-${i}` },
      spec: { ports: [{ port: 80, protocol: 'TCP' }] },
    });
    out.push(performance.now() - t0);
  });
  return out;
}

async function main(): Promise<void> {
  const { cp, kubeconfig, client } = await benchCluster();
  const run = Date.now().toString(36);
  const portico = `bench-portico-${run}`;
  const [filled, passThrough, none] = ['filled', 'pass', 'none'].map((k) => `bench-${k}-${run}`) as [
    string,
    string,
    string,
  ];
  for (const ns of [portico, filled, passThrough, none]) {
    await client.postJson('/api/v1/namespaces', { metadata: { name: ns } });
  }
  await client.postJson(`/apis/portico.io/v1alpha1/namespaces/${portico}/ipaddresspools`, {
    apiVersion: API_VERSION,
    kind: 'IPAddressPool',
    metadata: { name: 'bench' },
    spec: { addresses: ['10.96.16.0/20'], usage: 'ClusterIP', serviceAllocation: { namespaces: [filled] } },
  });
  const port = await freePort();
  const mutating = `${portico}-mutating`;
  const validating = `${portico}-validating`;
  let op: OperatorProcess | undefined;
  const rows: string[][] = [];
  try {
    op = await startOperator({
      kubeconfig,
      namespace: portico,
      logFile: join(tmpdir(), `${portico}-operator.log`),
      args: [
        `--webhook-port=${port}`,
        `--webhook-url=https://127.0.0.1:${port}`,
        `--validating-webhook-configuration=${validating}`,
        `--mutating-webhook-configuration=${mutating}`,
      ],
    });
    let probes = 0;
    await waitFor('the Service webhook to fill ClusterIPs', async () => {
      const svc = await client.postJson<Svc>(`/api/v1/namespaces/${filled}/services`, {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: `probe-${++probes}` },
        spec: { ports: [{ port: 80, protocol: 'TCP' }] },
      });
      return (svc.spec.clusterIP ?? '').startsWith('10.96.16.');
    });
    process.stderr.write(`${count} creates: filled by the webhook...\n`);
    const a = summarize(await measure(client, filled, count));
    process.stderr.write(`${count} creates: webhook pass-through...\n`);
    const b = summarize(await measure(client, passThrough, count));
    await op.stop();
    op = undefined;
    await client.deleteJson(`${MWC}/${mutating}`);
    process.stderr.write(`${count} creates: no webhook...\n`);
    const c = summarize(await measure(client, none, count));
    const row = (name: string, s: typeof a) => [
      name,
      ms(s.p50),
      ms(s.p99),
      `${(s.p50 - c.p50).toFixed(1)} / ${(s.p99 - c.p99).toFixed(1)}`,
    ];
    rows.push(row('webhook fills clusterIP', a), row('webhook pass-through', b), row('no webhook', c));
  } finally {
    await op?.stop();
    for (const path of [`${MWC}/${mutating}`, `${VWC}/${validating}`]) {
      await client.deleteJson(path).catch(() => undefined);
    }
    for (const ns of [filled, passThrough, none, portico]) {
      await client.deleteJson(`/api/v1/namespaces/${ns}`).catch(() => undefined);
    }
    await cp?.stop();
  }
  process.stdout.write(
    `\nService create latency (ms), ${count} creates each, concurrency ${concurrency}\n\n` +
      table(['path', 'p50', 'p99', 'added p50 / p99'], rows) +
      '\n',
  );
}

await main();
