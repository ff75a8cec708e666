import { describe, expect, it } from '@jest/globals';
import { HttpMethod, KubeConfig, RequestContext } from '@kubernetes/client-node';
import { shareApiConnections } from '../../../lib/api-connections.ts';

function config(user = 'a', token = 't'): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', skipTLSVerify: true }],
    users: [{ name: user, token }],
    contexts: [{ name: 'x', cluster: 'c', user }],
    currentContext: 'x',
  });
  return kc;
}

async function dispatcherFor(kc: KubeConfig): Promise<unknown> {
  const ctx = new RequestContext('https://127.0.0.1:6443/api', HttpMethod.GET);
  await kc.applySecurityAuthentication(ctx);
  return ctx.getDispatcher();
}

describe('shareApiConnections', () => {
  it('documents the library behaviour it works around: a new dispatcher per request', async () => {
    const kc = config();
    const first = await dispatcherFor(kc);
    expect(first).toBeDefined();
    expect(await dispatcherFor(kc)).not.toBe(first);
  });

  it('hands every request through one KubeConfig the same dispatcher', async () => {
    const kc = shareApiConnections(config());
    const first = await dispatcherFor(kc);
    expect(first).toBeDefined();
    expect(await dispatcherFor(kc)).toBe(first);
    expect(await dispatcherFor(kc)).toBe(first);
  });

  it('is idempotent', async () => {
    const kc = shareApiConnections(shareApiConnections(config()));
    expect(await dispatcherFor(kc)).toBe(await dispatcherFor(kc));
  });

  it('keeps the bearer token per request, outside the shared pool', async () => {
    const kc = shareApiConnections(config('a', 'first'));
    const ctx = new RequestContext('https://127.0.0.1:6443/api', HttpMethod.GET);
    await kc.applySecurityAuthentication(ctx);
    expect(ctx.getHeaders()['Authorization']).toBe('Bearer first');
  });

  it('opens a new pool when the cluster or TLS material changes', async () => {
    const kc = shareApiConnections(config());
    const first = await dispatcherFor(kc);
    kc.clusters[0] = { ...kc.clusters[0]!, server: 'https://127.0.0.2:6443' };
    const second = await dispatcherFor(kc);
    expect(second).not.toBe(first);
    expect(await dispatcherFor(kc)).toBe(second);
  });
});
