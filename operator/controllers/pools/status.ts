// Pure: from every IPAddressPool object in the namespace (plus how many
// addresses each has assigned) to the status each pool should show. Validity
// depends on the other pools (overlaps), so the whole set is judged at once,
// oldest first: of two overlapping pools the older keeps working.
import { validateIPAddressPool, familyCounts } from '../../../crds/index.ts';
import type { IPAddressPoolStatus } from '../../../crds/index.ts';
import { removeCondition, setCondition } from '../../../lib/conditions.ts';
import type { Condition, ConditionUpdate } from '../../../lib/conditions.ts';
import { parsePool, validatePools, formatFieldError } from '../../allocator/index.ts';
import type { FieldError, IPFamily, Pool } from '../../allocator/index.ts';

export interface PoolObject {
  metadata: { name?: string; creationTimestamp?: string | Date; generation?: number };
  spec?: unknown;
  status?: IPAddressPoolStatus;
}

/** Conditions only a ClusterIP pool has. */
const CLUSTER_IP_ONLY = ['OutsideServiceCIDR', 'ServiceCIDR', 'ServicesOutsidePool'];

export type AssignedCounts = (pool: string) => Readonly<Record<IPFamily, bigint>>;
const NO_COUNTS: Readonly<Record<IPFamily, bigint>> = { IPv4: 0n, IPv6: 0n };

export interface PoolJudgement {
  /** Pools the allocator may use, oldest first. */
  usable: Pool[];
  /** Per pool name: the field errors that make it unusable (none for usable pools). */
  errors: Map<string, FieldError[]>;
  /** Pools rejected only because they overlap an older pool. */
  overlapping: Set<string>;
}

const created = (p: PoolObject) => new Date(p.metadata.creationTimestamp ?? 0).getTime();
/** A pool already in use (Ready) sorts before one that is not. */
const notInUse = (p: PoolObject) =>
  p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? 0 : 1;

/**
 * Sorts oldest first, validates each pool, then the set for overlaps.
 * creationTimestamp has one-second resolution, so among pools created in the
 * same second the one already in use wins, then the name decides: a pool that
 * works never starts failing because a newcomer overlaps it.
 */
export function judgePools(objects: readonly PoolObject[]): PoolJudgement {
  const sorted = [...objects].sort(
    (a, b) =>
      created(a) - created(b) ||
      notInUse(a) - notInUse(b) ||
      (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''),
  );
  const errors = new Map<string, FieldError[]>();
  const parsed: Pool[] = [];
  for (const obj of sorted) {
    const name = obj.metadata.name ?? '';
    const schema = validateIPAddressPool(obj);
    if (!schema.ok) {
      errors.set(name, schema.errors);
      continue;
    }
    const pool = parsePool(name, schema.value.spec);
    if (!pool.ok) errors.set(name, pool.error);
    else parsed.push(pool.value);
  }
  const set = validatePools(parsed);
  const overlapping = new Set<string>();
  for (const r of set.rejected) {
    errors.set(r.pool.name, r.errors);
    overlapping.add(r.pool.name);
  }
  return { usable: set.accepted, errors, overlapping };
}

/**
 * The status one pool should have; conditions keep their transition times when
 * unchanged. `extra` are conditions other parts judged for a valid pool (the
 * ServiceCIDR checks, the audit's ServicesOutsidePool); an OutsideServiceCIDR
 * that is True makes the pool not Ready, as the webhook then skips it.
 */
export function poolStatus(
  obj: PoolObject,
  judgement: PoolJudgement,
  assigned: AssignedCounts,
  nowMs: number,
  extra: readonly ConditionUpdate[] = [],
  /** Addresses held by sticky reservations of deleted Services. */
  reserved: AssignedCounts = () => NO_COUNTS,
): IPAddressPoolStatus {
  const name = obj.metadata.name ?? '';
  const generation = obj.metadata.generation;
  const opts = { observedGeneration: generation, nowMs };
  let conditions: Condition[] = (obj.status?.conditions as Condition[] | undefined) ?? [];
  const errors = judgement.errors.get(name);
  const status: IPAddressPoolStatus = { observedGeneration: generation, conditions };

  if (errors) {
    const message = errors.map(formatFieldError).join('; ');
    const overlap = judgement.overlapping.has(name);
    conditions = setCondition(
      conditions,
      { type: 'Invalid', status: 'True', reason: overlap ? 'Overlap' : 'InvalidSpec', message },
      opts,
    );
    conditions = setCondition(
      conditions,
      {
        type: 'Overlap',
        status: overlap ? 'True' : 'False',
        reason: overlap ? 'Overlap' : 'NoOverlap',
        message: overlap ? message : '',
      },
      opts,
    );
    conditions = setCondition(
      conditions,
      {
        type: 'Ready',
        status: 'False',
        reason: overlap ? 'Overlap' : 'InvalidSpec',
        message: `pool is not used: ${message}`,
      },
      opts,
    );
    return { ...status, conditions };
  }

  const pool = judgement.usable.find((p) => p.name === name);
  if (!pool) throw new Error(`poolStatus: ${name} was not judged`);
  const used = assigned(name);
  const held = reserved(name);
  const v4 = familyCounts(pool.total.IPv4, used.IPv4, held.IPv4);
  const v6 = familyCounts(pool.total.IPv6, used.IPv6, held.IPv6);
  const exhausted =
    pool.total.IPv4 + pool.total.IPv6 > 0n &&
    used.IPv4 + held.IPv4 >= pool.total.IPv4 &&
    used.IPv6 + held.IPv6 >= pool.total.IPv6;
  const warnings = pool.warnings.map(formatFieldError).join('; ');
  conditions = setCondition(
    conditions,
    { type: 'Invalid', status: 'False', reason: 'Valid', message: warnings },
    opts,
  );
  conditions = setCondition(conditions, { type: 'Overlap', status: 'False', reason: 'NoOverlap' }, opts);
  conditions = setCondition(
    conditions,
    exhausted
      ? {
          type: 'Exhausted',
          status: 'True',
          reason: 'PoolExhausted',
          message: 'every address of the pool is assigned',
        }
      : { type: 'Exhausted', status: 'False', reason: 'AddressesAvailable' },
    opts,
  );
  if (pool.usage !== 'ClusterIP') {
    // Left over from when the pool was a ClusterIP pool.
    for (const type of CLUSTER_IP_ONLY) conditions = removeCondition(conditions, type);
  }
  for (const update of extra) conditions = setCondition(conditions, update, opts);
  const outside = extra.find((c) => c.type === 'OutsideServiceCIDR' && c.status === 'True');
  conditions = setCondition(
    conditions,
    outside
      ? { type: 'Ready', status: 'False', reason: 'OutsideServiceCIDR', message: outside.message ?? '' }
      : { type: 'Ready', status: 'True', reason: 'Valid', message: warnings },
    opts,
  );
  return {
    ...status,
    conditions,
    ...(pool.total.IPv4 > 0n ? { ipv4: v4 } : {}),
    ...(pool.total.IPv6 > 0n ? { ipv6: v6 } : {}),
  };
}
