// The Validating/MutatingWebhookConfiguration side, pure: what each webhook
// looks like (a definition registered beside its handler), the whole
// configuration the operator applies when it manages it (--webhook-url), and
// the JSON patch that brings caBundle up to date in a configuration someone
// else (the Helm chart) owns.
import type { JsonPatchOperation } from './admission.ts';

export const ADMISSIONREGISTRATION = { group: 'admissionregistration.k8s.io', version: 'v1' } as const;

export type WebhookType = 'validating' | 'mutating';

export interface RuleWithOperations {
  apiGroups: string[];
  apiVersions: string[];
  resources: string[];
  operations: Array<'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT' | '*'>;
  scope?: 'Namespaced' | 'Cluster' | '*';
}

/** One webhook: where it is served and what the apiserver sends it. */
export interface WebhookDefinition {
  /** The webhook's name in its configuration, a qualified name like `ipaddresspools.portico.io`. */
  name: string;
  type: WebhookType;
  /** The server path, e.g. `/validate-ipaddresspool`. */
  path: string;
  rules: RuleWithOperations[];
  failurePolicy: 'Fail' | 'Ignore';
  /** Default 10. */
  timeoutSeconds?: number;
  /**
   * `portico-namespace` limits the webhook to Portico's own namespace (for
   * kinds Portico only reads there, like IPAddressPool); `all` sends every
   * namespace; `not-system` sends every namespace but kube-system and
   * Portico's own (for webhooks on core kinds, so that the control plane and
   * Portico itself never depend on Portico answering).
   */
  namespaces: 'portico-namespace' | 'all' | 'not-system';
  /** Mutating only; default Never. */
  reinvocationPolicy?: 'Never' | 'IfNeeded';
}

export type ClientConfigTarget =
  { url: string } | { service: { namespace: string; name: string; port: number } };

export interface WebhookConfigurationObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; resourceVersion?: string; labels?: Record<string, string> };
  webhooks?: Array<{
    name: string;
    clientConfig?: { url?: string; service?: unknown; caBundle?: string };
    [field: string]: unknown;
  }>;
}

export const KIND_OF: Record<WebhookType, string> = {
  validating: 'ValidatingWebhookConfiguration',
  mutating: 'MutatingWebhookConfiguration',
};

export const PLURAL_OF: Record<WebhookType, string> = {
  validating: 'validatingwebhookconfigurations',
  mutating: 'mutatingwebhookconfigurations',
};

const base64 = (pem: string) => Buffer.from(pem, 'utf8').toString('base64');

/** The full configuration of one type, as the operator applies it when it manages it. */
export function desiredConfiguration(options: {
  type: WebhookType;
  name: string;
  definitions: readonly WebhookDefinition[];
  target: ClientConfigTarget;
  /** PEM bundle; sent base64-encoded. */
  caBundle: string;
  namespace: string;
}): WebhookConfigurationObject {
  const caBundle = base64(options.caBundle);
  const target = options.target;
  const webhooks = options.definitions
    .filter((d) => d.type === options.type)
    .map((d) => ({
      name: d.name,
      admissionReviewVersions: ['v1'],
      clientConfig:
        'url' in target
          ? { url: joinUrl(target.url, d.path), caBundle }
          : { service: { ...target.service, path: d.path }, caBundle },
      rules: d.rules,
      failurePolicy: d.failurePolicy,
      matchPolicy: 'Equivalent',
      sideEffects: 'None',
      timeoutSeconds: d.timeoutSeconds ?? 10,
      ...(d.namespaces === 'portico-namespace'
        ? { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': options.namespace } } }
        : {}),
      ...(d.namespaces === 'not-system'
        ? {
            namespaceSelector: {
              matchExpressions: [
                {
                  key: 'kubernetes.io/metadata.name',
                  operator: 'NotIn',
                  values: ['kube-system', options.namespace],
                },
              ],
            },
          }
        : {}),
      ...(options.type === 'mutating' ? { reinvocationPolicy: d.reinvocationPolicy ?? 'Never' } : {}),
    }));
  return {
    apiVersion: `${ADMISSIONREGISTRATION.group}/${ADMISSIONREGISTRATION.version}`,
    kind: KIND_OF[options.type],
    metadata: {
      name: options.name,
      labels: { 'app.kubernetes.io/managed-by': 'portico-operator', 'app.kubernetes.io/part-of': 'portico' },
    },
    webhooks,
  };
}

/** `https://host:1/` + `/validate-x` without a double slash. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}

/**
 * The JSON patch that sets caBundle on every webhook of a configuration whose
 * caBundle differs, guarded by a test of the resourceVersion so a concurrent
 * change to the list cannot make us write into the wrong entry. Empty when
 * everything is current.
 */
export function caBundlePatch(config: WebhookConfigurationObject, caBundlePem: string): JsonPatchOperation[] {
  const want = base64(caBundlePem);
  const ops: JsonPatchOperation[] = [];
  (config.webhooks ?? []).forEach((webhook, i) => {
    if (webhook.clientConfig?.caBundle === want) return;
    ops.push({ op: 'test', path: `/webhooks/${i}/name`, value: webhook.name });
    ops.push(
      webhook.clientConfig
        ? { op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value: want }
        : { op: 'add', path: `/webhooks/${i}/clientConfig`, value: { caBundle: want } },
    );
  });
  if (ops.length === 0) return [];
  const rv = config.metadata.resourceVersion;
  return rv ? [{ op: 'test', path: '/metadata/resourceVersion', value: rv }, ...ops] : ops;
}

/** True when every webhook in the configuration trusts exactly this bundle. */
export function hasCABundle(config: WebhookConfigurationObject | undefined, caBundlePem: string): boolean {
  if (!config) return false;
  const want = base64(caBundlePem);
  return (config.webhooks ?? []).every((w) => w.clientConfig?.caBundle === want);
}
