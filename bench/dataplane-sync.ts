// Data-path sync cost: full sync of N Services × 10 endpoints and an
// incremental sync of one endpoint change, each beside its floor in the same
// run (the tool applying a pre-generated file of the same rules).
//   - nftables: on this kernel, in a private network namespace;
//   - IPVS: inside User-Mode Linux (bench/dataplane-ipvs.ts), as ratios only,
//     since UML's absolute times say nothing about a real kernel.
// Also the process RSS with the largest size loaded and synced.
//
//   node bench/dataplane-sync.ts [--sizes 1000,10000] [--reps 3] [--no-ipvs] [--no-nftables]
//
// Prints numbers; asserts nothing. Run sizes above 1,000 only on a quiet machine.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { NftablesBackend } from '../speaker/dataplane/nftables/backend.ts';
import { NftExecutor } from '../speaker/dataplane/nftables/executor.ts';
import { runInUml } from '../test/harness/uml.ts';
import { run, runOk } from '../test/e2e/netns/netns.ts';
import { makeFixture, median, stateOf, syncCase, timed } from './dataplane-fixtures.ts';
import { ms, table } from './stats.ts';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000' },
    reps: { type: 'string', default: '3' },
    'no-ipvs': { type: 'boolean', default: false },
    'no-nftables': { type: 'boolean', default: false },
  },
});
const sizes = values.sizes.split(',').map(Number);
const reps = Number(values.reps);
const NS = `pdp-bench-${process.pid}`;
const inNs = ['ip', 'netns', 'exec', NS];

async function nftFloor(file: string): Promise<number> {
  return (await timed(() => runOk([...inNs, 'nft', '-f', file]))).ms;
}

async function benchNftables(size: number, dir: string): Promise<string[][]> {
  const { state, changed, full, fullFloor, inc, incFloor } = syncCase(size);
  for (let r = 0; r < reps; r++) {
    await run([...inNs, 'nft', 'delete', 'table', 'inet', 'portico']);
    const backend = new NftablesBackend({ runner: new NftExecutor({ prefix: inNs }) });
    const first = await timed(() => backend.sync(state));
    full.push(first.ms);
    const fullFile = join(dir, `full-${size}.nft`);
    await writeFile(fullFile, first.value.script);
    await run([...inNs, 'nft', 'delete', 'table', 'inet', 'portico']);
    fullFloor.push(await nftFloor(fullFile));

    // The backend believes its table is intact (the floor rebuilt the same one).
    const change = await timed(() => backend.sync(changed));
    inc.push(change.ms);
    const incFile = join(dir, `inc-${size}.nft`);
    await writeFile(incFile, change.value.script);
    await backend.sync(state);
    incFloor.push(await nftFloor(incFile));
  }
  return [
    [
      `nftables full ${size}`,
      ms(median(full)),
      ms(median(fullFloor)),
      (median(full) / median(fullFloor)).toFixed(2),
    ],
    [
      `nftables 1 endpoint @${size}`,
      ms(median(inc)),
      ms(median(incFloor)),
      (median(inc) / median(incFloor)).toFixed(2),
    ],
  ];
}

async function benchIpvs(size: number): Promise<string[][]> {
  const script = fileURLToPath(new URL('dataplane-ipvs.ts', import.meta.url));
  const r = await runInUml(
    [process.execPath, '--disable-warning=ExperimentalWarning', script, String(size), String(reps)],
    {
      modules: ['ip_vs', 'ip_vs_rr', 'dummy'],
      memMb: 2048,
      timeoutMs: 1_800_000,
    },
  );
  if (r.code !== 0) throw new Error(`ipvs bench failed in UML (exit ${r.code}): ${r.stderr.slice(-2000)}`);
  const out = JSON.parse(r.stdout) as { full: number; fullFloor: number; inc: number; incFloor: number };
  return [
    [`ipvs full ${size} (UML)`, '-', '-', (out.full / out.fullFloor).toFixed(2)],
    [`ipvs 1 endpoint @${size} (UML)`, '-', '-', (out.inc / out.incFloor).toFixed(2)],
  ];
}

const dir = await mkdtemp(join(tmpdir(), 'pdp-bench-'));
await runOk(['ip', 'netns', 'add', NS]);
// Stopped early (Ctrl-C, kill): remove the namespace and files; the UML guest
// goes with the process (runInUml kills it on exit).
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void Promise.all([run(['ip', 'netns', 'del', NS]), rm(dir, { recursive: true, force: true })]).finally(
      () => process.exit(130),
    );
  });
}
try {
  const rows: string[][] = [];
  for (const size of sizes) {
    if (!values['no-nftables']) rows.push(...(await benchNftables(size, dir)));
    if (!values['no-ipvs']) rows.push(...(await benchIpvs(size)));
  }
  const last = sizes[sizes.length - 1] ?? 0;
  // What an agent holds at the largest size: the API objects, the model and the backend's plans.
  const keep = makeFixture(last);
  const backend = new NftablesBackend({ runner: new NftExecutor({ prefix: inNs }) });
  await run([...inNs, 'nft', 'delete', 'table', 'inet', 'portico']);
  await backend.sync(stateOf(keep));
  globalThis.gc?.();
  const rssMb = process.memoryUsage().rss / 2 ** 20;
  console.log(table(['case', 'sync ms', 'floor ms', 'ratio'], rows));
  console.log(
    `\nRSS with ${last} Services × 10 endpoints loaded and synced (nftables): ${rssMb.toFixed(0)} MiB`,
  );
} finally {
  await run(['ip', 'netns', 'del', NS]);
  await rm(dir, { recursive: true, force: true });
}
