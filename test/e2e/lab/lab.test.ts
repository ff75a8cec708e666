// The lab, run the way a user runs it (`npm run lab -- --check`), as a child
// process: every seed scenario must hold, and teardown must leave the
// network namespaces and the process table as they were.
import { describe, expect, it } from '@jest/globals';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { CheckResult } from '../../../lab/checks.ts';
import { umlUnavailable } from '../../harness/uml.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../..', import.meta.url));

async function netnsList(): Promise<string[]> {
  const { stdout } = await run('ip', ['netns', 'list']);
  return stdout.split('\n').filter(Boolean).sort();
}

/** Pids of processes whose command line mentions this lab's state directory or namespaces. */
async function labProcesses(marker: string): Promise<string[]> {
  const { stdout } = await run('ps', ['-eo', 'pid,args']);
  return stdout.split('\n').filter((l) => l.includes(marker) && !l.includes('ps -eo'));
}

if (process.getuid?.() !== 0) throw new Error('the lab test makes network namespaces: run it as root');

const SCENARIOS = [
  '000 ClusterIP balances across three pods',
  '004 sessionAffinity ClientIP pins one pod for 10800 s',
  '003 NodePort 30080 from the client',
  'headless Service has no virtual IP',
  'ExternalName resolved and load-balanced',
  'LoadBalancer over L2 (ARP) from the LAN',
  'LoadBalancer over BGP from behind the router',
];

/** Runs the lab with `args` the way a user would, and checks results and teardown. */
async function runLab(args: string[]): Promise<void> {
  const before = await netnsList();
  const dir = mkdtempSync(join(tmpdir(), 'portico-lab-test-'));
  const child = spawn(
    process.execPath,
    ['--disable-warning=ExperimentalWarning', join(root, 'lab', 'main.ts'), 'up', '--check', ...args],
    { env: { ...process.env, PORTICO_LAB_DIR: dir }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
  child.stderr.on('data', (b: Buffer) => (out += b.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  process.stderr.write(out);

  const line = out.split('\n').find((l) => l.startsWith('LAB-RESULTS '));
  expect(line).toBeDefined();
  const { results } = JSON.parse(line!.slice('LAB-RESULTS '.length)) as { results: CheckResult[] };
  expect(results.filter((r) => !r.ok)).toEqual([]);
  expect(results.map((r) => r.scenario)).toEqual(SCENARIOS);
  expect(code).toBe(0);
  expect(await netnsList()).toEqual(before);
  expect(await labProcesses(dir)).toEqual([]);
}

describe('npm run lab -- --check', () => {
  it('brings the system up, every seed scenario holds, and teardown leaves nothing behind', async () => {
    await runLab([]);
  }, 600_000);

  it('does the same with the IPVS data path, each node a User-Mode Linux guest', async () => {
    const why = umlUnavailable();
    if (why) throw new Error(`the IPVS lab needs User-Mode Linux: ${why}`);
    await runLab(['--dataplane', 'ipvs']);
    // The UML guests ran as host processes in their own process groups. Their
    // helpers are orphaned when a guest is killed and init reaps them a moment
    // later, so this waits briefly for the table to settle.
    let left = await labProcesses('linux.uml');
    for (let i = 0; i < 30 && left.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 500));
      left = await labProcesses('linux.uml');
    }
    expect(left).toEqual([]);
  }, 900_000);
});
