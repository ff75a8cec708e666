// The rules of Lease-based leader election, as pure functions of what we
// observed and when. Like client-go, expiry is judged on our own clock from the
// moment we first saw the current lease version, never from the renewTime the
// holder wrote: clocks on different nodes disagree, durations on one clock do not.

export interface LeaseRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  leaseTransitions: number;
  /** Changes on every write; a new value means the holder (or someone) is alive. */
  resourceVersion: string;
}

export interface LeaseObservation {
  record: LeaseRecord;
  /** Local time (ms) at which this resourceVersion was first seen. */
  observedAtMs: number;
}

export type LeaseDecision =
  | { action: 'renew' }
  | { action: 'acquire'; reason: 'free' | 'expired' }
  | { action: 'wait'; holder: string; expiresInMs: number };

/** Updates the observation: the clock restarts only when the lease changed. */
export function observeLease(
  previous: LeaseObservation | undefined,
  record: LeaseRecord,
  nowMs: number,
): LeaseObservation {
  if (previous && previous.record.resourceVersion === record.resourceVersion) return previous;
  return { record, observedAtMs: nowMs };
}

/**
 * May `identity` take or keep the lease now? The holder's own stated duration
 * counts (a released lease says 1s); `defaultDurationMs` covers a record that
 * states none.
 */
export function decideLease(
  observation: LeaseObservation,
  identity: string,
  nowMs: number,
  defaultDurationMs: number,
): LeaseDecision {
  const { record, observedAtMs } = observation;
  if (record.holderIdentity === identity) return { action: 'renew' };
  if (record.holderIdentity === '') return { action: 'acquire', reason: 'free' };
  const durationMs = record.leaseDurationSeconds > 0 ? record.leaseDurationSeconds * 1000 : defaultDurationMs;
  const expiresInMs = observedAtMs + durationMs - nowMs;
  if (expiresInMs <= 0) return { action: 'acquire', reason: 'expired' };
  return { action: 'wait', holder: record.holderIdentity, expiresInMs };
}

/** The transition count after `identity` writes the lease: it grows when the holder changes. */
export function nextTransitions(record: LeaseRecord | undefined, identity: string): number {
  if (!record) return 0;
  return record.holderIdentity === identity ? record.leaseTransitions : record.leaseTransitions + 1;
}

/**
 * MicroTime as the apiserver parses it: exactly six fractional digits.
 * Date#toISOString gives three, which the apiserver rejects with 400.
 */
export function formatMicroTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
