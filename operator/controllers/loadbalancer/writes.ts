// The LoadBalancer controller's writes to the API: the Service's pool
// annotation (metadata merge patch) and its status (status subresource), both
// conditional on the resourceVersion the decision was made from, and the
// IPReservation object.
import { API_VERSION, ipReservationKind } from '../../../crds/index.ts';
import { isAlreadyExists, isConflict, isNotFound } from '../../../lib/errors.ts';
import type { RawKubeClient } from '../../../lib/raw-client.ts';
import { collectionPath, objectPath } from '../../../lib/resource-path.ts';
import { updateStatus } from '../../../lib/status.ts';
import { POOL_ANNOTATION } from './annotations.ts';
import { specPatch } from './reservation.ts';
import type { ReservationObject, ReservationSpec } from './reservation.ts';
import type { ServiceObject } from './service.ts';
import { applyStatus } from './status.ts';
import type { DesiredStatus } from './status.ts';

export type WriteClient = Pick<
  RawKubeClient,
  'getJson' | 'putJson' | 'patchJson' | 'postJson' | 'deleteJson'
>;

const SERVICES = { group: '', version: 'v1', plural: 'services' } as const;

function serviceRef(svc: ServiceObject) {
  return { ...SERVICES, namespace: svc.metadata.namespace ?? '', name: svc.metadata.name ?? '' };
}

/**
 * Why a Service write did not happen: the Service is gone, or it changed since
 * the copy the decision was made from. Either way the informer brings the key
 * back with the newer state, and the decision is made again from it; a
 * decision made from a stale copy is never applied to a newer object.
 */
export type Skipped = 'gone' | 'conflict';

function skipped(err: unknown): Skipped | undefined {
  if (isNotFound(err)) return 'gone';
  if (isConflict(err)) return 'conflict';
  return undefined;
}

/** Sets (or with null removes) the pool annotation, on exactly the version given. */
export async function patchPoolAnnotation(
  client: WriteClient,
  svc: ServiceObject,
  pool: string | null,
): Promise<ServiceObject | Skipped> {
  try {
    return await client.patchJson<ServiceObject>(objectPath(serviceRef(svc)), {
      metadata: { resourceVersion: svc.metadata.resourceVersion, annotations: { [POOL_ANNOTATION]: pool } },
    });
  } catch (err) {
    const why = skipped(err);
    if (why !== undefined) return why;
    throw err;
  }
}

/** Writes the desired status onto exactly the version given; `written` is false when it was already there. */
export async function writeServiceStatus(
  client: WriteClient,
  svc: ServiceObject,
  desired: DesiredStatus,
  nowMs: number,
): Promise<{ written: boolean } | Skipped> {
  try {
    const r = await updateStatus<ServiceObject>(
      client,
      serviceRef(svc),
      (obj) => applyStatus(obj, desired, nowMs),
      { current: svc, maxAttempts: 1 },
    );
    return { written: r.written };
  } catch (err) {
    const why = skipped(err);
    if (why !== undefined) return why;
    throw err;
  }
}

/** Makes the stored IPReservation match `desired` (undefined deletes it). Returns what changed. */
export async function syncReservation(
  client: WriteClient,
  namespace: string,
  name: string,
  existing: ReservationObject | undefined,
  desired: ReservationSpec | undefined,
): Promise<'created' | 'updated' | 'deleted' | 'unchanged'> {
  const path = objectPath({ ...ipReservationKind, namespace, name });
  if (desired === undefined) {
    if (existing === undefined) return 'unchanged';
    try {
      await client.deleteJson(path);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    return 'deleted';
  }
  if (existing === undefined) {
    try {
      await client.postJson(collectionPath(ipReservationKind, namespace), {
        apiVersion: API_VERSION,
        kind: ipReservationKind.kind,
        metadata: { name, namespace, labels: { 'app.kubernetes.io/managed-by': 'portico' } },
        spec: desired,
      });
      return 'created';
    } catch (err) {
      // Our cache had not seen it yet: fall through to a patch of the stored one.
      if (!isAlreadyExists(err)) throw err;
      existing = await client.getJson<ReservationObject>(path);
    }
  }
  const patch = specPatch(existing.spec, desired);
  if (patch === undefined) return 'unchanged';
  await client.patchJson(path, { spec: patch });
  return 'updated';
}
