// The real apiserver calls the operator's mutating Service webhook over TLS:
// ClusterIPs and NodePorts of Services in pooled namespaces come from the
// selecting ClusterIP IPAddressPool and NodePortPool; everything else gets the
// apiserver's own allocation, and so does every Service while the operator is
// down (failurePolicy Ignore).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeError, isNotFound } from '../../../lib/errors.ts';
import { RawKubeClient } from '../../../lib/raw-client.ts';
import { parseIP } from '../../../operator/allocator/index.ts';
import { installCrds } from '../../harness/install-crds.ts';
import { startOperator, waitReady, type OperatorProcess } from '../../harness/operator-process.ts';
import { freePort, waitFor } from '../../harness/processes.ts';
import { sharedKubeConfig, sharedKubeconfigPath, uniqueName } from '../../harness/shared.ts';

interface Service {
  metadata: { name: string };
  spec: {
    clusterIP?: string;
    clusterIPs?: string[];
    ports?: Array<{ port: number; nodePort?: number }>;
  };
}

const VWC = '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations';
const MWC = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations';
const SERVICES = (ns: string) => `/api/v1/namespaces/${ns}/services`;

/** Inclusive IPv4/IPv6 range check on text addresses. */
function inRange(ip: string | undefined, lo: string, hi: string): boolean {
  const a = parseIP(ip ?? '');
  const l = parseIP(lo);
  const h = parseIP(hi);
  if (!a.ok || !l.ok || !h.ok || a.value.family !== l.value.family) return false;
  return a.value.value >= l.value.value && a.value.value <= h.value.value;
}

// The tenant pool sits in the Service CIDR's static band (the first 256
// addresses), which the apiserver's random allocator does not pick from while
// the rest is free, so a default allocation can never land in it.
const TENANT_V4: [string, string] = ['10.96.0.192', '10.96.0.255'];
const TENANT_V6: [string, string] = ['fd00:10:96::c0', 'fd00:10:96::ff'];
const BULK_V4: [string, string] = ['10.96.201.0', '10.96.201.255'];

