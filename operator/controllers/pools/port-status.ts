// Pure: from every NodePortPool in the namespace (plus how many of its ports
// Services hold, and what the audit found) to the status each should show:
// total/used/available and the conditions Ready, Invalid, Overlap, Exhausted
// and ServicesOutsidePool. Like IPAddressPools, the set is judged at once,
// oldest first, so of two overlapping pools the older keeps working.
import type { NodePortPoolStatus } from '../../../crds/index.ts';
import { setCondition } from '../../../lib/conditions.ts';
import type { Condition, ConditionUpdate } from '../../../lib/conditions.ts';
import { formatFieldError, parseNodePortPool, validateNodePortPools } from '../../allocator/index.ts';
import type { FieldError, NodePortPool, ParseNodePortPoolOptions } from '../../allocator/index.ts';

export interface NodePortPoolObject {
  metadata?: { name?: string; creationTimestamp?: string | Date; generation?: number };
  spec?: unknown;
  status?: NodePortPoolStatus;
}

export interface PortPoolJudgement {
  usable: NodePortPool[];
  errors: Map<string, FieldError[]>;
  overlapping: Set<string>;
}

const created = (p: NodePortPoolObject) => new Date(p.metadata?.creationTimestamp ?? 0).getTime();
const notInUse = (p: NodePortPoolObject) =>
  p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? 0 : 1;

/** Validates each pool (against the node-port range too), then the set for overlaps, oldest first. */
export function judgeNodePortPools(
  objects: readonly NodePortPoolObject[],
  options: ParseNodePortPoolOptions = {},
): PortPoolJudgement {
  const sorted = [...objects].sort(
    (a, b) =>
      created(a) - created(b) ||
      notInUse(a) - notInUse(b) ||
      (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''),
  );
  const errors = new Map<string, FieldError[]>();
  const parsed: NodePortPool[] = [];
  for (const obj of sorted) {
    const name = obj.metadata?.name ?? '';
    const r = parseNodePortPool(name, obj.spec, options);
    if (r.ok) parsed.push(r.value);
    else errors.set(name, r.error);
  }
  const set = validateNodePortPools(parsed);
  const overlapping = new Set<string>();
  for (const r of set.rejected) {
    errors.set(r.pool.name, r.errors);
    overlapping.add(r.pool.name);
  }
  return { usable: set.accepted, errors, overlapping };
}

/** The status one NodePortPool should have; conditions keep their transition times when unchanged. */
export function nodePortPoolStatus(
  obj: NodePortPoolObject,
  judgement: PortPoolJudgement,
  used: number,
  outside: ConditionUpdate | undefined,
  nowMs: number,
): NodePortPoolStatus {
  const name = obj.metadata?.name ?? '';
  const generation = obj.metadata?.generation;
  const opts = { observedGeneration: generation, nowMs };
  let conditions: Condition[] = (obj.status?.conditions as Condition[] | undefined) ?? [];
  const set = (u: ConditionUpdate) => (conditions = setCondition(conditions, u, opts));
  const errors = judgement.errors.get(name);
  if (errors) {
    const message = errors.map(formatFieldError).join('; ');
    const overlap = judgement.overlapping.has(name);
    const reason = overlap ? 'Overlap' : 'InvalidSpec';
    set({ type: 'Invalid', status: 'True', reason, message });
    set({
      type: 'Overlap',
      status: overlap ? 'True' : 'False',
      reason: overlap ? 'Overlap' : 'NoOverlap',
      message: overlap ? message : '',
    });
    set({ type: 'Ready', status: 'False', reason, message: `pool is not used: ${message}` });
    return { observedGeneration: generation, conditions };
  }
  const pool = judgement.usable.find((p) => p.name === name);
  if (!pool) throw new Error(`nodePortPoolStatus: ${name} was not judged`);
  const available = Math.max(0, pool.total - used);
  set({ type: 'Invalid', status: 'False', reason: 'Valid' });
  set({ type: 'Overlap', status: 'False', reason: 'NoOverlap' });
  set(
    available === 0
      ? {
          type: 'Exhausted',
          status: 'True',
          reason: 'PoolExhausted',
          message: 'every port of the pool is used',
        }
      : { type: 'Exhausted', status: 'False', reason: 'PortsAvailable' },
  );
  if (outside) set(outside);
  set({ type: 'Ready', status: 'True', reason: 'Valid' });
  return { observedGeneration: generation, conditions, total: pool.total, used, available };
}
