// What the LoadBalancer controller tells users through Events, and the
// counters that go with them: a new assignment, a release, a failure (once
// per distinct failure), and MetalLB annotation aliases (once per Service).
import type { EventRecorder, EventType } from '../../../lib/events.ts';
import type { AssignFailure } from '../../allocator/index.ts';
import { aliasMessage } from './annotations.ts';
import type { Decision } from './decide.ts';
import type { LoadBalancerMetrics } from './metrics.ts';
import type { ServiceObject } from './service.ts';
import { ALLOCATED_CONDITION } from './status.ts';

export class ServiceReporter {
  readonly #recorder: Pick<EventRecorder, 'record'>;
  readonly #metrics: LoadBalancerMetrics;
  /** Last failure reported per key, so an unchanged failure is not reported again. */
  readonly #reported = new Map<string, string>();
  /** Alias and conflict notes already made, by Service UID. */
  readonly #noted = new Set<string>();

  constructor(recorder: Pick<EventRecorder, 'record'>, metrics: LoadBalancerMetrics) {
    this.#recorder = recorder;
    this.#metrics = metrics;
  }

  /** Forgets what was reported (on losing the lease). */
  reset(): void {
    this.#reported.clear();
  }

  async event(svc: ServiceObject, type: EventType, reason: string, message: string): Promise<void> {
    await this.#recorder.record(
      {
        apiVersion: 'v1',
        kind: 'Service',
        namespace: svc.metadata.namespace ?? '',
        name: svc.metadata.name ?? '',
        ...(svc.metadata.uid ? { uid: svc.metadata.uid } : {}),
      },
      type,
      reason,
      message,
    );
  }

  /**
   * Events and counters. `previous` is the ingress replaced by a status write,
   * if one was made. Decides synchronously (so the dedup state is updated in
   * order), then sends.
   */
  async report(svc: ServiceObject, d: Decision, previous: string[] | undefined): Promise<void> {
    const events: [EventType, string, string][] = [];
    const uid = svc.metadata.uid ?? '';
    for (const a of d.aliases) {
      if (this.#note(`${uid}|alias|${a.key}`)) events.push(['Normal', 'AnnotationAlias', aliasMessage(a)]);
    }
    for (const c of d.conflicts) {
      if (this.#note(`${uid}|conflict|${c.ignored}`))
        events.push(['Warning', 'ConflictingAnnotations', c.message]);
    }
    const ips = d.status?.ips ?? [];
    const r = d.result;
    if (previous !== undefined && previous.join(',') !== ips.join(',') && ips.length > 0 && r?.ok) {
      const sticky = r.source === 'reservation' ? ' (held for this Service by a sticky reservation)' : '';
      const shared = r.sharedWith.length > 0 ? `; shared with ${r.sharedWith.join(', ')}` : '';
      this.#metrics.allocations.inc({ pool: r.pool });
      events.push([
        'Normal',
        'IPAllocated',
        `Assigned ${ips.join(', ')} from IPAddressPool ${JSON.stringify(r.pool)}${sticky}${shared}`,
      ]);
    }
    if (d.released !== undefined) {
      events.push([
        'Normal',
        'IPReleased',
        `Released ${d.released.ips.join(', ')}: the Service is no longer a LoadBalancer served by Portico`,
      ]);
    }
    const failure = this.#newFailure(svc, d, previous);
    if (failure !== undefined) {
      this.#metrics.errors.inc({ reason: failure.reason });
      events.push(['Warning', failure.reason, failure.message]);
    }
    await Promise.all(events.map(([type, reason, message]) => this.event(svc, type, reason, message)));
  }

  /** The failure of this run, unless it was already reported. */
  #newFailure(svc: ServiceObject, d: Decision, previous: string[] | undefined): AssignFailure | undefined {
    const key = `${svc.metadata.namespace}/${svc.metadata.name}`;
    const failure = d.invalid ?? (d.result !== undefined && !d.result.ok ? d.result : undefined);
    if (failure === undefined) {
      this.#reported.delete(key);
      return undefined;
    }
    const signature = `${svc.metadata.uid ?? ''}|${failure.reason}|${failure.message}`;
    if (this.#reported.get(key) === signature) return undefined;
    this.#reported.set(key, signature);
    // After a restart, a failure the Service's condition already shows is not news.
    const shown = (svc.status?.conditions ?? []).find((c) => c.type === ALLOCATED_CONDITION);
    if (previous === undefined && shown?.reason === failure.reason && shown.message === failure.message) {
      return undefined;
    }
    return failure;
  }

  #note(id: string): boolean {
    if (this.#noted.has(id)) return false;
    if (this.#noted.size > 100_000) this.#noted.clear();
    this.#noted.add(id);
    return true;
  }
}
