// The ServiceBackends metrics: addresses by health, DNS failures, probe latency.
import type { Registry } from 'prom-client';
import { getOrCreateCounter, getOrCreateGauge, getOrCreateHistogram } from '../../../lib/metrics.ts';

export function backendsMetrics(registry: Registry) {
  const addresses = getOrCreateGauge(registry, {
    name: 'portico_servicebackends_addresses',
    help: 'Backend addresses of a ServiceBackends, by state (healthy: published ready; unhealthy: published not ready).',
    labelNames: ['namespace', 'name', 'state'],
  });
  const resolutionFailures = getOrCreateCounter(registry, {
    name: 'portico_servicebackends_resolution_failures_total',
    help: 'Failed DNS lookups of the host names of a ServiceBackends (last good addresses were kept).',
    labelNames: ['namespace', 'name'],
  });
  const probeSeconds = getOrCreateHistogram(registry, {
    name: 'portico_servicebackends_health_check_duration_seconds',
    help: 'Time one active health check took, by type (tcp, http) and result (success, failure).',
    labelNames: ['type', 'result'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  });
  return {
    addresses,
    resolutionFailures,
    probeSeconds,
    /** Drops the series of a deleted object. */
    forget(namespace: string, name: string): void {
      for (const state of ['healthy', 'unhealthy']) addresses.remove({ namespace, name, state });
      resolutionFailures.remove({ namespace, name });
    },
  };
}
