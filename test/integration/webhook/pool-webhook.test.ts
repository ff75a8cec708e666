// The real apiserver calls the operator's validating webhook over TLS. The
// operator runs out of cluster with --webhook-url, so it creates the
// ValidatingWebhookConfiguration itself, keeps its caBundle current, and
// stores its CA and certificate in a Secret that survives restarts and is
// rotated before expiry.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeError, isNotFound } from '../../../lib/errors.ts';
import { RawKubeClient } from '../../../lib/raw-client.ts';
import {
  DAY_MS,
  decodeSecretData,
  encodeSecretData,
  generateCA,
  issueServingCert,
  servingNames,
  splitPemCerts,
} from '../../../operator/webhook/certs.ts';
import type { SecretContent } from '../../../operator/webhook/certs.ts';
import { installCrds } from '../../harness/install-crds.ts';
import { startOperator, waitReady, type OperatorProcess } from '../../harness/operator-process.ts';
import { freePort, waitFor } from '../../harness/processes.ts';
import { sharedKubeConfig, sharedKubeconfigPath, uniqueName } from '../../harness/shared.ts';

interface Secret {
  metadata: { resourceVersion?: string };
  type?: string;
  data?: Record<string, string>;
}
interface WebhookConfiguration {
  webhooks?: Array<{
    name: string;
    failurePolicy?: string;
    clientConfig: { url?: string; caBundle?: string };
    namespaceSelector?: unknown;
  }>;
}
interface Pool {
  status?: { conditions?: Array<{ type: string; status: string }> };
}

const POOLS = (ns: string) => `/apis/portico.io/v1alpha1/namespaces/${ns}/ipaddresspools`;
const VWC = '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations';
const MWC = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations';
const SECRET_NAME = 'portico-webhook-cert';

const serialOf = (pem: string | undefined) => (pem ? new X509Certificate(pem).serialNumber : undefined);

