// Probes and metrics on one small HTTP server. Liveness only says the event
// loop answers; readiness says every registered check (e.g. informer synced)
// holds, and names the ones that do not.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export type ReadinessCheck = () => boolean | Promise<boolean>;

export interface HealthServerOptions {
  /** 0 picks a free port (tests); read the result from `port`. */
  port: number;
  host?: string;
  registry: Registry;
}

export class HealthServer {
  readonly #options: HealthServerOptions;
  readonly #checks = new Map<string, ReadinessCheck>();
  #server: Server | undefined;
  #port: number | undefined;

  constructor(options: HealthServerOptions) {
    this.#options = options;
  }

  /** Registers (or replaces) a named readiness condition. */
  addReadinessCheck(name: string, check: ReadinessCheck): void {
    this.#checks.set(name, check);
  }

  removeReadinessCheck(name: string): void {
    this.#checks.delete(name);
  }

  /** The bound port; only valid after start(). */
  get port(): number {
    if (this.#port === undefined) throw new Error('HealthServer: not started');
    return this.#port;
  }

  async start(): Promise<number> {
    if (this.#server) return this.port;
    const server = createServer((req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`internal error: ${err instanceof Error ? err.message : String(err)}\n`);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#options.port, this.#options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
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

  /** Names of readiness checks that currently fail (a throwing check fails). */
  async notReady(): Promise<string[]> {
    const failing: string[] = [];
    for (const [name, check] of this.#checks) {
      const ok = await Promise.resolve()
        .then(check)
        .catch(() => false);
      if (!ok) failing.push(name);
    }
    return failing;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return send(res, 405, 'method not allowed\n');
    }
    switch (path) {
      case '/healthz':
      case '/livez':
        return send(res, 200, 'ok\n');
      case '/readyz': {
        const failing = await this.notReady();
        if (failing.length === 0) return send(res, 200, 'ok\n');
        return send(res, 503, failing.map((name) => `not ready: ${name}\n`).join(''));
      }
      case '/metrics': {
        const registry = this.#options.registry;
        const body = await registry.metrics();
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(body);
        return;
      }
      default:
        return send(res, 404, 'not found\n');
    }
  }
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(body);
}
