// The HTTPS endpoint the apiserver calls: one AdmissionReview v1 handler per
// path (`/validate-ipaddresspool`, `/mutate-service`, ...). The port is bound at
// start, so a clash fails the process at once; TLS handshakes succeed once a
// certificate has been loaded, and a new one (rotation) replaces it in place.
//
// Bad requests get a 4xx and a plain-text reason, never a crash. A handler
// that throws gets a 500: to the apiserver that is a failed call, which its
// failurePolicy then decides (Fail rejects, Ignore admits), not a denial.
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from '../../lib/logger.ts';
import { getOrCreateCounter, getOrCreateHistogram } from '../../lib/metrics.ts';
import { parseAdmissionReview, resultLabel, reviewResponse } from './admission.ts';
import type { AdmissionRequest, AdmissionResult } from './admission.ts';
import type { KeyPair } from './certs.ts';

export type AdmissionHandler = (request: AdmissionRequest) => AdmissionResult | Promise<AdmissionResult>;

export interface WebhookServerOptions {
  /** 0 picks a free port (tests); read the result from `port`. */
  port: number;
  host?: string;
  registry: Registry;
  logger: Logger;
  /** Largest request body accepted; default 8 MiB (the apiserver's own limit is about 3 MiB per object). */
  maxBodyBytes?: number;
}

/** Metric label for requests to paths nobody registered. */
const UNKNOWN_PATH = 'unregistered';

export class WebhookServer {
  readonly #o: WebhookServerOptions;
  readonly #handlers = new Map<string, AdmissionHandler>();
  readonly #requests;
  readonly #duration;
  #server: Server | undefined;
  #port: number | undefined;
  #cert: KeyPair | undefined;

  constructor(options: WebhookServerOptions) {
    this.#o = options;
    this.#requests = getOrCreateCounter(options.registry, {
      name: 'portico_webhook_requests_total',
      help: 'Admission requests by path and result (allowed, denied, patched, error, bad_request).',
      labelNames: ['path', 'result'],
    });
    this.#duration = getOrCreateHistogram(options.registry, {
      name: 'portico_webhook_request_duration_seconds',
      help: 'Time to answer an admission request, by path and result.',
      labelNames: ['path', 'result'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    });
  }

  /** Serves AdmissionReviews posted to `path` with `handler`. */
  register(path: string, handler: AdmissionHandler): void {
    if (!path.startsWith('/')) throw new Error(`webhook path must start with "/": ${path}`);
    if (this.#handlers.has(path)) throw new Error(`webhook path registered twice: ${path}`);
    this.#handlers.set(path, handler);
  }

  paths(): string[] {
    return [...this.#handlers.keys()];
  }

  /** True once a certificate is loaded: until then every TLS handshake fails. */
  hasCertificate(): boolean {
    return this.#cert !== undefined;
  }

  /** Loads (or replaces) the serving certificate; connections already open keep the old one. Throws if the pair is unusable. */
  setCertificate(pair: KeyPair): void {
    if (this.#cert && this.#cert.cert === pair.cert && this.#cert.key === pair.key) return;
    // setSecureContext validates the pair (it throws on a key that does not match).
    this.#server?.setSecureContext({ cert: pair.cert, key: pair.key, minVersion: 'TLSv1.2' });
    this.#cert = pair;
  }

  get port(): number {
    if (this.#port === undefined) throw new Error('WebhookServer: not started');
    return this.#port;
  }

  async start(): Promise<number> {
    if (this.#server) return this.port;
    const server = createServer(
      { minVersion: 'TLSv1.2', ...(this.#cert ? { cert: this.#cert.cert, key: this.#cert.key } : {}) },
      (req, res) => void this.#handle(req, res),
    );
    server.requestTimeout = 30_000;
    server.headersTimeout = 10_000;
    server.keepAliveTimeout = 30_000;
    server.on('tlsClientError', (err) => this.#o.logger.debug({ err: err.message }, 'TLS handshake failed'));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#o.port, this.#o.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.#o.logger.error({ err }, 'webhook server error'));
    this.#server = server;
    this.#port = (server.address() as AddressInfo).port;
    return this.#port;
  }

  async close(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const handler = this.#handlers.get(path);
    const label = handler ? path : UNKNOWN_PATH;
    let result = 'error';
    try {
      result = await this.#serve(req, res, path, handler);
    } catch (err) {
      this.#o.logger.error({ err, path }, 'admission request failed');
      result = 'error';
      reply(res, 500, `internal error: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      this.#requests.inc({ path: label, result });
      this.#duration.observe({ path: label, result }, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  /** Answers one request; returns the result label. Throws only for handler failures (500). */
  async #serve(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    handler: AdmissionHandler | undefined,
  ): Promise<string> {
    if (!handler) {
      drain(req);
      reply(res, 404, `no admission webhook at ${path}`);
      return 'bad_request';
    }
    if (req.method !== 'POST') {
      drain(req);
      reply(res, 405, 'admission reviews must be POSTed', { allow: 'POST' });
      return 'bad_request';
    }
    const body = await readBody(req, this.#o.maxBodyBytes ?? 8 * 1024 * 1024);
    if (!body.ok) {
      reply(res, body.status, body.error);
      return 'bad_request';
    }
    let json: unknown;
    try {
      json = JSON.parse(body.text);
    } catch (err) {
      reply(res, 400, `request body is not JSON: ${(err as Error).message}`);
      return 'bad_request';
    }
    const review = parseAdmissionReview(json);
    if (!review.ok) {
      reply(res, 400, review.error);
      return 'bad_request';
    }
    const request = review.request;
    const result = await handler(request);
    const payload = JSON.stringify(reviewResponse(request.uid, result));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
    res.end(payload);
    const label = resultLabel(result);
    if (!result.allowed) {
      this.#o.logger.info(
        {
          path,
          uid: request.uid,
          operation: request.operation,
          object: `${request.namespace ? `${request.namespace}/` : ''}${request.name ?? ''}`,
          user: request.userInfo?.username,
          message: result.status.message,
        },
        'admission denied',
      );
    }
    return label;
  }
}

type Body = { ok: true; text: string } | { ok: false; status: number; error: string };

function readBody(req: IncomingMessage, limit: number): Promise<Body> {
  return new Promise((resolve) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      drain(req);
      resolve({ ok: false, status: 413, error: `request body larger than ${limit} bytes` });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (body: Body) => {
      if (done) return;
      done = true;
      resolve(body);
    };
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        finish({ ok: false, status: 413, error: `request body larger than ${limit} bytes` });
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => finish({ ok: true, text: Buffer.concat(chunks).toString('utf8') }));
    req.on('error', (err) => finish({ ok: false, status: 400, error: `reading request: ${err.message}` }));
    req.on('close', () => {
      if (!req.complete) finish({ ok: false, status: 400, error: 'request aborted' });
    });
  });
}

/** Reads and discards a body we will not use, so the connection can be reused. */
function drain(req: IncomingMessage): void {
  req.resume();
  req.on('error', () => undefined);
}

function reply(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  res.end(`${text}\n`);
}
