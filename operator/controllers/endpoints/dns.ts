// Adapter: A and AAAA lookups with TTLs through node:dns (c-ares), against
// the system's resolvers or the servers given with --dns-server. Never throws:
// every outcome becomes a Lookup for the pure resolution state.
import { Resolver } from 'node:dns/promises';
import type { FamilyLookup, Lookup } from './resolution.ts';

export type HostResolver = (hostname: string) => Promise<Lookup>;

export interface ResolverOptions {
  /** "ip" or "ip:port" ("[ipv6]:port"); the system's resolvers when empty. */
  servers?: readonly string[];
  /** Per query attempt; default 2000 ms. */
  timeoutMs?: number;
  /** Attempts per server; default 2. */
  tries?: number;
}

/** "No such name" and "no records of this type" are answers, not failures. */
const NO_DATA = new Set(['ENODATA', 'ENOTFOUND']);

async function family(query: () => Promise<{ address: string; ttl: number }[]>): Promise<FamilyLookup> {
  try {
    return { kind: 'answers', answers: await query() };
  } catch (err) {
    const code = (err as { code?: string }).code ?? String(err);
    return NO_DATA.has(code) ? { kind: 'nodata' } : { kind: 'error', code };
  }
}

export function createResolver(options: ResolverOptions = {}): HostResolver {
  const resolver = new Resolver({ timeout: options.timeoutMs ?? 2000, tries: options.tries ?? 2 });
  if (options.servers && options.servers.length > 0) resolver.setServers([...options.servers]);
  return async (hostname) => {
    const name = hostname.replace(/\.$/, '');
    const [IPv4, IPv6] = await Promise.all([
      family(() => resolver.resolve4(name, { ttl: true })),
      family(() => resolver.resolve6(name, { ttl: true })),
    ]);
    return { IPv4, IPv6 };
  };
}
