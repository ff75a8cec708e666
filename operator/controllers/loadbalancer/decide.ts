// One reconcile of one Service key, minus the I/O: from the cached Service
// (or its absence) and the allocator, to the state the API should show. The
// allocator is updated here; everything else is returned for the adapter to
// write. Level-based: the same inputs give the same answer, and running it
// twice changes nothing the second time.
import type { Assignment, AssignFailure, AssignResult, IPAllocator, Labels } from '../../allocator/index.ts';
import type { AliasUse, AnnotationConflict } from './annotations.ts';
import { desiredReservation } from './reservation.ts';
import type { ReservationObject, ReservationSpec } from './reservation.ts';
import { buildRequest, isOurs, poolAnnotation } from './service.ts';
import type { ClassOptions, ServiceObject } from './service.ts';
import { ALLOCATED_CONDITION, allocatedCondition, failedCondition } from './status.ts';
import type { DesiredStatus } from './status.ts';

export interface DecideInput {
  readonly key: string;
  /** The Service from the cache; undefined when it is gone. */
  readonly service: ServiceObject | undefined;
  readonly namespaceLabels: Labels;
  readonly classes: ClassOptions;
  readonly allocator: IPAllocator;
  /** The stored IPReservation for this key, if any. */
  readonly reservation: ReservationObject | undefined;
  readonly holdMs: number;
  readonly nowMs: number;
}

export interface Decision {
  /** Status to write on the Service; undefined leaves it alone. */
  readonly status?: DesiredStatus;
  /** The pool annotation: a name to set, null to remove, undefined to leave alone. */
  readonly poolAnnotation?: string | null;
  /** What the IPReservation object should hold (undefined: no object). */
  readonly reservation: ReservationSpec | undefined;
  /** The allocation attempt, for Services of ours. */
  readonly result?: AssignResult;
  /** Addresses a Service that is no longer ours gave up in this run. */
  readonly released?: Assignment;
  /** A malformed request reported without asking the allocator. */
  readonly invalid?: AssignFailure;
  /** The Service is ours and could not get addresses for lack of room: retry when some free up. */
  readonly waitingForRoom: boolean;
  /** Addresses were given up (others waiting for room may now fit). */
  readonly freed: boolean;
  /** The allocator's assignments changed (pool counts need refreshing). */
  readonly changed: boolean;
  /** MetalLB annotation spellings in use, and disagreeing spellings. */
  readonly aliases: readonly AliasUse[];
  readonly conflicts: readonly AnnotationConflict[];
  /** Come back then (a reservation expires). */
  readonly requeueAfterMs?: number;
}

const ROOM_REASONS = new Set(['PoolExhausted', 'IPInUse', 'FamilyNotAvailable', 'NoEligiblePool']);

export function decide(input: DecideInput): Decision {
  const { key, service: svc, allocator } = input;
  if (svc === undefined || !isOurs(svc, input.classes)) return decideNotOurs(input);

  const built = buildRequest(svc, input.namespaceLabels);
  const before = allocator.get(key);
  let result: AssignResult | undefined;
  let invalid: AssignFailure | undefined;
  if (built.ok) {
    result = allocator.assign(built.request);
  } else {
    // As for any malformed request, the Service keeps what it has.
    invalid = { ok: false, service: key, reason: 'InvalidRequest', message: built.message };
  }
  const after = allocator.get(key);
  const failure = invalid ?? (result !== undefined && !result.ok ? result : undefined);
  const ips = after?.ips ?? [];
  const condition =
    failure !== undefined
      ? failedCondition(failure.reason, failure.message)
      : allocatedCondition(ips, after?.pool ?? '');
  const sameIPs = (a: readonly string[] | undefined, b: readonly string[] | undefined) =>
    (a ?? []).join(',') === (b ?? []).join(',');
  const changed = !sameIPs(before?.ips, after?.ips) || before?.pool !== after?.pool;
  const reservationNow = allocator.reservation(key);
  return {
    status: { ips, condition },
    poolAnnotation: after?.pool ?? null,
    reservation: desiredReservation({
      service: key,
      assignment: after,
      serviceUID: svc.metadata.uid,
      reservation: reservationNow,
      existing: input.reservation,
      holdMs: input.holdMs,
    }),
    ...(result !== undefined ? { result } : {}),
    ...(invalid !== undefined ? { invalid } : {}),
    waitingForRoom: failure !== undefined && after === undefined && ROOM_REASONS.has(failure.reason),
    freed: before !== undefined && changed,
    changed,
    aliases: built.annotations.aliases,
    conflicts: built.annotations.conflicts,
    ...(after === undefined && reservationNow !== undefined
      ? { requeueAfterMs: Math.max(0, reservationNow.expiresAt - input.nowMs) }
      : {}),
  };
}

/** The Service is gone, or no longer a LoadBalancer of ours: let go of its addresses. */
function decideNotOurs(input: DecideInput): Decision {
  const { key, service: svc, allocator } = input;
  const gone = svc === undefined;
  // A Service that stops being ours (type or class change) gives its addresses
  // up for good; a deleted one keeps them reserved for the hold time. So does
  // an older Service of the same name, whose reservation this one must not
  // cancel by merely existing.
  const storedUID = input.reservation?.spec?.serviceUID;
  const sameIncarnation = !gone && (storedUID === undefined || storedUID === svc.metadata.uid);
  const released = allocator.release(key, { keepReservation: gone });
  if (!gone && sameIncarnation) allocator.dropReservation(key);
  const reservationNow = allocator.reservation(key);
  const owned = !gone && (poolAnnotation(svc) !== undefined || hasOurCondition(svc));
  return {
    ...(owned ? { status: { ips: [], condition: undefined }, poolAnnotation: null } : {}),
    reservation: desiredReservation({
      service: key,
      assignment: undefined,
      serviceUID: undefined,
      reservation: reservationNow,
      existing: input.reservation,
      holdMs: input.holdMs,
    }),
    ...(released !== undefined ? { released: released.released } : {}),
    waitingForRoom: false,
    freed: released !== undefined || (input.reservation !== undefined && reservationNow === undefined),
    changed: released !== undefined,
    aliases: [],
    conflicts: [],
    ...(reservationNow !== undefined
      ? { requeueAfterMs: Math.max(0, reservationNow.expiresAt - input.nowMs) }
      : {}),
  };
}

function hasOurCondition(svc: ServiceObject): boolean {
  return (svc.status?.conditions ?? []).some((c) => c.type === ALLOCATED_CONDITION);
}
