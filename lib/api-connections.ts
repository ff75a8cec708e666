// One connection pool per apiserver identity, shared by every request and
// watch that goes through a KubeConfig.
//
// client-node 2.0.1 builds a new undici Agent in KubeConfig.createDispatcher
// for every request (its https.Agent cache no longer applies), so each request
// pays a TLS handshake and leaves its socket open until undici's idle timeout.
// Under a burst of 1,000 Services the operator held ~380 apiserver connections
// and ~190 MiB of native heap. Memoizing the factory restores what client-go
// does (one pooled transport per config). See docs/decisions/0015.
import { createHash } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';

interface Closable {
  close(): Promise<void>;
}

/** The private factory this module wraps; its shape is checked at run time. */
interface DispatcherFactory {
  createDispatcher(cluster: unknown, agentOptions: Record<string, unknown>): Closable | undefined;
}

const shared = new WeakSet<KubeConfig>();

/**
 * Makes `kc` hand out one dispatcher for as long as the cluster and the TLS
 * material stay the same; a new identity (a rotated client certificate, a
 * context switch) gets a new pool and the old one is closed once its requests
 * finish. Idempotent. Returns `kc`.
 */
export function shareApiConnections(kc: KubeConfig): KubeConfig {
  if (shared.has(kc)) return kc;
  const target = kc as unknown as DispatcherFactory;
  if (typeof target.createDispatcher !== 'function') {
    throw new Error('client-node no longer has KubeConfig.createDispatcher: revisit lib/api-connections.ts');
  }
  const create = target.createDispatcher.bind(kc);
  let current: { key: string; dispatcher: Closable | undefined } | undefined;
  target.createDispatcher = (cluster, agentOptions) => {
    const key = identity(cluster, agentOptions);
    if (current?.key === key) return current.dispatcher;
    const previous = current?.dispatcher;
    current = { key, dispatcher: create(cluster, agentOptions) };
    // close() lets in-flight requests and watches finish first.
    previous?.close().catch(() => undefined);
    return current.dispatcher;
  };
  shared.add(kc);
  return kc;
}

/** A digest of what decides where and how a connection is made. */
function identity(cluster: unknown, agentOptions: Record<string, unknown>): string {
  const hash = createHash('sha256');
  const c = (cluster ?? {}) as Record<string, unknown>;
  for (const part of [c['name'], c['server'], c['proxyUrl'], c['skipTLSVerify']]) {
    hash.update(`${String(part)}\0`);
  }
  for (const name of Object.keys(agentOptions).sort()) {
    const value = agentOptions[name];
    if (value === undefined) continue;
    hash.update(`${name}=`);
    hash.update(Buffer.isBuffer(value) ? value : String(value));
    hash.update('\0');
  }
  return hash.digest('hex');
}
