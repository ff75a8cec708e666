// The informer against a real apiserver: it sees what happens, in order.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { CoreV1Api } from '@kubernetes/client-node';
import type { KubeConfig, V1ConfigMap } from '@kubernetes/client-node';
import { createResourceInformer } from '../../../lib/list-watch.ts';
import type { Informer } from '../../../lib/informer.ts';
import type { KubeObject } from '../../../lib/object-cache.ts';
import { sharedKubeConfig } from '../../harness/shared.ts';
import { createNamespace, deleteNamespace, testLogger, waitUntil } from './helpers.ts';

jest.setTimeout(60_000);

type ConfigMap = KubeObject & { data?: Record<string, string> };
const configMaps = { group: '', version: 'v1', plural: 'configmaps' };

function record(informer: Informer<ConfigMap>): string[] {
  const seen: string[] = [];
  informer.addHandlers({
    add: (o) => seen.push(`add ${o.metadata?.name} ${JSON.stringify(o.data ?? {})}`),
    update: (_old, o) => seen.push(`update ${o.metadata?.name} ${JSON.stringify(o.data ?? {})}`),
    delete: (o) => seen.push(`delete ${o.metadata?.name}`),
  });
  return seen;
}

describe('Informer (real apiserver)', () => {
  let kc: KubeConfig;
  let core: CoreV1Api;
  let namespace: string;

  beforeAll(async () => {
    kc = sharedKubeConfig();
    core = kc.makeApiClient(CoreV1Api);
    namespace = await createNamespace(kc, 'informer');
  });
  afterAll(() => deleteNamespace(kc, namespace));

  const cm = (name: string, data: Record<string, string>): V1ConfigMap => ({
    metadata: { name, namespace },
    data,
  });

  it('lists what exists, then sees create, update and delete in order', async () => {
    await core.createNamespacedConfigMap({ namespace, body: cm('before', { v: '0' }) });
    const informer = createResourceInformer<ConfigMap>(kc, configMaps, { namespace, logger: testLogger });
    const seen = record(informer);
    informer.start();
    try {
      await informer.waitForSync();
      // The namespace's kube-root-ca.crt appears only if a controller manager runs; ignore it.
      const mine = () => seen.filter((s) => !s.includes('kube-root-ca.crt'));
      expect(mine()).toEqual(['add before {"v":"0"}']);

      await core.createNamespacedConfigMap({ namespace, body: cm('a', { v: '1' }) });
      await core.replaceNamespacedConfigMap({ name: 'a', namespace, body: cm('a', { v: '2' }) });
      await core.replaceNamespacedConfigMap({ name: 'a', namespace, body: cm('a', { v: '3' }) });
      await core.deleteNamespacedConfigMap({ name: 'a', namespace });
      await core.deleteNamespacedConfigMap({ name: 'before', namespace });
      await waitUntil('the delete of "before"', () => mine().includes('delete before'));

      expect(mine()).toEqual([
        'add before {"v":"0"}',
        'add a {"v":"1"}',
        'update a {"v":"2"}',
        'update a {"v":"3"}',
        'delete a',
        'delete before',
      ]);
      expect(informer.get(`${namespace}/a`)).toBeUndefined();
      expect(informer.stats()).toMatchObject({ lists: 1, gone: 0 });
    } finally {
      await informer.stop();
    }
  });

  it('caches objects without managedFields, from the list and from the watch', async () => {
    await core.createNamespacedConfigMap({ namespace, body: cm('listed', { v: '1' }) });
    const informer = createResourceInformer<ConfigMap>(kc, configMaps, { namespace, logger: testLogger });
    informer.start();
    try {
      await informer.waitForSync();
      await core.createNamespacedConfigMap({ namespace, body: cm('watched', { v: '1' }) });
      await waitUntil('the watched ConfigMap', () => informer.get(`${namespace}/watched`) !== undefined);
      const onServer = await core.readNamespacedConfigMap({ name: 'watched', namespace });
      expect(onServer.metadata?.managedFields?.length).toBeGreaterThan(0);
      for (const name of ['listed', 'watched']) {
        const cached = informer.get(`${namespace}/${name}`);
        expect(cached?.data).toEqual({ v: '1' });
        expect(cached?.metadata).not.toHaveProperty('managedFields');
      }
    } finally {
      await informer.stop();
      await core.deleteNamespacedConfigMap({ name: 'listed', namespace });
      await core.deleteNamespacedConfigMap({ name: 'watched', namespace });
    }
  });

  it('reads a collection larger than one page', async () => {
    for (let i = 0; i < 7; i++)
      await core.createNamespacedConfigMap({ namespace, body: cm(`page-${i}`, {}) });
    const informer = createResourceInformer<ConfigMap>(kc, configMaps, {
      namespace,
      pageSize: 2,
      logger: testLogger,
    });
    informer.start();
    try {
      await informer.waitForSync();
      const names = informer.list().map((o) => o.metadata?.name);
      for (let i = 0; i < 7; i++) expect(names).toContain(`page-${i}`);
    } finally {
      await informer.stop();
    }
  });

  it('filters by label selector and hands wire JSON to handlers', async () => {
    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'labelled', namespace, labels: { app: 'portico' } }, data: { x: 'y' } },
    });
    await core.createNamespacedConfigMap({ namespace, body: cm('unlabelled', {}) });
    const informer = createResourceInformer<ConfigMap>(kc, configMaps, {
      namespace,
      labelSelector: 'app=portico',
      logger: testLogger,
    });
    informer.start();
    try {
      await informer.waitForSync();
      expect(informer.keys()).toEqual([`${namespace}/labelled`]);
      const obj = informer.get(`${namespace}/labelled`);
      // Timestamps stay strings, as the apiserver sent them (typed clients turn them into Dates).
      expect(typeof obj?.metadata?.['creationTimestamp']).toBe('string');
    } finally {
      await informer.stop();
    }
  });
});
