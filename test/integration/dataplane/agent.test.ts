// The data-path agent (nftables backend) against the real apiserver and
// kube-controller-manager: Pods and Services are API objects, the controller
// writes the EndpointSlices, the test plays the kubelet (pod status), and the
// agent runs in-process with every command prefixed by `ip netns exec` into
// a node namespace, where real requests reach the pods.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import type { SpeakerContext, SpeakerPart } from '../../../speaker/context.ts';
import { createSpeakerInformers } from '../../../speaker/context.ts';
import { startDataplane } from '../../../speaker/dataplane/agent.ts';
import { KubeProxyFoundError } from '../../../speaker/dataplane/kube-proxy.ts';
import { createRegistry } from '../../../lib/metrics.ts';
import { sharedKubeConfig, uniqueName } from '../../harness/shared.ts';
import { netnsUnavailable } from '../../e2e/netns/netns.ts';
import { PdpLab } from '../../e2e/dataplane/pdp-lab.ts';
import { NODE_V4, PODS, POD_PORT, answeredBy, buildTopology, probe } from '../../e2e/dataplane/topology.ts';
import { createNamespace, deleteNamespace, testLogger, waitUntil } from '../lib/helpers.ts';
import { Cluster, CuttableProxy } from './objects.ts';

const unavailable = await netnsUnavailable();
if (unavailable) throw new Error(`data path integration tests cannot run here: ${unavailable}`);

const ALL = new Set(PODS.map((p) => p.name));
const sameSet = (a: Set<string>, b: Set<string>): boolean =>
  a.size === b.size && [...a].every((x) => b.has(x));

/** The shared kubeconfig, pointed at `port` on loopback (the cuttable proxy). */
function viaProxy(kc: KubeConfig, port: number): KubeConfig {
  const config = JSON.parse(kc.exportConfig()) as { clusters: { cluster: { server: string } }[] };
  for (const c of config.clusters) c.cluster.server = c.cluster.server.replace(/:\d+$/, `:${port}`);
  const out = new KubeConfig();
  out.loadFromString(JSON.stringify(config));
  return out;
}

