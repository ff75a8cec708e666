// Kubernetes Events (core/v1) in the API conventions: Normal or Warning, a
// CamelCase reason and a message, attached to the object they are about.
// Repeats of the same event within a window bump `count` on the existing Event
// instead of creating a new object each time, as client-go's recorder does, so
// a Service stuck in a failure loop does not flood etcd.
import { randomBytes } from 'node:crypto';
import { describeError, isNotFound } from './errors.ts';
import type { Logger } from './logger.ts';
import type { RawKubeClient } from './raw-client.ts';

export type EventType = 'Normal' | 'Warning';

export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  uid?: string;
  resourceVersion?: string;
}

interface Recent {
  name: string;
  namespace: string;
  count: number;
  firstTimestamp: string;
  lastSentMs: number;
}

export interface EventRecorderOptions {
  client: Pick<RawKubeClient, 'postJson' | 'patchJson'>;
  /** The reporting component, e.g. "portico-operator". */
  component: string;
  /** Reporting instance, e.g. the pod name. */
  instance?: string;
  logger?: Logger;
  /** Repeats within this window update the existing Event; default 10 minutes. */
  aggregateWindowMs?: number;
  now?: () => number;
}

export class EventRecorder {
  readonly #o: EventRecorderOptions;
  readonly #recent = new Map<string, Recent>();

  constructor(options: EventRecorderOptions) {
    this.#o = options;
  }

  /**
   * Records an event. Never throws: an Event is a courtesy, and failing to
   * write one must not fail the reconcile that reported it.
   */
  async record(obj: InvolvedObject, type: EventType, reason: string, message: string): Promise<void> {
    const now = (this.#o.now ?? Date.now)();
    const namespace = obj.namespace ?? 'default';
    const key = [obj.kind, namespace, obj.name, obj.uid ?? '', type, reason, message].join('\u0000');
    const stamp = new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const recent = this.#recent.get(key);
    const window = this.#o.aggregateWindowMs ?? 10 * 60_000;
    try {
      if (recent && now - recent.lastSentMs < window) {
        recent.count++;
        recent.lastSentMs = now;
        await this.#o.client.patchJson(`/api/v1/namespaces/${recent.namespace}/events/${recent.name}`, {
          count: recent.count,
          lastTimestamp: stamp,
        });
        return;
      }
    } catch (err) {
      if (!isNotFound(err)) {
        this.#o.logger?.warn({ err: describeError(err), reason }, 'could not update event');
        return;
      }
    }
    const name = `${obj.name}.${randomBytes(8).toString('hex')}`;
    try {
      await this.#o.client.postJson(`/api/v1/namespaces/${namespace}/events`, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace },
        involvedObject: { ...obj, namespace },
        type,
        reason,
        message: message.length > 1024 ? `${message.slice(0, 1021)}...` : message,
        count: 1,
        firstTimestamp: stamp,
        lastTimestamp: stamp,
        source: { component: this.#o.component },
        reportingComponent: this.#o.component,
        reportingInstance: this.#o.instance ?? this.#o.component,
      });
      this.#recent.set(key, { name, namespace, count: 1, firstTimestamp: stamp, lastSentMs: now });
      this.#trim(now, window);
    } catch (err) {
      this.#o.logger?.warn({ err: describeError(err), reason, object: obj.name }, 'could not record event');
    }
  }

  #trim(now: number, window: number): void {
    if (this.#recent.size < 4096) return;
    for (const [key, r] of this.#recent) if (now - r.lastSentMs >= window) this.#recent.delete(key);
  }
}
