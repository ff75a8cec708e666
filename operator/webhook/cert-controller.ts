// Adapter, leader only: keeps the webhook's certificate Secret and the
// caBundle of the webhook configurations current. One key, one reconcile:
//
//   read the Secret -> CA due (or missing, or broken)? issue a new CA, put it
//   first in ca.crt beside the old one, write -> bring every configuration's
//   caBundle to ca.crt -> serving certificate due (or not from the current
//   CA, or missing a name)? issue one, write -> requeue at the next renewal.
//
// A new CA reaches the caBundle before any certificate it signed is served, and
// the old CA stays in the bundle, so no replica ever serves a certificate the
// apiserver cannot verify. Every replica (leader or not) serves whatever
// tls.crt the Secret holds; see index.ts.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import { describeError, isNotFound } from '../../lib/errors.ts';
import { jsonEqual } from '../../lib/json-equal.ts';
import type { Informer } from '../../lib/informer.ts';
import { createResourceInformer } from '../../lib/list-watch.ts';
import type { Logger } from '../../lib/logger.ts';
import { getOrCreateCounter, getOrCreateGauge } from '../../lib/metrics.ts';
import { JSON_PATCH } from '../../lib/raw-client.ts';
import type { RawKubeClient } from '../../lib/raw-client.ts';
import { collectionPath, objectPath } from '../../lib/resource-path.ts';
import { WorkQueue } from '../../lib/workqueue.ts';
import type { ReconcileResult } from '../../lib/workqueue.ts';
import {
  SECRET_KEYS,
  decodeSecretData,
  encodeSecretData,
  generateCA,
  inspectBundle,
  issueServingCert,
  planCA,
  planServing,
  renewalTime,
  rotateBundle,
  splitPemCerts,
} from './certs.ts';
import type { BundleFacts, RotationPolicy, SecretContent, ServingNames } from './certs.ts';
import { ADMISSIONREGISTRATION, PLURAL_OF, caBundlePatch, desiredConfiguration } from './configuration.ts';
import type {
  ClientConfigTarget,
  WebhookConfigurationObject,
  WebhookDefinition,
  WebhookType,
} from './configuration.ts';

export const FIELD_MANAGER = 'portico-operator';
const APPLY_PATCH = 'application/apply-patch+yaml';
const KEY = 'webhook-certificates';
/** Reconcile at least this often, whatever the certificates say (a cheap read). */
const MAX_REQUEUE_MS = 60 * 60 * 1000;

export interface SecretObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  type?: string;
  data?: Record<string, string>;
}

export const secretType = { group: '', version: 'v1', plural: 'secrets' } as const;

export interface CertControllerOptions {
  kc: KubeConfig;
  client: RawKubeClient;
  namespace: string;
  secretName: string;
  names: ServingNames;
  policy: RotationPolicy;
  /** The configurations to keep current; an empty name is skipped. */
  configurations: Array<{ type: WebhookType; name: string }>;
  /** When set, the operator owns the configurations: it applies them whole, pointing at `target`. */
  manage?: { target: ClientConfigTarget; definitions: readonly WebhookDefinition[] };
  /** The Secret informer every replica runs; its changes trigger a reconcile here. */
  secrets: Informer<SecretObject>;
  registry: Registry;
  logger: Logger;
  now?: () => number;
}

export class CertController {
  readonly #o: CertControllerOptions;
  readonly #metrics;
  #queue: WorkQueue | undefined;
  #informers = new Map<WebhookType, Informer<WebhookConfigurationObject>>();
  #unsubscribe: Array<() => void> = [];
  /** Configurations already reported missing, so the log says it once. */
  #missing = new Set<string>();

