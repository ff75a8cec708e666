import { describe, expect, it } from '@jest/globals';
import {
  caBundlePatch,
  desiredConfiguration,
  hasCABundle,
  joinUrl,
} from '../../../operator/webhook/configuration.ts';
import type { WebhookDefinition } from '../../../operator/webhook/configuration.ts';
import { poolWebhookDefinition } from '../../../operator/webhook/validate-pool.ts';

const PEM = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
const B64 = Buffer.from(PEM).toString('base64');

const mutating: WebhookDefinition = {
  name: 'services.portico.io',
  type: 'mutating',
  path: '/mutate-service',
  rules: [{ apiGroups: [''], apiVersions: ['v1'], resources: ['services'], operations: ['CREATE'] }],
  failurePolicy: 'Ignore',
  namespaces: 'all',
};

describe('desiredConfiguration', () => {
  it('points each webhook of the type at base URL + path, limited to Portico’s namespace when asked', () => {
    const config = desiredConfiguration({
      type: 'validating',
      name: 'portico-validating-webhook',
      definitions: [poolWebhookDefinition, mutating],
      target: { url: 'https://127.0.0.1:9443/' },
      caBundle: PEM,
      namespace: 'portico-system',
    });
    expect(config).toEqual({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: {
        name: 'portico-validating-webhook',
        labels: {
          'app.kubernetes.io/managed-by': 'portico-operator',
          'app.kubernetes.io/part-of': 'portico',
        },
      },
      webhooks: [
        {
          name: 'ipaddresspools.portico.io',
          admissionReviewVersions: ['v1'],
          clientConfig: { url: 'https://127.0.0.1:9443/validate-ipaddresspool', caBundle: B64 },
          rules: poolWebhookDefinition.rules,
          failurePolicy: 'Fail',
          matchPolicy: 'Equivalent',
          sideEffects: 'None',
          timeoutSeconds: 5,
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'portico-system' } },
        },
      ],
    });
  });

  it('uses a Service reference and sets reinvocationPolicy for mutating webhooks', () => {
    const config = desiredConfiguration({
      type: 'mutating',
      name: 'm',
      definitions: [poolWebhookDefinition, mutating],
      target: { service: { namespace: 'portico-system', name: 'portico-webhook', port: 443 } },
      caBundle: PEM,
      namespace: 'portico-system',
    });
    expect(config.kind).toBe('MutatingWebhookConfiguration');
    expect(config.webhooks).toEqual([
      expect.objectContaining({
        name: 'services.portico.io',
        clientConfig: {
          service: {
            namespace: 'portico-system',
            name: 'portico-webhook',
            port: 443,
            path: '/mutate-service',
          },
          caBundle: B64,
        },
        failurePolicy: 'Ignore',
        reinvocationPolicy: 'Never',
      }),
    ]);
    expect(config.webhooks?.[0]).not.toHaveProperty('namespaceSelector');
  });

  it('joins URLs without doubling slashes', () => {
    expect(joinUrl('https://h:1', '/a')).toBe('https://h:1/a');
    expect(joinUrl('https://h:1/base//', '/a')).toBe('https://h:1/base/a');
  });
});

describe('caBundlePatch', () => {
  const config = {
    metadata: { name: 'c', resourceVersion: '42' },
    webhooks: [
      { name: 'a', clientConfig: { service: {}, caBundle: B64 } },
      { name: 'b', clientConfig: { service: {}, caBundle: 'b2xk' } },
      { name: 'c' },
    ],
  };

  it('sets caBundle only where it differs, guarded by resourceVersion and entry names', () => {
    expect(caBundlePatch(config, PEM)).toEqual([
      { op: 'test', path: '/metadata/resourceVersion', value: '42' },
      { op: 'test', path: '/webhooks/1/name', value: 'b' },
      { op: 'add', path: '/webhooks/1/clientConfig/caBundle', value: B64 },
      { op: 'test', path: '/webhooks/2/name', value: 'c' },
      { op: 'add', path: '/webhooks/2/clientConfig', value: { caBundle: B64 } },
    ]);
    expect(hasCABundle(config, PEM)).toBe(false);
  });

  it('is empty when every webhook is current', () => {
    const current = { metadata: { name: 'c' }, webhooks: [{ name: 'a', clientConfig: { caBundle: B64 } }] };
    expect(caBundlePatch(current, PEM)).toEqual([]);
    expect(hasCABundle(current, PEM)).toBe(true);
    expect(hasCABundle(undefined, PEM)).toBe(false);
  });
});
