// The LoadBalancer controller's metrics. Per-pool totals and addresses in use
// are the pool status controller's gauges (portico_pool_addresses_total and
// _assigned), fed from this controller's allocator; these add what only the
// allocation path knows.
import type { Registry } from 'prom-client';
import { getOrCreateCounter, getOrCreateGauge, getOrCreateHistogram } from '../../../lib/metrics.ts';
import type { PoolCounts } from '../../allocator/index.ts';

const MAX = BigInt(Number.MAX_SAFE_INTEGER);
const num = (n: bigint): number => Number(n > MAX ? MAX : n);

export function loadBalancerMetrics(registry: Registry) {
  const allocations = getOrCreateCounter(registry, {
    name: 'portico_lb_allocations_total',
    help: 'Addresses published on LoadBalancer Services (a new or changed status.loadBalancer.ingress), by pool.',
    labelNames: ['pool'],
  });
  const errors = getOrCreateCounter(registry, {
    name: 'portico_lb_allocation_errors_total',
    help: 'Failed allocations by reason (PoolExhausted, RequestedIPNotInPool, IPInUse, ...); a failure that repeats unchanged is counted once.',
    labelNames: ['reason'],
  });
  const duration = getOrCreateHistogram(registry, {
    name: 'portico_lb_reconcile_duration_seconds',
    help: 'Time to reconcile one Service, API writes included.',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  });
  const reserved = getOrCreateGauge(registry, {
    name: 'portico_pool_addresses_reserved',
    help: 'Free addresses of a pool held by sticky reservations, per family.',
    labelNames: ['pool', 'family'],
  });
  const restored = getOrCreateCounter(registry, {
    name: 'portico_lb_restored_total',
    help: 'Assignments re-admitted from Service status at start-up (or on becoming leader), by outcome.',
    labelNames: ['outcome'],
  });
  const active = getOrCreateGauge(registry, {
    name: 'portico_lb_controller_active',
    help: '1 once this replica leads, has rebuilt its LoadBalancer assignments from the API and processes Services.',
  });
  let known = new Set<string>();
  return {
    active,
    allocations,
    errors,
    duration,
    restored,
    /** Sets the reserved gauges from the allocator's counts, dropping pools that are gone. */
    setCounts(counts: readonly PoolCounts[]): void {
      const now = new Set<string>();
      for (const c of counts) {
        now.add(c.pool);
        reserved.set({ pool: c.pool, family: 'IPv4' }, num(c.IPv4.reserved));
        reserved.set({ pool: c.pool, family: 'IPv6' }, num(c.IPv6.reserved));
      }
      for (const pool of known) {
        if (!now.has(pool)) for (const family of ['IPv4', 'IPv6']) reserved.remove({ pool, family });
      }
      known = now;
    },
  };
}

export type LoadBalancerMetrics = ReturnType<typeof loadBalancerMetrics>;
