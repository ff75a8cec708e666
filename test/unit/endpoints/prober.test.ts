// The prober against real sockets on 127.0.0.1.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpProbe, probe, tcpProbe } from '../../../operator/controllers/endpoints/prober.ts';

let server: Server;
let port: number;
let closedPort: number;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/slow') return; // never answers
    res.statusCode = req.url === '/fail' ? 503 : req.url === '/moved' ? 302 : 200;
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  const spare = createServer();
  await new Promise<void>((r) => spare.listen(0, '127.0.0.1', r));
  closedPort = (spare.address() as AddressInfo).port;
  await new Promise<void>((r) => spare.close(() => r()));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

describe('prober', () => {
  it('TCP: succeeds on an open port, fails with the error on a closed one', async () => {
    expect(await tcpProbe('127.0.0.1', port, 1000)).toEqual({ ok: true });
    expect(await tcpProbe('127.0.0.1', closedPort, 1000)).toEqual({
      ok: false,
      message: 'connect ECONNREFUSED',
    });
  });

  it('HTTP: 2xx and 3xx succeed, others fail with the status', async () => {
    expect(await httpProbe('127.0.0.1', port, '/', 1000)).toEqual({ ok: true });
    expect(await httpProbe('127.0.0.1', port, '/moved', 1000)).toEqual({ ok: true });
    expect(await httpProbe('127.0.0.1', port, '/fail', 1000)).toEqual({ ok: false, message: 'HTTP 503' });
    expect(await httpProbe('127.0.0.1', closedPort, '/', 1000)).toEqual({
      ok: false,
      message: 'connect ECONNREFUSED',
    });
  });

  it('HTTP: gives up after the timeout', async () => {
    expect(await httpProbe('127.0.0.1', port, '/slow', 200)).toEqual({
      ok: false,
      message: 'no answer within 200 ms',
    });
  });

  it('dispatches on the plan type', async () => {
    const base = {
      port,
      path: '/fail',
      intervalMs: 1000,
      timeoutMs: 500,
      thresholds: { healthy: 1, unhealthy: 1 },
    };
    expect(await probe('127.0.0.1', { ...base, type: 'tcp' })).toEqual({ ok: true });
    expect(await probe('127.0.0.1', { ...base, type: 'http' })).toEqual({ ok: false, message: 'HTTP 503' });
  });
});
