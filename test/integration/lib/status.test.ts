// Status writes against a real apiserver: the status subresource, 409 on a
// stale resourceVersion, and re-read-and-retry until every writer's change is in.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { setCondition } from '../../../lib/conditions.ts';
import type { Condition } from '../../../lib/conditions.ts';
import { isAlreadyExists } from '../../../lib/errors.ts';
import { RawKubeClient } from '../../../lib/raw-client.ts';
import { updateStatus } from '../../../lib/status.ts';
import type { StatusClient } from '../../../lib/status.ts';
import { sharedKubeConfig } from '../../harness/shared.ts';
import { createNamespace, deleteNamespace, waitUntil } from './helpers.ts';

jest.setTimeout(60_000);

// A throwaway CRD with a status subresource, so this test does not depend on
// Portico's own CRDs being generated.
const group = 'lib-test.portico.io';
const widgets = { group, version: 'v1', plural: 'widgets' };
// Wire JSON, posted through RawKubeClient (the typed model spells the
// x-kubernetes-* fields differently).
const crd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `widgets.${group}` },
  spec: {
    group,
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
              status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
            },
          },
        },
      },
    ],
  },
};

interface Widget {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; generation?: number };
  spec?: Record<string, unknown>;
  status?: { writers?: Record<string, number>; conditions?: Condition[] };
}

describe('updateStatus (real apiserver)', () => {
  let kc: KubeConfig;
  let raw: RawKubeClient;
  let custom: CustomObjectsApi;
  let namespace: string;

  beforeAll(async () => {
    kc = sharedKubeConfig();
    raw = RawKubeClient.fromKubeConfig(kc);
    custom = kc.makeApiClient(CustomObjectsApi);
    await raw
      .postJson('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd)
      .catch((err: unknown) => {
        if (!isAlreadyExists(err)) throw err;
      });
    // 404 until discovery has it, then 429 while its storage initialises.
    await waitUntil('the test CRD to be served', () =>
      raw.getJson(`/apis/${group}/v1/widgets`).then(
        () => true,
        () => false,
      ),
    );
    namespace = await createNamespace(kc, 'status');
  });
  afterAll(() => deleteNamespace(kc, namespace));

  async function createWidget(name: string): Promise<void> {
    await custom.createNamespacedCustomObject({
      ...widgets,
      namespace,
      body: { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name }, spec: { size: 1 } },
    });
  }

  const markWriter =
    (writer: string) =>
    (w: Widget): Widget => ({
      ...w,
      status: {
        ...w.status,
        writers: { ...w.status?.writers, [writer]: (w.status?.writers?.[writer] ?? 0) + 1 },
      },
    });

  it('gets a 409 when another writer got in first, re-reads, and keeps both changes', async () => {
    await createWidget('race');
    const ref = { ...widgets, namespace, name: 'race' };
    const puts: number[] = [];
    let interfered = false;
    // The other writer strikes between our read and our write.
    const client: StatusClient = {
      getJson: (path, query) => raw.getJson(path, query),
      putJson: async <T>(path: string, body: unknown) => {
        if (!interfered) {
          interfered = true;
          await updateStatus<Widget>(raw, ref, markWriter('other'));
        }
        try {
          const result = await raw.putJson<T>(path, body);
          puts.push(200);
          return result;
        } catch (err) {
          puts.push((err as { code: number }).code);
          throw err;
        }
      },
    };
    const result = await updateStatus<Widget>(client, ref, markWriter('me'));
    expect(puts).toEqual([409, 200]);
    expect(result).toMatchObject({ written: true, attempts: 2 });
    const stored = await raw.getJson<Widget>(`/apis/${group}/v1/namespaces/${namespace}/widgets/race`);
    expect(stored.status?.writers).toEqual({ other: 1, me: 1 });
    // The status subresource leaves spec alone.
    expect(stored.spec).toEqual({ size: 1 });
  });

  it('converges when many writers race for the same object', async () => {
    await createWidget('crowd');
    const ref = { ...widgets, namespace, name: 'crowd' };
    const writers = Array.from({ length: 6 }, (_, i) => `w${i}`);
    const results = await Promise.all(
      writers.map((w) => updateStatus<Widget>(raw, ref, markWriter(w), { maxAttempts: writers.length + 1 })),
    );
    const stored = await raw.getJson<Widget>(`/apis/${group}/v1/namespaces/${namespace}/widgets/crowd`);
    expect(stored.status?.writers).toEqual(Object.fromEntries(writers.map((w) => [w, 1])));
    expect(results.some((r) => r.attempts > 1)).toBe(true);
  });

  it('writes conditions once and skips an identical second write', async () => {
    await createWidget('cond');
    const ref = { ...widgets, namespace, name: 'cond' };
    const ready = (w: Widget): Widget => ({
      ...w,
      status: {
        ...w.status,
        conditions: setCondition(
          w.status?.conditions,
          { type: 'Ready', status: 'True', reason: 'Reconciled', message: 'all good' },
          { observedGeneration: w.metadata.generation },
        ),
      },
    });
    const first = await updateStatus<Widget>(raw, ref, ready);
    const second = await updateStatus<Widget>(raw, ref, ready);
    expect(first.written).toBe(true);
    expect(second.written).toBe(false);
    expect(second.object.metadata.resourceVersion).toBe(first.object.metadata.resourceVersion);
    expect(first.object.status?.conditions?.[0]).toMatchObject({
      type: 'Ready',
      status: 'True',
      observedGeneration: 1,
    });
  });

  it('writes the status of core objects too (Service load balancer ingress)', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedService({
      namespace,
      body: {
        metadata: { name: 'lb' },
        spec: { type: 'LoadBalancer', ports: [{ port: 80 }], selector: { app: 'x' } },
      },
    });
    type Service = { metadata: { name: string }; status?: { loadBalancer?: { ingress?: { ip: string }[] } } };
    await updateStatus<Service>(
      raw,
      { group: '', version: 'v1', plural: 'services', namespace, name: 'lb' },
      (s) => ({
        ...s,
        status: { loadBalancer: { ingress: [{ ip: '192.0.2.10' }] } },
      }),
    );
    const svc = await core.readNamespacedService({ name: 'lb', namespace });
    expect(svc.status?.loadBalancer?.ingress?.map((i) => i.ip)).toEqual(['192.0.2.10']);
  });
});
