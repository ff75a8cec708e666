// The data path's metrics, on the speaker's registry.
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { getOrCreateCounter, getOrCreateGauge, getOrCreateHistogram } from '../../lib/metrics.ts';
import type { DesiredState } from './types.ts';

const SYNC_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const LATENCY_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];

export class DataplaneMetrics {
  readonly #mode: string;
  readonly #duration: Histogram<'mode' | 'kind'>;
  readonly #failures: Counter<'mode'>;
  readonly #rules: Gauge<'mode' | 'object'>;
  readonly #latency: Histogram<'mode'>;

  constructor(registry: Registry, mode: string) {
    this.#mode = mode;
    this.#duration = getOrCreateHistogram(registry, {
      name: 'portico_dataplane_sync_duration_seconds',
      help: 'Time to bring the node data path to the desired state, by kind (full reads the kernel back, partial trusts the last sync).',
      labelNames: ['mode', 'kind'],
      buckets: SYNC_BUCKETS,
    });
    this.#failures = getOrCreateCounter(registry, {
      name: 'portico_dataplane_sync_failures_total',
      help: 'Data path syncs that failed (each is followed by a full sync).',
      labelNames: ['mode'],
    });
    this.#rules = getOrCreateGauge(registry, {
      name: 'portico_dataplane_rules_programmed',
      help: 'What the last successful sync programmed: virtual services (VIP, protocol, port) and their endpoints.',
      labelNames: ['mode', 'object'],
    });
    this.#latency = getOrCreateHistogram(registry, {
      name: 'portico_dataplane_network_programming_latency_seconds',
      help: 'From an EndpointSlice change (its last-change-trigger-time, else when it was seen) to the rules being applied.',
      labelNames: ['mode'],
      buckets: LATENCY_BUCKETS,
    });
  }

  synced(full: boolean, seconds: number, state: DesiredState): void {
    this.#duration.observe({ mode: this.#mode, kind: full ? 'full' : 'partial' }, seconds);
    const endpoints = state.services.reduce((n, vs) => n + vs.endpoints.length, 0);
    this.#rules.set({ mode: this.#mode, object: 'virtual_services' }, state.services.length);
    this.#rules.set({ mode: this.#mode, object: 'endpoints' }, endpoints);
  }

  failed(): void {
    this.#failures.inc({ mode: this.#mode });
  }

  programmed(seconds: number): void {
    this.#latency.observe({ mode: this.#mode }, Math.max(0, seconds));
  }
}
