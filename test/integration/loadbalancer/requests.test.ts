// What a Service can ask for (an address, a pool), what it gets when it cannot
// have it (a Warning Event with the reason, a False condition, no ingress),
// and release on delete and on type change. Sticky IPs are off here
// (--sticky-hold=0) so that a released address is free at once; sticky.test.ts
// covers them.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { waitFor } from '../../harness/processes.ts';
import { ingressIPs, LbEnv, POOL_ANNOTATION, settle } from './helpers.ts';

describe('loadbalancer: requests, failures and release', () => {
  const env = new LbEnv('lb-req');
  const condition = async (name: string) =>
    (await env.getService(name))?.status?.conditions?.find((c) => c.type === 'portico.io/IPAllocated');

  beforeAll(async () => {
    await env.setup(['--sticky-hold=0']);
    await env.pool('main', { addresses: ['198.18.1.0/29'] });
    await env.pool('manual', { addresses: ['198.18.4.0/30'], autoAssign: false });
    await env.pool('buggy', {
      addresses: ['198.18.2.254-198.18.3.1'],
      avoidBuggyIPs: true,
      autoAssign: false,
    });
    await env.pool('tiny', { addresses: ['198.18.5.0/31'], autoAssign: false });
  });
  afterAll(() => env.teardown());

  it('gives a requested address inside a pool', async () => {
    await env.service('requested', { loadBalancerIP: '198.18.1.5' });
    expect(await env.waitIngress('requested')).toEqual(['198.18.1.5']);
    expect((await condition('requested'))?.status).toBe('True');
    expect((await env.getService('requested'))?.metadata.annotations?.[POOL_ANNOTATION]).toBe('main');
  });

  it('refuses a requested address in use, naming the Service that has it', async () => {
    await env.service('thief', { loadBalancerIP: '198.18.1.5' });
    const e = await env.waitEvent('thief', 'IPInUse');
    expect(e.type).toBe('Warning');
    expect(e.message).toContain(`${env.ns}/requested`);
    expect((await condition('thief'))?.reason).toBe('IPInUse');
    expect(ingressIPs(await env.getService('thief'))).toEqual([]);
  });

  it('refuses a requested address outside every pool', async () => {
    await env.service('outside', { loadBalancerIP: '203.0.113.7' });
    const e = await env.waitEvent('outside', 'RequestedIPNotInPool');
    expect(e.type).toBe('Warning');
    expect(e.message).toMatch(/203\.0\.113\.7 is not in any LoadBalancer IPAddressPool/);
    expect(await condition('outside')).toMatchObject({ status: 'False', reason: 'RequestedIPNotInPool' });
    expect(ingressIPs(await env.getService('outside'))).toEqual([]);
  });

  it('takes addresses from the pool named in the annotation, even without autoAssign', async () => {
    await env.service('pinned', { annotations: { 'portico.io/address-pool': 'manual' } });
    expect(await env.waitIngress('pinned')).toEqual(['198.18.4.0']);
    expect((await env.getService('pinned'))?.metadata.annotations?.[POOL_ANNOTATION]).toBe('manual');
    await env.service('no-such-pool', { annotations: { 'portico.io/address-pool': 'nope' } });
    expect((await env.waitEvent('no-such-pool', 'PoolNotFound')).message).toMatch(/"nope" does not exist/);
  });

  it('skips .0 and .255 with avoidBuggyIPs', async () => {
    const buggy = { annotations: { 'portico.io/address-pool': 'buggy' } };
    await env.service('buggy-1', buggy);
    expect(await env.waitIngress('buggy-1')).toEqual(['198.18.2.254']);
    await env.service('buggy-2', buggy);
    expect(await env.waitIngress('buggy-2')).toEqual(['198.18.3.1']);
    await env.service('buggy-3', { loadBalancerIP: '198.18.2.255' });
    expect((await env.waitEvent('buggy-3', 'RequestedIPNotInPool')).message).toMatch(/avoidBuggyIPs/);
  });

  it('reports exhaustion with a Warning Event, and assigns once an address frees up', async () => {
    const tiny = { annotations: { 'portico.io/address-pool': 'tiny' } };
    await env.service('tiny-1', tiny);
    await env.service('tiny-2', tiny);
    await env.waitIngress('tiny-1');
    await env.waitIngress('tiny-2');
    await env.service('tiny-3', tiny);
    const e = await env.waitEvent('tiny-3', 'PoolExhausted');
    expect(e.type).toBe('Warning');
    expect(e.message).toMatch(/no free IPv4 address in IPAddressPool "tiny"/);
    expect((await condition('tiny-3'))?.reason).toBe('PoolExhausted');
    const freed = ingressIPs(await env.getService('tiny-1'));
    await env.deleteService('tiny-1');
    expect(await env.waitIngress('tiny-3')).toEqual(freed);
  });

  it('releases the address when the Service is deleted', async () => {
    const manual = { annotations: { 'portico.io/address-pool': 'manual' } };
    await env.service('gone', manual);
    const [ip] = await env.waitIngress('gone');
    expect(ip).toBe('198.18.4.1');
    await env.deleteService('gone');
    await env.service('next', manual);
    expect(await env.waitIngress('next')).toEqual([ip]);
  });

  it('releases the address and clears the status when the type changes', async () => {
    const manual = { annotations: { 'portico.io/address-pool': 'manual' } };
    await env.service('switch', manual);
    const [ip] = await env.waitIngress('switch');
    await env.patchService('switch', { spec: { type: 'ClusterIP' } });
    // The apiserver itself drops status.loadBalancer on such a change; the
    // operator removes its annotation and condition.
    await waitFor('the pool annotation and the condition removed', async () => {
      const svc = await env.getService('switch');
      return (
        ingressIPs(svc).length === 0 &&
        svc?.metadata.annotations?.[POOL_ANNOTATION] === undefined &&
        svc?.status?.conditions?.find((c) => c.type === 'portico.io/IPAllocated') === undefined
      );
    });
    await env.waitEvent('switch', 'IPReleased', new RegExp(ip!.replace(/\./g, '\\.')));
    await env.service('after', manual);
    expect(await env.waitIngress('after')).toEqual([ip]);
  });

  it("accepts MetalLB's annotations as aliases and suggests the portico.io names", async () => {
    await env.service('metallb', {
      annotations: {
        'metallb.universe.tf/loadBalancerIPs': '198.18.1.6',
        'metallb.io/allow-shared-ip': 'shared',
      },
    });
    expect(await env.waitIngress('metallb')).toEqual(['198.18.1.6']);
    const ips = await env.waitEvent('metallb', 'AnnotationAlias', /metallb\.universe\.tf\/loadBalancerIPs/);
    expect(ips.type).toBe('Normal');
    expect(ips.message).toMatch(/portico\.io\/loadBalancerIPs/);
    await env.waitEvent(
      'metallb',
      'AnnotationAlias',
      /metallb\.io\/allow-shared-ip.*portico\.io\/allow-shared-ip/,
    );
    // Two spellings that disagree: portico.io wins, and a Warning says so.
    await env.service('both', {
      annotations: { 'portico.io/address-pool': 'manual', 'metallb.io/address-pool': 'main' },
    });
    expect(await env.waitIngress('both')).toEqual(['198.18.4.3']);
    const c = await env.waitEvent('both', 'ConflictingAnnotations');
    expect(c.type).toBe('Warning');
    expect(c.message).toMatch(/metallb\.io\/address-pool="main" is ignored/);
  });

  it('does not repeat an Event for an unchanged failure', async () => {
    await settle();
    const events = (await env.events('outside')).filter((e) => e.reason === 'RequestedIPNotInPool');
    expect(events).toHaveLength(1);
    expect(events[0]?.count ?? 1).toBe(1);
  });
});
