// Which pool a Service's address comes from: pools whose serviceAllocation
// admits it (namespaces, namespaceSelectors, serviceSelectors), by priority,
// before the autoAssign pools without serviceAllocation.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { uniqueName } from '../../harness/shared.ts';
import { LbEnv, POOL_ANNOTATION } from './helpers.ts';

describe('loadbalancer: pool order', () => {
  const env = new LbEnv('lb-order');
  const blue = uniqueName('lb-order-blue');
  const poolOf = async (name: string, ns = env.ns) =>
    (await env.getService(name, ns))?.metadata.annotations?.[POOL_ANNOTATION];

  beforeAll(async () => {
    await env.setup();
    await env.namespace(blue, { team: 'blue' });
    const blueNs = [{ matchLabels: { team: 'blue' } }];
    await env.pool('fallback', { addresses: ['198.18.11.0/29'] });
    await env.pool('team-low', {
      addresses: ['198.18.12.0/29'],
      serviceAllocation: { priority: 20, namespaceSelectors: blueNs },
    });
    await env.pool('team-high', {
      addresses: ['198.18.13.0/31'],
      serviceAllocation: { priority: 10, namespaceSelectors: blueNs },
    });
    await env.pool('edge', {
      addresses: ['198.18.14.0/29'],
      serviceAllocation: { namespaces: [env.ns], serviceSelectors: [{ matchLabels: { tier: 'edge' } }] },
    });
  });
  afterAll(() => env.teardown());

  it('uses the autoAssign pool without serviceAllocation for Services no pool selects', async () => {
    await env.service('plain');
    expect(await env.waitIngress('plain')).toEqual(['198.18.11.0']);
    expect(await poolOf('plain')).toBe('fallback');
  });

  it('prefers a selecting pool by priority, then the next one, before the fallback', async () => {
    for (const name of ['b1', 'b2', 'b3']) await env.service(name, { namespace: blue });
    expect(await env.waitIngress('b1', undefined, blue)).toEqual(['198.18.13.0']);
    expect(await env.waitIngress('b2', undefined, blue)).toEqual(['198.18.13.1']);
    // team-high is full: the next priority.
    expect(await env.waitIngress('b3', undefined, blue)).toEqual(['198.18.12.0']);
    expect(await poolOf('b3', blue)).toBe('team-low');
  });

  it('selects by namespace name and Service labels together', async () => {
    await env.service('edge-svc', { labels: { tier: 'edge' } });
    expect(await env.waitIngress('edge-svc')).toEqual(['198.18.14.0']);
    await env.service('inner-svc', { labels: { tier: 'inner' } });
    expect(await env.waitIngress('inner-svc')).toEqual(['198.18.11.1']);
  });

  it('follows namespace labels as they change', async () => {
    await env.client.patchJson(`/api/v1/namespaces/${env.ns}`, { metadata: { labels: { team: 'blue' } } });
    // Nothing shows when the operator's namespace watch has delivered the new
    // labels, and a Service created just before that rightly gets (and keeps)
    // a fallback address. So create Services, each under a new name (a deleted
    // name would get its sticky address back), until one lands after the
    // relabel; it must come from the blue pools.
    let ips: string[] = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      const name = `now-blue-${attempt}`;
      await env.service(name);
      ips = await env.waitIngress(name);
      if (!ips[0]?.startsWith('198.18.11.')) break;
      await env.deleteService(name);
    }
    expect(ips).toEqual(['198.18.12.1']);
    // An address that still fits is kept.
    expect(await env.waitIngress('plain')).toEqual(['198.18.11.0']);
  });
});
