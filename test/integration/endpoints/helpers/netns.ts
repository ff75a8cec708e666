// A network namespace of our own for integration tests that need backends at
// addresses other than loopback (EndpointSlices reject loopback addresses):
// the addresses live on the namespace's lo, so all traffic stays inside it.
// Processes started here are ended by pid, and the namespace deleted, in
// destroy(). The apiserver is reached through a Unix-socket bridge.
import { execFile } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { ApiserverBridge } from '../../../harness/apiserver-bridge.ts';
import { PID_FILE_ENV, startProcess, stopProcess, waitFor } from '../../../harness/processes.ts';
import type { Managed } from '../../../harness/processes.ts';

export const run = (argv: string[]): Promise<string> =>
  new Promise((resolve, reject) => {
    execFile(argv[0]!, argv.slice(1), (err, stdout, stderr) =>
      err ? reject(new Error(`${argv.join(' ')}: ${stderr.trim() || err.message}`)) : resolve(stdout),
    );
  });

/** Why a test network namespace cannot be made here, or undefined when it can. */
export async function netnsUnavailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'not running as root';
  try {
    await run(['ip', 'netns', 'list']);
    return undefined;
  } catch (err) {
    return String(err);
  }
}

export const helperScript = (name: string): string => fileURLToPath(new URL(name, import.meta.url));

export class TestNetns {
  readonly name = `ptep-${randomBytes(3).toString('hex')}`;
  readonly #procs: Managed[] = [];
  #bridge: ApiserverBridge | undefined;

  async create(addresses: string[]): Promise<void> {
    await run(['ip', 'netns', 'add', this.name]);
    await run(['ip', 'netns', 'exec', this.name, 'ip', 'link', 'set', 'lo', 'up']);
    for (const a of addresses) {
      await run(['ip', 'netns', 'exec', this.name, 'ip', 'addr', 'add', `${a}/32`, 'dev', 'lo']);
    }
  }

  /** Starts `bin args` inside the namespace; waits for `ready` in its log when given. */
  async start(bin: string, args: string[], logFile: string, ready?: RegExp): Promise<Managed> {
    const m = startProcess('ip', ['netns', 'exec', this.name, bin, ...args], logFile);
    // `ip netns exec` execs bin, so the pid is bin's: record it for the global teardown too.
    const pidFile = process.env[PID_FILE_ENV];
    if (pidFile && m.child.pid) appendFileSync(pidFile, `${m.child.pid} ${bin}\n`);
    this.#procs.push(m);
    if (ready) {
      const { readFileSync } = await import('node:fs');
      await waitFor(
        `${bin} ready in ${this.name}`,
        async () => {
          if (m.child.exitCode !== null) throw new Error(`${bin} exited; see ${logFile}`);
          return ready.test(readFileSync(logFile, 'utf8'));
        },
        20_000,
        50,
      );
    }
    return m;
  }

  async stop(m: Managed): Promise<void> {
    await stopProcess(m);
    const i = this.#procs.indexOf(m);
    if (i >= 0) this.#procs.splice(i, 1);
  }

  /** Makes https://HOST:PORT of the apiserver reachable at the same address inside the namespace. */
  async bridgeApiserver(host: string, port: number, logFile: string): Promise<void> {
    this.#bridge = new ApiserverBridge(`https://${host}:${port}`, this.name);
    await this.#bridge.listen();
    await this.#bridge.into(this.name, logFile);
  }

  async destroy(): Promise<void> {
    for (const m of [...this.#procs].reverse()) await stopProcess(m);
    this.#procs.length = 0;
    await this.#bridge?.close();
    await run(['ip', 'netns', 'del', this.name]).catch(() => undefined);
  }
}
