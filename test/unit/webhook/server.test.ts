// The webhook server on loopback with real TLS: routing, AdmissionReview in and
// out, bad requests answered with 4xx, handler failures with 500, metrics, and
// certificate replacement without a restart.
import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { Registry } from 'prom-client';
import { createRegistry } from '../../../lib/metrics.ts';
import { allow, deny, mutate } from '../../../operator/webhook/admission.ts';
import type { AdmissionRequest } from '../../../operator/webhook/admission.ts';
import { generateCA, issueServingCert, servingNames } from '../../../operator/webhook/certs.ts';
import type { KeyPair } from '../../../operator/webhook/certs.ts';
import { WebhookServer } from '../../../operator/webhook/server.ts';
import { silentLogger } from '../lib/helpers.ts';

const names = servingNames('portico-webhook', 'portico-system');
const YEAR = 365 * 24 * 3600 * 1000;

async function pki(): Promise<{ ca: KeyPair; serving: KeyPair }> {
  const ca = await generateCA({ nowMs: Date.now(), validityMs: 10 * YEAR });
  const serving = await issueServingCert({ ca, names, nowMs: Date.now(), validityMs: YEAR });
  return { ca, serving };
}

interface Reply {
  status: number;
  text: string;
  json?: unknown;
  serial?: string;
}

