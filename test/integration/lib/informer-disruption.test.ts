// The informer when the apiserver goes away or history is compacted. These
// tests restart kube-apiserver, so they run on a control plane of their own.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { CoreV1Api } from '@kubernetes/client-node';
import type { KubeConfig, V1ConfigMap } from '@kubernetes/client-node';
import { Informer } from '../../../lib/informer.ts';
import type { InformerOptions } from '../../../lib/informer.ts';
import { apiLister, apiWatcher } from '../../../lib/list-watch.ts';
import type { KubeObject } from '../../../lib/object-cache.ts';
import { RawKubeClient } from '../../../lib/raw-client.ts';
import { ControlPlane } from '../../harness/control-plane.ts';
import { createNamespace, Partition, testLogger, waitUntil } from './helpers.ts';

jest.setTimeout(180_000);

type ConfigMap = KubeObject & { data?: Record<string, string> };
const configMaps = { group: '', version: 'v1', plural: 'configmaps' };

interface Seen {
  log: string[];
  /** resourceVersions delivered per key, in delivery order. */
  versions: Map<string, number[]>;
}

function record(informer: Informer<ConfigMap>): Seen {
  const seen: Seen = { log: [], versions: new Map() };
  const note = (kind: string, o: ConfigMap) => {
    const name = o.metadata?.name ?? '';
    seen.log.push(`${kind} ${name}${kind === 'delete' ? '' : ` ${o.data?.['v'] ?? ''}`}`);
    const list = seen.versions.get(name) ?? [];
    list.push(Number(o.metadata?.resourceVersion));
    seen.versions.set(name, list);
  };
  informer.addHandlers({
    add: (o) => note('add', o),
    update: (_old, o) => note('update', o),
    delete: (o) => note('delete', o),
  });
  return seen;
}

