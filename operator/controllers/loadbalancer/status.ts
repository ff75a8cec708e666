// The Service status the controller wants: status.loadBalancer.ingress and one
// condition saying whether (and why not) addresses were allocated. Pure.
import { jsonEqual } from '../../../lib/json-equal.ts';
import { removeCondition, setCondition } from '../../../lib/conditions.ts';
import type { ConditionUpdate } from '../../../lib/conditions.ts';
import { ingressFor } from './service.ts';
import type { ServiceObject } from './service.ts';

/** Condition on Service status; domain-prefixed as API conventions ask for built-in kinds. */
export const ALLOCATED_CONDITION = 'portico.io/IPAllocated';

export interface DesiredStatus {
  /** Addresses to publish (empty clears the ingress). */
  readonly ips: readonly string[];
  /** The condition to set; undefined removes ours (the Service is not ours any more). */
  readonly condition: ConditionUpdate | undefined;
}

export function allocatedCondition(ips: readonly string[], pool: string): ConditionUpdate {
  return {
    type: ALLOCATED_CONDITION,
    status: 'True',
    reason: 'IPAllocated',
    message: `${ips.join(', ')} from IPAddressPool ${JSON.stringify(pool)}`,
  };
}

export function failedCondition(reason: string, message: string): ConditionUpdate {
  return { type: ALLOCATED_CONDITION, status: 'False', reason, message };
}

/** Applies the desired status to a copy of the Service (for updateStatus). */
export function applyStatus(svc: ServiceObject, desired: DesiredStatus, nowMs: number): ServiceObject {
  const status = { ...(svc.status ?? {}) };
  const current = svc.status?.loadBalancer?.ingress ?? [];
  const ingress = ingressFor(desired.ips);
  if (!jsonEqual(current, ingress)) {
    status.loadBalancer = ingress.length > 0 ? { ...status.loadBalancer, ingress } : {};
  }
  const conditions =
    desired.condition === undefined
      ? removeCondition(status.conditions, ALLOCATED_CONDITION)
      : setCondition(status.conditions, desired.condition, { nowMs });
  if (conditions.length > 0) status.conditions = conditions;
  else delete status.conditions;
  return { ...svc, status };
}

/** Whether applyStatus would change anything. */
export function statusDiffers(svc: ServiceObject, desired: DesiredStatus): boolean {
  const next = applyStatus(svc, desired, 0);
  const strip = (s: ServiceObject['status']) => ({
    ingress: s?.loadBalancer?.ingress ?? [],
    conditions: (s?.conditions ?? []).map(({ lastTransitionTime: _t, ...rest }) => rest),
  });
  return !jsonEqual(strip(svc.status), strip(next.status));
}
