// Status conditions in the Kubernetes convention (metav1.Condition), so that
// `kubectl wait --for=condition=Ready` and generic tooling understand ours.

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: string;
  status: ConditionStatus;
  /** CamelCase, machine-readable, e.g. "PoolExhausted". */
  reason: string;
  message: string;
  /** RFC 3339, seconds precision: when status last changed. */
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface ConditionUpdate {
  type: string;
  status: ConditionStatus;
  reason: string;
  message?: string;
}

/** metav1.Time is serialised without fractional seconds. */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Returns a new list with `update` applied. lastTransitionTime moves only when
 * the status changes, so reconciling the same state twice yields an equal list
 * (and the status writer can skip the write). Other conditions keep their order.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  update: ConditionUpdate,
  options: { observedGeneration?: number; nowMs?: number } = {},
): Condition[] {
  const list = conditions ? [...conditions] : [];
  const index = list.findIndex((c) => c.type === update.type);
  const previous = index >= 0 ? list[index] : undefined;
  const next: Condition = {
    type: update.type,
    status: update.status,
    reason: update.reason,
    message: update.message ?? '',
    lastTransitionTime:
      previous && previous.status === update.status
        ? previous.lastTransitionTime
        : formatTime(options.nowMs ?? Date.now()),
  };
  const generation = options.observedGeneration ?? previous?.observedGeneration;
  if (generation !== undefined) next.observedGeneration = generation;
  if (index >= 0) list[index] = next;
  else list.push(next);
  return list;
}

export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}

export function removeCondition(conditions: readonly Condition[] | undefined, type: string): Condition[] {
  return (conditions ?? []).filter((c) => c.type !== type);
}
