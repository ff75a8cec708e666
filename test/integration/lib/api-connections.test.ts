// How many TCP connections this process holds to the real apiserver while a
// RawKubeClient makes many requests, concurrent and sequential. Before
// lib/api-connections.ts each request opened its own TLS connection.
import { describe, expect, it, jest } from '@jest/globals';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { RawKubeClient } from '../../../lib/raw-client.ts';
import { MAX_REQUESTS_IN_FLIGHT } from '../../../lib/raw-client.ts';
import { sharedKubeConfig } from '../../harness/shared.ts';

jest.setTimeout(60_000);

/** Established TCP connections from this process to `port` (any address). */
function connectionsTo(port: number): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // The fd closed while we read the directory.
    }
  }
  let count = 0;
  for (const table of ['/proc/self/net/tcp', '/proc/self/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const remotePort = parseInt(f[2]!.split(':')[1]!, 16);
      const established = f[3] === '01';
      if (established && remotePort === port && inodes.has(f[9]!)) count++;
    }
  }
  return count;
}

describe('apiserver connections', () => {
  it('reuses a bounded set of connections across many requests', async () => {
    const kc = sharedKubeConfig();
    const port = Number(new URL(kc.getCurrentCluster()!.server).port);
    const client = RawKubeClient.fromKubeConfig(kc);
    const before = connectionsTo(port);

    // A burst far larger than the in-flight cap, then a sequential run.
    await Promise.all(Array.from({ length: 200 }, () => client.getJson('/api/v1/namespaces/default')));
    for (let i = 0; i < 50; i++) await client.getJson('/api/v1/namespaces/default');

    const after = connectionsTo(port);
    // At least the one the requests went over (so the count itself works);
    // undici may multiplex them all on one HTTP/2 connection.
    expect(after).toBeGreaterThan(0);
    expect(after - before).toBeLessThanOrEqual(MAX_REQUESTS_IN_FLIGHT);
  });
});
