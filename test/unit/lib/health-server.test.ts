import { afterEach, describe, expect, it } from '@jest/globals';
import { HealthServer } from '../../../lib/health-server.ts';
import { createRegistry, getOrCreateCounter } from '../../../lib/metrics.ts';

describe('HealthServer', () => {
  let server: HealthServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function get(path: string): Promise<{ status: number; body: string; type: string | null }> {
    const res = await fetch(`http://127.0.0.1:${server?.port}${path}`);
    return { status: res.status, body: await res.text(), type: res.headers.get('content-type') };
  }

  it('serves liveness, readiness from checks, and metrics on a free port', async () => {
    const registry = createRegistry({ defaultMetrics: false });
    getOrCreateCounter(registry, { name: 'portico_test_total', help: 'test' }).inc(3);
    server = new HealthServer({ port: 0, host: '127.0.0.1', registry });
    let synced = false;
    server.addReadinessCheck('informer/services', () => synced);
    server.addReadinessCheck('informer/pools', async () => true);
    server.addReadinessCheck('broken', () => {
      throw new Error('bug');
    });
    const port = await server.start();
    expect(port).toBeGreaterThan(0);
    expect(server.port).toBe(port);

    expect(await get('/healthz')).toMatchObject({ status: 200, body: 'ok\n' });
    const notReady = await get('/readyz');
    expect(notReady.status).toBe(503);
    expect(notReady.body).toBe('not ready: informer/services\nnot ready: broken\n');

    synced = true;
    server.removeReadinessCheck('broken');
    expect(await get('/readyz')).toMatchObject({ status: 200, body: 'ok\n' });

    const metrics = await get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.type).toContain('text/plain');
    expect(metrics.body).toContain('portico_test_total 3');
    expect((await get('/nope')).status).toBe(404);
  });

  it('includes the default process metrics when asked', async () => {
    const registry = createRegistry();
    server = new HealthServer({ port: 0, host: '127.0.0.1', registry });
    await server.start();
    expect((await get('/metrics')).body).toContain('process_cpu_user_seconds_total');
  });
});
