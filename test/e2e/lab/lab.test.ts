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

describe('npm run lab -- --check', () => {
  it('brings the system up, every seed scenario holds, and teardown leaves nothing behind', async () => {
    const before = await netnsList();
    const dir = mkdtempSync(join(tmpdir(), 'portico-lab-test-'));
    const child = spawn(
      process.execPath,
      ['--disable-warning=ExperimentalWarning', join(root, 'lab', 'main.ts'), 'up', '--check'],
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
    expect(results.map((r) => r.scenario)).toEqual([
      '000 ClusterIP balances across three pods',
      '004 sessionAffinity ClientIP pins one pod for 10800 s',
      '003 NodePort 30080 from the client',
      'headless Service has no virtual IP',
      'ExternalName resolved and load-balanced',
      'LoadBalancer over L2 (ARP) from the LAN',
      'LoadBalancer over BGP from behind the router',
    ]);
    expect(code).toBe(0);
    expect(await netnsList()).toEqual(before);
    expect(await labProcesses(dir)).toEqual([]);
  }, 600_000);
});
