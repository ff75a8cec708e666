// IP sharing under MetalLB's rules: Services share an address only with the
// same allow-shared-ip key, without using one protocol/port twice, and, with
// externalTrafficPolicy Local, only when they select the same pods.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ingressIPs, LbEnv } from './helpers.ts';

describe('loadbalancer: IP sharing', () => {
  const env = new LbEnv('lb-share');
  const key = (k: string) => ({ 'portico.io/allow-shared-ip': k });
  const X = '198.18.6.0';
  const Y = '198.18.6.1';

  beforeAll(async () => {
    await env.setup();
    await env.pool('share', { addresses: ['198.18.6.0/28'] });
    await env.service('web-http', { annotations: key('web'), loadBalancerIP: X, ports: [{ port: 80 }] });
    await env.waitIngress('web-http');
  });
  afterAll(() => env.teardown());

  const refused = async (name: string, pattern: RegExp) => {
    const e = await env.waitEvent(name, 'IPInUse');
    expect(e.type).toBe('Warning');
    expect(e.message).toMatch(pattern);
    expect(ingressIPs(await env.getService(name))).toEqual([]);
  };

  it('shares an address between Services with the same key and different ports', async () => {
    await env.service('web-https', { annotations: key('web'), loadBalancerIP: X, ports: [{ port: 443 }] });
    expect(await env.waitIngress('web-https')).toEqual([X]);
    await env.waitEvent('web-https', 'IPAllocated', new RegExp(`shared with ${env.ns}/web-http`));
  });

  it('shares TCP and UDP on the same port number', async () => {
    await env.service('dns-tcp', { annotations: key('dns'), loadBalancerIP: Y, ports: [{ port: 53 }] });
    await env.service('dns-udp', {
      annotations: key('dns'),
      loadBalancerIP: Y,
      ports: [{ port: 53, protocol: 'UDP' }],
    });
    expect(await env.waitIngress('dns-tcp')).toEqual([Y]);
    expect(await env.waitIngress('dns-udp')).toEqual([Y]);
  });

  it('picks a shareable address on its own when none is requested', async () => {
    await env.service('web-admin', { annotations: key('web'), ports: [{ port: 8443 }] });
    expect(await env.waitIngress('web-admin')).toEqual([X]);
  });

  it('refuses the same key when a port is already used', async () => {
    await env.service('web-clash', { annotations: key('web'), loadBalancerIP: X, ports: [{ port: 80 }] });
    await refused('web-clash', new RegExp(`port TCP/80 on it is already used by ${env.ns}/web-http`));
  });

  it('refuses a different key', async () => {
    await env.service('other-key', { annotations: key('other'), loadBalancerIP: X, ports: [{ port: 9000 }] });
    await refused('other-key', /sharing key "web", not "other"/);
  });

  it('refuses a Service without a key', async () => {
    await env.service('no-key', { loadBalancerIP: X, ports: [{ port: 9001 }] });
    await refused('no-key', /this Service has no sharing key/);
  });

  it('refuses Local Services that select different pods, and accepts the same selector', async () => {
    const local = (app: string, port: number) => ({
      annotations: key('local'),
      loadBalancerIP: '198.18.6.3',
      externalTrafficPolicy: 'Local',
      selector: { app },
      ports: [{ port }],
    });
    await env.service('local-a', local('a', 80));
    expect(await env.waitIngress('local-a')).toEqual(['198.18.6.3']);
    await env.service('local-b', local('b', 443));
    await refused(
      'local-b',
      /externalTrafficPolicy Local needs both Services to be Local with the same selector/,
    );
    await env.service('local-a2', local('a', 443));
    expect(await env.waitIngress('local-a2')).toEqual(['198.18.6.3']);
  });

  it('gives a shared address back only when its last user is gone', async () => {
    await env.deleteService('web-https');
    await env.deleteService('web-admin');
    expect(ingressIPs(await env.getService('web-http'))).toEqual([X]);
    // web-http still holds X, so a Service without a key cannot have it.
    await env.service('no-key-2', { loadBalancerIP: X, ports: [{ port: 9002 }] });
    await refused('no-key-2', new RegExp(`in use by ${env.ns}/web-http`));
  });
});
