// The real apiserver calls the operator's BGP validating webhook over TLS:
// BGPAdvertisements with unknown Community aliases, an aggregation shorter
// than a pool, or a localPref conflicting with another advertisement are
// refused with a message naming the object and the field, and so are
// Community and IPAddressPool changes that would break a stored advertisement.
//
// The webhook judges against its informer caches, which follow the writes a
// moment later (it re-reads the apiserver before denying, so nothing valid is
// refused, but a refusal needs the cache to hold the object it conflicts
// with): each step first waits, with server-side dry runs (admitted like real
// writes), until the webhook sees what the step depends on.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeError, isNotFound } from '../../../lib/errors.ts';
import { RawKubeClient } from '../../../lib/raw-client.ts';
import type { QueryParams } from '../../../lib/raw-client.ts';
import { installCrds } from '../../harness/install-crds.ts';
import { startOperator, waitReady, type OperatorProcess } from '../../harness/operator-process.ts';
import { freePort, waitFor } from '../../harness/processes.ts';
import { sharedKubeConfig, sharedKubeconfigPath, uniqueName } from '../../harness/shared.ts';

interface WebhookConfiguration {
  webhooks?: Array<{ name: string; failurePolicy?: string; clientConfig: { url?: string } }>;
}

const API = 'portico.io/v1alpha1';
const VWC = '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations';
const MWC = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations';
const DRY_RUN: QueryParams = { dryRun: 'All' };

type Write = (query?: QueryParams) => Promise<unknown>;

