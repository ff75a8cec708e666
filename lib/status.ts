// Writes .status through the status subresource with optimistic concurrency.
// The caller gives a pure function from object to object; on 409 Conflict we
// read the object again and re-apply it, so a write never clobbers a change we
// did not see and never trusts a stale copy.
import { isAlreadyExists, isConflict } from './errors.ts';
import { jsonEqual } from './json-equal.ts';
import type { KubeObject } from './object-cache.ts';
import type { RawKubeClient } from './raw-client.ts';
import { collectionPath, objectPath } from './resource-path.ts';
import type { ResourceRef } from './resource-path.ts';

export type StatusObject = KubeObject & { status?: unknown };

/** The two calls the writer needs; a RawKubeClient, or a fake in unit tests. */
export type StatusClient = Pick<RawKubeClient, 'getJson' | 'putJson'>;

export interface UpdateStatusOptions<T> {
  /** A copy already in hand (e.g. from an informer) saves the first read. */
  current?: T;
  /** Attempts before the last 409 is thrown; default 5. */
  maxAttempts?: number;
}

export interface UpdateStatusResult<T> {
  /** The object as stored after the write (or as read, when nothing changed). */
  object: T;
  /** False when mutate left the status as it was and no request was sent. */
  written: boolean;
  attempts: number;
}

/**
 * Applies `mutate` to the latest object and writes its status. `mutate` gets a
 * private deep copy and must be pure: it may run several times.
 */
export async function updateStatus<T extends StatusObject>(
  client: StatusClient,
  ref: ResourceRef,
  mutate: (obj: T) => T,
  options: UpdateStatusOptions<T> = {},
): Promise<UpdateStatusResult<T>> {
  const path = objectPath(ref);
  const maxAttempts = options.maxAttempts ?? 5;
  let current = options.current ?? (await client.getJson<T>(path));
  for (let attempt = 1; ; attempt++) {
    const next = mutate(structuredClone(current));
    if (jsonEqual(next.status, current.status)) {
      return { object: current, written: false, attempts: attempt };
    }
    // The resourceVersion we read travels with the write: the apiserver
    // answers 409 if anyone wrote the object since.
    const body = {
      ...next,
      metadata: { ...next.metadata, resourceVersion: current.metadata?.resourceVersion },
    };
    try {
      const written = await client.putJson<T>(`${path}/status`, body);
      return { object: written, written: true, attempts: attempt };
    } catch (err) {
      if (!isConflict(err) || attempt >= maxAttempts) throw err;
      current = await client.getJson<T>(path);
    }
  }
}

/**
 * For objects a writer owns whole (the speaker's per-node status objects):
 * writes `status` onto the object named by `ref`, first creating it with an
 * empty spec when `current` (the cache's copy) is absent. A create that loses
 * to another write falls through to the read-and-update. Equal status sends
 * nothing.
 */
export async function writeOwnedStatus(
  client: StatusClient & Pick<RawKubeClient, 'postJson'>,
  ref: ResourceRef & { kind: string; namespace: string },
  metadata: { labels?: Record<string, string>; ownerReferences?: readonly unknown[] },
  status: unknown,
  current: StatusObject | undefined,
): Promise<void> {
  if (!current) {
    try {
      current = await client.postJson<StatusObject>(collectionPath(ref, ref.namespace), {
        apiVersion: ref.group === '' ? ref.version : `${ref.group}/${ref.version}`,
        kind: ref.kind,
        metadata: { name: ref.name, ...metadata },
        spec: {},
      });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      current = undefined;
    }
  }
  await updateStatus<StatusObject>(client, ref, (obj) => ({ ...obj, status }), current ? { current } : {});
}
