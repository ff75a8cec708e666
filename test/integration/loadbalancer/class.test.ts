// Which Services Portico serves: those of its loadBalancerClass, and those
// without a class while it is the default load balancer.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ingressIPs, LbEnv, POOL_ANNOTATION, settle } from './helpers.ts';

describe('loadbalancer: class filtering', () => {
  const env = new LbEnv('lb-class');

  beforeAll(async () => {
    await env.setup(['--default-load-balancer=true']);
    // Only this file's namespace may use the pool: unclassed Services other
    // tests leave behind must not take its addresses.
    await env.pool('class-pool', {
      addresses: ['198.18.0.0/29'],
      serviceAllocation: { namespaces: [env.ns] },
    });
  });
  afterAll(() => env.teardown());

  it('serves a Service of its class', async () => {
    await env.service('ours');
    expect(await env.waitIngress('ours')).toEqual(['198.18.0.0']);
    const svc = await env.getService('ours');
    expect(svc?.status?.loadBalancer?.ingress).toEqual([{ ip: '198.18.0.0', ipMode: 'VIP' }]);
    expect(svc?.metadata.annotations?.[POOL_ANNOTATION]).toBe('class-pool');
    await env.waitEvent('ours', 'IPAllocated', /198\.18\.0\.0.*"class-pool"/);
  });

  it('serves a Service without class while it is the default', async () => {
    await env.service('unclassed', { class: null });
    expect(await env.waitIngress('unclassed')).toEqual(['198.18.0.1']);
  });

  it('leaves a Service of another class alone', async () => {
    await env.service('other', { class: 'example.com/other-lb' });
    await settle();
    const svc = await env.getService('other');
    expect(ingressIPs(svc)).toEqual([]);
    expect(svc?.metadata.annotations?.[POOL_ANNOTATION]).toBeUndefined();
    expect(await env.events('other')).toEqual([]);
  });

  it('ignores and releases Services without class once it is not the default', async () => {
    await env.stopOperators();
    await env.startOperator(['--default-load-balancer=false']);
    // The unclassed Service is no longer ours: its address is released and its status cleared.
    await env.waitIngress('unclassed', (ips) => ips.length === 0);
    expect((await env.getService('unclassed'))?.metadata.annotations?.[POOL_ANNOTATION]).toBeUndefined();
    await env.service('unclassed-later', { class: null });
    await settle();
    expect(ingressIPs(await env.getService('unclassed-later'))).toEqual([]);
    // Its class is still served, and the released address is free again.
    await env.service('ours-later');
    expect(await env.waitIngress('ours-later')).toEqual(['198.18.0.1']);
    expect(ingressIPs(await env.getService('ours'))).toEqual(['198.18.0.0']);
  });
});
