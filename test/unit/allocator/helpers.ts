// Shared builders for the allocator tests (not a test file itself).
import { formatFieldError } from '../../../operator/allocator/errors.ts';
import { parsePool } from '../../../operator/allocator/pool.ts';
import type { Pool } from '../../../operator/allocator/pool.ts';
import type { AssignRequest, AssignResult, AssignSuccess } from '../../../operator/allocator/assign.ts';

export function mkPool(name: string, spec: Record<string, unknown>): Pool {
  const r = parsePool(name, spec);
  if (!r.ok) throw new Error(r.error.map(formatFieldError).join('; '));
  return r.value;
}

export function v4(service: string, extra: Partial<AssignRequest> = {}): AssignRequest {
  return { service, ipFamilies: ['IPv4'], ...extra };
}

export function v6(service: string, extra: Partial<AssignRequest> = {}): AssignRequest {
  return { service, ipFamilies: ['IPv6'], ...extra };
}

export function dual(
  service: string,
  policy: 'PreferDualStack' | 'RequireDualStack',
  extra: Partial<AssignRequest> = {},
): AssignRequest {
  return { service, ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: policy, ...extra };
}

export function expectOk(r: AssignResult): AssignSuccess {
  if (!r.ok) throw new Error(`expected success, got ${r.reason}: ${r.message}`);
  return r;
}

/** A settable clock. */
export function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}
