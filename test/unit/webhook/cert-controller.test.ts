// The leader's certificate reconcile against an in-memory API: what it writes,
// in which order, and that a second pass writes nothing.
import { describe, expect, it } from '@jest/globals';
import type { KubeConfig } from '@kubernetes/client-node';
import { X509Certificate } from 'node:crypto';
import { createRegistry } from '../../../lib/metrics.ts';
import type { RawKubeClient } from '../../../lib/raw-client.ts';
import { CertController } from '../../../operator/webhook/cert-controller.ts';
import type { SecretObject } from '../../../operator/webhook/cert-controller.ts';
import {
  DAY_MS,
  DEFAULT_ROTATION_POLICY,
  decodeSecretData,
  servingNames,
  splitPemCerts,
} from '../../../operator/webhook/certs.ts';
import type { WebhookConfigurationObject } from '../../../operator/webhook/configuration.ts';
import { poolWebhookDefinition } from '../../../operator/webhook/validate-pool.ts';
import type { Informer } from '../../../lib/informer.ts';
import { silentLogger } from '../lib/helpers.ts';

const SECRET = '/api/v1/namespaces/portico-system/secrets/portico-webhook-cert';
const VWC =
  '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/portico-validating-webhook';
const MWC = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/portico-mutating-webhook';

interface Stored {
  metadata: { name?: string; resourceVersion?: string; [field: string]: unknown };
  [field: string]: unknown;
}

class FakeApi {
  objects = new Map<string, Stored>();
  writes: string[] = [];
  #rv = 1;