  constructor(options: CertControllerOptions) {
    this.#o = options;
    this.#metrics = {
      expiry: getOrCreateGauge(options.registry, {
        name: 'portico_webhook_certificate_expiry_timestamp_seconds',
        help: 'When the webhook CA and serving certificate in the Secret expire (Unix time).',
        labelNames: ['certificate'],
      }),
      rotations: getOrCreateCounter(options.registry, {
        name: 'portico_webhook_certificate_rotations_total',
        help: 'Webhook certificates issued by this replica, by certificate (ca, serving).',
        labelNames: ['certificate'],
      }),
      caBundleUpdates: getOrCreateCounter(options.registry, {
        name: 'portico_webhook_cabundle_updates_total',
        help: 'Writes of caBundle (or of the whole configuration when managed) to webhook configurations.',
        labelNames: ['configuration'],
      }),
    };
  }

  start(): void {
    if (this.#queue) return;
    const queue = new WorkQueue(
      {
        name: 'webhook-certificates',
        registry: this.#o.registry,
        logger: this.#o.logger,
        backoff: { baseMs: 500, capMs: 60_000 },
      },
      () => this.reconcile(),
    );
    this.#queue = queue;
    const trigger = { add: () => queue.add(KEY), update: () => queue.add(KEY), delete: () => queue.add(KEY) };
    this.#unsubscribe.push(this.#o.secrets.addHandlers(trigger));
    for (const { type, name } of this.#configurations()) {
      const informer = createResourceInformer<WebhookConfigurationObject>(
        this.#o.kc,
        { ...ADMISSIONREGISTRATION, plural: PLURAL_OF[type] },
        {
          fieldSelector: `metadata.name=${name}`,
          client: this.#o.client,
          registry: this.#o.registry,
          logger: this.#o.logger.child({ informer: `${PLURAL_OF[type]}/${name}` }),
        },
      );
      this.#unsubscribe.push(informer.addHandlers(trigger));
      informer.start();
      this.#informers.set(type, informer);
    }
    queue.add(KEY);
  }

  async stop(): Promise<void> {
    for (const off of this.#unsubscribe.splice(0)) off();
    await Promise.all([...this.#informers.values()].map((i) => i.stop()));
    this.#informers.clear();
    await this.#queue?.shutdown();
    this.#queue = undefined;
  }

  #configurations(): Array<{ type: WebhookType; name: string }> {
    return this.#o.configurations.filter(({ type, name }) => {
      if (!name) return false;
      // A managed configuration with no webhooks of its type is not created.
      return !this.#o.manage || this.#o.manage.definitions.some((d) => d.type === type);
    });
  }

  /** One pass; exported for tests. Throws (and is retried) on API errors. */
  async reconcile(): Promise<ReconcileResult> {
    const now = (this.#o.now ?? Date.now)();
    const { policy, names } = this.#o;
    let secret = await this.#readSecret();
    let content = decodeSecretData(secret?.data);
    let facts = inspectBundle(content);

    const caPlan = planCA(now, facts, policy);
    if (caPlan.action === 'issue') {
      const ca = await generateCA({ nowMs: now, validityMs: policy.caValidityMs });
      content = {
        ...content,
        [SECRET_KEYS.caCert]: rotateBundle(ca.cert, content[SECRET_KEYS.caCert] ?? '', now),
        [SECRET_KEYS.caKey]: ca.key,
      };
      // With nothing served yet there is nobody to keep working: one write
      // (a kubernetes.io/tls Secret must hold tls.crt and tls.key anyway).
      if (!content[SECRET_KEYS.cert] || !content[SECRET_KEYS.key]) {
        content = await this.#issueServing(content, now, 'first certificate');
      }
      secret = await this.#writeSecret(secret, content);
      facts = inspectBundle(content);
      this.#metrics.rotations.inc({ certificate: 'ca' });
      this.#o.logger.info({ reason: caPlan.reason, serial: facts.ca?.serial }, 'issued a new webhook CA');
    }

    await this.#syncConfigurations(content[SECRET_KEYS.caCert] ?? '');

    const servingPlan = planServing(now, facts, names, policy);
    if (servingPlan.action === 'issue') {
      content = await this.#issueServing(content, now, servingPlan.reason);
      await this.#writeSecret(secret, content);
      facts = inspectBundle(content);
    }

    this.#recordExpiry(facts);
    const next = Math.min(
      facts.ca ? renewalTime(facts.ca, policy.renewFraction) : now,
      facts.serving ? renewalTime(facts.serving, policy.renewFraction) : now,
    );
    return { requeueAfterMs: Math.min(Math.max(next - now, 1_000), MAX_REQUEUE_MS) };
  }

  async #getConfiguration(path: string): Promise<WebhookConfigurationObject | undefined> {
    try {
      return await this.#o.client.getJson<WebhookConfigurationObject>(path);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** A new serving certificate from the current CA (first in ca.crt) into `content`. */
  async #issueServing(content: SecretContent, now: number, reason: string): Promise<SecretContent> {
    const pair = await issueServingCert({
      ca: {
        cert: splitPemCerts(content[SECRET_KEYS.caCert] ?? '')[0] ?? '',
        key: content[SECRET_KEYS.caKey] ?? '',
      },
      names: this.#o.names,
      nowMs: now,
      validityMs: this.#o.policy.certValidityMs,
    });
    this.#metrics.rotations.inc({ certificate: 'serving' });
    this.#o.logger.info(
      {
        reason,
        serial: inspectBundle({ [SECRET_KEYS.cert]: pair.cert }).serving?.serial,
        names: this.#o.names,
      },
      'issued a new webhook serving certificate',
    );
    return { ...content, [SECRET_KEYS.cert]: pair.cert, [SECRET_KEYS.key]: pair.key };
  }

  #recordExpiry(facts: BundleFacts): void {
    if (facts.ca) this.#metrics.expiry.set({ certificate: 'ca' }, facts.ca.notAfter / 1000);
    if (facts.serving) this.#metrics.expiry.set({ certificate: 'serving' }, facts.serving.notAfter / 1000);
  }

  #secretPath(): string {
    return objectPath({ ...secretType, namespace: this.#o.namespace, name: this.#o.secretName });
  }

  async #readSecret(): Promise<SecretObject | undefined> {
    try {
      return await this.#o.client.getJson<SecretObject>(this.#secretPath());
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /**
   * Creates the Secret, or replaces our keys in it (other keys, labels and its
   * type are kept). The resourceVersion read is sent back, so a concurrent
   * writer makes this fail with 409 and the reconcile starts over.
   */
  async #writeSecret(existing: SecretObject | undefined, content: SecretContent): Promise<SecretObject> {
    const labels = {
      'app.kubernetes.io/managed-by': FIELD_MANAGER,
      'app.kubernetes.io/part-of': 'portico',
      'app.kubernetes.io/component': 'webhook',
    };
    if (!existing) {
      const body: SecretObject = {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: this.#o.secretName, namespace: this.#o.namespace, labels },
        type: 'kubernetes.io/tls',
        data: encodeSecretData(content),
      };
      return await this.#o.client.postJson<SecretObject>(collectionPath(secretType, this.#o.namespace), body);
    }
    const body: SecretObject = {
      ...existing,
      metadata: { ...existing.metadata, labels: { ...existing.metadata.labels, ...labels } },
      data: { ...existing.data, ...encodeSecretData(content) },
    };
    return await this.#o.client.putJson<SecretObject>(this.#secretPath(), body);
  }

  async #syncConfigurations(caBundle: string): Promise<void> {
    for (const { type, name } of this.#configurations()) {
      const path = objectPath({ ...ADMISSIONREGISTRATION, plural: PLURAL_OF[type], name });
      const manage = this.#o.manage;
      if (manage) {
        const desired = desiredConfiguration({
          type,
          name,
          definitions: manage.definitions,
          target: manage.target,
          caBundle,
          namespace: this.#o.namespace,
        });
        const informer = this.#informers.get(type);
        const current = informer?.hasSynced() ? informer.get(name) : await this.#getConfiguration(path);
        if (current && sameManagedContent(current, desired)) continue;
        // Server-side apply creates or updates it; unchanged fields are no-ops.
        await this.#o.client.patchJson(path, desired, APPLY_PATCH, {
          fieldManager: FIELD_MANAGER,
          force: true,
        });
        this.#metrics.caBundleUpdates.inc({ configuration: name });
        this.#o.logger.info({ configuration: name, kind: desired.kind }, 'applied webhook configuration');
        continue;
      }
      const config = await this.#getConfiguration(path);
      if (!config) {
        if (!this.#missing.has(name)) {
          this.#missing.add(name);
          this.#o.logger.info(
            { configuration: name, type },
            'webhook configuration not found; its caBundle will be set when it is created',
          );
        }
        continue;
      }
      this.#missing.delete(name);
      const patch = caBundlePatch(config, caBundle);
      if (patch.length === 0) continue;
      try {
        await this.#o.client.patchJson(path, patch, JSON_PATCH);
      } catch (err) {
        throw new Error(`updating caBundle of ${PLURAL_OF[type]}/${name}: ${describeError(err)}`, {
          cause: err,
        });
      }
      this.#metrics.caBundleUpdates.inc({ configuration: name });
      this.#o.logger.info(
        { configuration: name, webhooks: patch.filter((op) => op.op === 'add').length },
        'updated webhook caBundle',
      );
    }
  }
}

/**
 * Whether the stored configuration already says what we would apply, for the
 * fields we set. The apiserver adds defaults (objectSelector, ...), so only
 * our fields are compared; when unsure, apply (it is idempotent).
 */
function sameManagedContent(
  current: WebhookConfigurationObject,
  desired: WebhookConfigurationObject,
): boolean {
  const cur = current.webhooks ?? [];
  const want = desired.webhooks ?? [];
  if (cur.length !== want.length) return false;
  return want.every((w, i) => {
    const c = cur[i] as Record<string, unknown> | undefined;
    if (!c) return false;
    return Object.entries(w).every(([key, value]) => jsonEqual(c[key], value));
  });
}