describe('operator: ClusterIP and NodePort pools through the mutating Service webhook', () => {
  const kc = sharedKubeConfig();
  const client = RawKubeClient.fromKubeConfig(kc);
  const namespace = uniqueName('svcwh');
  const pooled = `${namespace}-a`;
  const other = `${namespace}-b`;
  const bulk = `${namespace}-bulk`;
  const tiny = `${namespace}-tiny`;
  const validating = `${namespace}-validating`;
  const mutating = `${namespace}-mutating`;
  let port: number;
  let operator: OperatorProcess | undefined;
  let starts = 0;

  const start = async () => {
    operator = await startOperator({
      kubeconfig: sharedKubeconfigPath(),
      namespace,
      logFile: join(tmpdir(), `${namespace}-operator-${++starts}.log`),
      args: [
        `--webhook-port=${port}`,
        `--webhook-url=https://127.0.0.1:${port}`,
        `--validating-webhook-configuration=${validating}`,
        `--mutating-webhook-configuration=${mutating}`,
      ],
    });
    await waitReady(operator);
  };

  const createService = (ns: string, name: string, spec: Record<string, unknown> = {}) =>
    client.postJson<Service>(SERVICES(ns), {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name },
      spec: { ports: [{ port: 80, protocol: 'TCP' }], ...spec },
    });

  beforeAll(async () => {
    await installCrds(kc);
    for (const ns of [namespace, pooled, other, bulk, tiny]) {
      await client.postJson('/api/v1/namespaces', { metadata: { name: ns } });
    }
    const pool = (kind: string, plural: string, name: string, spec: Record<string, unknown>) =>
      client.postJson(`/apis/portico.io/v1alpha1/namespaces/${namespace}/${plural}`, {
        apiVersion: 'portico.io/v1alpha1',
        kind,
        metadata: { name },
        spec,
      });
    const ipPool = (name: string, addresses: string[], ns: string) =>
      pool('IPAddressPool', 'ipaddresspools', name, {
        addresses,
        usage: 'ClusterIP',
        serviceAllocation: { namespaces: [ns] },
      });
    const portPool = (name: string, ports: string[], ns: string) =>
      pool('NodePortPool', 'nodeportpools', name, { ports, serviceAllocation: { namespaces: [ns] } });
    await ipPool('tenant', ['10.96.0.192/26', 'fd00:10:96::c0/122'], pooled);
    await ipPool('bulk', ['10.96.201.0/24'], bulk);
    await ipPool('tiny', ['10.96.0.100/31'], tiny);
    await portPool('tenant-ports', ['31000-31099'], pooled);
    await portPool('bulk-ports', ['31100-31399'], bulk);
    port = await freePort();
    await start();
    // The leader applies the configuration; the webhook answers once its caches are synced.
    let probes = 0;
    await waitFor('the Service webhook fills ClusterIPs', async () => {
      const name = `probe-${++probes}`;
      const svc = await createService(pooled, name);
      await client.deleteJson(`${SERVICES(pooled)}/${name}`);
      return inRange(svc.spec.clusterIP, ...TENANT_V4);
    });
  });

  afterAll(async () => {
    await operator?.stop();
    for (const path of [`${VWC}/${validating}`, `${MWC}/${mutating}`]) {
      await client.deleteJson(path).catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
    }
    for (const ns of [pooled, other, bulk, tiny, namespace]) {
      await client.deleteJson(`/api/v1/namespaces/${ns}`).catch(() => undefined);
    }
  });

  it('applies the webhook failing open, outside kube-system and the Portico namespace', async () => {
    const config = await client.getJson<{ webhooks?: Array<Record<string, unknown>> }>(`${MWC}/${mutating}`);
    expect(config.webhooks).toEqual([
      expect.objectContaining({
        name: 'services.portico.io',
        failurePolicy: 'Ignore',
        timeoutSeconds: 10,
        namespaceSelector: {
          matchExpressions: [
            { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', namespace] },
          ],
        },
      }),
    ]);
  });

  it('gives a pooled namespace an IPv4 ClusterIP from its pool, and another namespace the default', async () => {
    const a = await createService(pooled, 'v4');
    expect(inRange(a.spec.clusterIP, ...TENANT_V4)).toBe(true);
    expect(a.spec.clusterIPs).toEqual([a.spec.clusterIP]);
    const b = await createService(other, 'v4');
    expect(b.spec.clusterIP).toMatch(/^10\.96\./);
    expect(inRange(b.spec.clusterIP, ...TENANT_V4)).toBe(false);
  });

  it('gives a RequireDualStack Service one address of each family from the pool', async () => {
    const svc = await createService(pooled, 'dual', { ipFamilyPolicy: 'RequireDualStack' });
    expect(svc.spec.clusterIPs).toHaveLength(2);
    expect(inRange(svc.spec.clusterIPs?.[0], ...TENANT_V4)).toBe(true);
    expect(inRange(svc.spec.clusterIPs?.[1], ...TENANT_V6)).toBe(true);
  });

  it('takes NodePorts from the NodePortPool for NodePort and LoadBalancer Services', async () => {
    const np = await createService(pooled, 'np', {
      type: 'NodePort',
      ports: [
        { name: 'http', port: 80, protocol: 'TCP' },
        { name: 'https', port: 443, protocol: 'TCP' },
      ],
    });
    const lb = await createService(pooled, 'lb', { type: 'LoadBalancer' });
    const ports = [...(np.spec.ports ?? []), ...(lb.spec.ports ?? [])].map((p) => p.nodePort ?? 0);
    expect(ports).toHaveLength(3);
    for (const p of ports) expect(p >= 31000 && p <= 31099).toBe(true);
    expect(new Set(ports).size).toBe(3);
    const elsewhere = await createService(other, 'np', { type: 'NodePort' });
    expect(elsewhere.spec.ports?.[0]?.nodePort).toBeGreaterThanOrEqual(30000);
  });

  it('keeps values the user set', async () => {
    const svc = await createService(pooled, 'user', {
      type: 'NodePort',
      clusterIP: '10.96.0.77',
      ports: [{ port: 80, protocol: 'TCP', nodePort: 30777 }],
    });
    expect(svc.spec.clusterIP).toBe('10.96.0.77');
    expect(svc.spec.ports?.[0]?.nodePort).toBe(30777);
  });

  it('creates 200 Services concurrently in a pooled namespace with no failure and no duplicate', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) => createService(bulk, `s-${i}`, { type: 'NodePort' })),
    );
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [describeError(r.reason)] : []));
    expect(failures).toEqual([]);
    const services = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const ips = services.map((s) => s.spec.clusterIP ?? '');
    const ports = services.map((s) => s.spec.ports?.[0]?.nodePort ?? 0);
    expect(new Set(ips).size).toBe(200);
    expect(new Set(ports).size).toBe(200);
    expect(ips.filter((ip) => !inRange(ip, ...BULK_V4))).toEqual([]);
    expect(ports.filter((p) => p < 31100 || p > 31399)).toEqual([]);
  }, 120_000);

  it('refuses a Service when its pool is exhausted, naming the pool', async () => {
    await createService(tiny, 'one');
    await createService(tiny, 'two');
    let error = '';
    try {
      await createService(tiny, 'three');
    } catch (err) {
      error = describeError(err);
    }
    expect(error).toContain('IPAddressPool "tiny"');
    expect(error).toContain('no free IPv4 address');
  });

  it('with the operator stopped, Services are still created (failurePolicy Ignore)', async () => {
    await operator?.stop();
    operator = undefined;
    const svc = await createService(pooled, 'while-down', { type: 'NodePort' });
    expect(svc.spec.clusterIP).toMatch(/^10\.96\./);
    expect(inRange(svc.spec.clusterIP, ...TENANT_V4)).toBe(false);
    expect(svc.spec.ports?.[0]?.nodePort).toBeGreaterThanOrEqual(30000);
  });
});
