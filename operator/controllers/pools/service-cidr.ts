// Pure: how a ClusterIP pool relates to the cluster's networking.k8s.io/v1
// ServiceCIDRs. A pool entry outside every ServiceCIDR would make the
// apiserver refuse each clusterIP the webhook picks from it, so the pool gets
// an OutsideServiceCIDR condition naming its range and the cluster's CIDRs,
// and the webhook leaves it alone. With spec.serviceCIDR.create the pool gets
// a ServiceCIDR of its own (one CIDR per family, as the API allows).
import type { ConditionUpdate } from '../../../lib/conditions.ts';
import { formatCIDR, parseCIDR, quote, rangeAsCIDR } from '../../allocator/index.ts';
import type { CIDR, IPFamily, Pool } from '../../allocator/index.ts';

export interface ServiceCIDRObject {
  metadata?: {
    name?: string;
    deletionTimestamp?: string | Date;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: { cidrs?: string[] };
}

/** Labels and annotation that tie a ServiceCIDR to the pool it was created for. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'portico';
export const POOL_NAMESPACE_LABEL = 'portico.io/pool-namespace';
export const POOL_ANNOTATION = 'portico.io/pool';

/** The name of the ServiceCIDR created for a pool (cluster-scoped, so the namespace is in it). */
export function serviceCIDRName(namespace: string, pool: string): string {
  return `portico.${namespace}.${pool}`;
}

interface NamedCIDR {
  object: string;
  cidr: CIDR;
}

/** The CIDRs of the ServiceCIDRs that are not being deleted. */
export function clusterCIDRs(objects: readonly ServiceCIDRObject[]): NamedCIDR[] {
  return objects.flatMap((o) =>
    o.metadata?.deletionTimestamp
      ? []
      : (o.spec?.cidrs ?? []).flatMap((text) => {
          const r = parseCIDR(text);
          return r.ok ? [{ object: o.metadata?.name ?? '', cidr: r.value }] : [];
        }),
  );
}

function describeCIDRs(cidrs: readonly NamedCIDR[]): string {
  if (cidrs.length === 0) return 'the cluster has no ServiceCIDR';
  return `the cluster's ServiceCIDRs: ${cidrs.map((c) => `${c.object} ${formatCIDR(c.cidr)}`).join(', ')}`;
}

/**
 * The OutsideServiceCIDR condition of a ClusterIP pool: True naming each
 * entry no ServiceCIDR holds whole, with the cluster's CIDRs.
 */
export function serviceCIDRCondition(pool: Pool, cidrs: readonly NamedCIDR[]): ConditionUpdate {
  const outside = pool.entries.filter(
    (e) => !cidrs.some((c) => c.cidr.family === e.family && c.cidr.first <= e.lo && e.hi <= c.cidr.last),
  );
  if (outside.length === 0) {
    return { type: 'OutsideServiceCIDR', status: 'False', reason: 'InsideServiceCIDR' };
  }
  const entries = outside.map((e) => `spec.addresses[${e.index}] ${quote(e.text)}`).join(', ');
  return {
    type: 'OutsideServiceCIDR',
    status: 'True',
    reason: 'OutsideServiceCIDR',
    message:
      `${entries} of ClusterIP pool ${quote(pool.name)} lie${outside.length === 1 ? 's' : ''} outside every ServiceCIDR ` +
      `(${describeCIDRs(cidrs)}); the apiserver would refuse such clusterIPs, so the webhook does not use this pool. ` +
      'Add a ServiceCIDR holding the range, or set spec.serviceCIDR.create',
  };
}

export type DesiredServiceCIDR = { ok: true; cidrs: string[] } | { ok: false; message: string };

/** The spec.cidrs of the ServiceCIDR a pool asks for: one CIDR per family, exactly its addresses. */
export function desiredServiceCIDR(pool: Pool): DesiredServiceCIDR {
  const problems: string[] = [];
  const byFamily = new Map<IPFamily, string>();
  for (const e of pool.entries) {
    const cidr = rangeAsCIDR(e.family, e.lo, e.hi);
    if (!cidr) {
      problems.push(`spec.addresses[${e.index}]: ${quote(e.text)} is not a CIDR`);
    } else if (byFamily.has(e.family)) {
      problems.push(`spec.addresses[${e.index}]: a second ${e.family} entry (${quote(e.text)})`);
    } else {
      byFamily.set(e.family, formatCIDR(cidr));
    }
  }
  if (problems.length > 0) {
    return {
      ok: false,
      message:
        `spec.serviceCIDR.create: a ServiceCIDR holds at most one CIDR per family, so the pool's addresses ` +
        `must be that: ${problems.join('; ')}`,
    };
  }
  return { ok: true, cidrs: [...byFamily.values()] };
}

export function sameCIDRs(a: readonly string[] | undefined, b: readonly string[]): boolean {
  const norm = (l: readonly string[]) =>
    l
      .map((t) => {
        const r = parseCIDR(t);
        return r.ok ? formatCIDR(r.value) : t;
      })
      .sort()
      .join(',');
  return norm(a ?? []) === norm(b);
}
