// The collision metric against a real apiserver: the webhook runs in this
// process with a view of the caches that misses one Service (as a lagging
// cache or another replica's fresh pick would), so it hands out an address
// that Service already holds. The apiserver refuses the create with 422; when
// the client retries, the webhook sees its earlier pick held by the other
// Service, counts one collision, and picks a free address.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ipAddressPoolKind } from '../../../crds/index.ts';
import { describeError, isNotFound, statusCode } from '../../../lib/errors.ts';
import { createResourceInformer } from '../../../lib/list-watch.ts';
import { childLogger } from '../../../lib/logger.ts';
import { createRegistry } from '../../../lib/metrics.ts';
import type { KubeObject } from '../../../lib/object-cache.ts';
import { RawKubeClient } from '../../../lib/raw-client.ts';
import { createServiceCaches } from '../../../operator/controllers/audit/wiring.ts';
import type { PoolObject } from '../../../operator/controllers/pools/status.ts';
import { createAdmissionWebhooks } from '../../../operator/webhook/index.ts';
import type { AdmissionWebhooks } from '../../../operator/webhook/index.ts';
import { serviceWebhookDefinition, ServiceMutator } from '../../../operator/webhook/mutate-service.ts';
import type { IPAddressResource, ServiceResource } from '../../../operator/webhook/mutate-service.ts';
import { installCrds } from '../../harness/install-crds.ts';
import { freePort, waitFor } from '../../harness/processes.ts';
import { sharedKubeConfig, uniqueName } from '../../harness/shared.ts';

const MWC = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations';
const SERVICES = (ns: string) => `/api/v1/namespaces/${ns}/services`;
// Static band of 10.96.0.0/16: the apiserver's random allocator stays out.
const TAKEN = '10.96.0.40';
const RESERVATION_MS = 4_000;

describe('Service webhook: collisions (422 from the apiserver) are counted', () => {
  const kc = sharedKubeConfig();
  const client = RawKubeClient.fromKubeConfig(kc);
  const namespace = uniqueName('collide');
  const pooled = `${namespace}-a`;
  const mutating = `${namespace}-mutating`;
  const registry = createRegistry({ defaultMetrics: false });
  const logger = childLogger('test.collisions');
  const caches = createServiceCaches({ kc, client, registry, logger, namespace, ipAddressApi: true });
  const pools = createResourceInformer<PoolObject & KubeObject>(kc, ipAddressPoolKind, {
    namespace,
    registry,
    logger,
  });
  /** What the webhook's view misses: the Service holding TAKEN, and its IPAddress. */
  let hidden = true;
  const isHidden = (ns?: string, name?: string) => hidden && ns === pooled && name === 'holder';
  let webhooks: AdmissionWebhooks | undefined;
  let mutator: ServiceMutator;

  const createService = (name: string, spec: Record<string, unknown> = {}) =>
    client.postJson<ServiceResource>(SERVICES(pooled), {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name },
      spec: { ports: [{ port: 80, protocol: 'TCP' }], ...spec },
    });
  const collisions = async () => {
    const m = await registry.getSingleMetric('portico_service_webhook_collisions_total')?.get();
    return (m?.values ?? []).reduce((sum, v) => sum + v.value, 0);
  };

  beforeAll(async () => {
    await installCrds(kc);
    for (const ns of [namespace, pooled])
      await client.postJson('/api/v1/namespaces', { metadata: { name: ns } });
    await client.postJson(`/apis/portico.io/v1alpha1/namespaces/${namespace}/ipaddresspools`, {
      apiVersion: 'portico.io/v1alpha1',
      kind: 'IPAddressPool',
      metadata: { name: 'tenant' },
      spec: { addresses: ['10.96.0.40/30'], usage: 'ClusterIP', serviceAllocation: { namespaces: [pooled] } },
    });
    caches.start();
    pools.start();
    mutator = new ServiceMutator({
      sources: {
        services: {
          list: () =>
            caches.services.list().filter((s) => !isHidden(s.metadata?.namespace, s.metadata?.name)),
        },
        namespaces: { get: (key) => caches.namespaces.get(key) },
        ipPools: pools,
        portPools: caches.portPools,
        ipAddresses: {
          list: () =>
            caches
              .ipAddresses!.list()
              .filter((a) => !isHidden(a.spec?.parentRef?.namespace, a.spec?.parentRef?.name)),
        },
        hasSynced: () => pools.hasSynced() && caches.hasSynced(),
      },
      registry,
      logger,
      // Short, so the probe's pick is released before the test; long enough for a retry.
      reservationTtlMs: RESERVATION_MS,
    });
    // The caches report to the ledger as in the operator, minus what the view hides.
    caches.services.addHandlers({
      add: (s) => {
        if (!isHidden(s.metadata?.namespace, s.metadata?.name)) mutator.observeService(s);
      },
    });
    caches.ipAddresses!.addHandlers({
      add: (a: IPAddressResource) => {
        if (!isHidden(a.spec?.parentRef?.namespace, a.spec?.parentRef?.name)) mutator.observeIPAddress(a);
      },
    });
    const port = await freePort();
    webhooks = createAdmissionWebhooks({
      kc,
      client,
      registry,
      logger,
      namespace,
      flags: {
        port,
        url: `https://127.0.0.1:${port}`,
        service: 'portico-webhook',
        secretName: 'portico-webhook-cert',
        validatingConfiguration: '',
        mutatingConfiguration: mutating,
        caValidityMs: 87_600 * 3_600_000,
        certValidityMs: 8_760 * 3_600_000,
      },
    })!;
    webhooks.add({ definition: serviceWebhookDefinition, handler: mutator.handler() });
    await webhooks.start();
    webhooks.startLeading();
    await waitFor(
      'webhook serving and caches synced',
      async () => webhooks!.ready() && caches.hasSynced() && pools.hasSynced(),
    );
    await waitFor('the apiserver calls the webhook', async () => {
      const svc = await createService(`probe-${Date.now()}`);
      await client.deleteJson(`${SERVICES(pooled)}/${svc.metadata?.name}`);
      return /^10\.96\.0\.4[0-3]$/.test(svc.spec?.clusterIP ?? '');
    });
    await new Promise((resolve) => setTimeout(resolve, RESERVATION_MS + 500));
  });

  afterAll(async () => {
    await webhooks?.stop();
    await caches.stop();
    await pools.stop();
    await client.deleteJson(`${MWC}/${mutating}`).catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
    });
    for (const ns of [pooled, namespace])
      await client.deleteJson(`/api/v1/namespaces/${ns}`).catch(() => undefined);
  });

  it('counts one collision when a retried create finds its earlier pick held by another Service', async () => {
    // A user-set value is kept by the webhook; the apiserver allocates it to "holder".
    const holder = await createService('holder', { clusterIP: TAKEN });
    expect(holder.spec?.clusterIP).toBe(TAKEN);
    // The webhook's view misses "holder", so it hands out TAKEN again: 422.
    let status: number | undefined;
    try {
      await createService('late');
    } catch (err) {
      status = statusCode(err);
      expect(describeError(err)).toContain(TAKEN);
    }
    expect(status).toBe(422);
    expect(await collisions()).toBe(0);

    // The view catches up; the client retries and gets the next free address.
    hidden = false;
    const retried = await createService('late');
    expect(retried.spec?.clusterIP).toBe('10.96.0.41');
    expect(await collisions()).toBe(1);
    const m = await registry.getSingleMetric('portico_service_webhook_collisions_total')?.get();
    expect(m?.values).toEqual([
      expect.objectContaining({ labels: { pool: 'tenant', field: 'clusterIP' }, value: 1 }),
    ]);
  });
});
