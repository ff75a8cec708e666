// IPReservation objects: their names, what one should contain given the
// allocator's state, and how they are read back at start-up. Pure.
//
// One object per Service namespace/name, in the Portico namespace:
// - while the Service holds addresses: its addresses, pool, UID and sharing
//   key, without releasedAt;
// - once the Service is gone (or re-created and not yet re-assigned): the
//   addresses still held for it, with releasedAt = when it was first seen gone;
// - nothing (the object is deleted) when no addresses are held for the name.
// The allocator's in-memory book is the source of truth while the operator
// runs; these objects are how the book survives a restart.
import { createHash } from 'node:crypto';
import type { Assignment, Reservation } from '../../allocator/index.ts';

export interface ReservationSpec {
  serviceNamespace: string;
  serviceName: string;
  serviceUID?: string;
  pool: string;
  ips: string[];
  sharingKey?: string;
  releasedAt?: string;
}

export interface ReservationObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
  spec?: Partial<ReservationSpec>;
}

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * The object name for a Service: `<namespace>.<name>`. Namespaces and Service
 * names are DNS labels without dots, so this is always a valid, unique object
 * name; anything else (never produced by the apiserver) falls back to a hash.
 */
export function reservationName(namespace: string, name: string): string {
  const plain = `${namespace}.${name}`;
  if (plain.length <= 253 && SUBDOMAIN.test(plain) && !namespace.includes('.') && !name.includes('.')) {
    return plain;
  }
  return `svc-${createHash('sha256').update(`${namespace}/${name}`).digest('hex').slice(0, 40)}`;
}

/** The Service key ("namespace/name") a reservation object belongs to. */
export function reservationServiceKey(obj: ReservationObject): string | undefined {
  const ns = obj.spec?.serviceNamespace;
  const name = obj.spec?.serviceName;
  return typeof ns === 'string' && typeof name === 'string' && ns !== '' && name !== ''
    ? `${ns}/${name}`
    : undefined;
}

/** metav1.Time: RFC 3339 without fractional seconds. */
export function formatReleasedAt(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The reservation to load into the allocator for a stored object: it expires
 * `holdMs` after releasedAt, or after now when the object has no releasedAt
 * (the Service was still there at the last write). Undefined when the object
 * is malformed.
 */
export function toImport(obj: ReservationObject, nowMs: number, holdMs: number): Reservation | undefined {
  const service = reservationServiceKey(obj);
  const spec = obj.spec;
  if (service === undefined || spec === undefined || !Array.isArray(spec.ips) || spec.ips.length === 0) {
    return undefined;
  }
  const released = spec.releasedAt === undefined ? Number.NaN : Date.parse(spec.releasedAt);
  const from = Number.isNaN(released) ? nowMs : released;
  return { service, ips: [...spec.ips], pool: spec.pool ?? '', expiresAt: from + holdMs };
}

/** What the object for `service` should contain; undefined means no object. */
export function desiredReservation(args: {
  service: string;
  /** The Service's current assignment, if any. */
  assignment: Assignment | undefined;
  /** UID of the live Service holding `assignment`. */
  serviceUID: string | undefined;
  /** The allocator's reservation for the name, if any. */
  reservation: Reservation | undefined;
  existing: ReservationObject | undefined;
  holdMs: number;
}): ReservationSpec | undefined {
  if (args.holdMs <= 0) return undefined;
  const slash = args.service.indexOf('/');
  const base = { serviceNamespace: args.service.slice(0, slash), serviceName: args.service.slice(slash + 1) };
  const a = args.assignment;
  if (a !== undefined) {
    return {
      ...base,
      ...(args.serviceUID ? { serviceUID: args.serviceUID } : {}),
      pool: a.pool,
      ips: [...a.ips],
      ...(a.sharingKey !== '' ? { sharingKey: a.sharingKey } : {}),
    };
  }
  const r = args.reservation;
  if (r === undefined) return undefined;
  const old = args.existing?.spec;
  return {
    ...base,
    ...(old?.serviceUID ? { serviceUID: old.serviceUID } : {}),
    pool: r.pool,
    ips: [...r.ips],
    ...(old?.sharingKey ? { sharingKey: old.sharingKey } : {}),
    releasedAt: old?.releasedAt ?? formatReleasedAt(r.expiresAt - args.holdMs),
  };
}

const FIELDS = ['serviceNamespace', 'serviceName', 'serviceUID', 'pool', 'sharingKey', 'releasedAt'] as const;

/**
 * A JSON merge patch turning the stored spec into the desired one, or
 * undefined when they already agree.
 */
export function specPatch(
  current: Partial<ReservationSpec> | undefined,
  desired: ReservationSpec,
): Record<string, unknown> | undefined {
  const patch: Record<string, unknown> = {};
  for (const f of FIELDS) {
    if ((current?.[f] ?? undefined) !== desired[f]) patch[f] = desired[f] ?? null;
  }
  const ips = current?.ips ?? [];
  if (ips.length !== desired.ips.length || ips.some((ip, i) => ip !== desired.ips[i]))
    patch.ips = desired.ips;
  return Object.keys(patch).length === 0 ? undefined : patch;
}