describe('data path agent, nftables, from real API objects', () => {
  const kc = sharedKubeConfig();
  const lab = new PdpLab('agt');
  const nodeName = uniqueName('pdp-node');
  const abort = new AbortController();
  const registry = createRegistry({ defaultMetrics: false });
  let ns: string;
  let cluster: Cluster;
  let proxy: CuttableProxy;
  let part: SpeakerPart;
  let ctx: SpeakerContext;
  let clusterIP = '';
  let nodePort = 0;

  const reaches = (from: string, ip: string, port: number, want: Set<string>) =>
    waitUntil(
      `${ip}:${port} from ${from} answered by ${[...want].join(', ')}`,
      async () => sameSet(answeredBy(await probe(lab, from, ip, port, 15, 1000)), want),
      30_000,
    );

  beforeAll(async () => {
    await buildTopology(lab);
    ns = await createNamespace(kc, 'pdp');
    cluster = new Cluster(kc, ns);
    await cluster.createNode(nodeName, NODE_V4);
    for (const pod of PODS) {
      await cluster.createPod(pod.name, nodeName, 'hello');
      await cluster.setPodStatus(pod.name, pod.v4, true);
    }
    const svc = await cluster.api.createNamespacedService({
      namespace: ns,
      body: {
        metadata: { name: 'web' },
        spec: {
          type: 'NodePort',
          selector: { app: 'hello' },
          ports: [{ name: 'http', port: 80, targetPort: POD_PORT }],
        },
      },
    });
    clusterIP = svc.spec?.clusterIP ?? '';
    nodePort = svc.spec?.ports?.[0]?.nodePort ?? 0;

    const server = new URL(kc.getCurrentCluster()?.server ?? '');
    proxy = new CuttableProxy(server.hostname, Number(server.port));
    const proxied = viaProxy(kc, await proxy.listen());
    ctx = {
      kc: proxied,
      nodeName,
      namespace: ns,
      registry,
      informers: createSpeakerInformers(proxied, registry),
      signal: abort.signal,
    };
    part = await startDataplane(ctx, {
      mode: 'nftables',
      minSyncIntervalMs: 200,
      fullResyncIntervalMs: 2000,
      commandPrefix: ['ip', 'netns', 'exec', lab.ns('node')],
      logger: testLogger,
    });
  }, 120_000);

  afterAll(async () => {
    abort.abort();
    await part?.stop();
    // The informers belong to the context (main.ts in the speaker), not to the part.
    for (const inf of Object.values(ctx?.informers ?? {})) await inf.stop();
    await proxy?.close();
    await lab.cleanup();
    await cluster?.deleteNode(nodeName);
    if (ns) await deleteNamespace(kc, ns);
  }, 60_000);

  it('programs the node from the Service and the controller-written EndpointSlice: the ClusterIP reaches all pods', async () => {
    expect(clusterIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    await reaches('node', clusterIP, 80, ALL);
    expect(part.ready()).toBe(true);
  });

  it('the NodePort on the node address answers from the client namespace', async () => {
    await reaches('client', NODE_V4, nodePort, ALL);
  });

  it('a pod whose status turns not ready drops out', async () => {
    await cluster.setPodStatus('pod-c', PODS[2].v4, false);
    await reaches('node', clusterIP, 80, new Set(['pod-a', 'pod-b']));
    await cluster.setPodStatus('pod-c', PODS[2].v4, true);
    await reaches('node', clusterIP, 80, ALL);
  });

  it('a table deleted by hand comes back with the periodic full resync', async () => {
    await lab.exec('node', ['nft', 'delete', 'table', 'inet', 'portico']);
    await reaches('node', clusterIP, 80, ALL);
  });

  it('keeps the last good rules while the apiserver is unreachable', async () => {
    proxy.cut();
    try {
      // Longer than a full resync interval: full syncs run on the cached state.
      await new Promise((r) => setTimeout(r, 4500));
      expect(answeredBy(await probe(lab, 'node', clusterIP, 80, 15))).toEqual(ALL);
    } finally {
      proxy.heal();
    }
    await cluster.setPodStatus('pod-a', PODS[0].v4, false);
    await reaches('node', clusterIP, 80, new Set(['pod-b', 'pod-c']));
  });

  it('exports sync durations (full and partial), rules programmed and network programming latency', async () => {
    const text = await registry.metrics();
    const value = (re: RegExp): number => Number(re.exec(text)?.[1] ?? NaN);
    expect(
      value(/portico_dataplane_sync_duration_seconds_count\{mode="nftables",kind="full"\} (\d+)/),
    ).toBeGreaterThan(0);
    expect(
      value(/portico_dataplane_sync_duration_seconds_count\{mode="nftables",kind="partial"\} (\d+)/),
    ).toBeGreaterThan(0);
    expect(
      value(/portico_dataplane_rules_programmed\{mode="nftables",object="virtual_services"\} (\d+)/),
    ).toBeGreaterThanOrEqual(2);
    expect(
      value(/portico_dataplane_network_programming_latency_seconds_count\{mode="nftables"\} (\d+)/),
    ).toBeGreaterThan(0);
    expect(text).toContain('portico_dataplane_sync_failures_total');
  });

  it('refuses to start where kube-proxy has left its rules, unless told to', async () => {
    await lab.addNamespace('kp');
    await lab.exec('kp', ['nft', 'add', 'table', 'ip', 'kube-proxy']);
    const kpCtx: SpeakerContext = {
      kc,
      nodeName,
      namespace: ns,
      registry: createRegistry({ defaultMetrics: false }),
      informers: createSpeakerInformers(kc, createRegistry({ defaultMetrics: false })),
      signal: abort.signal,
    };
    const options = {
      mode: 'nftables' as const,
      minSyncIntervalMs: 200,
      fullResyncIntervalMs: 60_000,
      commandPrefix: ['ip', 'netns', 'exec', lab.ns('kp')],
      logger: testLogger,
    };
    await expect(startDataplane(kpCtx, options)).rejects.toThrow(KubeProxyFoundError);
    await expect(startDataplane(kpCtx, options)).rejects.toThrow(/nftables table ip kube-proxy/);
    const allowed = await startDataplane(kpCtx, { ...options, allowKubeProxy: true });
    await allowed.stop();
    for (const inf of Object.values(kpCtx.informers)) await inf.stop();
  });
});