function call(
  port: number,
  ca: string,
  options: { path?: string; method?: string; body?: string | Buffer; servername?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: options.path ?? '/validate',
        method: options.method ?? 'POST',
        ca,
        agent: false,
        ...(options.servername ? { servername: options.servername } : {}),
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          const socket = res.socket as TLSSocket;
          resolve({
            status: res.statusCode ?? 0,
            text,
            json,
            serial: socket.getPeerX509Certificate?.()?.serialNumber,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const review = (request: Partial<AdmissionRequest> = {}) =>
  JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'u-1',
      kind: { group: 'portico.io', version: 'v1alpha1', kind: 'IPAddressPool' },
      resource: { group: 'portico.io', version: 'v1alpha1', resource: 'ipaddresspools' },
      name: 'p',
      namespace: 'portico-system',
      operation: 'CREATE',
      userInfo: { username: 'alice' },
      object: { metadata: { name: 'p' } },
      ...request,
    },
  });

describe('WebhookServer', () => {
  let material: { ca: KeyPair; serving: KeyPair };
  let server: WebhookServer;
  let registry: Registry;

  beforeAll(async () => {
    material = await pki();
  });
  afterEach(async () => {
    await server?.close();
  });

  const start = async () => {
    registry = createRegistry({ defaultMetrics: false });
    server = new WebhookServer({
      port: 0,
      host: '127.0.0.1',
      registry,
      logger: silentLogger,
      maxBodyBytes: 4096,
    });
    server.register('/validate', (req) =>
      (req.object as { metadata: { name: string } }).metadata.name === 'bad'
        ? deny('spec.addresses[0]: no', { code: 422, reason: 'Invalid' })
        : allow(req.dryRun ? ['dry run'] : []),
    );
    server.register('/mutate', () => mutate([{ op: 'add', path: '/spec/x', value: 1 }]));
    server.register('/boom', () => {
      throw new Error('kaput');
    });
    const port = await server.start();
    server.setCertificate(material.serving);
    return port;
  };

  it('answers an AdmissionReview with the request uid, over TLS for the Service name and 127.0.0.1', async () => {
    const port = await start();
    const ok = await call(port, material.ca.cert, { body: review() });
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: 'u-1', allowed: true },
    });
    const bySni = await call(port, material.ca.cert, {
      body: review({ dryRun: true }),
      servername: 'portico-webhook.portico-system.svc',
    });
    expect(bySni.json).toMatchObject({ response: { allowed: true, warnings: ['dry run'] } });
  });

  it('returns a denial with its status and a mutation as base64 JSONPatch', async () => {
    const port = await start();
    const denied = await call(port, material.ca.cert, {
      body: review({ object: { metadata: { name: 'bad' } } }),
    });
    expect(denied.json).toEqual({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: {
        uid: 'u-1',
        allowed: false,
        status: { code: 422, reason: 'Invalid', message: 'spec.addresses[0]: no' },
      },
    });
    const patched = (await call(port, material.ca.cert, { path: '/mutate', body: review() })).json as {
      response: { patchType: string; patch: string };
    };
    expect(patched.response.patchType).toBe('JSONPatch');
    expect(JSON.parse(Buffer.from(patched.response.patch, 'base64').toString())).toEqual([
      { op: 'add', path: '/spec/x', value: 1 },
    ]);
  });

  it.each<[string, number, { path?: string; method?: string; body?: string }, RegExp]>([
    ['an unknown path', 404, { path: '/nope', body: review() }, /no admission webhook at \/nope/],
    ['a GET', 405, { method: 'GET' }, /POST/],
    ['a body that is not JSON', 400, { body: '{"apiVersion":' }, /not JSON/],
    ['JSON that is not a review', 400, { body: '[1,2]' }, /not an admission.k8s.io\/v1 AdmissionReview/],
    [
      'a v1beta1 review',
      400,
      { body: review().replace('admission.k8s.io/v1', 'admission.k8s.io/v1beta1') },
      /apiVersion/,
    ],
    ['a review without a uid', 400, { body: review({ uid: '' }) }, /request\.uid/],
    [
      'a review with an unknown operation',
      400,
      { body: review({ operation: 'PATCH' as 'CREATE' }) },
      /operation/,
    ],
    [
      'a body over the limit',
      413,
      { body: review({ object: { pad: 'x'.repeat(5000) } }) },
      /larger than 4096/,
    ],
  ])('answers %s with %i and keeps serving', async (_what, status, options, text) => {
    const port = await start();
    const reply = await call(port, material.ca.cert, options);
    expect(reply.status).toBe(status);
    expect(reply.text).toMatch(text);
    expect((await call(port, material.ca.cert, { body: review() })).status).toBe(200);
  });

  it('turns a throwing handler into a 500, which the apiserver treats as a failed call', async () => {
    const port = await start();
    const reply = await call(port, material.ca.cert, { path: '/boom', body: review() });
    expect(reply.status).toBe(500);
    expect(reply.text).toMatch(/kaput/);
  });

  it('counts requests and latency by path and result', async () => {
    const port = await start();
    await call(port, material.ca.cert, { body: review() });
    await call(port, material.ca.cert, { body: review({ object: { metadata: { name: 'bad' } } }) });
    await call(port, material.ca.cert, { path: '/mutate', body: review() });
    await call(port, material.ca.cert, { path: '/boom', body: review() });
    await call(port, material.ca.cert, { path: '/nope', body: review() });
    await call(port, material.ca.cert, { body: 'x' });
    const text = await registry.metrics();
    expect(text).toMatch(/portico_webhook_requests_total\{path="\/validate",result="allowed"\} 1/);
    expect(text).toMatch(/portico_webhook_requests_total\{path="\/validate",result="denied"\} 1/);
    expect(text).toMatch(/portico_webhook_requests_total\{path="\/validate",result="bad_request"\} 1/);
    expect(text).toMatch(/portico_webhook_requests_total\{path="\/mutate",result="patched"\} 1/);
    expect(text).toMatch(/portico_webhook_requests_total\{path="\/boom",result="error"\} 1/);
    expect(text).toMatch(/portico_webhook_requests_total\{path="unregistered",result="bad_request"\} 1/);
    expect(text).toMatch(
      /portico_webhook_request_duration_seconds_count\{path="\/validate",result="allowed"\} 1/,
    );
  });

  it('fails handshakes until a certificate is loaded, and swaps certificates without a restart', async () => {
    registry = createRegistry({ defaultMetrics: false });
    server = new WebhookServer({ port: 0, host: '127.0.0.1', registry, logger: silentLogger });
    server.register('/validate', () => allow());
    const port = await server.start();
    expect(server.hasCertificate()).toBe(false);
    await expect(call(port, material.ca.cert, { body: review() })).rejects.toThrow();

    server.setCertificate(material.serving);
    expect(server.hasCertificate()).toBe(true);
    const first = await call(port, material.ca.cert, { body: review() });
    expect(first.status).toBe(200);

    // A new CA and certificate: clients that trust only the old CA are refused, the new one works.
    const next = await pki();
    server.setCertificate(next.serving);
    await expect(call(port, material.ca.cert, { body: review() })).rejects.toThrow();
    const second = await call(port, next.ca.cert + material.ca.cert, { body: review() });
    expect(second.status).toBe(200);
    expect(second.serial).not.toBe(first.serial);

    // A key that does not belong to the certificate is refused and the current pair kept.
    expect(() => server.setCertificate({ cert: material.serving.cert, key: next.serving.key })).toThrow();
    expect((await call(port, next.ca.cert, { body: review() })).status).toBe(200);
  });

  it('refuses duplicate and relative paths', () => {
    server = new WebhookServer({
      port: 0,
      registry: createRegistry({ defaultMetrics: false }),
      logger: silentLogger,
    });
    server.register('/a', () => allow());
    expect(() => server.register('/a', () => allow())).toThrow(/twice/);
    expect(() => server.register('b', () => allow())).toThrow(/start with/);
  });
});
