// The IPVS half of bench/dataplane-sync.ts, run inside User-Mode Linux (it
// starts this file there). Full sync of N Services × 10 endpoints and one
// endpoint change through IpvsBackend, each beside its floor: `ip -batch`
// plus `ipvsadm -R` of the same lines. Prints one JSON object of medians (ms).
//   node bench/dataplane-ipvs.ts <size> <reps>
import { writeFile } from 'node:fs/promises';
import { IpvsBackend } from '../speaker/dataplane/ipvs/backend.ts';
import { IpvsExecutor } from '../speaker/dataplane/ipvs/executor.ts';
import { run, runOk } from '../test/e2e/netns/netns.ts';
import { median, syncCase, timed } from './dataplane-fixtures.ts';

const [sizeText = '1000', repsText = '3'] = process.argv.slice(2);
const size = Number(sizeText);
const reps = Number(repsText);
const NS = 'pdp-bench';
const inNs = ['ip', 'netns', 'exec', NS];
const DEVICE = 'portico-ipvs0';

async function reset(): Promise<void> {
  await runOk([...inNs, 'ipvsadm', '-C']);
  await run([...inNs, 'ip', 'link', 'del', DEVICE]);
}

const floor = async (batch: readonly string[], restore: string): Promise<number> => {
  await writeFile('/run/floor.batch', `${batch.join('\n')}\n`);
  await writeFile('/run/floor.restore', restore);
  return (
    await timed(async () => {
      if (batch.length) await runOk([...inNs, 'ip', '-batch', '/run/floor.batch']);
      if (restore) await runOk([...inNs, 'sh', '-c', 'ipvsadm -R < /run/floor.restore']);
    })
  ).ms;
};

await runOk(['ip', 'netns', 'add', NS]);
const { state, changed, full, fullFloor, inc, incFloor } = syncCase(size);
for (let r = 0; r < reps; r++) {
  await reset();
  const backend = new IpvsBackend({ executor: new IpvsExecutor({ prefix: inNs }), companion: false });
  const first = await timed(() => backend.sync(state));
  full.push(first.ms);
  await reset();
  fullFloor.push(await floor(first.value.addressLines, first.value.restore));

  // The floor left the kernel as the backend's full sync did, so its memory holds.
  const change = await timed(() => backend.sync(changed));
  inc.push(change.ms);
  await reset();
  await floor(first.value.addressLines, first.value.restore);
  incFloor.push(await floor(change.value.addressLines, change.value.restore));
}
await run(['ip', 'netns', 'del', NS]);
process.stdout.write(
  `${JSON.stringify({ full: median(full), fullFloor: median(fullFloor), inc: median(inc), incFloor: median(incFloor) })}\n`,
);
