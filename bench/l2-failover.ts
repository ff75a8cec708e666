// L2 failover time as the client sees it: a client in its own network
// namespace sends an ARP request for the VIP every 10 ms; the time from the
// announcing speaker's death to the first reply from another node is one
// sample. Two kinds of death: SIGKILL of the speaker, and its node's links cut.
// After each sample the old node is restored and wins its IP back (rendezvous
// hash), so every sample starts from the same state. Real speakers
// (speaker/main.ts) in network namespaces, against a real apiserver.
//
//   node bench/l2-failover.ts [--runs 20] [--interval 10]
//
// Uses PORTICO_TEST_KUBECONFIG when set, else starts a private control plane.
// Needs root. Prints numbers; asserts nothing. Reply times are read on a 5 ms
// poll (the packet socket's), so samples carry up to 5 ms of extra delay.
import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { API_VERSION } from '../crds/index.ts';
import { elect } from '../speaker/l2/election.ts';
import { L2Lab, l2LabUnavailable } from '../test/harness/l2-lab.ts';
import type { LabNode } from '../test/harness/l2-lab.ts';
import { PID_FILE_ENV, sleep, startProcess, stopProcess, waitFor } from '../test/harness/processes.ts';
import { LabNodes } from '../test/integration/l2/kube.ts';
import { benchCluster } from './control-plane.ts';
import { ms, summarize, table } from './stats.ts';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '20' }, interval: { type: 'string', default: '10' } },
});
const RUNS = Number(values.runs);
const VIP = '192.168.77.200';
const PROBER = fileURLToPath(new URL('../test/harness/arp-prober.ts', import.meta.url));
const now = () => performance.timeOrigin + performance.now();

/** Replies seen by the prober, in arrival order. */
const replies: { t: number; mac: string }[] = [];

async function main(): Promise<void> {
  const why = await l2LabUnavailable();
  if (why) throw new Error(`cannot run: ${why}`);
  const { cp, kubeconfig, kc, client } = await benchCluster();
  const run = Date.now().toString(36);
  const portico = `bench-l2-${run}`;
  const ns = `bench-l2-svc-${run}`;
  for (const name of [portico, ns]) await client.postJson('/api/v1/namespaces', { metadata: { name } });
  const crd = (plural: string, kind: string, name: string, spec: unknown) =>
    client.postJson(`/apis/portico.io/v1alpha1/namespaces/${portico}/${plural}`, {
      apiVersion: API_VERSION,
      kind,
      metadata: { name },
      spec,
    });
  await crd('ipaddresspools', 'IPAddressPool', 'bench', { addresses: [`${VIP}/32`] });
  await crd('l2advertisements', 'L2Advertisement', 'bench', {});

  const lab = new L2Lab();
  const nodes = new LabNodes(client);
  const prober = { m: undefined as ReturnType<typeof startProcess> | undefined };
  try {
    await lab.create({ nodes: 3, vips: [VIP] });
    await lab.bridgeApiserver(kc.getCurrentCluster()!.server);
    for (const n of lab.nodes) await nodes.create(n);
    const args = [`--kubeconfig=${kubeconfig}`, `--namespace=${portico}`];
    await Promise.all(lab.nodes.map((n) => lab.startSpeaker(n.short, args, false)));
    for (const n of lab.nodes) await lab.waitSpeakerReady(n.short);

    // A LoadBalancer Service of a class nobody serves, with the address written by us.
    const svc = await client.postJson<{ metadata: { resourceVersion: string } }>(
      `/api/v1/namespaces/${ns}/services`,
      {
        metadata: { name: 'vip' },
        spec: {
          type: 'LoadBalancer',
          loadBalancerClass: 'bench.portico.io/none',
          allocateLoadBalancerNodePorts: false,
          ports: [{ port: 80, protocol: 'TCP' }],
        },
      },
    );
    await client.putJson(`/api/v1/namespaces/${ns}/services/vip/status`, {
      metadata: { name: 'vip', resourceVersion: svc.metadata.resourceVersion },
      status: { loadBalancer: { ingress: [{ ip: VIP, ipMode: 'VIP' }] } },
    });

    const logFile = join(mkdtempSync(join(tmpdir(), 'portico-l2-bench-')), 'prober.log');
    prober.m = startProcess(
      'ip',
      ['netns', 'exec', lab.client, process.execPath, PROBER, 'eth0', VIP, '192.168.77.100', values.interval],
      logFile,
    );
    const pidFile = process.env[PID_FILE_ENV];
    if (pidFile && prober.m.child.pid) appendFileSync(pidFile, `${prober.m.child.pid} ${process.execPath}\n`);
    // Follow the prober's output through its log file.
    let offset = 0;
    const { openSync, readSync, fstatSync } = await import('node:fs');
    const fd = openSync(logFile, 'r');
    const poll = setInterval(() => {
      const size = fstatSync(fd).size;
      if (size <= offset) return;
      const buf = Buffer.alloc(size - offset);
      readSync(fd, buf, 0, buf.length, offset);
      const text = buf.toString('utf8');
      const end = text.lastIndexOf('\n') + 1;
      offset += Buffer.byteLength(text.slice(0, end));
      for (const line of text.slice(0, end).split('\n')) {
        const [t, mac] = line.split(' ');
        if (t && mac && /^\d/.test(t)) replies.push({ t: Number(t), mac });
      }
    }, 5);

    const home = lab.node(
      elect(
        VIP,
        lab.nodes.map((n) => ({ node: n.name })),
      )!,
    );
    const answering = async (n: LabNode, since: number) =>
      waitFor(
        `${n.short} answering`,
        async () => replies.some((r) => r.t >= since && r.mac === n.mac0),
        60_000,
        20,
      );
    await answering(home, 0);

    const results: Record<string, number[]> = { SIGKILL: [], 'link cut': [] };
    for (const kind of Object.keys(results)) {
      for (let i = 0; i < RUNS; i++) {
        // Settle: the home node has answered for a while, and nothing else did.
        await sleep(1500);
        const t0 = now();
        if (kind === 'SIGKILL') await lab.stopSpeaker(home.short, 'SIGKILL');
        else await lab.setLink(home.short, false);
        await waitFor(
          'another node answering',
          async () => replies.some((r) => r.t >= t0 && r.mac !== home.mac0),
          30_000,
          5,
        );
        const first = replies.find((r) => r.t >= t0 && r.mac !== home.mac0)!;
        results[kind]!.push(first.t - t0);
        process.stderr.write(`${kind} #${i + 1}: ${(first.t - t0).toFixed(1)} ms\n`);
        // Restore, and wait until the home node has its IP back.
        const back = now();
        if (kind === 'SIGKILL') await lab.startSpeaker(home.short, args, true);
        else await lab.setLink(home.short, true);
        await answering(home, back);
        replies.splice(0, replies.length);
      }
    }
    clearInterval(poll);

    const rows = Object.entries(results).map(([kind, samples]) => {
      const s = summarize(samples);
      return [kind, String(s.n), ms(s.p50), ms(s.p99), ms(s.max)];
    });
    console.log(
      `\nL2 failover as seen by the client (ARP probe every ${values.interval} ms; heartbeat 100 ms, dead after 350 ms)\n`,
    );
    console.log(table(['death', 'n', 'p50 ms', 'p99 ms', 'max ms'], rows));
  } finally {
    await stopProcess(prober.m);
    await lab.destroy();
    await nodes.deleteAll();
    for (const name of [ns, portico])
      await client.deleteJson(`/api/v1/namespaces/${name}`).catch(() => undefined);
    await cp?.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
