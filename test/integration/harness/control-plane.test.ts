import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoreV1Api, VersionApi } from '@kubernetes/client-node';
import { sharedKubeConfig, uniqueName } from '../../harness/shared.ts';

describe('the harness control plane', () => {
  const kc = sharedKubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const ns = uniqueName('harness');

  beforeAll(async () => {
    await core.createNamespace({ body: { metadata: { name: ns } } });
  });
  afterAll(async () => {
    await core.deleteNamespace({ name: ns });
  });

  it('serves the pinned Kubernetes version', async () => {
    const v = await kc.makeApiClient(VersionApi).getCode();
    expect(v.gitVersion).toBe(process.env.PORTICO_K8S_VERSION ?? 'v1.37.2');
  });

  it('runs the controller-manager: a new namespace gets its default ServiceAccount', async () => {
    let found = false;
    for (let i = 0; i < 100 && !found; i++) {
      const sas = await core.listNamespacedServiceAccount({ namespace: ns });
      found = sas.items.some((sa) => sa.metadata?.name === 'default');
      if (!found) await new Promise((r) => setTimeout(r, 200));
    }
    expect(found).toBe(true);
  });

  it('allocates dual-stack ClusterIPs from its Service CIDRs', async () => {
    const svc = await core.createNamespacedService({
      namespace: ns,
      body: {
        metadata: { name: 'web' },
        spec: { ipFamilyPolicy: 'RequireDualStack', ports: [{ port: 80 }], selector: { app: 'web' } },
      },
    });
    expect(svc.spec?.clusterIPs).toHaveLength(2);
    expect(svc.spec?.clusterIPs?.[0]).toMatch(/^10\.96\./);
    expect(svc.spec?.clusterIPs?.[1]).toMatch(/^fd00:10:96::/);
  });
});
