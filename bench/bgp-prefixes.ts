// 10,000 /32 prefixes into a gobgpd peer's RIB: the time from setRoutes on an
// Established session of ours to gobgpd holding all of them, beside the time a
// second gobgpd takes to put the same prefixes in its own RIB through its own
// CLI (`gobgp mrt inject global`), in the same run; and this process's RSS
// (the speaker's) before and after. Both daemons on loopback, random ports.
//
//   npx node bench/bgp-prefixes.ts [--count 10000] [--runs 3]
//
// Prints numbers; asserts nothing. gobgp 3.x's `mrt inject` closes its
// stream before gobgpd has consumed it, so most of a large table is lost on
// each call; the missing prefixes are injected again until all are in, and
// the number of passes is printed with the time, which includes writing each
// pass's MRT file (bgp-mrt.ts) and a 200 ms settle wait per pass.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { promisify } from 'node:util';
import { createLogger } from '../lib/logger.ts';
import { BgpSession } from '../speaker/bgp/session.ts';
import type { OutboundRoute } from '../speaker/bgp/rib-out.ts';
import { GoBgpDaemon } from '../test/e2e/bgp/gobgp-daemon.ts';
import { freePort, sleep } from '../test/harness/processes.ts';
import { mrtTable } from './bgp-mrt.ts';

const run = promisify(execFile);
const { values } = parseArgs({
  options: { count: { type: 'string', default: '10000' }, runs: { type: 'string', default: '3' } },
});
const COUNT = Number(values.count);
const RUNS = Number(values.runs);
const NEXT_HOP = '10.0.0.11';

const prefixes = Array.from(
  { length: COUNT },
  (_, i) => `10.${64 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32`,
);
const routes: OutboundRoute[] = prefixes.map((prefix) => ({ prefix, nextHop: NEXT_HOP }));
const mb = (n: number) => (n / 2 ** 20).toFixed(1);

async function destinations(d: GoBgpDaemon): Promise<number> {
  const s = (await d.cli('global', 'rib', 'summary', '-a', 'ipv4')) as { num_destination?: number };
  return s.num_destination ?? 0;
}

async function until(d: GoBgpDaemon, n: number): Promise<void> {
  for (;;) {
    const got = await destinations(d);
    if (got >= n) return;
    await sleep(20);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'portico-bench-bgp-'));
const daemons: GoBgpDaemon[] = [];
const daemon = async (name: string, neighbors: GoBgpDaemon['config']['neighbors']) => {
  const d = new GoBgpDaemon(mkdtempSync(join(dir, `${name}-`)), {
    asn: 65001,
    routerId: '10.255.0.1',
    port: await freePort(),
    apiPort: await freePort(),
    listenAddresses: ['127.0.0.1'],
    neighbors,
    // Debug logging (the tests' default) would time gobgpd's logger.
    logLevel: 'warn',
  });
  daemons.push(d);
  await d.start();
  return d;
};

const table = (list: string[]) =>
  mrtTable({
    peerId: '10.0.0.11',
    peerIp: '127.0.0.1',
    peerAs: 65005,
    prefixes: list,
    attrs: { origin: 'igp', asPath: [{ kind: 'sequence', asns: [65005] }], nextHop: NEXT_HOP },
  });

/** The destination count once it has stopped growing for 200 ms (the 200 ms are included in the time). */
async function settled(d: GoBgpDaemon): Promise<number> {
  let last = -1;
  let since = performance.now();
  for (;;) {
    const got = await destinations(d);
    if (got >= COUNT) return got;
    if (got !== last) [last, since] = [got, performance.now()];
    else if (performance.now() - since > 200) return got;
    await sleep(20);
  }
}

try {
  const mrt = join(dir, 'table.mrt');
  for (let r = 1; r <= RUNS; r++) {
    // Ours: a fresh gobgpd and session each run, routes set once Established.
    const receiver = await daemon(`rx${r}`, [
      { address: '127.0.0.1', peerAs: 65005, families: ['ipv4-unicast'], passive: true },
    ]);
    const session = new BgpSession({
      localAs: 65005,
      peerAs: 65001,
      routerId: '10.0.0.11',
      peerAddress: '127.0.0.1',
      peerPort: receiver.config.port,
      families: ['ipv4-unicast'],
      logger: createLogger({ level: process.env['PORTICO_LOG_LEVEL'] ?? 'silent' }),
    });
    session.start();
    while (session.state !== 'Established') await sleep(10);
    const rssBefore = process.memoryUsage().rss;
    const t0 = performance.now();
    session.setRoutes(routes);
    await until(receiver, COUNT);
    const ours = performance.now() - t0;
    global.gc?.();
    const rssAfter = process.memoryUsage().rss;
    console.log(
      `run ${r}: ${COUNT} prefixes in gobgpd's RIB from our session ${ours.toFixed(0)} ms; ` +
        `speaker RSS ${mb(rssBefore)} -> ${mb(rssAfter)} MiB`,
    );

    // gobgpd's own injection of the same table into an empty RIB. Its CLI
    // ends the stream before gobgpd has read all of it, so part of a large
    // table is lost; what is missing is injected again until all is there.
    const injector = await daemon(`inj${r}`, []);
    const t1 = performance.now();
    let passes = 0;
    for (let missing = prefixes; missing.length > 0; passes++) {
      writeFileSync(mrt, table(missing));
      await run('gobgp', ['-p', String(injector.config.apiPort), 'mrt', 'inject', 'global', mrt], {
        timeout: 300_000,
      });
      const got = await settled(injector);
      if (got >= COUNT) break;
      const rib = (await injector.cli('global', 'rib', '-a', 'ipv4')) as Record<string, unknown>;
      missing = prefixes.filter((p) => !(p in rib));
    }
    const theirs = performance.now() - t1;

    console.log(
      `run ${r}: the same ${COUNT} through gobgpd's own mrt inject ${theirs.toFixed(0)} ms (${passes + 1} passes)`,
    );
    await session.stop();
    await receiver.stop();
    await injector.stop();
  }
} finally {
  for (const d of daemons) await d.stop();
  rmSync(dir, { recursive: true, force: true });
}
