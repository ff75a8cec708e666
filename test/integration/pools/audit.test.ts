// The audit against a real apiserver: Services whose clusterIP or nodePort
// lies outside the pool that selects them (set by hand, or created while the
// operator was down and the apiserver allocated) get one Warning Event, a
// metric and a ServicesOutsidePool condition on the pool; the Service itself
// is never changed, and the finding clears once the Service is gone. Also the
// NodePortPool status: used/available counts and field-named errors.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RawKubeClient } from '../../../lib/raw-client.ts';
import { parseIP } from '../../../operator/allocator/index.ts';
import { installCrds } from '../../harness/install-crds.ts';
import { waitFor } from '../../harness/processes.ts';
import { sharedKubeConfig, uniqueName } from '../../harness/shared.ts';
import { createPool, eventsFor, OperatorRun, SERVICES, waitPoolCondition } from './helpers.ts';

interface Service {
  metadata: { name: string; resourceVersion: string };
  spec: { clusterIP?: string; clusterIPs?: string[]; ports?: Array<{ port: number; nodePort?: number }> };
}

// Static band of the harness's 10.96.0.0/16 (first 256 addresses): the
// apiserver's random allocator does not pick here, so a default allocation is
// always outside the pool.
const POOL_V4 = ['10.96.0.64', '10.96.0.95'] as const;
const inPool = (ip: string | undefined) => {
  const a = parseIP(ip ?? '');
  const lo = parseIP(POOL_V4[0]);
  const hi = parseIP(POOL_V4[1]);
  return a.ok && lo.ok && hi.ok && a.value.value >= lo.value.value && a.value.value <= hi.value.value;
};

