// ClusterIP pools and the cluster's networking.k8s.io/v1 ServiceCIDRs, against
// a real apiserver (and its controller manager, which readies ServiceCIDRs):
// a pool outside every ServiceCIDR is flagged on its status and left alone by
// the webhook, and a pool with spec.serviceCIDR.create gets a ServiceCIDR of
// its own, which its clusterIPs then come from, and which goes with the pool.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { describeError, isNotFound } from '../../../lib/errors.ts';
import { RawKubeClient } from '../../../lib/raw-client.ts';
import { installCrds } from '../../harness/install-crds.ts';
import { waitFor } from '../../harness/processes.ts';
import { sharedKubeConfig, uniqueName } from '../../harness/shared.ts';
import { createPool, OperatorRun, SERVICES, waitPoolCondition } from './helpers.ts';

const SERVICE_CIDRS = '/apis/networking.k8s.io/v1/servicecidrs';

interface ServiceCIDR {
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: { cidrs: string[] };
  status?: { conditions?: Array<{ type: string; status: string }> };
}

describe('operator: ClusterIP pools and ServiceCIDRs', () => {
  const kc = sharedKubeConfig();
  const client = RawKubeClient.fromKubeConfig(kc);
  const namespace = uniqueName('svccidr');
  const outsideNs = `${namespace}-out`;
  const ownNs = `${namespace}-own`;
  const ownCIDR = `portico.${namespace}.own`;
  const operator = new OperatorRun(client, namespace);

  const createService = (ns: string, name: string) =>
    client.postJson<{ spec: { clusterIP?: string } }>(SERVICES(ns), {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name },
      spec: { ports: [{ port: 80, protocol: 'TCP' }] },
    });

  beforeAll(async () => {
    await installCrds(kc);
    for (const ns of [namespace, outsideNs, ownNs]) {
      await client.postJson('/api/v1/namespaces', { metadata: { name: ns } });
    }
    await operator.start();
  });

  afterAll(async () => {
    await operator.cleanup();
    await client.deleteJson(`${SERVICE_CIDRS}/${ownCIDR}`).catch(() => undefined);
    for (const ns of [outsideNs, ownNs, namespace]) {
      await client.deleteJson(`/api/v1/namespaces/${ns}`).catch(() => undefined);
    }
  });

  it("flags a pool outside every ServiceCIDR, naming its range and the cluster's CIDRs; the webhook skips it", async () => {
    await createPool(client, namespace, 'IPAddressPool', 'outside', {
      addresses: ['10.123.45.0/28'],
      usage: 'ClusterIP',
      serviceAllocation: { namespaces: [outsideNs] },
    });
    const { condition, pool } = await waitPoolCondition(
      client,
      namespace,
      'ipaddresspools',
      'outside',
      (c) => c?.status === 'True',
      'OutsideServiceCIDR',
    );
    expect(condition?.message).toContain('spec.addresses[0] "10.123.45.0/28"');
    expect(condition?.message).toContain('kubernetes 10.96.0.0/16');
    expect(pool.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'OutsideServiceCIDR',
    });
    // The webhook leaves the pool alone: the Service is created with the cluster's allocation.
    const svc = await createService(outsideNs, 'web');
    expect(svc.spec.clusterIP).toMatch(/^10\.96\./);
  });

  it('refuses serviceCIDR.create on a LoadBalancer pool, naming the field', async () => {
    let error = '';
    try {
      await createPool(client, namespace, 'IPAddressPool', 'lb', {
        addresses: ['192.0.2.0/28'],
        serviceCIDR: { create: true },
      });
    } catch (err) {
      error = describeError(err);
    }
    expect(error).toContain('spec.serviceCIDR');
    expect(error).toContain('create: true needs usage ClusterIP');
  });

  it('says which field keeps a pool from having its own ServiceCIDR', async () => {
    await createPool(client, namespace, 'IPAddressPool', 'ranged', {
      addresses: ['10.123.47.1-10.123.47.5'],
      usage: 'ClusterIP',
      serviceCIDR: { create: true },
      serviceAllocation: { namespaces: [`${namespace}-none`] },
    });
    const { condition } = await waitPoolCondition(
      client,
      namespace,
      'ipaddresspools',
      'ranged',
      (c) => c?.status === 'False',
      'ServiceCIDR',
    );
    expect(condition?.reason).toBe('InvalidSpec');
    expect(condition?.message).toContain('spec.addresses[0]: "10.123.47.1-10.123.47.5" is not a CIDR');
  });

  it('creates a ServiceCIDR for a pool that asks, hands out its addresses, and deletes it with the pool', async () => {
    await createPool(client, namespace, 'IPAddressPool', 'own', {
      addresses: ['10.123.46.0/28'],
      usage: 'ClusterIP',
      serviceCIDR: { create: true },
      serviceAllocation: { namespaces: [ownNs] },
    });
    const { condition, pool } = await waitPoolCondition(
      client,
      namespace,
      'ipaddresspools',
      'own',
      (c, p) =>
        c?.status === 'True' &&
        p.status?.conditions?.some((x) => x.type === 'OutsideServiceCIDR' && x.status === 'False') === true,
      'ServiceCIDR',
    );
    expect(condition?.message).toContain(`ServiceCIDR ${ownCIDR} holds 10.123.46.0/28`);
    expect(pool.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    const cidr = await client.getJson<ServiceCIDR>(`${SERVICE_CIDRS}/${ownCIDR}`);
    expect(cidr.spec.cidrs).toEqual(['10.123.46.0/28']);
    expect(cidr.metadata.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'portico',
      'portico.io/pool-namespace': namespace,
    });
    expect(cidr.metadata.annotations).toMatchObject({ 'portico.io/pool': 'own' });

    // Once the controller manager readies it, the apiserver accepts the pool's addresses.
    let ip = '';
    let n = 0;
    await waitFor('a Service gets a clusterIP from the pool', async () => {
      const name = `web-${++n}`;
      try {
        ip = (await createService(ownNs, name)).spec.clusterIP ?? '';
      } catch (err) {
        // Refused (422) until the ServiceCIDR is Ready; try again.
        if (String(describeError(err)).includes('422')) return false;
        throw err;
      }
      if (ip.startsWith('10.123.46.')) return true;
      await client.deleteJson(`${SERVICES(ownNs)}/${name}`);
      return false;
    });
    expect(ip).toMatch(/^10\.123\.46\.\d+$/);

    // The ServiceCIDR waits for the Services holding its addresses, then goes with the pool.
    await client.deleteJson(`/api/v1/namespaces/${ownNs}`);
    await client.deleteJson(`/apis/portico.io/v1alpha1/namespaces/${namespace}/ipaddresspools/own`);
    await waitFor(
      `ServiceCIDR ${ownCIDR} deleted`,
      async () => {
        try {
          await client.getJson(`${SERVICE_CIDRS}/${ownCIDR}`);
          return false;
        } catch (err) {
          if (isNotFound(err)) return true;
          throw err;
        }
      },
      90_000,
    );
  });
});
