// Adapter: the audit loop. On the leader, after any Service, Namespace or
// pool change (debounced) and every interval, it re-runs the pure audit over
// the caches. Each new finding gets one Warning Event on its Service; the
// findings per pool and the pools' usage feed the pool status controllers
// (which write the ServicesOutsidePool condition and the counts) and
// portico_audit_findings. It never writes a Service.
import type { Registry } from 'prom-client';
import type { EventRecorder } from '../../../lib/events.ts';
import type { Informer } from '../../../lib/informer.ts';
import type { Logger } from '../../../lib/logger.ts';
import { getOrCreateCounter, getOrCreateGauge } from '../../../lib/metrics.ts';
import type { KubeObject } from '../../../lib/object-cache.ts';
import { WorkQueue } from '../../../lib/workqueue.ts';
import type { IPFamily, Labels } from '../../allocator/index.ts';
import type { PortRange } from '../../allocator/ports.ts';
import { usablePortPools } from '../../webhook/mutate-service.ts';
import type { NodePortPoolResource } from '../../webhook/mutate-service.ts';
import { judgePools } from '../pools/status.ts';
import type { PoolObject } from '../pools/status.ts';
import { audit, findingKey, findingMessage } from './findings.ts';
import type { AuditResult, AuditService, Finding, PoolKind } from './findings.ts';

export interface AuditControllerOptions {
  services: Informer<AuditService & KubeObject>;
  namespaces: Informer<KubeObject & { metadata?: { labels?: Labels } }>;
  ipPools: Informer<PoolObject & KubeObject>;
  portPools: Informer<NodePortPoolResource>;
  recorder: Pick<EventRecorder, 'record'>;
  registry: Registry;
  logger: Logger;
  /** Portico's namespace, where the pools live (named in Event messages). */
  poolNamespace: string;
  /** A full pass at least this often, besides the passes changes trigger. */
  intervalMs: number;
  /** Changes are gathered this long before a pass. */
  debounceMs?: number;
  nodePortRange?: PortRange;
  /** Called after a pass whose findings or usage differ from the last one. */
  onChange?: () => void;
}

const KEY = 'audit';
const NO_IPS: Readonly<Record<IPFamily, bigint>> = { IPv4: 0n, IPv6: 0n };

export class AuditController {
  readonly #o: AuditControllerOptions;
  #queue: WorkQueue | undefined;
  #unsubscribe: Array<() => void> = [];
  #result: AuditResult | undefined;
  #signature = '';
  /** Findings already reported by Event; a finding is reported again only after it cleared. */
  #reported = new Set<string>();
  readonly #metrics;

  constructor(options: AuditControllerOptions) {
    this.#o = options;
    this.#metrics = {
      findings: getOrCreateGauge(options.registry, {
        name: 'portico_audit_findings',
        help: 'Values of Services outside the pool that selects them, per pool and field (clusterIP, nodePort).',
        labelNames: ['pool', 'field'],
      }),
      events: getOrCreateCounter(options.registry, {
        name: 'portico_audit_events_total',
        help: 'Warning Events the audit recorded for newly found values outside a pool.',
        labelNames: ['field'],
      }),
    };
  }

  start(): void {
    if (this.#queue) return;
    const queue = new WorkQueue(
      { name: 'service-audit', registry: this.#o.registry, logger: this.#o.logger },
      () => this.#pass(),
    );
    this.#queue = queue;
    const soon = () => queue.addAfter(KEY, this.#o.debounceMs ?? 1000);
    const handlers = { add: soon, update: soon, delete: soon };
    const { services, namespaces, ipPools, portPools } = this.#o;
    this.#unsubscribe = [
      services.addHandlers(handlers),
      namespaces.addHandlers(handlers),
      ipPools.addHandlers(handlers),
      portPools.addHandlers(handlers),
    ];
    queue.add(KEY);
  }

  async stop(): Promise<void> {
    for (const u of this.#unsubscribe) u();
    this.#unsubscribe = [];
    await this.#queue?.shutdown();
    this.#queue = undefined;
    // A new leader term reports afresh.
    this.#reported.clear();
  }

  /** The last pass, or undefined before the first. */
  result(): AuditResult | undefined {
    return this.#result;
  }

  findings(poolKind: PoolKind, pool: string): Finding[] {
    return (this.#result?.findings ?? []).filter((f) => f.poolKind === poolKind && f.pool === pool);
  }

  ipUsage(pool: string): Readonly<Record<IPFamily, bigint>> {
    return this.#result?.ipUsage.get(pool) ?? NO_IPS;
  }

  portUsage(pool: string): number {
    return this.#result?.portUsage.get(pool) ?? 0;
  }

  async #pass(): Promise<{ requeueAfterMs: number }> {
    const { services, namespaces, ipPools, portPools } = this.#o;
    await Promise.all([services, namespaces, ipPools, portPools].map((i) => i.waitForSync()));
    const usableIP = judgePools(ipPools.list()).usable;
    const usablePorts = usablePortPools(
      portPools.list(),
      this.#o.nodePortRange ? { nodePortRange: this.#o.nodePortRange } : {},
    );
    const result = audit({
      services: services.list(),
      namespaceLabels: (ns) => namespaces.get(ns)?.metadata?.labels,
      ipPools: usableIP,
      portPools: usablePorts,
    });
    this.#result = result;

    this.#metrics.findings.reset();
    const count = (kind: Finding['kind'], pool: string) =>
      result.findings.filter((f) => f.kind === kind && f.pool === pool).length;
    for (const p of usableIP.filter((p) => p.usage === 'ClusterIP'))
      this.#metrics.findings.set({ pool: p.name, field: 'clusterIP' }, count('clusterIP', p.name));
    for (const p of usablePorts)
      this.#metrics.findings.set({ pool: p.name, field: 'nodePort' }, count('nodePort', p.name));

    const current = new Set<string>();
    for (const f of result.findings) {
      const key = findingKey(f);
      current.add(key);
      if (this.#reported.has(key)) continue;
      const [namespace, name] = f.service.split('/') as [string, string];
      this.#o.logger.warn(
        { service: f.service, field: f.field, value: f.value, pool: f.pool },
        'outside pool',
      );
      await this.#o.recorder.record(
        { apiVersion: 'v1', kind: 'Service', namespace, name, ...(f.uid ? { uid: f.uid } : {}) },
        'Warning',
        'OutsidePool',
        findingMessage(f, this.#o.poolNamespace),
      );
      this.#metrics.events.inc({ field: f.kind });
    }
    // Fixed or deleted Services drop out; should one come back it is reported again.
    this.#reported = current;

    const signature = JSON.stringify([
      [...current].sort(),
      [...result.ipUsage].map(([k, v]) => [k, String(v.IPv4), String(v.IPv6)]),
      [...result.portUsage],
    ]);
    if (signature !== this.#signature) {
      this.#signature = signature;
      this.#o.onChange?.();
    }
    return { requeueAfterMs: this.#o.intervalMs };
  }
}