describe('operator: audit of Services outside their ClusterIP/NodePort pool', () => {
  const kc = sharedKubeConfig();
  const client = RawKubeClient.fromKubeConfig(kc);
  const namespace = uniqueName('audit');
  const pooled = `${namespace}-a`;
  // The operator's node-port range is narrower than the apiserver's, so a pool beyond it is invalid.
  const operator = new OperatorRun(client, namespace, [
    '--audit-interval=1s',
    '--service-node-port-range=30000-31999',
  ]);

  const createService = (name: string, spec: Record<string, unknown> = {}) =>
    client.postJson<Service>(SERVICES(pooled), {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name },
      spec: { ports: [{ port: 80, protocol: 'TCP' }], ...spec },
    });
  const getService = (name: string) => client.getJson<Service>(`${SERVICES(pooled)}/${name}`);

  beforeAll(async () => {
    await installCrds(kc);
    for (const ns of [namespace, pooled])
      await client.postJson('/api/v1/namespaces', { metadata: { name: ns } });
    await createPool(client, namespace, 'IPAddressPool', 'tenant', {
      addresses: ['10.96.0.64/27'],
      usage: 'ClusterIP',
      serviceAllocation: { namespaces: [pooled] },
    });
    await createPool(client, namespace, 'NodePortPool', 'tenant-ports', {
      ports: ['31500-31509'],
      serviceAllocation: { namespaces: [pooled] },
    });
    await operator.start();
    let probes = 0;
    await waitFor('the Service webhook fills ClusterIPs', async () => {
      const name = `probe-${++probes}`;
      const svc = await createService(name);
      await client.deleteJson(`${SERVICES(pooled)}/${name}`);
      return inPool(svc.spec.clusterIP);
    });
  });

  afterAll(async () => {
    await operator.cleanup();
    for (const ns of [pooled, namespace])
      await client.deleteJson(`/api/v1/namespaces/${ns}`).catch(() => undefined);
  });

  it('counts the NodePortPool ports Services hold, and the ClusterIP pool addresses', async () => {
    const svc = await createService('np', { type: 'NodePort' });
    const port = svc.spec.ports?.[0]?.nodePort ?? 0;
    expect(port >= 31500 && port <= 31509).toBe(true);
    const { pool } = await waitPoolCondition(
      client,
      namespace,
      'nodeportpools',
      'tenant-ports',
      (c, p) => c?.status === 'True' && p.status?.used === 1,
      'Ready',
    );
    expect(pool.status).toMatchObject({ total: 10, used: 1, available: 9 });
    await waitPoolCondition(
      client,
      namespace,
      'ipaddresspools',
      'tenant',
      (_c, p) => (p.status?.ipv4?.assigned ?? 0) >= 1,
      'Ready',
    );
  });

  it('flags a NodePortPool beyond the node-port range on its status, naming the field', async () => {
    await createPool(client, namespace, 'NodePortPool', 'beyond', { ports: ['31990-32010'] });
    const { condition } = await waitPoolCondition(
      client,
      namespace,
      'nodeportpools',
      'beyond',
      (c) => c?.status === 'True',
      'Invalid',
    );
    expect(condition?.message).toContain('spec.ports[0]');
    expect(condition?.message).toContain('outside the node port range 30000-31999');
    await client.deleteJson(`/apis/portico.io/v1alpha1/namespaces/${namespace}/nodeportpools/beyond`);
  });

  it('flags values set by hand outside the pools, and keeps them', async () => {
    await createService('by-hand', {
      type: 'NodePort',
      clusterIP: '10.96.0.21',
      ports: [{ port: 80, protocol: 'TCP', nodePort: 30521 }],
    });
    await waitFor('an OutsidePool Event for spec.ports[0].nodePort of by-hand', async () =>
      (await eventsFor(client, pooled, 'by-hand', 'OutsidePool')).some((e) =>
        e.message.startsWith('spec.ports[0].nodePort 30521 lies outside NodePortPool'),
      ),
    );
    const { condition } = await waitPoolCondition(
      client,
      namespace,
      'nodeportpools',
      'tenant-ports',
      (c) => c?.status === 'True' && c.message.includes('by-hand'),
      'ServicesOutsidePool',
    );
    expect(condition?.message).toContain(`${pooled}/by-hand spec.ports[0].nodePort=30521`);
    const svc = await getService('by-hand');
    expect(svc.spec.clusterIP).toBe('10.96.0.21');
    expect(svc.spec.ports?.[0]?.nodePort).toBe(30521);
  });

  it('with the operator stopped a Service is still created; after a restart the audit flags it', async () => {
    await operator.stop();
    const down = await createService('while-down', { type: 'NodePort' });
    expect(down.spec.clusterIP).toMatch(/^10\.96\./);
    expect(inPool(down.spec.clusterIP)).toBe(false);
    await operator.start();

    await waitFor('an OutsidePool Event for the clusterIP of while-down', async () =>
      (await eventsFor(client, pooled, 'while-down', 'OutsidePool')).some(
        (e) =>
          e.type === 'Warning' &&
          e.message.includes(
            `spec.clusterIPs[0] ${down.spec.clusterIP} lies outside IPAddressPool ${namespace}/tenant`,
          ),
      ),
    );
    const { condition } = await waitPoolCondition(
      client,
      namespace,
      'ipaddresspools',
      'tenant',
      (c) => c?.status === 'True' && c.message.includes('while-down'),
      'ServicesOutsidePool',
    );
    expect(condition?.reason).toBe('ValuesOutsidePool');
    expect(condition?.message).toContain(`${pooled}/while-down spec.clusterIPs[0]=${down.spec.clusterIP}`);
    // by-hand's clusterIP 10.96.0.21 is outside too.
    expect(condition?.message).toMatch(/^2 Services/);
    await waitFor(
      'portico_audit_findings for the ClusterIP pool',
      async () => (await operator.metric('portico_audit_findings{pool="tenant",field="clusterIP"}')) === 2,
    );

    // The Service is untouched.
    const after = await getService('while-down');
    expect(after.spec.clusterIP).toBe(down.spec.clusterIP);
    expect(after.metadata.resourceVersion).toBe(down.metadata.resourceVersion);
  });

  it('does not send the Event again on later passes', async () => {
    const passes = 'portico_workqueue_work_duration_seconds_count{name="service-audit"}';
    const start = (await operator.metric(passes)) ?? 0;
    await waitFor('three more audit passes', async () => ((await operator.metric(passes)) ?? 0) >= start + 3);
    const events = await eventsFor(client, pooled, 'while-down', 'OutsidePool');
    expect(events.map((e) => e.count ?? 1)).toEqual(events.map(() => 1));
    // One for the clusterIP, one for the nodePort (both allocated by the apiserver).
    expect(events).toHaveLength(2);
  });

  it('clears the findings once the Services are gone', async () => {
    await client.deleteJson(`${SERVICES(pooled)}/while-down`);
    await client.deleteJson(`${SERVICES(pooled)}/by-hand`);
    const { condition } = await waitPoolCondition(
      client,
      namespace,
      'ipaddresspools',
      'tenant',
      (c) => c?.status === 'False',
      'ServicesOutsidePool',
    );
    expect(condition?.reason).toBe('AllInside');
    await waitPoolCondition(
      client,
      namespace,
      'nodeportpools',
      'tenant-ports',
      (c) => c?.status === 'False',
      'ServicesOutsidePool',
    );
    await waitFor(
      'portico_audit_findings back to 0',
      async () => (await operator.metric('portico_audit_findings{pool="tenant",field="clusterIP"}')) === 0,
    );
  });
});
