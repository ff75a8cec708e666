// MetalLB's documented IPAddressPool examples, with only the apiVersion
// changed, are accepted by the apiserver and hand out addresses as MetalLB
// would: a /24 from its first address, a start-end range, an IPv6 /124,
// autoAssign false only on request, and serviceAllocation with priority,
// namespaces, namespaceSelectors and serviceSelectors (plus avoidBuggyIPs).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseAllDocuments } from 'yaml';
import { API_VERSION } from '../../../crds/index.ts';
import { isAlreadyExists } from '../../../lib/errors.ts';
import { uniqueName } from '../../harness/shared.ts';
import { LbEnv, POOL_ANNOTATION } from './helpers.ts';

// Only the IPAddressPools of the shared fixture matter here.
const EXAMPLES = readFileSync(new URL('../../fixtures/metallb-examples.yaml', import.meta.url), 'utf8');

describe("loadbalancer: MetalLB's IPAddressPool examples", () => {
  const env = new LbEnv('lb-metallb');
  const foo = uniqueName('lb-metallb-foo');
  const poolOf = async (name: string, ns = env.ns) =>
    (await env.getService(name, ns))?.metadata.annotations?.[POOL_ANNOTATION];

  beforeAll(async () => {
    await env.setup();
    for (const ns of ['namespace-a', 'namespace-b']) {
      await env.namespace(ns).catch((err: unknown) => {
        if (!isAlreadyExists(err)) throw err;
      });
    }
    await env.namespace(foo, { foo: 'bar' });
    for (const doc of parseAllDocuments(EXAMPLES)) {
      const obj = doc.toJS() as { kind: string; metadata: { name: string; namespace?: string } };
      if (obj.kind !== 'IPAddressPool') continue;
      // Only the apiVersion changes (and the namespace, which is Portico's here).
      await env.client.postJson(`/apis/portico.io/v1alpha1/namespaces/${env.portico}/ipaddresspools`, {
        ...obj,
        apiVersion: API_VERSION,
        metadata: { ...obj.metadata, namespace: env.portico },
      });
    }
  });
  afterAll(() => env.teardown());

  it('accepts every example as Ready', async () => {
    for (const name of ['first-pool', 'cheap', 'ippool-ns-service-alloc-sample']) {
      await env.waitPoolReady(name);
    }
  });

  it('hands out a /24 from its first address', async () => {
    await env.service('first');
    expect(await env.waitIngress('first')).toEqual(['192.168.10.0']);
    expect(await poolOf('first')).toBe('first-pool');
  });

  it('hands out a requested address of a start-end range', async () => {
    await env.service('ranged', { loadBalancerIP: '192.168.9.5' });
    expect(await env.waitIngress('ranged')).toEqual(['192.168.9.5']);
  });

  it('hands out IPv6 from the /124, written in RFC 5952 form', async () => {
    await env.service('six', { ipFamilies: ['IPv6'], ipFamilyPolicy: 'SingleStack' });
    expect(await env.waitIngress('six')).toEqual(['fc00:f853:ccd:e799::']);
  });

  it('uses the autoAssign: false pool only when asked', async () => {
    await env.service('cheap-svc', { annotations: { 'metallb.universe.tf/address-pool': 'cheap' } });
    expect(await env.waitIngress('cheap-svc')).toEqual(['192.168.144.0']);
    await env.service('not-cheap');
    expect(await env.waitIngress('not-cheap')).toEqual(['192.168.10.1']);
  });

  it('serves the pool with serviceAllocation first to the Services it selects, skipping .0', async () => {
    await env.service('listed-ns', { namespace: 'namespace-a', labels: { app: 'bar' } });
    expect(await env.waitIngress('listed-ns', undefined, 'namespace-a')).toEqual(['192.168.20.1']);
    await env.service('labelled-ns', { namespace: foo, labels: { app: 'bar' } });
    expect(await env.waitIngress('labelled-ns', undefined, foo)).toEqual(['192.168.20.2']);
    // In a listed namespace but not selected by serviceSelectors: the autoAssign pool.
    await env.service('other-app', { namespace: 'namespace-b', labels: { app: 'baz' } });
    expect(await env.waitIngress('other-app', undefined, 'namespace-b')).toEqual(['192.168.10.2']);
    expect(await poolOf('other-app', 'namespace-b')).toBe('first-pool');
  });
});
