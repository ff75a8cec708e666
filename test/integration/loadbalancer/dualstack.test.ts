// Dual-stack Services (the harness apiserver is dual-stack): SingleStack gets
// one address of ipFamilies[0], RequireDualStack one of each family from one
// pool or nothing, PreferDualStack both when a pool has both, else what there is.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { LbEnv } from './helpers.ts';

describe('loadbalancer: dual-stack', () => {
  const env = new LbEnv('lb-dual');
  const from = (pool: string) => ({ annotations: { 'portico.io/address-pool': pool } });

  beforeAll(async () => {
    await env.setup();
    await env.pool('dual', { addresses: ['198.18.8.0/29', 'fd00:18:8::/125'], autoAssign: false });
    await env.pool('v4only', { addresses: ['198.18.7.0/29'], autoAssign: false });
    await env.pool('v6only', { addresses: ['fd00:18:7::/125'], autoAssign: false });
  });
  afterAll(() => env.teardown());

  it('SingleStack IPv4 gets one IPv4 address', async () => {
    const s = await env.service('single-v4', from('dual'));
    expect(s.spec.ipFamilies).toEqual(['IPv4']);
    expect(await env.waitIngress('single-v4')).toEqual(['198.18.8.0']);
  });

  it('SingleStack IPv6 gets one IPv6 address', async () => {
    await env.service('single-v6', { ...from('dual'), ipFamilies: ['IPv6'], ipFamilyPolicy: 'SingleStack' });
    expect(await env.waitIngress('single-v6')).toEqual(['fd00:18:8::']);
  });

  it('RequireDualStack gets one address of each family, in ipFamilies order', async () => {
    await env.service('require-46', {
      ...from('dual'),
      ipFamilies: ['IPv4', 'IPv6'],
      ipFamilyPolicy: 'RequireDualStack',
    });
    expect(await env.waitIngress('require-46')).toEqual(['198.18.8.1', 'fd00:18:8::1']);
    await env.service('require-64', {
      ...from('dual'),
      ipFamilies: ['IPv6', 'IPv4'],
      ipFamilyPolicy: 'RequireDualStack',
    });
    expect(await env.waitIngress('require-64')).toEqual(['fd00:18:8::2', '198.18.8.2']);
  });

  it('RequireDualStack fails with FamilyNotAvailable from a single-family pool', async () => {
    await env.service('require-v4pool', { ...from('v4only'), ipFamilyPolicy: 'RequireDualStack' });
    const e = await env.waitEvent('require-v4pool', 'FamilyNotAvailable');
    expect(e.type).toBe('Warning');
    expect(e.message).toMatch(/"v4only" has no IPv4 and IPv6 addresses/);
  });

  it('PreferDualStack gets both families when the pool has both', async () => {
    await env.service('prefer-dual', { ...from('dual'), ipFamilyPolicy: 'PreferDualStack' });
    const s = await env.getService('prefer-dual');
    expect(s?.spec.ipFamilies).toEqual(['IPv4', 'IPv6']);
    expect(await env.waitIngress('prefer-dual')).toEqual(['198.18.8.3', 'fd00:18:8::3']);
  });

  it('PreferDualStack settles for the family the pool has', async () => {
    await env.service('prefer-v4', { ...from('v4only'), ipFamilyPolicy: 'PreferDualStack' });
    expect(await env.waitIngress('prefer-v4')).toEqual(['198.18.7.0']);
    await env.service('prefer-v6', { ...from('v6only'), ipFamilyPolicy: 'PreferDualStack' });
    expect(await env.waitIngress('prefer-v6')).toEqual(['fd00:18:7::']);
  });

  it('honours one requested address per family', async () => {
    await env.service('require-requested', {
      ipFamilyPolicy: 'RequireDualStack',
      annotations: { 'portico.io/loadBalancerIPs': '198.18.8.6,fd00:18:8::6' },
    });
    expect(await env.waitIngress('require-requested')).toEqual(['198.18.8.6', 'fd00:18:8::6']);
  });
});
