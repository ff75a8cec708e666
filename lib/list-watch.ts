// The apiserver side of an informer: a paginated list through RawKubeClient
// and a watch through client-node's Watch, both yielding wire JSON.
import { Watch } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { DEFAULT_WATCHDOG_MS, Informer } from './informer.ts';
import type { InformerOptions, Lister, WatchEventType, Watcher } from './informer.ts';
import type { KubeObject } from './object-cache.ts';
import { RawKubeClient } from './raw-client.ts';
import { collectionPath } from './resource-path.ts';
import type { ResourceType } from './resource-path.ts';

export interface ListWatchOptions {
  /** Omit for cluster-scoped types or to watch all namespaces. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Items per list page; default 500 like client-go. */
  pageSize?: number;
}

interface ListPage<T> {
  items?: T[];
  metadata?: { resourceVersion?: string; continue?: string };
}

/**
 * Drops metadata.managedFields from an object fresh off the wire (in place).
 * Server-side apply's field ownership is often the largest part of an object,
 * no controller here reads it, and an update that omits it leaves it
 * unchanged on the server, so caches never need to hold it.
 */
export function trimForCache<T>(object: T): T {
  const meta = (object as { metadata?: { managedFields?: unknown } } | undefined)?.metadata;
  if (meta && 'managedFields' in meta) delete meta.managedFields;
  return object;
}

export function apiLister<T>(
  client: Pick<RawKubeClient, 'getJson'>,
  type: ResourceType,
  options: ListWatchOptions = {},
): Lister<T> {
  const path = collectionPath(type, options.namespace);
  return async () => {
    const items: T[] = [];
    let resourceVersion = '';
    let token: string | undefined;
    do {
      // Pages after the first share the first page's snapshot via the continue token.
      const page: ListPage<T> = await client.getJson<ListPage<T>>(path, {
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
        limit: options.pageSize ?? 500,
        continue: token,
      });
      for (const item of page.items ?? []) items.push(trimForCache(item));
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      token = page.metadata?.continue || undefined;
    } while (token);
    return { items, resourceVersion };
  };
}

export interface ApiWatcherOptions extends ListWatchOptions {
  /**
   * client-node's Watch aborts a connection that has been idle for its own
   * timeout (30s by default). Raised to this value so that the informer's
   * watchdog, which is configurable, decides when a quiet watch is dead.
   */
  idleTimeoutMs?: number;
  /** Random in [min, max) seconds; the server ends the watch then (spreads load across apiservers). */
  serverTimeoutSeconds?: { min: number; max: number };
  random?: () => number;
}

export function apiWatcher<T>(
  kc: KubeConfig,
  type: ResourceType,
  options: ApiWatcherOptions = {},
): Watcher<T> {
  const path = collectionPath(type, options.namespace);
  const watch = new Watch(kc);
  // A private field in client-node 2.0; if it disappears, quiet watches are
  // merely restarted more often (the informer treats that like its watchdog).
  if (options.idleTimeoutMs !== undefined && 'requestTimeoutMs' in watch) {
    (watch as unknown as { requestTimeoutMs: number }).requestTimeoutMs = options.idleTimeoutMs;
  }
  const span = options.serverTimeoutSeconds ?? { min: 300, max: 600 };
  const random = options.random ?? Math.random;
  return async (resourceVersion, onEvent, onDone) => {
    const controller = await watch.watch(
      path,
      {
        resourceVersion: resourceVersion || undefined,
        allowWatchBookmarks: true,
        timeoutSeconds: Math.floor(span.min + random() * (span.max - span.min)),
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
      },
      (type: string, object: unknown) =>
        onEvent({ type: type as WatchEventType, object: trimForCache(object as T) }),
      (err: unknown) => onDone(err ?? undefined),
    );
    return { abort: () => controller.abort() };
  };
}

export type ResourceInformerOptions<T> = Omit<InformerOptions<T>, 'list' | 'watch' | 'name'> &
  ListWatchOptions & {
    name?: string;
    /** Reuse one client across informers; made from kc when omitted. */
    client?: RawKubeClient;
  };

/** An informer for one resource type, e.g. `{ group: '', version: 'v1', plural: 'services' }`. */
export function createResourceInformer<T extends KubeObject>(
  kc: KubeConfig,
  type: ResourceType,
  options: ResourceInformerOptions<T> = {},
): Informer<T> {
  const { client, namespace, labelSelector, fieldSelector, pageSize, name, ...rest } = options;
  const selection = { namespace, labelSelector, fieldSelector };
  const watchdogMs = rest.watchdogMs ?? DEFAULT_WATCHDOG_MS;
  return new Informer<T>({
    ...rest,
    watchdogMs,
    name: name ?? (type.group ? `${type.plural}.${type.group}` : type.plural),
    list: apiLister<T>(client ?? RawKubeClient.fromKubeConfig(kc), type, { ...selection, pageSize }),
    watch: apiWatcher<T>(kc, type, { ...selection, idleTimeoutMs: watchdogMs + 5_000 }),
  });
}