describe('operator: IPAddressPool admission webhook', () => {
  const kc = sharedKubeConfig();
  const client = RawKubeClient.fromKubeConfig(kc);
  const namespace = uniqueName('webhook');
  const validating = `${namespace}-validating`;
  const mutating = `${namespace}-mutating`;
  const secretPath = `/api/v1/namespaces/${namespace}/secrets/${SECRET_NAME}`;
  let port: number;
  let operator: OperatorProcess | undefined;
  let starts = 0;

  const start = async () => {
    operator = await startOperator({
      kubeconfig: sharedKubeconfigPath(),
      namespace,
      logFile: join(tmpdir(), `${namespace}-operator-${++starts}.log`),
      args: [
        `--webhook-port=${port}`,
        `--webhook-url=https://127.0.0.1:${port}`,
        `--validating-webhook-configuration=${validating}`,
        `--mutating-webhook-configuration=${mutating}`,
      ],
    });
    await waitReady(operator);
  };
  const stop = async () => {
    await operator?.stop();
    operator = undefined;
  };

  const secret = async (): Promise<SecretContent> =>
    decodeSecretData((await client.getJson<Secret>(secretPath)).data);
  const config = () => client.getJson<WebhookConfiguration>(`${VWC}/${validating}`);
  const caBundleIsCurrent = async () => {
    const want = Buffer.from((await secret())['ca.crt'] ?? '', 'utf8').toString('base64');
    const webhooks = (await config()).webhooks ?? [];
    return webhooks.length > 0 && webhooks.every((w) => w.clientConfig.caBundle === want);
  };

  /** Creates a pool; resolves to undefined when admitted, or the apiserver's error text. */
  const createPool = async (name: string, addresses: string[]): Promise<string | undefined> => {
    try {
      await client.postJson(POOLS(namespace), {
        apiVersion: 'portico.io/v1alpha1',
        kind: 'IPAddressPool',
        metadata: { name },
        spec: { addresses },
      });
      return undefined;
    } catch (err) {
      return describeError(err);
    }
  };
  const waitPoolReady = (name: string) =>
    waitFor(`pool ${name} Ready`, async () => {
      const pool = await client.getJson<Pool>(`${POOLS(namespace)}/${name}`);
      return !!pool.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    });

  beforeAll(async () => {
    await installCrds(kc);
    await client.postJson('/api/v1/namespaces', { metadata: { name: namespace } });
    port = await freePort();
    await start();
  });

  afterAll(async () => {
    await stop();
    for (const path of [`${VWC}/${validating}`, `${MWC}/${mutating}`]) {
      await client.deleteJson(path).catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
    }
    await client.deleteJson(`/api/v1/namespaces/${namespace}`);
  });

  it('creates the configuration pointing at its URL, and sets its caBundle to the CA in the Secret', async () => {
    await waitFor('caBundle of the webhook configuration', caBundleIsCurrent);
    const webhooks = (await config()).webhooks ?? [];
    // bgp-webhook.test.ts covers the other validating webhook, bgp.portico.io.
    expect(webhooks.map((w) => w.name).sort()).toEqual(['bgp.portico.io', 'ipaddresspools.portico.io']);
    expect(webhooks).toContainEqual(
      expect.objectContaining({
        name: 'ipaddresspools.portico.io',
        failurePolicy: 'Fail',
        clientConfig: expect.objectContaining({ url: `https://127.0.0.1:${port}/validate-ipaddresspool` }),
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
      }),
    );
    const stored = await client.getJson<Secret>(secretPath);
    expect(stored.type).toBe('kubernetes.io/tls');
    const content = decodeSecretData(stored.data);
    const cert = new X509Certificate(content['tls.crt'] ?? '');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkHost(`portico-webhook.${namespace}.svc`)).toBeDefined();
    // The Service webhook (ClusterIP/NodePort pools) is the mutating one; it fails open.
    await waitFor('mutating configuration', async () => {
      try {
        await client.getJson(`${MWC}/${mutating}`);
        return true;
      } catch {
        return false;
      }
    });
    const mutatingHooks = (await client.getJson<WebhookConfiguration>(`${MWC}/${mutating}`)).webhooks ?? [];
    expect(mutatingHooks).toEqual([
      expect.objectContaining({
        name: 'services.portico.io',
        failurePolicy: 'Ignore',
        clientConfig: expect.objectContaining({ url: `https://127.0.0.1:${port}/mutate-service` }),
      }),
    ]);
  });

  it('admits a valid pool', async () => {
    expect(await createPool('pool-a', ['10.77.0.0/24', '2001:db8:77::/120'])).toBeUndefined();
    await waitPoolReady('pool-a');
  });

  it('rejects an overlapping pool, naming the field and the other pool', async () => {
    const error = await createPool('pool-b', ['10.78.0.0/24', '10.77.0.128/25']);
    expect(error).toContain('admission webhook "ipaddresspools.portico.io" denied the request');
    expect(error).toContain('spec.addresses[1]: "10.77.0.128/25" overlaps');
    expect(error).toContain('IPAddressPool "pool-a"');
    await expect(client.getJson(`${POOLS(namespace)}/pool-b`)).rejects.toMatchObject({ code: 404 });
  });

  it('rejects a reversed range, naming the field', async () => {
    const error = await createPool('pool-r', ['10.79.0.0/24', '10.0.0.9-10.0.0.1']);
    expect(error).toMatch(/^422 /);
    expect(error).toContain('spec.addresses[1]: "10.0.0.9-10.0.0.1": range start is after its end');
  });

  it('rejects an update that makes a pool overlap another', async () => {
    expect(await createPool('pool-c', ['10.80.0.0/24'])).toBeUndefined();
    let error: string | undefined;
    try {
      await client.patchJson(`${POOLS(namespace)}/pool-c`, { spec: { addresses: ['10.77.0.7'] } });
    } catch (err) {
      error = describeError(err);
    }
    expect(error).toContain('spec.addresses[0]: "10.77.0.7" overlaps');
    expect(error).toContain('IPAddressPool "pool-a"');
  });

  it('keeps its certificate across a restart (same serial, same CA)', async () => {
    const before = await secret();
    await stop();
    await start();
    const after = await secret();
    expect(serialOf(after['tls.crt'])).toBe(serialOf(before['tls.crt']));
    expect(after['ca.crt']).toBe(before['ca.crt']);
    expect(await caBundleIsCurrent()).toBe(true);
    // ...and serves it: the restarted webhook still refuses overlaps.
    expect(await createPool('pool-d', ['10.77.0.1'])).toContain('IPAddressPool "pool-a"');
  });

  it('replaces a near-expiry CA and certificate, and updates caBundle, without an outage', async () => {
    // Issued nine days ago for ten days: past two thirds of their lifetime.
    const issued = Date.now() - 9 * DAY_MS;
    const oldCA = await generateCA({ nowMs: issued, validityMs: 10 * DAY_MS });
    const oldCert = await issueServingCert({
      ca: oldCA,
      names: servingNames('portico-webhook', namespace, ['127.0.0.1']),
      nowMs: issued,
      validityMs: 10 * DAY_MS,
    });
    const stored = await client.getJson<Secret>(secretPath);
    await client.putJson(secretPath, {
      ...stored,
      data: encodeSecretData({
        'ca.crt': oldCA.cert,
        'ca.key': oldCA.key,
        'tls.crt': oldCert.cert,
        'tls.key': oldCert.key,
      }),
    });

    await waitFor('a new serving certificate', async () => {
      const now = await secret();
      const serial = serialOf(now['tls.crt']);
      return serial !== undefined && serial !== serialOf(oldCert.cert);
    });
    const rotated = await secret();
    const bundle = splitPemCerts(rotated['ca.crt'] ?? '');
    expect(bundle).toHaveLength(2);
    expect(bundle[0]).not.toBe(oldCA.cert);
    // The old CA stays trusted until it expires, for replicas still serving its certificate.
    expect(bundle[1]).toBe(oldCA.cert);
    const fresh = new X509Certificate(rotated['tls.crt'] ?? '');
    expect(fresh.checkIssued(new X509Certificate(bundle[0] ?? ''))).toBe(true);
    expect(fresh.validToDate.getTime() - Date.now()).toBeGreaterThan(300 * DAY_MS);
    await waitFor('caBundle to follow the new CA', caBundleIsCurrent);

    // The apiserver trusts what is served now: admission works with the new certificate.
    await waitFor('admission through the rotated certificate', async () => {
      const error = await createPool('pool-e', ['10.81.0.0/24']);
      if (error) throw new Error(error);
      return true;
    });
    expect(await createPool('pool-f', ['10.81.0.1'])).toContain('IPAddressPool "pool-e"');
  });

  it('refuses pool writes while the operator is down (failurePolicy Fail)', async () => {
    await stop();
    const error = await createPool('pool-g', ['10.82.0.0/24']);
    expect(error).toContain('failed calling webhook "ipaddresspools.portico.io"');
  });
});