describe('operator: BGP admission webhook', () => {
  const kc = sharedKubeConfig();
  const client = RawKubeClient.fromKubeConfig(kc);
  const namespace = uniqueName('bgpwebhook');
  const validating = `${namespace}-validating`;
  const mutating = `${namespace}-mutating`;
  const path = (plural: string) => `/apis/${API}/namespaces/${namespace}/${plural}`;
  let operator: OperatorProcess | undefined;

  const create = (
    kind: string,
    plural: string,
    name: string,
    spec: unknown,
    labels?: Record<string, string>,
  ) =>
    ((query?: QueryParams) =>
      client.postJson(
        path(plural),
        { apiVersion: API, kind, metadata: { name, ...(labels ? { labels } : {}) }, spec },
        query,
      )) satisfies Write;
  const patch = (plural: string, name: string, body: unknown): Write => {
    return (query) => client.patchJson(`${path(plural)}/${name}`, body, undefined, query);
  };
  const advertisement = (name: string, spec: unknown) =>
    create('BGPAdvertisement', 'bgpadvertisements', name, spec);
  const errorOf = async (write: Write, query?: QueryParams): Promise<string | undefined> => {
    try {
      await write(query);
      return undefined;
    } catch (err) {
      return describeError(err);
    }
  };

  /** Waits until a dry run is admitted, then writes for real. */
  const admitted = async (what: string, write: Write) => {
    await waitFor(`${what} admitted`, async () => (await errorOf(write, DRY_RUN)) === undefined);
    expect(await errorOf(write)).toBeUndefined();
  };
  /** Waits until a dry run is denied by the webhook, checks a real write is too, and returns the error. */
  const refused = async (what: string, write: Write): Promise<string> => {
    let error: string | undefined;
    await waitFor(`${what} refused`, async () => {
      error = await errorOf(write, DRY_RUN);
      return error?.includes('denied the request') ?? false;
    });
    expect(await errorOf(write)).toBe(error);
    return error ?? '';
  };

  beforeAll(async () => {
    await installCrds(kc);
    await client.postJson('/api/v1/namespaces', { metadata: { name: namespace } });
    const port = await freePort();
    operator = await startOperator({
      kubeconfig: sharedKubeconfigPath(),
      namespace,
      logFile: join(tmpdir(), `${namespace}-operator.log`),
      args: [
        `--webhook-port=${port}`,
        `--webhook-url=https://127.0.0.1:${port}`,
        `--validating-webhook-configuration=${validating}`,
        `--mutating-webhook-configuration=${mutating}`,
      ],
    });
    await waitReady(operator);
    await waitFor('the BGP webhook in the configuration', async () => {
      const config = await client.getJson<WebhookConfiguration>(`${VWC}/${validating}`);
      return (config.webhooks ?? []).some((w) => w.name === 'bgp.portico.io');
    });
  });

  afterAll(async () => {
    await operator?.stop();
    // The configurations go first: with failurePolicy Fail and no operator,
    // nothing in the namespace could be written any more.
    for (const p of [`${VWC}/${validating}`, `${MWC}/${mutating}`]) {
      await client.deleteJson(p).catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
    }
    await client.deleteJson(`/api/v1/namespaces/${namespace}`);
  });

  it('registers bgp.portico.io for BGPAdvertisements and Communities, failing closed', async () => {
    const config = await client.getJson<WebhookConfiguration>(`${VWC}/${validating}`);
    const bgp = (config.webhooks ?? []).find((w) => w.name === 'bgp.portico.io');
    expect(bgp?.failurePolicy).toBe('Fail');
    expect(bgp?.clientConfig.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/validate-bgp$/);
  });

  it('admits valid pools, Community aliases and advertisements', async () => {
    await admitted(
      'pool gold',
      create(
        'IPAddressPool',
        'ipaddresspools',
        'gold',
        { addresses: ['10.90.0.0/24', '2001:db8:90::/120'] },
        {
          tier: 'gold',
        },
      ),
    );
    await admitted(
      'pool small',
      create('IPAddressPool', 'ipaddresspools', 'small', { addresses: ['10.91.0.0/26'] }),
    );
    await admitted(
      'Community aliases',
      create('Community', 'communities', 'aliases', {
        communities: [{ name: 'no-export', value: '65535:65281' }],
      }),
    );
    await admitted(
      'advertisement using an alias',
      advertisement('adv-gold', {
        communities: ['no-export', '65000:1', 'large:64512:1:2'],
        aggregationLength: 24,
        ipAddressPools: ['gold'],
        localPref: 100,
      }),
    );
    await admitted(
      'advertisement with its own localPref for another pool',
      advertisement('adv-small', { aggregationLength: 26, ipAddressPools: ['small'], localPref: 200 }),
    );
  });

  it('admits an advertisement written right after the Community it uses (no cache lag)', async () => {
    const community = create('Community', 'communities', 'fresh', {
      communities: [{ name: 'just-made', value: '65000:7' }],
    });
    expect(await errorOf(community)).toBeUndefined();
    expect(await errorOf(advertisement('adv-fresh', { communities: ['just-made'] }))).toBeUndefined();
  });

  it('refuses an unknown Community alias, naming the advertisement and the entry', async () => {
    const error = await refused(
      'unknown alias',
      advertisement('adv-alias', { communities: ['65000:1', 'silver'] }),
    );
    expect(error).toMatch(/^422 /);
    expect(error).toContain('admission webhook "bgp.portico.io" denied the request');
    expect(error).toContain(
      'BGPAdvertisement "adv-alias": spec.communities[1]: unknown Community alias "silver"',
    );
  });

  it('refuses aggregation lengths shorter than a selected pool, per family', async () => {
    const error = await refused(
      'short aggregation',
      advertisement('adv-aggr', {
        aggregationLength: 16,
        aggregationLengthV6: 64,
        ipAddressPoolSelectors: [{ matchLabels: { tier: 'gold' } }],
      }),
    );
    expect(error).toContain(
      'BGPAdvertisement "adv-aggr": spec.aggregationLength: 16 is shorter than the /24 of IPAddressPool "gold" (spec.addresses[0] "10.90.0.0/24")',
    );
    expect(error).toContain(
      'BGPAdvertisement "adv-aggr": spec.aggregationLengthV6: 64 is shorter than the /120 of IPAddressPool "gold"',
    );
  });

  it('refuses a localPref conflicting with another advertisement of the same pool and peers', async () => {
    const error = await refused(
      'conflicting localPref',
      advertisement('adv-pref', { localPref: 300, ipAddressPools: ['gold'], peers: ['tor-1'] }),
    );
    expect(error).toContain(
      'BGPAdvertisement "adv-pref": spec.localPref: 300 conflicts with localPref 100 of BGPAdvertisement "adv-gold", which announces IPAddressPool "gold" to the same peers',
    );
  });

  it('refuses removing a Community alias an advertisement uses', async () => {
    const error = await refused(
      'alias removal',
      patch('communities', 'aliases', { spec: { communities: [{ name: 'other', value: '1:1' }] } }),
    );
    expect(error).toContain(
      'this change to Community "aliases" would break BGPAdvertisement "adv-gold": spec.communities[0]: unknown Community alias "no-export"',
    );
  });

  it('refuses narrowing a pool below the aggregation of an advertisement', async () => {
    const error = await refused(
      'pool narrowing',
      patch('ipaddresspools', 'small', { spec: { addresses: ['10.91.0.0/28'] } }),
    );
    expect(error).toContain('admission webhook "ipaddresspools.portico.io" denied the request');
    expect(error).toContain(
      'this change to IPAddressPool "small" would break BGPAdvertisement "adv-small": spec.aggregationLength: 26 is shorter than the /28 of IPAddressPool "small"',
    );
  });

  it('still admits changes that break nothing', async () => {
    await admitted(
      'new alias beside the used one',
      patch('communities', 'aliases', {
        spec: {
          communities: [
            { name: 'no-export', value: '65535:65281' },
            { name: 'gold', value: '65000:100' },
          ],
        },
      }),
    );
    await admitted(
      'the new alias',
      advertisement('adv-new-alias', { communities: ['gold'], ipAddressPools: ['small'] }),
    );
    await admitted(
      'pool widening',
      patch('ipaddresspools', 'small', { spec: { addresses: ['10.91.0.0/25'] } }),
    );
  });
});
