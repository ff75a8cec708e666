// The operator's admission webhooks, wired: an HTTPS server every replica
// runs, serving the certificate from the shared Secret (reloaded when it
// changes), and the leader-only CertController that writes that Secret and
// keeps the webhook configurations' caBundle current.
//
// Adding a webhook: write a handler and a WebhookDefinition (see
// validate-pool.ts) and `add()` them before `start()`.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import type { Informer } from '../../lib/informer.ts';
import { createResourceInformer } from '../../lib/list-watch.ts';
import type { Logger } from '../../lib/logger.ts';
import type { RawKubeClient } from '../../lib/raw-client.ts';
import { CertController, secretType } from './cert-controller.ts';
import type { SecretObject } from './cert-controller.ts';
import { DEFAULT_ROTATION_POLICY, SECRET_KEYS, decodeSecretData, servingNames } from './certs.ts';
import type { RotationPolicy } from './certs.ts';
import type { WebhookDefinition } from './configuration.ts';
import { WebhookServer } from './server.ts';
import type { AdmissionHandler } from './server.ts';

export type { AdmissionHandler } from './server.ts';
export type { WebhookDefinition } from './configuration.ts';
export * from './admission.ts';

export interface Webhook {
  definition: WebhookDefinition;
  handler: AdmissionHandler;
}

export interface AdmissionWebhooksOptions {
  kc: KubeConfig;
  client: RawKubeClient;
  registry: Registry;
  logger: Logger;
  /** Portico's namespace: the Secret lives here, and the Service the certificate is for. */
  namespace: string;
  port: number;
  /** Base URL the apiserver calls (out-of-cluster runs); when set, the operator also owns the configurations. */
  url?: string;
  service: string;
  secretName: string;
  validatingConfiguration: string;
  mutatingConfiguration: string;
  policy: RotationPolicy;
}

/** The webhooks as the operator's flags configure them; undefined when --webhook-port is 0. */
export function createAdmissionWebhooks(o: {
  kc: KubeConfig;
  client: RawKubeClient;
  registry: Registry;
  logger: Logger;
  namespace: string;
  flags: {
    port: number;
    url?: string;
    service: string;
    secretName: string;
    validatingConfiguration: string;
    mutatingConfiguration: string;
    caValidityMs: number;
    certValidityMs: number;
  };
}): AdmissionWebhooks | undefined {
  const { flags } = o;
  if (flags.port === 0) return undefined;
  return new AdmissionWebhooks({
    ...o,
    ...flags,
    policy: {
      caValidityMs: flags.caValidityMs,
      certValidityMs: flags.certValidityMs,
      renewFraction: DEFAULT_ROTATION_POLICY.renewFraction,
    },
  });
}

export class AdmissionWebhooks {
  readonly #o: AdmissionWebhooksOptions;
  readonly #server: WebhookServer;
  readonly #secrets: Informer<SecretObject>;
  readonly #definitions: WebhookDefinition[] = [];
  #controller: CertController | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(options: AdmissionWebhooksOptions) {
    this.#o = options;
    this.#server = new WebhookServer({
      port: options.port,
      registry: options.registry,
      logger: options.logger.child({ part: 'server' }),
    });
    this.#secrets = createResourceInformer<SecretObject>(options.kc, secretType, {
      namespace: options.namespace,
      fieldSelector: `metadata.name=${options.secretName}`,
      client: options.client,
      registry: options.registry,
      logger: options.logger.child({ informer: `secrets/${options.secretName}` }),
    });
  }

  add(webhook: Webhook): void {
    const { definition, handler } = webhook;
    this.#server.register(definition.path, handler);
    this.#definitions.push(definition);
  }

  /** Binds the port (failing at once if taken) and starts following the Secret. */
  async start(): Promise<number> {
    const port = await this.#server.start();
    this.#unsubscribe = this.#secrets.addHandlers({
      add: (s) => this.#load(s),
      update: (_old, s) => this.#load(s),
    });
    this.#secrets.start();
    this.#o.logger.info(
      { port, paths: this.#server.paths(), secret: this.#o.secretName, url: this.#o.url },
      'admission webhook server listening; TLS starts once the certificate Secret is loaded',
    );
    return port;
  }

  /** Ready to serve: a certificate is loaded. */
  ready(): boolean {
    return this.#server.hasCertificate();
  }

  /** Leader only: issue and rotate certificates, keep caBundle current. */
  startLeading(): void {
    if (this.#controller) return;
    const { url, namespace, service } = this.#o;
    const extraHosts = url ? [new URL(url).hostname] : [];
    this.#controller = new CertController({
      kc: this.#o.kc,
      client: this.#o.client,
      namespace,
      secretName: this.#o.secretName,
      names: servingNames(service, namespace, extraHosts),
      policy: this.#o.policy,
      configurations: [
        { type: 'validating', name: this.#o.validatingConfiguration },
        { type: 'mutating', name: this.#o.mutatingConfiguration },
      ],
      ...(url ? { manage: { target: { url }, definitions: this.#definitions } } : {}),
      secrets: this.#secrets,
      registry: this.#o.registry,
      logger: this.#o.logger.child({ part: 'certificates' }),
    });
    this.#controller.start();
  }

  async stopLeading(): Promise<void> {
    const controller = this.#controller;
    this.#controller = undefined;
    await controller?.stop();
  }

  async stop(): Promise<void> {
    await this.stopLeading();
    this.#unsubscribe?.();
    await this.#secrets.stop();
    await this.#server.close();
  }

  #load(secret: SecretObject): void {
    const content = decodeSecretData(secret.data);
    const cert = content[SECRET_KEYS.cert];
    const key = content[SECRET_KEYS.key];
    if (!cert || !key) return;
    const first = !this.#server.hasCertificate();
    try {
      this.#server.setCertificate({ cert, key });
    } catch (err) {
      // Keep serving the previous pair; the leader replaces a broken one.
      this.#o.logger.warn({ err: (err as Error).message }, 'certificate Secret holds an unusable key pair');
      return;
    }
    this.#o.logger.info(
      { resourceVersion: secret.metadata.resourceVersion },
      first ? 'serving certificate loaded' : 'serving certificate reloaded',
    );
  }
}
