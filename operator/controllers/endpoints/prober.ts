// Adapter: one active health check against one address. TCP succeeds when a
// connection opens; HTTP when GET answers 2xx or 3xx (redirects are not
// followed). Both give up after the plan's timeout. Never throws.
import { request } from 'node:http';
import { connect } from 'node:net';
import type { ProbePlan } from './binding.ts';
import type { ProbeResult } from './health.ts';

export type Prober = (address: string, plan: ProbePlan) => Promise<ProbeResult>;

const reason = (err: unknown): string => {
  const e = err as { code?: string; message?: string };
  return e.code ? `connect ${e.code}` : (e.message ?? String(err));
};

export function tcpProbe(address: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port });
    const done = (result: ProbeResult) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(
      () => done({ ok: false, message: `no connection within ${timeoutMs} ms` }),
      timeoutMs,
    );
    socket.once('connect', () => done({ ok: true }));
    socket.once('error', (err) => done({ ok: false, message: reason(err) }));
  });
}

export function httpProbe(
  address: string,
  port: number,
  path: string,
  timeoutMs: number,
): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let settled = false;
    const host = address.includes(':') ? `[${address}]` : address;
    const req = request({
      host: address,
      port,
      path,
      method: 'GET',
      agent: false,
      headers: { host: `${host}:${port}`, 'user-agent': 'portico-health-check', connection: 'close' },
    });
    const done = (result: ProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(result);
    };
    const timer = setTimeout(
      () => done({ ok: false, message: `no answer within ${timeoutMs} ms` }),
      timeoutMs,
    );
    req.once('response', (res) => {
      const code = res.statusCode ?? 0;
      res.resume();
      done(code >= 200 && code < 400 ? { ok: true } : { ok: false, message: `HTTP ${code}` });
    });
    req.once('error', (err) => done({ ok: false, message: reason(err) }));
    req.end();
  });
}

export const probe: Prober = (address, plan) =>
  plan.type === 'http'
    ? httpProbe(address, plan.port, plan.path, plan.timeoutMs)
    : tcpProbe(address, plan.port, plan.timeoutMs);
