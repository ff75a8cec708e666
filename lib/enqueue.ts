// The usual wiring between an informer and a work queue: every change puts the
// object's key in the queue, and the reconciler reads current state by key.
// The event payload is deliberately dropped; reconciles are level-based.
import type { InformerHandlers } from './informer.ts';
import { keyOf } from './object-cache.ts';
import type { KubeObject } from './object-cache.ts';

export interface KeyQueue {
  add(key: string): void;
}

/**
 * Handlers that enqueue `toKeys(obj)` for every add, update and delete. By
 * default the object's own key; a controller that reconciles something else
 * (e.g. the Services a pool selects) maps the object to those keys instead.
 */
export function enqueueHandlers<T extends KubeObject>(
  queue: KeyQueue,
  toKeys: (obj: T) => Iterable<string> = (obj) => [keyOf(obj)],
): InformerHandlers<T> {
  const enqueue = (obj: T): void => {
    for (const key of toKeys(obj)) queue.add(key);
  };
  return {
    add: enqueue,
    // Both versions: a change may move the object out of what it mapped to.
    update: (oldObj, newObj) => {
      enqueue(oldObj);
      enqueue(newObj);
    },
    delete: enqueue,
  };
}
