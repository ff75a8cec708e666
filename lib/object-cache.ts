// The informer's in-memory store, kept free of I/O so that the rules for
// turning watch events and relists into add/update/delete are unit-testable.
import { objectKey } from './resource-path.ts';

/** The little of an object the cache needs; everything else is carried as is. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    resourceVersion?: string;
    [field: string]: unknown;
  };
}

export type CacheDelta<T> =
  { type: 'add'; object: T } | { type: 'update'; oldObject: T; object: T } | { type: 'delete'; object: T };

export function keyOf(obj: KubeObject): string {
  return objectKey(obj.metadata ?? {});
}

export class ObjectCache<T extends KubeObject> {
  #items = new Map<string, T>();

  get size(): number {
    return this.#items.size;
  }

  get(key: string): T | undefined {
    return this.#items.get(key);
  }

  list(): T[] {
    return [...this.#items.values()];
  }

  keys(): string[] {
    return [...this.#items.keys()];
  }

  /**
   * Stores an added or modified object. Returns nothing when the cache already
   * holds this exact resourceVersion: a replayed event is not a change.
   */
  upsert(obj: T): CacheDelta<T> | undefined {
    const key = keyOf(obj);
    const old = this.#items.get(key);
    this.#items.set(key, obj);
    if (!old) return { type: 'add', object: obj };
    if (sameVersion(old, obj)) return undefined;
    return { type: 'update', oldObject: old, object: obj };
  }

  /** Removes a deleted object; the delta carries the final state the apiserver sent. */
  remove(obj: T): CacheDelta<T> | undefined {
    const key = keyOf(obj);
    if (!this.#items.delete(key)) return undefined;
    return { type: 'delete', object: obj };
  }

  /**
   * Replaces the whole content with a fresh list (after a 410 or at start) and
   * returns the deltas a watcher would have seen: deletes for objects that are
   * gone (with their last known state), then adds and updates in list order.
   * Objects whose resourceVersion did not change produce no delta. An object
   * deleted and created again under the same name while we were not watching
   * (its uid changed) shows as a delete and an add, as a watcher would see it.
   */
  replace(items: readonly T[]): CacheDelta<T>[] {
    const next = new Map<string, T>();
    for (const item of items) next.set(keyOf(item), item);
    const deltas: CacheDelta<T>[] = [];
    const recreated = new Set<string>();
    for (const [key, old] of this.#items) {
      const obj = next.get(key);
      if (!obj) deltas.push({ type: 'delete', object: old });
      else if (!sameUid(old, obj)) {
        deltas.push({ type: 'delete', object: old });
        recreated.add(key);
      }
    }
    for (const [key, obj] of next) {
      const old = this.#items.get(key);
      if (!old || recreated.has(key)) deltas.push({ type: 'add', object: obj });
      else if (!sameVersion(old, obj)) deltas.push({ type: 'update', oldObject: old, object: obj });
    }
    this.#items = next;
    return deltas;
  }
}

function sameVersion(a: KubeObject, b: KubeObject): boolean {
  const va = a.metadata?.resourceVersion;
  return va !== undefined && va === b.metadata?.resourceVersion;
}

function sameUid(a: KubeObject, b: KubeObject): boolean {
  const ua = a.metadata?.['uid'];
  const ub = b.metadata?.['uid'];
  // Without uids (e.g. hand-made test objects) assume the same object.
  return ua === undefined || ub === undefined || ua === ub;
}