describe('Informer under disruption (own control plane)', () => {
  let cp: ControlPlane;
  let kc: KubeConfig;
  let core: CoreV1Api;

  beforeAll(async () => {
    cp = await ControlPlane.start({ controllerManager: false });
    kc = cp.kubeConfig();
    core = kc.makeApiClient(CoreV1Api);
  });
  afterAll(async () => {
    await cp?.stop();
  });

  function informerFor(
    namespace: string,
    extra: Partial<InformerOptions<ConfigMap>> = {},
  ): Informer<ConfigMap> {
    return new Informer<ConfigMap>({
      name: 'configmaps',
      list: apiLister<ConfigMap>(RawKubeClient.fromKubeConfig(kc), configMaps, { namespace }),
      watch: apiWatcher<ConfigMap>(kc, configMaps, { namespace }),
      backoff: { baseMs: 100, capMs: 1_000 },
      logger: testLogger,
      ...extra,
    });
  }

  const cm = (namespace: string, name: string, v: string): V1ConfigMap => ({
    metadata: { name, namespace },
    data: { v },
  });

  /** Waits until the informer's cache holds exactly what the apiserver holds. */
  async function converged(informer: Informer<ConfigMap>, namespace: string): Promise<void> {
    let server = new Map<string, string>();
    await waitUntil('cache to match the apiserver', async () => {
      const list = await core.listNamespacedConfigMap({ namespace });
      server = new Map(
        list.items.map((o) => [`${namespace}/${o.metadata?.name}`, o.metadata?.resourceVersion ?? '']),
      );
      const cache = new Map(
        informer.list().map((o) => [`${namespace}/${o.metadata?.name}`, o.metadata?.resourceVersion]),
      );
      return server.size === cache.size && [...server].every(([k, rv]) => cache.get(k) === rv);
    });
  }

  function expectIncreasingVersions(seen: Seen): void {
    for (const [name, rvs] of seen.versions) {
      expect({ name, rvs }).toEqual({ name, rvs: [...rvs].sort((a, b) => a - b) });
    }
  }

  it('loses no change across an apiserver restart', async () => {
    const namespace = await createNamespace(kc, 'restart');
    await core.createNamespacedConfigMap({ namespace, body: cm(namespace, 'a', '1') });
    await core.createNamespacedConfigMap({ namespace, body: cm(namespace, 'c', '1') });
    const informer = informerFor(namespace);
    const seen = record(informer);
    informer.start();
    try {
      await informer.waitForSync();
      // Changes right before the restart: the watch may or may not deliver them.
      await core.replaceNamespacedConfigMap({ name: 'a', namespace, body: cm(namespace, 'a', '2') });
      await core.createNamespacedConfigMap({ namespace, body: cm(namespace, 'b', '1') });
      await core.deleteNamespacedConfigMap({ name: 'c', namespace });
      await cp.restartApiserver();
      // And after it, while the informer may still be reconnecting.
      await core.replaceNamespacedConfigMap({ name: 'b', namespace, body: cm(namespace, 'b', '2') });
      await core.createNamespacedConfigMap({ namespace, body: cm(namespace, 'd', '1') });
      await core.deleteNamespacedConfigMap({ name: 'a', namespace });
      await converged(informer, namespace);

      expect(seen.log).toEqual(expect.arrayContaining(['delete c', 'add b 1', 'delete a', 'add d 1']));
      // b's last delivered state is its final one; a went 1 -> 2 (perhaps folded) -> deleted.
      expect(seen.log.filter((l) => l.startsWith('update b') || l.startsWith('add b')).at(-1)).toBe(
        'update b 2',
      );
      expect(seen.log.indexOf('add a 1')).toBe(0);
      expect(seen.log.indexOf('delete a')).toBeGreaterThan(seen.log.indexOf('add a 1'));
      expectIncreasingVersions(seen);
      const stats = informer.stats();
      expect(stats.errors + stats.gone).toBeGreaterThan(0);
    } finally {
      await informer.stop();
    }
  });

  it('relists after 410 Gone (compacted history) and emits the differences', async () => {
    const namespace = await createNamespace(kc, 'compact');
    for (const name of ['keep', 'change', 'remove', 'recreate']) {
      await core.createNamespacedConfigMap({ namespace, body: cm(namespace, name, '1') });
    }
    const partition = new Partition();
    const informer = informerFor(namespace, {
      watch: partition.wrap(apiWatcher<ConfigMap>(kc, configMaps, { namespace })),
    });
    const seen = record(informer);
    informer.start();
    try {
      await informer.waitForSync();
      const rvBefore = informer.resourceVersion();
      seen.log.length = 0;

      // Behind the informer's back:
      partition.cut();
      await core.replaceNamespacedConfigMap({
        name: 'change',
        namespace,
        body: cm(namespace, 'change', '2'),
      });
      await core.deleteNamespacedConfigMap({ name: 'remove', namespace });
      await core.deleteNamespacedConfigMap({ name: 'recreate', namespace });
      await core.createNamespacedConfigMap({ namespace, body: cm(namespace, 'recreate', '2') });
      await core.createNamespacedConfigMap({ namespace, body: cm(namespace, 'new', '1') });
      // Compaction removes the history the informer would resume from. The
      // apiserver's watch cache still holds it, and would serve it, so the
      // apiserver is restarted too: its fresh cache starts after rvBefore.
      await cp.compactEtcd();
      await cp.restartApiserver();
      partition.heal();

      await converged(informer, namespace);
      const stats = informer.stats();
      expect(stats.gone).toBeGreaterThanOrEqual(1);
      expect(stats.lists).toBeGreaterThanOrEqual(2);
      expect(Number(informer.resourceVersion())).toBeGreaterThan(Number(rvBefore));
      expect([...seen.log].sort()).toEqual(
        ['add new 1', 'add recreate 2', 'delete recreate', 'delete remove', 'update change 2'].sort(),
      );
      // A recreated object shows as delete then add, as a watcher would have seen it.
      expect(seen.log.indexOf('delete recreate')).toBeLessThan(seen.log.indexOf('add recreate 2'));
    } finally {
      await informer.stop();
    }
  });

  it('starts a paginated list over when its continue token has expired', async () => {
    const namespace = await createNamespace(kc, 'paged');
    for (let i = 0; i < 6; i++)
      await core.createNamespacedConfigMap({ namespace, body: cm(namespace, `p${i}`, '1') });
    const raw = RawKubeClient.fromKubeConfig(kc);
    let disrupted = false;
    let expired = 0;
    // After the first page, compact and restart so that the token is too old.
    const client = {
      getJson: async <T>(path: string, query?: Record<string, string | number | boolean | undefined>) => {
        if (query?.['continue'] && !disrupted) {
          disrupted = true;
          await core.createNamespacedConfigMap({ namespace, body: cm(namespace, 'late', '1') });
          await cp.compactEtcd();
          await cp.restartApiserver();
        }
        try {
          return await raw.getJson<T>(path, query);
        } catch (err) {
          if ((err as { code?: number }).code === 410) expired++;
          throw err;
        }
      },
    };
    const informer = informerFor(namespace, {
      list: apiLister<ConfigMap>(client, configMaps, { namespace, pageSize: 2 }),
    });
    informer.start();
    try {
      await informer.waitForSync();
      expect(expired).toBe(1);
      expect(informer.keys().sort()).toEqual(
        ['late', 'p0', 'p1', 'p2', 'p3', 'p4', 'p5'].map((n) => `${namespace}/${n}`).sort(),
      );
    } finally {
      await informer.stop();
    }
  });
});
