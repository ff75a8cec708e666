// Active health checks against real HTTP servers. EndpointSlices refuse
// loopback addresses, so the backends live at 192.0.2.11-13 on the loopback
// of a network namespace made for this test, and the operator runs in that
// namespace too (reaching the apiserver through a Unix-socket bridge). No
// traffic leaves the namespace.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installCrds } from '../../harness/install-crds.ts';
import { freePort, waitFor } from '../../harness/processes.ts';
import type { Managed } from '../../harness/processes.ts';
import { sharedKubeConfig, sharedKubeconfigPath, uniqueName } from '../../harness/shared.ts';
import { Kube } from './helpers/kube.ts';
import type { Slice } from './helpers/kube.ts';
import { TestNetns, helperScript, netnsUnavailable, run } from './helpers/netns.ts';
import { endpointsArgs } from './helpers/operator.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const BACKENDS = ['192.0.2.11', '192.0.2.12', '192.0.2.13'];
const PORT = 8080;
const INTERVAL_MS = 1000;
const UNHEALTHY_THRESHOLD = 2;

// Needs root and ip netns; without them it fails with the reason instead of skipping.
const unavailable = await netnsUnavailable();
if (unavailable) throw new Error(`health-check tests cannot run here: ${unavailable}`);

describe('ServiceBackends health checks (network namespace)', () => {
  const kc = sharedKubeConfig();
  const kube = new Kube(kc, uniqueName('svcbe-health'));
  const dir = mkdtempSync(join(tmpdir(), 'portico-health-'));
  const netns = new TestNetns();
  const servers = new Map<string, Managed>();
  let others: Slice[] = [];
  let healthPort = 0;

  const startBackend = async (ip: string) => {
    servers.set(
      ip,
      await netns.start(
        process.execPath,
        [helperScript('http-backend.ts'), ip, String(PORT)],
        join(dir, `${ip}.log`),
        /listening/,
      ),
    );
  };

  beforeAll(async () => {
    await installCrds(kc);
    await kube.createNamespace();
    await netns.create(BACKENDS);
    const server = new URL(kc.getCurrentCluster()!.server);
    await netns.bridgeApiserver(server.hostname, Number(server.port), join(dir, 'bridge.log'));
    for (const ip of BACKENDS) await startBackend(ip);
    healthPort = await freePort();
    await netns.start(
      process.execPath,
      [
        '--disable-warning=ExperimentalWarning',
        join(root, 'operator', 'main.ts'),
        `--kubeconfig=${sharedKubeconfigPath()}`,
        `--namespace=${kube.ns}`,
        `--health-port=${healthPort}`,
        ...endpointsArgs(),
      ],
      join(dir, 'operator.log'),
    );
  });

  afterAll(async () => {
    await netns.destroy();
    await kube.deleteNamespace();
  });

  it('publishes three healthy HTTP backends as ready, beside the slices others manage', async () => {
    await kube.service('web', { type: 'ClusterIP', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] });
    // Hand-written Endpoints, mirrored into a slice by kube-controller-manager, and a slice of another manager.
    await kube.client.postJson(`/api/v1/namespaces/${kube.ns}/endpoints`, {
      metadata: { name: 'web' },
      subsets: [
        { addresses: [{ ip: '192.0.2.99' }], ports: [{ name: 'http', port: PORT, protocol: 'TCP' }] },
      ],
    });
    await kube.client.postJson(`/apis/discovery.k8s.io/v1/namespaces/${kube.ns}/endpointslices`, {
      metadata: {
        name: 'web-other',
        labels: {
          'kubernetes.io/service-name': 'web',
          'endpointslice.kubernetes.io/managed-by': 'other.example.com',
        },
      },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['192.0.2.98'], conditions: { ready: true } }],
      ports: [{ name: 'http', port: PORT, protocol: 'TCP' }],
    });
    await waitFor('mirrored slice', async () => (await kube.slices('web')).length === 2);

    await kube.backends('web', {
      serviceName: 'web',
      backends: BACKENDS.map((ip) => ({ ip })),
      ports: [{ name: 'http', port: PORT }],
      healthCheck: {
        type: 'http',
        path: '/',
        interval: `${INTERVAL_MS / 1000}s`,
        timeout: '500ms',
        healthyThreshold: 2,
        unhealthyThreshold: UNHEALTHY_THRESHOLD,
      },
    });
    await kube.waitPublished('web', Object.fromEntries(BACKENDS.map((ip) => [ip, true])), 90_000);
    // The slices and the status are two writes; the status may land a moment later.
    await waitFor(
      'status shows 3 healthy',
      async () => (await kube.getBackends('web')).status?.healthy === 3,
    );
    const status = (await kube.getBackends('web')).status;
    expect(status).toMatchObject({ healthy: 3, total: 3 });
    expect(status?.backends?.map((b) => [b.ip, b.healthy])).toEqual(BACKENDS.map((ip) => [ip, true]));
    others = (await kube.slices('web')).filter(
      (s) => !s.metadata.labels?.['endpointslice.kubernetes.io/managed-by']?.startsWith('servicebackends'),
    );
    expect(others.map((s) => s.metadata.labels?.['endpointslice.kubernetes.io/managed-by']).sort()).toEqual([
      'endpointslicemirroring-controller.k8s.io',
      'other.example.com',
    ]);
  });

  // How fast (interval × unhealthyThreshold plus a write) is printed, not
  // asserted: timing belongs in bench/, and a loaded CI machine stretches it.
  it('turns a stopped backend not-ready and says why', async () => {
    const stopped = Date.now();
    await netns.stop(servers.get(BACKENDS[1]!)!);
    await kube.waitPublished('web', { [BACKENDS[0]!]: true, [BACKENDS[1]!]: false, [BACKENDS[2]!]: true });
    process.stderr.write(
      `health: ${BACKENDS[1]} not ready after ${Date.now() - stopped} ms ` +
        `(interval × unhealthyThreshold = ${INTERVAL_MS * UNHEALTHY_THRESHOLD} ms)\n`,
    );
    await waitFor(
      'status shows 2 healthy',
      async () => (await kube.getBackends('web')).status?.healthy === 2,
    );
    const status = (await kube.getBackends('web')).status;
    expect(status).toMatchObject({ healthy: 2, total: 3 });
    const b = status?.backends?.find((x) => x.ip === BACKENDS[1]);
    expect(b).toMatchObject({ healthy: false, message: `${BACKENDS[1]}: connect ECONNREFUSED` });
  });

  it('brings it back once it answers again', async () => {
    await startBackend(BACKENDS[1]!);
    await kube.waitPublished('web', Object.fromEntries(BACKENDS.map((ip) => [ip, true])));
    // Slices are written before status: wait for the status to catch up.
    await waitFor(
      'status shows 3 healthy',
      async () => (await kube.getBackends('web')).status?.healthy === 3,
    );
    const b = (await kube.getBackends('web')).status?.backends?.find((x) => x.ip === BACKENDS[1]);
    expect(b?.healthy).toBe(true);
    expect(b?.message).toBeUndefined();
  });

  it('reports health-check latency and address counts as metrics', async () => {
    const script = `fetch('http://127.0.0.1:${healthPort}/metrics').then((r) => r.text()).then((t) => process.stdout.write(t))`;
    const metrics = await run(['ip', 'netns', 'exec', netns.name, process.execPath, '-e', script]);
    expect(metrics).toMatch(
      /^portico_servicebackends_health_check_duration_seconds_count\{type="http",result="success"\} [1-9]/m,
    );
    expect(metrics).toMatch(
      /^portico_servicebackends_health_check_duration_seconds_count\{type="http",result="failure"\} [1-9]/m,
    );
    expect(metrics).toMatch(
      new RegExp(
        `^portico_servicebackends_addresses\\{namespace="${kube.ns}",name="web",state="healthy"\\} 3$`,
        'm',
      ),
    );
  });

  it('left the slices of other managers untouched', async () => {
    const now = await kube.slices('web');
    for (const o of others) {
      expect(now.find((s) => s.metadata.name === o.metadata.name)?.metadata.resourceVersion).toBe(
        o.metadata.resourceVersion,
      );
    }
  });
});