  notFound(): Error {
    return Object.assign(new Error('not found'), { code: 404 });
  }
  #store(path: string, obj: Record<string, unknown>) {
    const stored = structuredClone(obj) as Stored;
    stored.metadata = { ...stored.metadata, resourceVersion: String(++this.#rv) };
    this.objects.set(path, stored);
    return structuredClone(stored);
  }
  getJson = async (path: string) => {
    const obj = this.objects.get(path);
    if (!obj) throw this.notFound();
    return structuredClone(obj);
  };
  postJson = async (path: string, body: { metadata: { name: string } }) => {
    this.writes.push(`POST ${path}`);
    const full = `${path}/${body.metadata.name}`;
    if (this.objects.has(full)) throw Object.assign(new Error('exists'), { code: 409 });
    return this.#store(full, body);
  };
  putJson = async (path: string, body: { metadata: { resourceVersion?: string } }) => {
    this.writes.push(`PUT ${path}`);
    const current = this.objects.get(path);
    if (!current) throw this.notFound();
    if (body.metadata.resourceVersion !== current.metadata.resourceVersion) {
      throw Object.assign(new Error('conflict'), { code: 409 });
    }
    return this.#store(path, body);
  };
  patchJson = async (path: string, body: unknown, contentType: string) => {
    this.writes.push(`PATCH ${path} ${contentType}`);
    if (contentType === 'application/apply-patch+yaml')
      return this.#store(path, body as Record<string, unknown>);
    const obj = this.objects.get(path);
    if (!obj) throw this.notFound();
    const next = structuredClone(obj) as Record<string, unknown>;
    for (const op of body as Array<{ op: string; path: string; value: unknown }>) {
      const keys = op.path.split('/').slice(1);
      const last = keys.pop() as string;
      let target = next as Record<string, unknown>;
      for (const k of keys) target = target[k] as Record<string, unknown>;
      if (op.op === 'test' && JSON.stringify(target[last]) !== JSON.stringify(op.value)) {
        throw Object.assign(new Error('test failed'), { code: 422 });
      }
      if (op.op === 'add') target[last] = op.value;
    }
    return this.#store(path, next);
  };
}

const POLICY = DEFAULT_ROTATION_POLICY;
const START = Date.parse('2030-01-01T00:00:00Z');

function controller(api: FakeApi, clock: { now: number }, manage = false) {
  return new CertController({
    kc: {} as KubeConfig,
    client: api as unknown as RawKubeClient,
    namespace: 'portico-system',
    secretName: 'portico-webhook-cert',
    names: servingNames('portico-webhook', 'portico-system'),
    policy: POLICY,
    configurations: [
      { type: 'validating', name: 'portico-validating-webhook' },
      { type: 'mutating', name: 'portico-mutating-webhook' },
    ],
    ...(manage
      ? { manage: { target: { url: 'https://127.0.0.1:9443' }, definitions: [poolWebhookDefinition] } }
      : {}),
    secrets: {} as Informer<SecretObject>,
    registry: createRegistry({ defaultMetrics: false }),
    logger: silentLogger,
    now: () => clock.now,
  });
}

const helmConfig = (): WebhookConfigurationObject => ({
  metadata: { name: 'portico-validating-webhook' },
  webhooks: [
    { name: 'a.portico.io', clientConfig: { service: { name: 'portico-webhook' } } },
    { name: 'b.portico.io', clientConfig: { service: { name: 'portico-webhook' }, caBundle: 'c3RhbGU=' } },
  ],
});

const secretContent = (api: FakeApi) =>
  decodeSecretData((api.objects.get(SECRET) as unknown as SecretObject).data);
const bundleOf = (config: unknown) =>
  (config as WebhookConfigurationObject).webhooks?.map((w) =>
    Buffer.from(w.clientConfig?.caBundle ?? '', 'base64').toString('utf8'),
  );

describe('CertController.reconcile', () => {
  it('creates the Secret in one write, sets caBundle on every webhook, then leaves things alone', async () => {
    const api = new FakeApi();
    api.objects.set(VWC, { ...helmConfig(), metadata: { name: 'x', resourceVersion: '1' } });
    const clock = { now: START };
    const c = controller(api, clock);

    const result = await c.reconcile();
    expect(api.writes).toEqual([
      'POST /api/v1/namespaces/portico-system/secrets',
      `PATCH ${VWC} application/json-patch+json`,
    ]);
    const content = secretContent(api);
    expect((api.objects.get(SECRET) as unknown as SecretObject).type).toBe('kubernetes.io/tls');
    expect(bundleOf(api.objects.get(VWC))).toEqual([content['ca.crt'], content['ca.crt']]);
    // Next look: when the serving certificate is due (2/3 of a year), capped at an hour.
    expect(result).toEqual({ requeueAfterMs: 60 * 60 * 1000 });

    api.writes = [];
    await c.reconcile();
    expect(api.writes).toEqual([]);
  });

  it('renews the serving certificate when due, keeping the CA', async () => {
    const api = new FakeApi();
    const clock = { now: START };
    const c = controller(api, clock);
    await c.reconcile();
    const before = secretContent(api);

    clock.now = START + 250 * DAY_MS;
    api.writes = [];
    await c.reconcile();
    expect(api.writes).toEqual([`PUT ${SECRET}`]);
    const after = secretContent(api);
    expect(after['ca.crt']).toBe(before['ca.crt']);
    expect(after['tls.crt']).not.toBe(before['tls.crt']);
    expect(new X509Certificate(after['tls.crt'] ?? '').validFromDate.getTime()).toBeGreaterThan(START);
  });

  it('rotates the CA first into caBundle, and only then serves a certificate it signed', async () => {
    const api = new FakeApi();
    api.objects.set(VWC, { ...helmConfig(), metadata: { name: 'x', resourceVersion: '1' } });
    const clock = { now: START };
    const c = controller(api, clock);
    await c.reconcile();
    const before = secretContent(api);

    const seen: string[] = [];
    const put = api.putJson;
    api.putJson = async (path, body) => {
      seen.push(
        decodeSecretData((body as SecretObject).data)['tls.crt'] === before['tls.crt']
          ? 'old-cert'
          : 'new-cert',
      );
      return put(path, body);
    };
    clock.now = START + 2500 * DAY_MS;
    api.writes = [];
    await c.reconcile();
    expect(api.writes).toEqual([
      `PUT ${SECRET}`,
      `PATCH ${VWC} application/json-patch+json`,
      `PUT ${SECRET}`,
    ]);
    // The first write changes only the CA; the certificate it signed comes after caBundle trusts it.
    expect(seen).toEqual(['old-cert', 'new-cert']);
    const after = secretContent(api);
    const cas = splitPemCerts(after['ca.crt'] ?? '');
    expect(cas).toHaveLength(2);
    expect(cas[1]).toBe(before['ca.crt']);
    expect(bundleOf(api.objects.get(VWC))).toEqual([after['ca.crt'], after['ca.crt']]);
    expect(new X509Certificate(after['tls.crt'] ?? '').checkIssued(new X509Certificate(cas[0] ?? ''))).toBe(
      true,
    );
  });

  it('repairs a Secret whose key does not match, keeping other keys and labels', async () => {
    const api = new FakeApi();
    const clock = { now: START };
    const c = controller(api, clock);
    await c.reconcile();
    const stored = api.objects.get(SECRET) as unknown as SecretObject;
    const other = secretContent(api);
    api.objects.set(SECRET, {
      ...stored,
      metadata: { ...stored.metadata, labels: { team: 'net' } },
      data: {
        ...stored.data,
        'tls.key': Buffer.from(other['ca.key'] ?? '').toString('base64'),
        extra: 'eA==',
      },
    } as never);
    api.writes = [];
    await c.reconcile();
    expect(api.writes).toEqual([`PUT ${SECRET}`]);
    const repaired = api.objects.get(SECRET) as unknown as SecretObject;
    expect(repaired.data?.['extra']).toBe('eA==');
    expect(repaired.metadata.labels).toMatchObject({
      team: 'net',
      'app.kubernetes.io/managed-by': 'portico-operator',
    });
    expect(secretContent(api)['tls.key']).not.toBe(other['ca.key']);
  });

  it('when managing, applies the whole configuration with its URL, and skips a type with no webhooks', async () => {
    const api = new FakeApi();
    const clock = { now: START };
    const c = controller(api, clock, true);
    await c.reconcile();
    expect(api.writes).toEqual([
      'POST /api/v1/namespaces/portico-system/secrets',
      `PATCH ${VWC} application/apply-patch+yaml`,
    ]);
    expect(api.objects.has(MWC)).toBe(false);
    const applied = api.objects.get(VWC) as unknown as WebhookConfigurationObject;
    expect(applied.webhooks?.[0]?.clientConfig?.url).toBe('https://127.0.0.1:9443/validate-ipaddresspool');
    expect(bundleOf(applied)).toEqual([secretContent(api)['ca.crt']]);
  });

  it('tolerates configurations that do not exist yet', async () => {
    const api = new FakeApi();
    const c = controller(api, { now: START });
    await expect(c.reconcile()).resolves.toBeDefined();
    expect(api.writes).toEqual(['POST /api/v1/namespaces/portico-system/secrets']);
  });
});
